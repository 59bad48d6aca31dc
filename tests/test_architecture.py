"""The layers, checked by the machine: a forbidden import fails this test, naming the module and
the line. The rules (docs/architecture.md explains why):

- the core (commands/, scheduler/, storage/) knows no chat SDK and no web server;
- storage knows nothing above it; commands knows neither the scheduler nor the adapters; the
  scheduler knows no adapter;
- the demo generator (demo/, behind ``arbot demo``) is no part of the core: the core never
  imports it; it builds its ledger with commands/ and storage/ and knows no adapter, scheduler
  or chat SDK;
- the use cases (everything in commands/ but the chat-command layer: commands/handlers/ and
  commands/router.py) do not lean on that layer;
- one platform package (bot/slack, bot/teams) never imports the other, nor the server; the
  server (bot/server.py) imports no platform module at module level: it mounts each platform
  through the registry in bot/platforms.py, which names them without importing them;
- module-level imports form no cycle.

Imports inside functions are the deliberate way to load something heavy or optional late
(pandas, botbuilder) and count for the layer rules but not for cycles."""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "commands", "scheduler", "storage", "demo")
SDKS = ("slack_bolt", "slack_sdk", "botbuilder", "botframework", "aiohttp")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # what it imports, dotted
    line: int
    top_level: bool  # at module level (not inside a function or an ``if TYPE_CHECKING``)


def module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(root: Path, path: Path) -> Iterator[Import]:
    module = module_name(root, path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node, top in _walk(tree.body, top=True):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno, top)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the importing package
                package = module if path.name == "__init__.py" else module.rpartition(".")[0]
                base = importlib.util.resolve_name("." * node.level + base, package)
            for alias in node.names:
                yield Import(module, f"{base}.{alias.name}" if base else alias.name, node.lineno, top)


def _walk(body: list[ast.stmt], *, top: bool) -> Iterator[tuple[ast.stmt, bool]]:
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, top
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from _walk(node.body, top=False)
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    yield from _walk(
                        [child], top=top and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
                    )


def all_imports(root: Path) -> list[Import]:
    return [
        imp
        for package in PACKAGES
        if (root / package).is_dir()
        for path in sorted((root / package).rglob("*.py"))
        if "migrations" not in path.parts
        for imp in imports_of(root, path)
    ]


def _in(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def layer_violations(imports: list[Import]) -> list[str]:
    rules = [
        (("commands", "scheduler", "storage"), SDKS, "the core imports a chat SDK or the web server"),
        (("storage",), ("commands", "scheduler", "bot"), "storage imports a layer above it"),
        (("commands",), ("scheduler", "bot"), "commands imports the scheduler or an adapter"),
        (("scheduler",), ("bot",), "the scheduler imports an adapter"),
        (("commands", "scheduler", "storage"), ("demo",), "the core imports the demo generator"),
        (("demo",), ("bot", "scheduler", *SDKS), "the demo generator imports an adapter, the scheduler or an SDK"),
        (("bot.slack",), ("bot.teams",), "one platform package imports the other"),
        (("bot.teams",), ("bot.slack",), "one platform package imports the other"),
        (("bot.slack", "bot.teams"), ("bot.server",), "a platform package imports the server"),
    ]
    found = [
        f"{imp.module}:{imp.line} imports {imp.target}: {why}"
        for imp in imports
        for sources, targets, why in rules
        if _in(imp.module, *sources) and _in(imp.target, *targets)
    ]
    found += [
        f"{imp.module}:{imp.line} imports {imp.target}: a use case leans on the chat-command layer"
        for imp in imports
        if _in(imp.module, "commands")
        and not _in(imp.module, "commands.handlers", "commands.router")
        and _in(imp.target, "commands.handlers", "commands.router")
    ]
    found += [
        f"{imp.module}:{imp.line} imports {imp.target}: the server imports a platform module"
        for imp in imports
        if imp.module in ("bot.server", "bot.platforms") and imp.top_level and _in(imp.target, "bot.slack", "bot.teams")
    ]
    return found


def cycles(imports: list[Import], modules: set[str]) -> list[list[str]]:
    """Cycles among our modules through module-level imports (Tarjan's strongly connected parts)."""
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for imp in imports:
        if imp.top_level:
            target = _owning_module(imp.target, modules)
            if target is not None and target != imp.module:
                graph[imp.module].add(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            part = []
            while True:
                top = stack.pop()
                part.append(top)
                if top == node:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _owning_module(target: str, modules: set[str]) -> str | None:
    """``commands.messages.Reply`` -> ``commands.messages``; a package's own name counts as it."""
    parts = target.split(".")
    for end in range(len(parts), 0, -1):
        name = ".".join(parts[:end])
        if name in modules:
            return name
    return None


def our_modules(root: Path) -> set[str]:
    return {
        module_name(root, path)
        for package in PACKAGES
        if (root / package).is_dir()
        for path in (root / package).rglob("*.py")
        if "migrations" not in path.parts
    }


def test_the_layers_hold() -> None:
    assert layer_violations(all_imports(ROOT)) == []


def test_each_registered_platform_mounts_itself() -> None:
    """The registry names modules by string; each must exist and define ``mount``."""
    from bot.platforms import PLATFORMS

    for name, module in PLATFORMS.items():
        path = ROOT / (module.replace(".", "/") + ".py")
        assert path.is_file(), f"{name}: {module} is not a module"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert any(isinstance(node, ast.FunctionDef) and node.name == "mount" for node in tree.body), name


def test_module_level_imports_form_no_cycle() -> None:
    assert cycles(all_imports(ROOT), our_modules(ROOT)) == []


def test_no_module_imports_a_test_module() -> None:
    """What tests share lives in tests/support/: a ``test_*`` module is never imported by
    another module, so a helper is found where helpers live, not inside somebody's tests."""
    assert imports_of_test_modules(ROOT) == []


def test_the_check_catches_a_test_module_imported(tmp_path: Path) -> None:
    (tmp_path / "tests" / "support").mkdir(parents=True)
    (tmp_path / "bench").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("from tests.support.world import DANA\n")
    (tmp_path / "tests" / "test_b.py").write_text("def f():\n    from tests.test_a import DANA\n")
    (tmp_path / "bench" / "run.py").write_text("import tests.test_b\n")
    assert imports_of_test_modules(tmp_path) == [
        "bench/run.py:1 imports tests.test_b",
        "tests/test_b.py:2 imports tests.test_a",
    ]


def imports_of_test_modules(root: Path) -> list[str]:
    found = []
    for path in sorted([*(root / "tests").rglob("*.py"), *(root / "bench").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            found += [
                f"{path.relative_to(root)}:{node.lineno} imports {target}"
                for target in targets
                if target.split(".")[-1].startswith("test_") and target.startswith("tests.")
            ]
    return found


def test_the_checks_catch_a_forbidden_import(tmp_path: Path) -> None:
    """The rules can fail: a small tree with one of each forbidden import, and a cycle."""
    files = {
        "commands/__init__.py": "",
        "commands/workflows/__init__.py": "",
        "commands/workflows/leaky.py": "import slack_sdk\nfrom commands.handlers.common import money\n",
        "commands/handlers/__init__.py": "",
        "commands/handlers/common.py": "",
        "storage/__init__.py": "",
        "storage/up.py": "def late():\n    from commands import router\n",
        "bot/__init__.py": "",
        "bot/slack/__init__.py": "from bot.teams import cards\n",
        "bot/server.py": "from bot.slack.app import build_app\ndef late():\n    from bot.teams import web\n",
        "bot/teams/__init__.py": "",
        "bot/teams/web.py": "def late():\n    from bot.server import Mounted\n",
        "bot/teams/cards.py": "",
        "scheduler/__init__.py": "",
        "scheduler/a.py": "from scheduler import b\nfrom demo import load_demo\n",
        "demo/__init__.py": "import slack_sdk\n",
        "scheduler/b.py": "from . import a\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    imports = all_imports(tmp_path)
    assert sorted(v.split(": ", 1)[1] for v in layer_violations(imports)) == [
        "a platform package imports the server",
        "a use case leans on the chat-command layer",
        "one platform package imports the other",
        "storage imports a layer above it",
        "the core imports a chat SDK or the web server",
        "the core imports the demo generator",
        "the demo generator imports an adapter, the scheduler or an SDK",
        "the server imports a platform module",
    ]
    assert cycles(imports, our_modules(tmp_path)) == [["scheduler.a", "scheduler.b"]]
