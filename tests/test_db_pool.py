"""The PostgreSQL connection pool under the server's concurrency: eight requests at once (the
worker threads, the outbox dispatcher, the scheduler), then eight again. The second time every
one of them finds a connection already open; none is opened just to be closed at its end (each
a server process started, authenticated and set up)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, event, text

from storage.db import Timeouts, make_engine


@pytest.fixture
def server(postgres_server_engine: Engine | None) -> Engine:
    if postgres_server_engine is None:
        pytest.skip("needs TEST_DATABASE_URL (PostgreSQL)")
    return postgres_server_engine


def eight_at_once(engine: Engine) -> None:
    """Eight sessions that are all open at the same moment, then all closed."""
    together = threading.Barrier(8)

    def request() -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            together.wait(timeout=30)

    threads = [threading.Thread(target=request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)


def test_connections_used_at_once_stay_open_for_the_next_requests(server: Engine) -> None:
    engine = make_engine(server.url.render_as_string(hide_password=False), timeouts=Timeouts(statement=0))
    opened: list[object] = []
    event.listen(engine, "connect", lambda dbapi_conn, _record: opened.append(dbapi_conn))
    try:
        eight_at_once(engine)
        assert len(opened) == 8
        eight_at_once(engine)
        assert len(opened) == 8, f"{len(opened) - 8} connections opened again for the second eight"
    finally:
        engine.dispose()
