"""Python's cyclic garbage collection held off while a list is ranked.

A whole team's list reads some 100,000 rows of packs and facts: as many tuples, every one a
container the gc tracks. Each 700 new containers start a collection, and the survivors
are traversed again as they age into the older generations, so the gc walked the
ranking's own rows (and everything else alive in the process) over and over: about a third of
the CPU a whole team's list cost. Ranking makes no reference cycles worth collecting on the way,
so the gc waits until the ranking is done and then runs as usual, on what is left.

Pauses nest and may overlap across threads: the gc is enabled again only when the last
ranking leaves, and only if it was enabled before the first one came in (a process that turned
it off keeps it off).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_inside = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """No automatic cyclic garbage collection inside the block (reference counting still frees
    everything that is not in a cycle at once)."""
    global _inside, _was_enabled
    with _lock:
        if _inside == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _inside += 1
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if _inside == 0 and _was_enabled:
                gc.enable()
