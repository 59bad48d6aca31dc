"""Benchmark data built once and kept between runs: an SQLite file under bench/data/ named by
the generator's version (a change to the generator builds a new one), or a database of that name
on a PostgreSQL server. Also the timer the benchmarks share."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, make_url, text

from storage.db import Timeouts, make_engine, normalize_url

DATA = Path(__file__).parent / "data"


def sqlite_file(version: str, build: Callable[[Path], None]) -> Engine:
    """An engine on ``bench/data/<version>.db``, built by ``build(path)`` the first time; a build
    cut short leaves only a ``.building`` file, so it is never taken for a finished one."""
    path = DATA / f"{version}.db"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        building = path.with_name(path.name + ".building")
        building.unlink(missing_ok=True)
        started = time.perf_counter()
        build(building)
        building.rename(path)
        print(f"built {path} in {time.perf_counter() - started:.1f} s")
    return make_engine(f"sqlite:///{path}")


def postgres_database(url: str, version: str) -> Engine:
    """An engine on the database ``arbot_bench_<version>`` of the server at ``url``, created
    empty when missing; the caller checks whether its data is there."""
    base = make_url(normalize_url(url))
    name = "arbot_bench_" + version.replace("-", "_")
    admin = make_engine(
        base.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT", timeouts=Timeouts(statement=0)
    )  # CREATE DATABASE waits for a checkpoint
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    # Building a benchmark database (COPY of a million rows, VACUUM) is admin work: no time limit.
    return make_engine(base.set(database=name).render_as_string(hide_password=False), timeouts=Timeouts(statement=0))


def timed(fn: Callable[[], Any], repeat: int = 5) -> tuple[float, float, Any]:
    """(best, median) wall seconds over ``repeat`` runs, and the last run's result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times), result


@contextmanager
def throwaway_database(label: str) -> Iterator[str]:
    """An empty database for one benchmark run, gone afterwards: a SQLite file in a temporary
    folder, or with ``BENCH_DATABASE_URL`` (a PostgreSQL server) a database made there."""
    server = os.environ.get("BENCH_DATABASE_URL")
    if not server:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / f'bench_{label}.db'}"
        return
    base = make_url(normalize_url(server))
    name = f"arbot_bench_{label}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(
        base.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT", timeouts=Timeouts(statement=0)
    )  # CREATE/DROP DATABASE wait for a checkpoint
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
