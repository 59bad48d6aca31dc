"""``arbot chat --as <email>``: the chat core in a terminal. Each line is one message (a leading
``/ar`` is optional, as in Slack); replies print as plain text. Reads a pipe as happily as a
keyboard, so a whole conversation can be scripted for a demo or a test.

Also a :class:`Messenger` that prints posts, so scheduled jobs can run without a chat platform."""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Iterable
from typing import TextIO

from commands.context import AppContext
from commands.messages import Button, ChatUser, Incoming, PostedRef, Reply, Row, Tone, Where
from commands.parsing.text import clean_text
from commands.router import handle

PREFIX = "/ar"
WHERE = Where(channel="terminal")
_TONE_PREFIX = {Tone.ERROR: "Error: ", Tone.WARNING: "Warning: "}


def run(ctx: AppContext, args: argparse.Namespace) -> int:
    """Hold a conversation on stdin/stdout as ``args.as_email``; 1 if that is not a team member."""
    member = ctx.team.member(args.as_email)
    if member is None:
        print(f"arbot chat: {args.as_email} is not on the {ctx.team.name} team; "
              "add them to the team file", file=sys.stderr)
        return 1
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="replace")  # a customer name must not crash a cp1252 console
    user = ChatUser(platform="terminal", user_id=member.email, email=member.email,
                    display_name=member.name)
    try:
        converse(ctx, user, sys.stdin, sys.stdout, prompt=sys.stdin.isatty())
    except KeyboardInterrupt:
        print(file=sys.stdout)
        return 130
    return 0


def converse(ctx: AppContext, user: ChatUser, lines: TextIO, out: TextIO, *, prompt: bool) -> None:
    """Read messages until EOF or ``quit``; skip blank lines and ``#`` comments."""
    while True:
        if prompt:
            out.write("> ")
            out.flush()
        line = lines.readline()
        if not line:
            return
        text = strip_prefix(line.strip())
        if not text or text.startswith("#"):
            continue
        if text.lower() in ("quit", "exit"):
            return
        replies = handle(ctx, Incoming(user=user, where=WHERE, text=text))
        out.write(render_replies(replies) + "\n\n")
        out.flush()


def strip_prefix(text: str) -> str:
    """``/ar status acme`` and ``status acme`` are the same message."""
    parts = text.split(maxsplit=1)
    if parts and parts[0].lower() == PREFIX:
        return parts[1] if len(parts) > 1 else ""
    return text


def render_replies(replies: Iterable[Reply]) -> str:
    """Replies as plain text, a blank line between them."""
    return "\n\n".join(render_reply(reply) for reply in replies)


def render_reply(reply: Reply) -> str:
    """Title (marked when it is an error), text, fields as ``label: value``, numbered rows with
    their details, and buttons as ``[Label]``. Control characters are dropped so text from the
    ledger cannot drive the terminal."""
    lines = []
    if reply.where is not None:
        lines.append(f"(to {_destination(reply.where)})")
    lines.append(_TONE_PREFIX.get(reply.tone, "") + _plain(reply.title))
    lines += _indented(reply.text, "  ")
    lines += [f"  {_plain(f.label)}: {_plain(f.value)}" for f in reply.fields]
    for number, row in enumerate(reply.rows, start=1):
        lines += _row_lines(number, row)
    if reply.buttons:
        lines.append("  " + _buttons(reply.buttons))
    return "\n".join(lines)


def _row_lines(number: int, row: Row) -> list[str]:
    lines = [f"  {number}. {_plain(row.title)}"]
    lines += _indented(row.detail, "     ")
    if row.fields:
        lines.append("     " + " · ".join(f"{_plain(f.label)}: {_plain(f.value)}" for f in row.fields))
    if row.buttons:
        lines.append("     " + _buttons(row.buttons))
    return lines


def _buttons(buttons: Iterable[Button]) -> str:
    return " ".join(f"[{_plain(b.label)}]" for b in buttons)


def _indented(text: str, indent: str) -> list[str]:
    return [indent + line for line in _plain(text).splitlines() if line.strip()]


def _plain(text: str) -> str:
    return clean_text(text).replace("\t", " ")


def _destination(where: Where) -> str:
    return f"#{where.channel}" + (f", thread {where.thread}" if where.thread else "")


class TerminalMessenger:
    """The Messenger port on stdout: each post is printed with where it would have gone."""

    def __init__(self, out: TextIO | None = None) -> None:
        self._out = out
        self._ids = itertools.count(1)

    def post(self, where: Where, reply: Reply) -> PostedRef:
        return self._print(f"posted to {_destination(where)}", where, reply)

    def update(self, ref: PostedRef, reply: Reply) -> None:
        self._print(f"update of message {ref.message_id} in {_destination(ref.where)}", ref.where, reply)

    def direct(self, email: str, reply: Reply) -> PostedRef:
        return self._print(f"direct message to {email}", Where(channel=f"dm:{email}"), reply)

    def _print(self, header: str, where: Where, reply: Reply) -> PostedRef:
        out = self._out or sys.stdout
        print(f"[{header}]\n{render_reply(reply)}\n", file=out, flush=True)
        return PostedRef(where=where, message_id=f"terminal-{next(self._ids)}")
