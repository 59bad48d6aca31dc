"""``arbot mail bounce [FILE...]``: bounces handed to arbot the way mail servers hand mail to
programs. Without files it reads one message on stdin (a Postfix alias
``bounces: "|/path/.venv/bin/arbot mail bounce"``, procmail, .forward); with files it reads
saved .eml files, one message each.

Exit 0 when every message was taken or deliberately ignored (a non-bounce, an unknown
Message-ID, garbage), so the mail server does not bounce the bounce; 75 (EX_TEMPFAIL) when the
database or the settings cannot be used, so it tries again later (set in bot.cli); 1 when a
named file cannot be read. Each message leaves one line on stdout (what became of it); one that
was ignored leaves a warning in the log as well (``ARBOT_LOG_LEVEL=INFO`` logs the taken ones)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import BinaryIO

from commands.context import AppContext
from commands.mail.bounces import BounceResult, take_bounce
from commands.mail.dsn import MAX_BYTES


def run_bounce(ctx: AppContext, args: argparse.Namespace) -> int:
    if not args.files:
        _report("stdin", take_bounce(ctx, _read_limited(sys.stdin.buffer)))
        return 0
    unreadable = 0
    for name in args.files:
        try:
            with Path(name).open("rb") as file:
                raw = _read_limited(file)
        except OSError as exc:
            print(f"arbot mail bounce: {name}: cannot read ({exc.strerror or exc})", file=sys.stderr)
            unreadable += 1
            continue
        _report(name, take_bounce(ctx, raw))
    return 1 if unreadable else 0


def _read_limited(stream: BinaryIO) -> bytes:
    """At most one byte past the limit, so an oversized message is refused without holding it all."""
    return stream.read(MAX_BYTES + 1)


def _report(source: str, result: BounceResult) -> None:
    print(f"{source}: {result.text}")
