"""Kinds of hold: what a hold stops (product release, scheduling, service suspension), the words
that name it in ``hold <customer> [kind] <reason>``, who is told when one is placed or released,
and whether it stands in the way of a clearance request.

The kinds come from the team file's ``[holds]`` section; without one, the three kinds below are
used and every kind is announced to ``[channels] hold_announcements``. A kind that names no
channels of its own falls back to those general ones, so a team that adds a kind is never left
announcing to nobody."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from storage.models import DEFAULT_HOLD_KIND


class HoldKindsError(ValueError):
    """The team file's [holds] section says something impossible."""


@dataclass(frozen=True)
class HoldKind:
    key: str  # stored on the hold ("scheduling")
    label: str  # how people say it ("service suspension")
    words: tuple[str, ...]  # what names it after the customer in `hold`, lower case
    announce: tuple[str, ...] = ()  # channels told; empty: the general hold announcements
    blocks_clearance: bool = True  # a clearance request waits for a person while this hold is on


DEFAULT_KINDS = (
    HoldKind(DEFAULT_HOLD_KIND, "product release", ("product release", "product", "release")),
    HoldKind("scheduling", "scheduling", ("scheduling", "schedule")),
    HoldKind("service_suspension", "service suspension", ("service suspension", "suspension", "suspend", "service")),
)


@dataclass(frozen=True)
class HoldKinds:
    kinds: tuple[HoldKind, ...] = DEFAULT_KINDS
    default: str = DEFAULT_HOLD_KIND  # the kind of a `hold` that names none

    def get(self, key: str) -> HoldKind | None:
        return next((k for k in self.kinds if k.key == key), None)

    def label(self, key: str) -> str:
        """How a stored kind is shown, also for a kind the team file no longer lists."""
        kind = self.get(key)
        return kind.label if kind is not None else key.replace("_", " ")

    def channels(self, key: str, general: tuple[str, ...]) -> tuple[str, ...]:
        """Who is told about a hold of this kind: its own channels, else the general ones."""
        kind = self.get(key)
        return kind.announce if kind is not None and kind.announce else general

    def blocks_clearance(self, key: str) -> bool:
        kind = self.get(key)
        return kind.blocks_clearance if kind is not None else True

    def named(self, words: list[str]) -> tuple[HoldKind, int] | None:
        """The kind the leading ``words`` name (longest phrase first) and how many words it took."""
        lowered = [w.lower() for w in words]
        for kind, phrase in sorted(
            ((k, p) for k in self.kinds for p in (*k.words, k.key)), key=lambda pair: -len(pair[1].split())
        ):
            size = len(phrase.split())
            if " ".join(lowered[:size]) == phrase:
                return kind, size
        return None

    def near_miss(self, word: str) -> HoldKind | None:
        """The kind a word is probably a typo of ("shceduling"), so it is asked about rather than
        taken silently as the first word of the reason."""
        by_word = {w: k for k in self.kinds for w in (*k.words, k.key) if " " not in w and len(w) >= 5}
        close = difflib.get_close_matches(word.lower(), list(by_word), n=1, cutoff=0.8)
        return by_word[close[0]] if close and len(word) >= 5 else None

    def listed(self) -> str:
        """``product release, scheduling or service suspension``: the kinds as a refusal names them."""
        labels = [k.label for k in self.kinds]
        return labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} or {labels[-1]}"


def hold_kinds_from_dict(data: dict[str, Any], channel: Callable[[str, Any], str]) -> HoldKinds:
    """``[holds]`` read with ``channel`` (which also records per-platform destinations)."""
    if not data:
        return HoldKinds()
    table = data.get("kinds")
    kinds: tuple[HoldKind, ...]
    if table is None:
        kinds = DEFAULT_KINDS
    elif not isinstance(table, dict) or not table:
        raise HoldKindsError("[holds.kinds] must name at least one kind, like [holds.kinds.scheduling]")
    else:
        kinds = tuple(_kind(str(key), value, channel) for key, value in table.items())
    default = str(data.get("default_kind", kinds[0].key if table else DEFAULT_HOLD_KIND))
    if default not in {k.key for k in kinds}:
        raise HoldKindsError(f"[holds] default_kind {default!r} is not one of the kinds listed")
    words = [w for k in kinds for w in {*k.words, k.key}]
    twice = sorted({w for w in words if words.count(w) > 1})
    if twice:
        raise HoldKindsError(f"[holds] the word(s) {', '.join(twice)} name more than one kind")
    return HoldKinds(kinds, default)


def _kind(key: str, value: Any, channel: Callable[[str, Any], str]) -> HoldKind:
    if not isinstance(value, dict):
        raise HoldKindsError(f"[holds.kinds.{key}] must be a table")
    base = next((k for k in DEFAULT_KINDS if k.key == key), None)
    label = str(value.get("label", base.label if base else key.replace("_", " ")))
    raw_words = value.get("words", list(base.words) if base else [label])
    if not isinstance(raw_words, list) or not all(isinstance(w, str) and w.strip() for w in raw_words):
        raise HoldKindsError(f'[holds.kinds.{key}] words must be a list of words, like ["scheduling"]')
    announce = value.get("announce", [])
    if not isinstance(announce, list):
        raise HoldKindsError(f"[holds.kinds.{key}] announce must be a list of channels")
    return HoldKind(
        key=key,
        label=label,
        words=tuple(" ".join(w.lower().split()) for w in raw_words),
        announce=tuple(channel(f"holds.kinds.{key}.announce[{i}]", c) for i, c in enumerate(announce)),
        blocks_clearance=bool(value.get("blocks_clearance", True)),
    )
