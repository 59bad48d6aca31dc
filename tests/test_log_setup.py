"""Logs never carry a secret: the SDK loggers stay at WARNING at any arbot level, every line is
redacted, a subcommand's own level takes effect, and the terminal chat logs to a file."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.log_setup import QUIET_LIBRARIES, configure, redact

SECRETS = {
    "xoxb-1234-5678-abcdEFGH": "abcdEFGH",
    "xapp-1-A0B1-998877-ffee": "998877-ffee",
    "https://hooks.slack.com/actions/T0/123/AbCdEf": "hooks.slack.com/actions",
    "wss://wss-primary.slack.com/link/?ticket=abc-123&app_id=A0": "ticket=abc",
    "Bearer eyJhbGciOi.eyJzdWIi.sig_nature": "eyJhbGciOi",
    "response_url=https%3A%2F%2Fhooks.slack.com%2Fx": "%2Fhooks",
    '"token": "sekret-verification"': "sekret-verification",
}


@pytest.mark.parametrize(("text", "leak"), SECRETS.items())
def test_secrets_are_redacted(text: str, leak: str) -> None:
    assert leak not in redact(f"posting to {text} now")


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """configure() rewires the root logger; put back what the test run had (pytest's capture)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    quiet = {name: logging.getLogger(name).level for name in QUIET_LIBRARIES}
    yield
    for handler in root.handlers[:]:
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    for name, old in quiet.items():
        logging.getLogger(name).setLevel(old)


def test_sdk_loggers_stay_quiet_at_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARBOT_LOG_LEVEL", "DEBUG")
    configure("INFO")
    assert logging.getLogger().level == logging.DEBUG
    assert all(logging.getLogger(name).level == logging.WARNING for name in QUIET_LIBRARIES)


def test_a_later_configure_replaces_the_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARBOT_LOG_LEVEL", raising=False)
    configure("WARNING")
    configure("INFO")  # arbot scheduler after the CLI's own setup: its INFO lines are written
    assert logging.getLogger().level == logging.INFO and len(logging.getLogger().handlers) == 1


def test_a_debug_run_writes_no_secret_to_its_log(tmp_path: Path) -> None:
    """A whole process at DEBUG, with the SDK loggers and our own logging every secret."""
    log = tmp_path / "run.log"
    script = (
        "import logging; from bot.log_setup import configure\n"
        f"configure('DEBUG', to_file={str(log)!r})\n"
        f"secrets = {list(SECRETS)!r}\n"
        "for name in ('slack_sdk.web.base_client', 'slack_bolt.App', 'botbuilder.core', 'arbot'):\n"
        "    for s in secrets: logging.getLogger(name).warning('sent %s', s)\n"
        "try:\n    raise RuntimeError(secrets[0])\nexcept RuntimeError:\n    logging.getLogger('x').exception('boom')\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=Path(__file__).parent.parent)
    written = log.read_text(encoding="utf-8")
    assert "sent" in written and "boom" in written
    assert not [leak for leak in SECRETS.values() if leak in written]


def test_the_terminal_chat_keeps_log_lines_out_of_the_conversation(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}",
        "ARBOT_LOG_FILE": str(tmp_path / "chat.log"),
        "ARBOT_LOG_LEVEL": "DEBUG",
        "PATH": "/usr/bin:/bin",
    }
    arbot = [sys.executable, "-m", "bot.cli"]
    cwd = Path(__file__).parent.parent
    subprocess.run([*arbot, "db", "upgrade"], check=True, cwd=cwd, env=env, capture_output=True)
    done = subprocess.run(
        [*arbot, "chat", "--as", "dana.reyes@example.com"],
        input="status nobody\n",
        text=True,
        cwd=cwd,
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert "no customer matches 'nobody'" in done.stdout.lower()
    assert " DEBUG " not in done.stdout and " DEBUG " not in done.stderr
    assert (tmp_path / "chat.log").exists()
