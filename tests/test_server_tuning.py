"""`arbot serve` tunes its Python when it starts: the worker pool its listeners hand requests to
is sized for the load, and what start-up loaded is frozen out of the garbage collector's reach
with the server's thresholds; ARBOT_GC=default and ARBOT_WORKERS switch either."""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
from collections.abc import Iterator

import pytest
from aiohttp import web

from bot.server import tuned
from bot.tuning import DEFAULT_WORKERS, SERVER_SWITCH_INTERVAL_MS, SERVER_THRESHOLDS, Tuning


@pytest.fixture
def collector() -> Iterator[None]:
    """The test process's collector and switch interval as they were, afterwards."""
    thresholds, interval = gc.get_threshold(), sys.getswitchinterval()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    sys.setswitchinterval(interval)


def started(app: web.Application) -> tuple[bool, int]:
    """Run the app's start-up hooks; whether to_thread work then runs on the server's pool, and
    how many objects are frozen."""

    async def start() -> tuple[bool, int]:
        for hook in app.on_startup:
            await hook(app)
        on_pool = await asyncio.to_thread(lambda: threading.current_thread().name.startswith("arbot-worker"))
        return on_pool, gc.get_freeze_count()

    return asyncio.run(start())


def test_the_server_starts_with_its_pool_and_a_frozen_collector(collector: None, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("ARBOT_GC", raising=False)
    monkeypatch.delenv("ARBOT_SWITCH_INTERVAL_MS", raising=False)
    gc.unfreeze()
    sys.setswitchinterval(0.005)
    in_pool, frozen = started(tuned(web.Application()))
    assert in_pool, "to_thread work runs on the server's own pool"
    assert frozen > 1000, "what start-up loaded is frozen"
    assert gc.get_threshold() == SERVER_THRESHOLDS
    assert sys.getswitchinterval() == pytest.approx(SERVER_SWITCH_INTERVAL_MS / 1000), (
        "a busy worker thread hands the interpreter back to the event loop sooner than Python's 5 ms"
    )


def test_switched_off_the_collector_is_left_alone(collector: None, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ARBOT_GC", "default")
    gc.unfreeze()
    before = gc.get_threshold()
    started(tuned(web.Application()))
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == before


def test_settings_from_the_environment() -> None:
    assert Tuning.from_env({}) == Tuning(server_gc=True, workers=DEFAULT_WORKERS, thresholds=SERVER_THRESHOLDS)
    tuning = Tuning.from_env({"ARBOT_GC": "default", "ARBOT_WORKERS": "6", "ARBOT_GC_THRESHOLDS": "700,10,10"})
    assert tuning == Tuning(server_gc=False, workers=6, thresholds=(700, 10, 10))
    assert Tuning.from_env({"ARBOT_SWITCH_INTERVAL_MS": "5"}).switch_interval_ms == 5.0
    assert (
        Tuning.from_env({"ARBOT_WORKERS": "many", "ARBOT_GC_THRESHOLDS": "0,1", "ARBOT_SWITCH_INTERVAL_MS": "0"})
        == Tuning()
    )
