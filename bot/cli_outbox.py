"""``arbot outbox``: what the bot sent, what waits for a retry and what failed and why;
``arbot outbox retry ID ...`` or ``retry --failed`` puts failures back in the queue once a
person fixed their cause (invited the bot to a channel, corrected an email in the team file)."""

from __future__ import annotations

import argparse
import sys

from commands.context import AppContext
from commands.outbox.entries import listing, requeue
from storage.models import OutboxEntry


def run(ctx: AppContext, args: argparse.Namespace) -> int:
    if args.outbox_action == "retry":
        return _retry(ctx, args)
    with ctx.sessions() as session:
        entries = listing(session, failed_only=args.failed, limit=args.limit)
    if not entries:
        print("no failed entries" if args.failed else "the outbox is empty")
        return 0
    for entry in entries:
        print(describe(entry, ctx))
    return 0


def _retry(ctx: AppContext, args: argparse.Namespace) -> int:
    if not args.ids and not args.all_failed:
        print("arbot outbox retry: give entry ids, or --failed for all failed entries", file=sys.stderr)
        return 2
    with ctx.sessions.begin() as session:
        count = requeue(session, now=ctx.clock.now(), ids=args.ids, all_failed=args.all_failed)
    print(
        f"requeued {count} entr{'y' if count == 1 else 'ies'}; the next delivery round sends "
        f"{'it' if count == 1 else 'them'}"
    )
    return 0 if count or args.all_failed else 1


def describe(entry: OutboxEntry, ctx: AppContext) -> str:
    """One line: id, status, when, where, what, and why it failed."""
    created = entry.created_at.astimezone(ctx.team.timezone).strftime("%Y-%m-%d %H:%M")
    where = entry.destination or entry.thread_key or entry.replaces_key or "?"
    if entry.thread_key and entry.kind != "update":
        where = f"thread of {entry.thread_key}"
    title = str(entry.payload.get("title", ""))[:70]
    line = f"{entry.id:>6}  {entry.status:<8} {created}  {entry.platform:<8} {entry.kind:<6} {where[:40]:<40}  {title}"
    if entry.last_error:
        line += f"\n        {entry.attempts} attempt(s): {entry.last_error}"
    return line
