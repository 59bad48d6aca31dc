"""``arbot scheduler``: run the scheduled jobs on their own, printing what would be posted.

``--once`` runs a single tick and exits (for cron, or to see what the morning brings);
``--once --at "2026-11-23 08:00"`` runs that tick as if it were that local time. Without
``--once`` it ticks every minute until Ctrl-C. Runs are keyed in the database, so this can run
next to ``arbot serve`` or a second copy of itself without posting anything twice."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.terminal import TerminalMessenger
from commands.clock import FixedClock
from commands.context import AppContext
from scheduler.runs import RunOutcome
from scheduler.service import build_scheduler, tick


def run(ctx: AppContext, args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # APScheduler says "running job" twice a minute; our own log lines say what a tick did.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    at_text = getattr(args, "at", None)
    if at_text and not args.once:
        print("arbot scheduler: --at needs --once (a pretend time only makes sense for one tick)",
              file=sys.stderr)
        return 2
    if at_text:
        at = parse_local_time(at_text, ctx.team.timezone)
        if at is None:
            print(f"arbot scheduler: --at {at_text!r} is not a time like 2026-11-23 08:00", file=sys.stderr)
            return 2
        ctx = replace(ctx, clock=FixedClock(at))
    messenger = TerminalMessenger()
    if args.once:
        outcomes = tick(ctx, messenger)
        print(summarize(outcomes, ctx.clock.now(), ctx.team.timezone))
        return 0
    return _run_forever(ctx, messenger)


def _run_forever(ctx: AppContext, messenger: TerminalMessenger) -> int:
    """Tick in a background thread while this one only waits, so Ctrl-C or a service manager's
    SIGTERM always lands here (never inside a tick) and a tick that is posting can finish."""
    scheduler = build_scheduler(ctx, messenger, background=True)
    try:
        scheduler.start()
        signal.signal(signal.SIGTERM, _stop)
        print(f"scheduler running for {ctx.team.name} ({ctx.team.timezone.key}); Ctrl-C to stop",
              flush=True)
        threading.Event().wait()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=True)
    print("scheduler stopped", flush=True)
    return 0


def _stop(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


def parse_local_time(text: str, tz: ZoneInfo) -> datetime | None:
    """'2026-11-23 08:00' in the team's timezone (an explicit offset is honoured)."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


def summarize(outcomes: list[RunOutcome], now: datetime, tz: ZoneInfo) -> str:
    """One line per slot this tick did something with."""
    stamp = f"{now.astimezone(tz):%Y-%m-%d %H:%M} {tz.key}"
    if not outcomes:
        return f"nothing due at {stamp} (or already done)"
    lines = [f"tick at {stamp}:"]
    for o in outcomes:
        detail = f", {o.sent} message(s) sent" if o.status == "done" else ""
        note = f" ({o.note})" if o.note else ""
        lines.append(f"  {o.key} for {o.run_date}: {o.status}{detail}{note}")
    return "\n".join(lines)
