"""Benchmark of ``arbot import``: a generated 1,000,000-row open-items CSV in the generic ERP
layout (100,000 customers), imported into a fresh database, then imported again, on SQLite and,
with ``--database`` or ``BENCH_DATABASE_URL`` (a PostgreSQL server, where a throwaway database
is made), on PostgreSQL in the same run.

Each measurement runs in its own child process, so its peak resident memory (ru_maxrss) is the
import's alone. Each prints where its time and its CPU went, by the stages the import reports
through its progress port (and the commit). Run from the repository root::

    python -m bench.bench_import                      # SQLite file under bench/data/
    python -m bench.bench_import --database postgresql://postgres@127.0.0.1:5432/postgres
    python -m bench import --against ../other-checkout --rounds 2

``--against`` measures another checkout of arbot (its commands/ and storage/, run by this
benchmark) on the same file, alternating with this one round by round, so both meet the same
load on a shared machine; it ends with the medians and ranges of each.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parent / "data"
AS_OF = date(2026, 11, 23)
KINDS = ["Standard", "Final", "Recurring", "Retainer", "Credit Memo", "Unapplied Payment"]
KIND_WEIGHTS = [0.55, 0.12, 0.18, 0.08, 0.04, 0.03]


def generate(path: Path, rows: int, customers: int, seed: int = 7) -> None:
    """A deterministic open-items export: every customer has invoices, credits are negative."""
    rng = np.random.default_rng(seed)
    customer = np.sort(np.concatenate([np.arange(customers), rng.integers(0, customers, rows - customers)]))
    kind = rng.choice(len(KINDS), size=rows, p=KIND_WEIGHTS)
    amount = rng.integers(5_000, 5_000_000, size=rows)
    open_cents = np.where(rng.random(rows) < 0.7, amount, (amount * rng.random(rows)).astype(np.int64) + 1)
    sign = np.where(kind >= 4, -1, 1)
    issued = np.datetime64("2026-11-20") - rng.integers(0, 240, size=rows).astype("timedelta64[D]")
    due = issued + rng.choice([15, 30, 45], size=rows).astype("timedelta64[D]")
    ids = pd.Series(customer).map("C{:06d}".format)
    frame = pd.DataFrame(
        {
            "Customer ID": ids,
            "Customer Name": "Customer " + ids.str[1:],
            "Invoice No.": pd.Series(np.arange(rows) + 100_000).map("INV-{:07d}".format),
            "Invoice Type": np.asarray(KINDS, dtype=object)[kind],
            "Invoice Date": np.datetime_as_string(issued, unit="D"),
            "Due Date": np.datetime_as_string(due, unit="D"),
            "Currency": "USD",
            "Original Amount": _money_text(sign * amount),
            "Amount Due": _money_text(sign * open_cents),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def _money_text(cents: np.ndarray) -> pd.Series:
    """Plain "-1234.56" text from integer cents, exactly."""
    whole = pd.Series(np.abs(cents) // 100).astype(str)
    frac = pd.Series(np.abs(cents) % 100).astype(str).str.zfill(2)
    return np.where(cents < 0, "-", "") + whole + "." + frac


def child(database: str, file: Path, as_of: date) -> dict[str, object]:
    """One import in this process: seconds for the use case and for each of its stages, then
    this process's peak RSS."""
    from sqlalchemy import event

    from bot.settings import EXAMPLE_TEAM_FILE
    from commands.calendar import BusinessCalendar
    from commands.clock import FixedClock
    from commands.context import AppContext
    from commands.import_refusals import ImportRefused
    from commands.importing import import_aging_file
    from commands.team import load_team, sync_members
    from storage.db import make_engine, make_session_factory
    from storage.migrate import upgrade

    engine = make_engine(database)
    upgrade(engine)
    team = load_team(EXAMPLE_TEAM_FILE)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        sync_members(session, team)
    ctx = AppContext(
        sessions=sessions,
        team=team,
        calendar=BusinessCalendar(team.country),
        clock=FixedClock(datetime(2026, 11, 23, 15, tzinfo=UTC)),
    )
    stages = _Stages()
    event.listen(engine, "commit", lambda _connection: stages.stage("commit", 0))
    server_before = _server_cpu(engine)
    start, cpu_start = time.perf_counter(), _cpu_seconds()
    try:
        result = import_aging_file(ctx, file, as_of=as_of, progress=stages)
        outcome = (
            f"{result.inserted:,} inserted, {result.updated:,} updated, {result.closed:,} closed, "
            f"{result.customers:,} customers"
        )
    except ImportRefused as refused:
        outcome = "refused: " + refused.messages[0]
    seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu_start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    server_after = _server_cpu(engine)
    server = (
        sum(used - server_before.get(pid, 0.0) for pid, used in server_after.items())
        if server_before is not None and server_after is not None
        else None
    )
    return {
        "seconds": seconds,
        "cpu": cpu,
        "server_cpu": server,
        "rss_mb": rss_mb,
        "outcome": outcome,
        "stages": stages.seconds((start, cpu_start), (start + seconds, cpu_start + cpu)),
    }


def _server_cpu(engine: Any) -> dict[int, float] | None:
    """CPU seconds used so far by each PostgreSQL backend serving this database, read from
    /proc; None on SQLite or when the server runs elsewhere."""
    from sqlalchemy import text

    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        pids = conn.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).all()
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


class _Stages:
    """The import's progress port, keeping when each stage began, in wall and CPU seconds."""

    def __init__(self) -> None:
        self.began: list[tuple[str, float, float]] = []

    def stage(self, name: str, total: int) -> None:
        self.began.append((name, time.perf_counter(), _cpu_seconds()))

    def advance(self, count: int) -> None:
        """Rows within a stage do not matter here."""

    def seconds(self, start: tuple[float, float], end: tuple[float, float]) -> list[tuple[str, float, float]]:
        """(stage, wall seconds, CPU seconds) in order; the same name twice is added up; time
        before the first stage counts as the first."""
        spans: dict[str, tuple[float, float]] = {}
        marks = [*self.began, ("", *end)]
        for i, (name, wall, cpu) in enumerate(marks[:-1]):
            began = start if i == 0 else (wall, cpu)
            before = spans.get(name, (0.0, 0.0))
            spans[name] = (before[0] + marks[i + 1][1] - began[0], before[1] + marks[i + 1][2] - began[1])
        return [(name, wall, cpu) for name, (wall, cpu) in spans.items()]


def _cpu_seconds() -> float:
    """CPU time of this process: unlike wall time, barely moved by other work on the machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


AFTER_THE_LEDGER = (
    "reconciling payments with history",
    "recording payments",
    "settling promises and plans",
    "keeping receivables and sales by day",
    "checking targets and adjustments",
    "writing the audit trail",
)


def _measure(label: str, database: str, file: Path, rows: int, code: Path | None = None) -> dict[str, Any]:
    """One import in a child process running this benchmark with the arbot of ``code`` (a
    checkout's root; default: this one); prints and returns its report."""
    root = code or Path(__file__).resolve().parent.parent
    load = os.getloadavg()[0]
    completed = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", "--database", database, "--file", str(file)],
        check=True,
        capture_output=True,
        text=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    report: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    report["load"] = (load + os.getloadavg()[0]) / 2
    rate = rows / report["seconds"] if report["seconds"] else 0
    server = f", server {report['server_cpu']:.2f} s CPU" if report.get("server_cpu") is not None else ""
    print(
        f"{label}: {report['seconds']:.2f} s ({report['cpu']:.2f} s CPU{server}), "
        f"peak RSS {report['rss_mb']:.0f} MB, {rate:,.0f} rows/s, load {report['load']:.1f} ({report['outcome']})",
        flush=True,
    )
    stages = report["stages"]
    if len(stages) > 1:
        after = sum(wall for name, wall, _cpu in stages if name in AFTER_THE_LEDGER)
        print("    " + "; ".join(f"{name} {wall:.2f} ({cpu:.2f} CPU)" for name, wall, cpu in stages), flush=True)
        print(
            f"    after the ledger's write (reconciliation, promises, rollups and sales by day, targets, audit):"
            f" {after:.2f} s",
            flush=True,
        )
    return report


def _fresh_database(database: str | None) -> tuple[str, Callable[[], None]]:
    """A new SQLite file, or a throwaway PostgreSQL database on the given server."""
    if not database:
        path = DATA / "bench_import.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}", lambda: None
    from sqlalchemy import make_url, text

    from storage.db import Timeouts, make_engine, normalize_url

    base = make_url(normalize_url(database))
    name = f"arbot_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(
        base.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT", timeouts=Timeouts(statement=0)
    )  # CREATE/DROP DATABASE wait for a checkpoint
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


def main(argv: list[str] | None = None) -> None:
    """``argv`` None (as ``python -m bench`` calls it) runs the defaults."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_import")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument(
        "--database",
        default=os.environ.get("BENCH_DATABASE_URL"),
        help="PostgreSQL server URL, measured after SQLite (default: $BENCH_DATABASE_URL)",
    )
    parser.add_argument("--only", choices=["sqlite", "postgresql"], help="measure one database only")
    parser.add_argument("--against", type=Path, help="another checkout of arbot, measured alternately with this one")
    parser.add_argument("--rounds", type=int, default=2, help="with --against: fresh imports of each, alternating")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv or [])
    if args.child:
        print(json.dumps(child(args.database, Path(args.file), AS_OF)))
        return
    file = DATA / f"open_items_{args.rows}x{args.customers}.csv"
    if not file.exists():
        started = time.perf_counter()
        generate(file, args.rows, args.customers)
        print(f"generated {file.name} ({file.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s")
    same_content = file.with_name(file.stem + "_crlf.csv")
    if not same_content.exists():
        same_content.write_bytes(file.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    backends = [("sqlite", None), ("postgresql", args.database)] if args.database else [("sqlite", None)]
    for backend, server in backends:
        if args.only in (None, backend):
            if args.against:
                _compare_on(backend, server, file, args.rows, args.against.resolve(), args.rounds)
            else:
                _measure_on(backend, server, file, same_content, args.rows)


def _measure_on(backend: str, server: str | None, file: Path, same_content: Path, rows: int) -> None:
    """A fresh import, then the same file, then the same content in other bytes."""
    database, drop = _fresh_database(server)
    try:
        _measure(f"import {rows:,} rows ({backend}, fresh)", database, file, rows)
        _measure("re-import, same file", database, file, rows)
        _measure("re-import, same content in other bytes", database, same_content, rows)
    finally:
        drop()


def _compare_on(backend: str, server: str | None, file: Path, rows: int, other: Path, rounds: int) -> None:
    """Fresh imports by this checkout and by ``other``, alternating (this one first in odd
    rounds, the other first in even ones), each into its own fresh database; then each one's
    median and range."""
    here = Path(__file__).resolve().parent.parent
    reports: dict[str, list[dict[str, Any]]] = {"this": [], "other": []}
    for round_number in range(rounds):
        order = [("this", here), ("other", other)]
        for name, code in order if round_number % 2 == 0 else order[::-1]:
            database, drop = _fresh_database(server)
            try:
                label = f"round {round_number + 1}, {name} ({code}), {backend}"
                reports[name].append(_measure(label, database, file, rows, code))
            finally:
                drop()
    for name, runs in reports.items():
        print(f"{backend}, {name}: " + _spread(runs), flush=True)


def _spread(runs: list[dict[str, Any]]) -> str:
    """Median and range of wall, client CPU, server CPU and peak RSS over runs."""

    def figure(key: str, unit: str = " s") -> str:
        values = [run[key] for run in runs if run.get(key) is not None]
        if not values:
            return "-"
        return f"{statistics.median(values):.2f}{unit} ({min(values):.2f}-{max(values):.2f})"

    return (
        f"wall {figure('seconds')}, client CPU {figure('cpu')}, server CPU {figure('server_cpu')}, "
        f"peak RSS {figure('rss_mb', ' MB')}, load {figure('load', '')}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
