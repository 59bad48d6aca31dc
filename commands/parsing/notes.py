"""Free-text notes on activities and promises.

Kept as plain text exactly as typed (markup like ``*bold*`` or ``<!channel>`` included:
adapters escape it when they show it), minus control characters. A cap keeps a pasted email
thread out of the ledger and out of every status card that would show it."""

from __future__ import annotations

from commands.parsing.text import clean_text
from commands.refusal import Refusal

MAX_NOTE_LENGTH = 2000


def read_note(text: str) -> str | Refusal | None:
    """The note to store (None when there is none), or a refusal when it is too long."""
    note = clean_text(text).strip()
    if not note:
        return None
    if len(note) > MAX_NOTE_LENGTH:
        return Refusal(
            f"notes can be at most {MAX_NOTE_LENGTH:,} characters and yours has {len(note):,}; "
            "shorten it to the part the team needs to know"
        )
    return note
