"""What a ranking sets around its reads: the cyclic gc held off (commands.calllist.gc_pause),
PostgreSQL's JIT off (commands.calllist.sql.without_jit), both put back afterwards; and today's
contacts found through the index on when they happened rather than by reading every activity."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from commands.calllist.account_facts import _contacts_today
from commands.calllist.gc_pause import gc_paused
from commands.calllist.sql import without_jit
from commands.context import AppContext
from tests.support.ledger import DANA, SAM, Ledger, call_list


@pytest.fixture
def gc_enabled() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def _accounts(ctx: AppContext, n: int) -> None:
    with ctx.sessions.begin() as session:
        ledger = Ledger(session)
        for i in range(n):
            customer = ledger.customer(f"Q{i:03d}", collector=(DANA, SAM)[i % 2])
            for days in (5, 35, 65):
                ledger.invoice(customer, str(100 * (i + 1) + days), days)


def test_no_gc_collection_runs_while_a_list_is_ranked(ctx: AppContext, gc_enabled: None) -> None:
    _accounts(ctx, 60)
    call_list(ctx)  # statements built and cached: the ranking below allocates what a real one does
    started: list[int] = []

    def seen(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started.append(info["generation"])

    gc.collect()
    gc.callbacks.append(seen)
    try:
        rows = call_list(ctx)
    finally:
        gc.callbacks.remove(seen)
    assert rows and started == []
    assert gc.isenabled()


def test_pauses_nest_and_a_disabled_gc_stays_disabled(gc_enabled: None) -> None:
    with gc_paused():
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer ranking is still running
    assert gc.isenabled()
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()
    gc.enable()


def test_rankings_that_always_overlap_still_let_the_gc_collect(
    gc_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While one ranking holds the gc off, a ranking that starts after MAX_PAUSE_SECONDS first
    collects: cycles made meanwhile do not wait for a moment when no ranking runs."""
    import weakref

    from commands.calllist import gc_pause

    class Node:
        other: Any = None

    def cycle() -> weakref.ref[Node]:
        a, b = Node(), Node()
        a.other, b.other = b, a
        return weakref.ref(a)

    with gc_paused():
        gone = cycle()
        with gc_paused():  # within the interval: nothing collected
            assert gone() is not None
        monkeypatch.setattr(gc_pause, "MAX_PAUSE_SECONDS", 0.0)
        with gc_paused():
            assert gone() is None, "the overdue ranking collected the cycle"
        assert not gc.isenabled()
    assert gc.isenabled()


def test_jit_is_off_inside_and_as_before_after(ctx: AppContext) -> None:
    with ctx.sessions() as session:
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("JIT is PostgreSQL's")
        setting = text("SELECT current_setting('jit')")
        before = session.scalar(setting)
        with without_jit(session):
            assert session.scalar(setting) == "off"
        assert session.scalar(setting) == before
        session.execute(text("SET LOCAL jit = on"))
        with without_jit(session):
            assert session.scalar(setting) == "off"
        assert session.scalar(setting) == "on"


def test_todays_contacts_are_found_by_time(ctx: AppContext) -> None:
    """The list reads one day of activities, not all of them (migration 0023's index)."""
    with ctx.sessions() as session:
        if session.get_bind().dialect.name != "sqlite":
            pytest.skip("the plan is SQLite's to show; PostgreSQL picks by its statistics")
        stmt = str(
            _contacts_today("sqlite", False, False)
            .params(day_start=None, day_end=None)
            .compile(session.get_bind(), compile_kwargs={"render_postcompile": True})
        )
        plan = session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + stmt, (None,) * stmt.count("?"))
        details = " ".join(str(row[-1]) for row in plan)
    assert "COVERING INDEX ix_activities_time_customer_outcome" in details, details
