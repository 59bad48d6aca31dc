"""Python's cyclic garbage collection held off while a list is ranked.

A whole team's list reads some 100,000 rows of packs and facts: as many tuples, every one a
container the gc tracks. Each 700 new containers start a collection, and the survivors
are traversed again as they age into the older generations, so the gc walked the
ranking's own rows (and everything else alive in the process) over and over: about a third of
the CPU a whole team's list cost. Ranking makes no reference cycles worth collecting on the way,
so the gc waits until the ranking is done and then runs as usual, on what is left.

Pauses nest and may overlap across threads: the gc is enabled again only when the last
ranking leaves, and only if it was enabled before the first one came in (a process that turned
it off keeps it off). On a server busy enough that rankings always overlap, the gc would never
run and cycles made elsewhere would pile up; so a ranking that starts while the gc has been held
off for :data:`MAX_PAUSE_SECONDS` first collects (once per that interval, in that thread).
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

MAX_PAUSE_SECONDS = 2.0

_lock = threading.Lock()
_inside = 0
_was_enabled = False
_held_since = 0.0  # when the gc was last held off or last collected while held


@contextmanager
def gc_paused() -> Iterator[None]:
    """No automatic cyclic garbage collection inside the block (reference counting still frees
    everything that is not in a cycle at once)."""
    global _inside, _was_enabled, _held_since
    overdue = False
    with _lock:
        now = time.monotonic()
        if _inside == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
            _held_since = now
        elif _was_enabled and now - _held_since >= MAX_PAUSE_SECONDS:
            overdue, _held_since = True, now
        _inside += 1
    if overdue:
        gc.collect()
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if _inside == 0 and _was_enabled:
                gc.enable()
