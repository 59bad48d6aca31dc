"""``arbot audit verify``: walk the audit log's hash chain and say, in one line, whether it is
intact or which event is the first broken link. Exit 0 intact, 1 broken, so cron or a CI job
can alert on it. The tip it prints is worth keeping elsewhere: ``--tip`` checks it later, which
is what shows the newest events removed or the whole chain rewritten."""

from __future__ import annotations

import argparse

from commands.context import AppContext
from storage.audit import ChainCheck, verify
from storage.db import read_only


def run(ctx: AppContext, args: argparse.Namespace) -> int:
    with ctx.sessions() as session:
        found = verify(read_only(session).connection(), expect_tip=args.tip)
    print(describe(found))
    return 0 if found.intact else 1


def describe(found: ChainCheck) -> str:
    """One line a person can act on."""
    if found.broken_at is not None:
        return (
            f"audit log BROKEN at event #{found.broken_at}: {found.problem} "
            f"({found.events} event(s) before it check out)"
        )
    if found.problem:
        return f"audit log BROKEN: {found.problem} ({found.events} event(s) check out)"
    if not found.events:
        return "audit log intact: no events yet"
    return f"audit log intact: {found.events} event(s), tip #{found.tip_id} {found.tip_hash}"
