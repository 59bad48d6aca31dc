"""``arbot chat --as <email>``: the chat core in a terminal. Each line is one message (a leading
``/ar`` is optional, as in Slack); replies print as plain text. Reads a pipe as happily as a
keyboard, so a whole conversation can be scripted for a demo or a test.

Posts the bot makes elsewhere (the finance channel, an approval card, a direct message) print
with the id of the message, and that id is how a person acts on them here:

    in m3k9q: approve                  a reply typed in that message's thread
    click m3k9q Confirm                press a button on it (``click m3k9q Partial 500`` when the
                                       button needs a value)
    as priya.shah@example.com          speak as another team member from now on

Also a :class:`Messenger` that prints posts, so scheduled jobs can run without a chat platform."""

from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from bot.log_setup import chat_log_file
from bot.log_setup import configure as configure_logging
from commands.context import AppContext
from commands.delivery import thread_of_tracked
from commands.failures import Saved, failure_reply
from commands.messages import Action, Attachment, Button, ChatUser, Incoming, PostedRef, Reply, Row, Tone, Where
from commands.outbox import Dispatcher
from commands.parsing.text import clean_text
from commands.router import handle

PREFIX = "/ar"
WHERE = Where(channel="terminal")
_TONE_PREFIX = {Tone.ERROR: "Error: ", Tone.WARNING: "Warning: "}


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")  # a file name from a reply, as the terminal saves it


def run(ctx: AppContext, args: argparse.Namespace) -> int:
    """Hold a conversation on stdin/stdout as ``args.as_email``; 1 if that is not a team member."""
    member = ctx.team.member(args.as_email)
    if member is None:
        print(
            f"arbot chat: {args.as_email} is not on the {ctx.team.name} team; add them to the team file",
            file=sys.stderr,
        )
        return 1
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="replace")  # a customer name must not crash a cp1252 console
    configure_logging("WARNING", to_file=chat_log_file())  # log lines never land in the conversation
    try:
        converse(
            ctx,
            terminal_user(member.email, member.name),
            sys.stdin,
            sys.stdout,
            prompt=sys.stdin.isatty(),
            messenger=TerminalMessenger(sys.stdout, files_dir=files_dir()),
        )
    except KeyboardInterrupt:
        print(file=sys.stdout)
        return 130
    return 0


def terminal_user(email: str, name: str | None = None) -> ChatUser:
    return ChatUser(platform="terminal", user_id=email, email=email, display_name=name)


def converse(
    ctx: AppContext,
    user: ChatUser,
    lines: TextIO,
    out: TextIO,
    *,
    prompt: bool,
    messenger: TerminalMessenger | None = None,
) -> None:
    """Read messages until EOF or ``quit``; skip blank lines and ``#`` comments."""
    messenger = messenger or TerminalMessenger(out)
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
        switched = _switch_user(ctx, text)
        if switched is not None:
            user = switched if isinstance(switched, ChatUser) else user
            out.write((switched if isinstance(switched, str) else f"(you are now {user.email})") + "\n\n")
            continue
        out.write(render_replies(answer(ctx, user, text, messenger), files_dir=messenger.files_dir) + "\n\n")
        out.flush()


def answer(ctx: AppContext, user: ChatUser, text: str, messenger: TerminalMessenger) -> list[Reply]:
    """One line's answer, and the posts it made printed; a failure is one sentence that says
    truly whether the request was saved (the core commits before its posts are shown)."""
    try:
        incoming = to_incoming(ctx, user, text, messenger)
    except Exception as exc:
        return [failure_reply(exc, doing="terminal chat")]
    mine = handle(ctx, incoming) if isinstance(incoming, Incoming) else [incoming]
    try:
        terminal_dispatcher(ctx, messenger).drain()
    except Exception as exc:
        saved = Saved.YES if any(reply.tone is not Tone.ERROR for reply in mine) else Saved.NO
        mine.append(failure_reply(exc, saved=saved, doing="terminal delivery"))
    return mine


def terminal_dispatcher(ctx: AppContext, messenger: TerminalMessenger) -> Dispatcher:
    """Delivers what the terminal's own messages queued, in order, at once. Only entries for
    the terminal: a database shared with a real deployment keeps its Slack and Teams entries
    for the server that can send them."""
    return Dispatcher(ctx, {"terminal": messenger}, workers=1, pacing={})


_IN_THREAD = re.compile(r"in\s+(\S+?)\s*:\s*(.*)", re.IGNORECASE | re.DOTALL)
_CLICK = re.compile(r"click\s+(\S+)\s+(.+)", re.IGNORECASE)


def _switch_user(ctx: AppContext, text: str) -> ChatUser | str | None:
    """``as <email>``: who speaks from now on (a scripted conversation has several people)."""
    parts = text.split()
    if len(parts) != 2 or parts[0].lower() != "as":
        return None
    member = ctx.team.member(parts[1])
    if member is None:
        return f"Error: {parts[1][:80]} is not on the {ctx.team.name} team"
    return terminal_user(member.email, member.name)


def to_incoming(ctx: AppContext, user: ChatUser, text: str, messenger: TerminalMessenger) -> Incoming | Reply:
    """A typed line as the neutral message: plain text, a reply in a thread, or a button press."""
    if match := _IN_THREAD.fullmatch(text):
        where = messenger.thread_of(match[1])
        if where is None:
            with ctx.sessions() as session:
                where = thread_of_tracked(session, match[1])
        if where is None:
            return Reply(title=f"No message {match[1][:20]} to reply to", tone=Tone.ERROR, private=True)
        return Incoming(user=user, where=where, text=match[2])
    if match := _CLICK.fullmatch(text):
        return messenger.press(user, match[1], match[2])
    return Incoming(user=user, where=WHERE, text=text)


def strip_prefix(text: str) -> str:
    """``/ar status acme`` and ``status acme`` are the same message."""
    parts = text.split(maxsplit=1)
    if parts and parts[0].lower() == PREFIX:
        return parts[1] if len(parts) > 1 else ""
    return text


def render_replies(replies: Iterable[Reply], *, files_dir: Path | None = None) -> str:
    """Replies as plain text, a blank line between them."""
    return "\n\n".join(render_reply(reply, files_dir=files_dir) for reply in replies)


def files_dir() -> Path:
    """Where the terminal chat saves the files replies carry (a chart, a workbook)."""
    return Path(os.environ.get("ARBOT_FILES_DIR", "arbot-files"))


def saved(file: Attachment, folder: Path) -> Path:
    """``file`` written under ``folder`` with a name it cannot steer elsewhere; an existing file
    of that name is kept and the new one numbered."""
    name = _SAFE_NAME.sub("_", Path(file.name).name).lstrip(".") or "file"
    folder.mkdir(parents=True, exist_ok=True)
    path, stem, n = folder / name, Path(name).stem, 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}{Path(name).suffix}"
    path.write_bytes(file.data)
    return path


def _file_line(file: Attachment, folder: Path | None) -> str:
    size = f"{len(file.data) / 1024:,.1f} KB"
    if folder is None:
        return f"  file: {_plain(file.name)} ({size}; not saved here)"
    try:
        return f"  file: {saved(file, folder)} ({size})"
    except OSError as exc:
        return f"  file: {_plain(file.name)} could not be saved in {folder}: {exc.strerror or exc}"


def render_reply(reply: Reply, *, files_dir: Path | None = None) -> str:
    """Title (marked when it is an error), text, fields as ``label: value``, numbered rows with
    their details, and buttons as ``[Label]``. Control characters are dropped so text from the
    ledger cannot drive the terminal."""
    lines = []
    if reply.where is not None and reply.replaces is None and reply.thread_of is None:
        lines.append(f"(to {_destination(reply.where)})")
    if reply.mentions:
        lines.append(" ".join(f"@{_plain(email)}" for email in reply.mentions))
    lines.append(_TONE_PREFIX.get(reply.tone, "") + _plain(reply.title))
    lines += _indented(reply.text, "  ")
    lines += [f"  {_plain(f.label)}: {_plain(f.value)}" for f in reply.fields]
    for number, row in enumerate(reply.rows, start=1):
        lines += _row_lines(number, row)
    if reply.buttons:
        lines.append("  " + _buttons(reply.buttons))
    lines += [_file_line(file, files_dir) for file in reply.files]
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
    """The Messenger port on stdout: each post is printed with where it would have gone and the
    id a person types to answer in its thread or press its buttons. Ids are random so posts from
    earlier sessions on the same database never collide."""

    def __init__(
        self, out: TextIO | None = None, new_id: Callable[[], str] | None = None, *, files_dir: Path | None = None
    ) -> None:
        self.files_dir = files_dir
        self._out = out
        self._new_id = new_id or (lambda: "m" + secrets.token_hex(3))
        self._posted: dict[str, tuple[Where, Reply]] = {}

    def post(self, where: Where, reply: Reply) -> PostedRef:
        return self._print("posted to " + _destination(where), where, reply)

    def update(self, ref: PostedRef, reply: Reply) -> None:
        self._posted[ref.message_id] = (ref.where, reply)
        self._write(f"update of {ref.message_id} in {_destination(ref.where)}", reply)

    def direct(self, email: str, reply: Reply) -> PostedRef:
        return self._print(f"direct message to {email}", Where(channel=f"dm:{email}"), reply)

    def thread_of(self, message_id: str) -> Where | None:
        """The thread under a message posted in this session."""
        if message_id not in self._posted:
            return None
        return Where(channel=self._posted[message_id][0].channel, thread=message_id)

    def press(self, user: ChatUser, message_id: str, label_and_value: str) -> Incoming | Reply:
        """The button whose label starts ``label_and_value``; what follows it is the value a
        button that ``needs`` one (an amount, a reason) would ask for in a form."""
        if message_id not in self._posted:
            return Reply(
                title=f"No message {message_id[:20]} in this session to click on", tone=Tone.ERROR, private=True
            )
        where, reply = self._posted[message_id]
        buttons = list(reply.buttons) + [b for row in reply.rows for b in row.buttons]
        for button in sorted(buttons, key=lambda b: -len(b.label)):
            if label_and_value.lower().startswith(button.label.lower()):
                rest = label_and_value[len(button.label) :].strip()
                value = dict(button.value)
                if rest and isinstance(value.get("needs"), str):
                    value[value["needs"]] = rest
                return Incoming(
                    user=user,
                    where=Where(where.channel, thread=message_id),
                    action=Action(name=button.action, value=value),
                )
        labels = ", ".join(b.label for b in buttons) or "none"
        return Reply(
            title=f"Message {message_id} has no button {label_and_value[:40]!r} (buttons: {labels})",
            tone=Tone.ERROR,
            private=True,
        )

    def _print(self, header: str, where: Where, reply: Reply) -> PostedRef:
        message_id = self._new_id()
        self._posted[message_id] = (where, reply)
        self._write(f"{header} as {message_id}", reply)
        return PostedRef(where=where, message_id=message_id)

    def _write(self, header: str, reply: Reply) -> None:
        print(
            f"[{header}]\n{render_reply(reply, files_dir=self.files_dir)}\n", file=self._out or sys.stdout, flush=True
        )
