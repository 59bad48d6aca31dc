"""Idle memory of ``arbot serve``: its resident set once ``/healthz`` answers, nothing asked of it.

The target (at most 150 MiB) is for Slack only: HTTP mode, scheduler on, Teams not configured.
Teams in dev mode (``--dev``: Teams served with authentication off, Slack too, no scheduler) is
measured beside it for comparison. Each server is the real command line in its own process, on
127.0.0.1 and a free port, with the example team and a database migrated beforehand (as
``arbot db upgrade`` does on a deployment) in a temporary folder; Slack's Web API points at a
closed local port, so nothing leaves the machine.

The figure is VmRSS from ``/proc/<pid>/status`` (Linux), the server's plus its children's (Slack
over HTTP is acknowledged by a front process, bot.slack.front; counted whole, though the two
share the interpreter's pages), read a few seconds after the first
healthy answer so that the scheduler's first tick, which runs at start, is over. The memory map
says whether numpy or pandas were loaded; the scheduler's job runs are read from the database
afterwards, because on a business morning the first tick posts the daily lists, which loads
them by right, and that figure is then not an idle one.

    python -m bench.bench_idle_rss [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.settings import EXAMPLE_TEAM_FILE

TARGET_MIB = 150.0
SETTLE_SECONDS = 3.0
STARTUP_TIMEOUT_SECONDS = 60.0
HEAVY_LIBRARIES = ("numpy", "pandas", "pyarrow")
ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Setup:
    name: str
    args: tuple[str, ...]
    target: bool  # whether TARGET_MIB applies


SETUPS = (
    Setup("Slack only (HTTP mode), scheduler on", (), target=True),
    Setup("Slack + Teams --dev (authentication off), scheduler off", ("--dev",), target=False),
)


@dataclass(frozen=True)
class Sample:
    rss_mib: float  # the server's and its front's together (the front: Slack over HTTP)
    front_mib: float  # of which the front process's
    peak_mib: float  # VmHWM: the most the server held since start
    libraries: tuple[str, ...]  # HEAVY_LIBRARIES in its memory map
    job_runs: tuple[str, ...]  # scheduled jobs it ran (a non-idle start when not empty)

    def line(self) -> str:
        loaded = ", ".join(self.libraries) or "none"
        jobs = f"; ran {', '.join(self.job_runs)} at start (not idle)" if self.job_runs else ""
        front = f", of which the front {self.front_mib:.1f} MiB" if self.front_mib else ""
        return (
            f"{self.rss_mib:.1f} MiB{front} (server peak {self.peak_mib:.1f} MiB); "
            f"numpy/pandas/pyarrow loaded: {loaded}{jobs}"
        )


def environment(folder: Path) -> dict[str, str]:
    """Slack in HTTP mode, Teams not configured (``--dev`` serves it anyway), SQLite in ``folder``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "ARBOT_"))}
    env.update(
        DATABASE_URL=f"sqlite:///{folder / 'arbot.db'}",
        ARBOT_TEAM_FILE=str(EXAMPLE_TEAM_FILE),
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_SIGNING_SECRET="bench-signing-secret",
        SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/",
    )
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def arbot(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot.cli", *args]


@contextmanager
def serving(env: dict[str, str], args: tuple[str, ...], log: Path) -> Iterator[tuple[int, str]]:
    """``arbot serve`` running and healthy: its pid and base URL. Stopped as on a deployment
    (SIGTERM), killed if it does not stop."""
    port = free_port()
    with log.open("w") as out:
        server = subprocess.Popen(
            arbot("serve", "--host", "127.0.0.1", "--port", str(port), *args),
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(f"{base}/healthz", server, log)
        yield server.pid, base
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def wait_healthy(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"arbot serve exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"arbot serve did not answer {url} in {STARTUP_TIMEOUT_SECONDS:g} s:\n{log.read_text()[-3000:]}")


def status_mib(pid: int, field: str) -> float:
    """A VmRSS-like field of /proc/<pid>/status (kB there) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def children(pid: int) -> list[int]:
    """The processes ``pid`` started (``arbot serve``'s Slack front)."""
    threads = Path(f"/proc/{pid}/task").iterdir()  # a child is listed under the thread that started it
    return [int(child) for thread in threads for child in (thread / "children").read_text().split()]


def mapped_libraries(pid: int) -> tuple[str, ...]:
    """HEAVY_LIBRARIES whose compiled modules are in the process's memory map."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return tuple(name for name in HEAVY_LIBRARIES if f"/{name}/" in maps or f"/{name}.libs/" in maps)


def job_runs(database: Path) -> tuple[str, ...]:
    with closing(sqlite3.connect(database)) as db:
        rows = db.execute("SELECT job, run_date FROM job_runs ORDER BY id").fetchall()
    return tuple(f"{job} {day}" for job, day in rows)


def measure(setup: Setup) -> Sample:
    """One fresh server: migrate, serve, read its memory once settled, stop."""
    with tempfile.TemporaryDirectory(prefix="arbot-idle-") as tmp:
        folder = Path(tmp)
        env = environment(folder)
        subprocess.run(arbot("db", "upgrade"), cwd=ROOT, env=env, check=True, capture_output=True)
        with serving(env, setup.args, folder / "serve.log") as (pid, _base):
            time.sleep(SETTLE_SECONDS)
            front = sum(status_mib(child, "VmRSS") for child in children(pid))
            rss, peak, libraries = status_mib(pid, "VmRSS"), status_mib(pid, "VmHWM"), mapped_libraries(pid)
        return Sample(rss + front, front, peak, libraries, job_runs(folder / "arbot.db"))


def report(setup: Setup, samples: list[Sample]) -> None:
    median = statistics.median(s.rss_mib for s in samples)
    verdict = ""
    if setup.target:
        verdict = f"; target <= {TARGET_MIB:g} MiB: {'met' if median <= TARGET_MIB else 'NOT met'}"
    print(f"{setup.name}: idle RSS median {median:.1f} MiB over {len(samples)} run(s){verdict}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_idle_rss")
    parser.add_argument("--runs", type=int, default=3, help="fresh servers per setup")
    args = parser.parse_args([] if argv is None else argv)  # `python -m bench` passes nothing
    if not Path("/proc/self/status").exists():
        print("idle_rss reads /proc/<pid>/status: Linux only; skipped")
        return
    for setup in SETUPS:
        samples = []
        for run in range(1, args.runs + 1):
            samples.append(measure(setup))
            print(f"{setup.name}, run {run}: {samples[-1].line()}", flush=True)
        report(setup, samples)


if __name__ == "__main__":
    main(sys.argv[1:])
