"""Refusals: the one answer a user gets when a command cannot be carried out as typed.

A refusal is a value, not an exception, so parsers and handlers can return it next to their
normal result and the router can be sure nothing was written: it rolls the transaction back
whenever a refusal comes out of a command."""

from __future__ import annotations

from dataclasses import dataclass, replace

from commands import messages
from commands.messages import Reply


@dataclass(frozen=True)
class Refusal:
    """What is wrong and how to fix it (``message``), what the bot did read (``understood``),
    and the command's usage line, so one message is enough to type it right the second time."""

    message: str
    understood: str = ""
    usage: str = ""

    def with_usage(self, usage: str) -> Refusal:
        """The same refusal with the command's usage line, unless it already names one."""
        return self if self.usage else replace(self, usage=usage)

    def with_understood(self, understood: str) -> Refusal:
        """The same refusal, adding what was read so far in front of what it already says."""
        if not understood:
            return self
        joined = f"{understood}; {self.understood}" if self.understood else understood
        return replace(self, understood=joined)

    def to_reply(self) -> Reply:
        lines = []
        if self.understood:
            lines.append(f"I understood: {self.understood}.")
        if self.usage:
            lines.append(f"Usage: {self.usage}")
        lines.append("Nothing was saved.")
        return messages.error(self.message, "\n".join(lines))


@dataclass(frozen=True)
class PointsAtNothing(Refusal):
    """A button whose data names nothing that exists (no customer, no request, no such button):
    stale, or forged. Refused like any other, and kept on the audit record, since a forged
    button says something about who pressed it."""
