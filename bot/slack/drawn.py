"""Replies drawn as Block Kit once and kept for the next identical one.

A collector's call list is asked for again and again while nothing on it changes, and several
people waiting for the same answer are given one reply (bot.runtime.shared_answers); drawing a
75-line list (a section, buttons and their encoded values per line) cost more CPU than finding
the kept list. The last few replies drawn are kept with their messages: a reply equal to one of
them, field by field, gets the same messages. Comparing costs a small part of drawing, and is
done only for a reply with the same title, length and first line. The messages are read-only
once drawn (the senders copy what they change)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from bot.slack.render import SlackMessage, render
from commands.messages import Reply

KEPT = 64  # replies kept: a few per collector's list, and the latest one-off answers


class DrawnReplies:
    """:func:`bot.slack.render.render` with the latest replies' messages kept; thread-safe."""

    def __init__(self, kept: int = KEPT) -> None:
        self._kept: OrderedDict[Hashable, tuple[Reply, list[SlackMessage]]] = OrderedDict()
        self._lock = threading.Lock()
        self._limit = kept
        self.drawn = 0  # replies drawn afresh
        self.reused = 0  # replies answered with messages drawn before

    def render(self, reply: Reply) -> list[SlackMessage]:
        key = _key(reply)
        with self._lock:
            found = self._kept.get(key)
        if found is not None and (found[0] is reply or found[0] == reply):
            with self._lock:
                self.reused += 1
            return found[1]
        messages = render(reply)
        with self._lock:
            self.drawn += 1
            self._kept[key] = (reply, messages)
            self._kept.move_to_end(key)
            while len(self._kept) > self._limit:
                self._kept.popitem(last=False)
        return messages


def _key(reply: Reply) -> Hashable:
    """Cheap to work out, and the same for equal replies."""
    first = reply.rows[0].title if reply.rows else ""
    return (reply.title, reply.text[:200], len(reply.rows), first, len(reply.buttons))
