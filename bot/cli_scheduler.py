"""``arbot scheduler``: run the scheduled jobs on their own.

``--once`` runs a single tick and exits (for cron); ``--once --at "2026-11-23 08:00"`` runs that
tick as if it were that local time. Without ``--once`` it ticks every minute until Ctrl-C. Runs
are keyed in the database, so this can run next to ``arbot serve`` or a second copy of itself
without queueing anything twice.

With Slack configured (``SLACK_BOT_TOKEN``) the runs queue their posts and this process delivers
them. With no platform it can reach, a run would only be words on a terminal: ``--once`` is
then a preview that prints what would be posted and records nothing, so the morning is still
posted by ``arbot serve``; ``--dry-run`` asks for that preview explicitly."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.log_setup import configure as configure_logging
from bot.slack.settings import SlackSettings
from bot.terminal import TerminalMessenger
from commands.clock import FixedClock
from commands.context import AppContext
from commands.mail.sender import MailSender
from commands.messages import Messenger, Where
from commands.outbox import Dispatcher
from scheduler.runs import RunOutcome
from scheduler.service import build_scheduler, tick


def run(ctx: AppContext, args: argparse.Namespace) -> int:
    # APScheduler says "running job" twice a minute (kept at WARNING); our own lines say what a tick did.
    configure_logging("INFO")
    at_text = getattr(args, "at", None)
    if at_text and not args.once:
        print("arbot scheduler: --at needs --once (a pretend time only makes sense for one tick)", file=sys.stderr)
        return 2
    if at_text:
        at = parse_local_time(at_text, ctx.team.timezone)
        if at is None:
            print(f"arbot scheduler: --at {at_text!r} is not a time like 2026-11-23 08:00", file=sys.stderr)
            return 2
        ctx = replace(ctx, clock=FixedClock(at))
    senders = platform_senders(ctx)
    if getattr(args, "dry_run", False) or not senders:
        if not args.once:
            print(
                "arbot scheduler: no chat platform configured (set SLACK_BOT_TOKEN, or run arbot serve); "
                "--once shows what would be posted",
                file=sys.stderr,
            )
            return 2
        return _preview(ctx, explicit=bool(getattr(args, "dry_run", False)))
    ctx = replace(ctx, platforms=tuple(senders))
    dispatcher = Dispatcher(ctx, senders)
    mail = MailSender(ctx, ctx.mail) if ctx.mail is not None else None
    if args.once:
        outcomes = tick(ctx)
        if mail is not None:
            mail.run_once()
        report = dispatcher.drain()
        print(summarize(outcomes, ctx.clock.now(), ctx.team.timezone))
        print(
            f"delivered {report.sent}, to retry {report.retried}, failed {report.failed} "
            "(`arbot outbox --failed` lists failures)"
        )
        return 0
    return _run_forever(ctx, dispatcher, mail)


def platform_senders(ctx: AppContext) -> dict[str, Messenger]:
    """The platforms this process can post on by itself: Slack, with a bot token. (Teams posts
    go through the Bot Connector of a running ``arbot serve``, which delivers them.)"""
    settings = SlackSettings.from_env(os.environ)
    if not settings.bot_token:
        return {}
    from bot.slack.app import build_runtime  # slack_sdk only when Slack is configured

    return {"slack": build_runtime(ctx, settings).messenger}


def _preview(ctx: AppContext, *, explicit: bool) -> int:
    outcomes = tick(ctx, preview=True)
    why = "--dry-run" if explicit else "no chat platform is configured"
    print(f"preview ({why}): nothing was recorded, queued or sent; `arbot serve` still posts the morning\n")
    messenger = TerminalMessenger()
    for outcome in outcomes:
        for reply in outcome.replies:
            if reply.to_user:
                messenger.direct(reply.to_user, reply)
            else:
                messenger.post(reply.where or Where("?"), reply)
    print(summarize(outcomes, ctx.clock.now(), ctx.team.timezone))
    return 0


def _run_forever(ctx: AppContext, dispatcher: Dispatcher, mail: MailSender | None) -> int:
    """Tick in a background thread while this one only waits, so Ctrl-C or a service manager's
    SIGTERM always lands here (never inside a tick) and a tick that is posting can finish. The
    wait wakes twice a second: the kernel may hand a signal to a worker thread, and Python runs
    the handler only when the main thread next runs, which a wait without a timeout never does.
    Each tick is followed by a delivery round (retries come due on later ticks)."""

    def tick_and_deliver(tick_ctx: AppContext) -> None:
        tick(tick_ctx)
        if mail is not None:  # statements queued by the tick, follow-ups waiting for a retry
            mail.run_once()
        dispatcher.drain()

    scheduler = build_scheduler(ctx, background=True, run=tick_and_deliver)
    try:
        # Both stop it the same way, whatever this process inherited: a shell starts a background
        # job with SIGINT ignored, and Python then installs no KeyboardInterrupt for it.
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        scheduler.start()
        print(f"scheduler running for {ctx.team.name} ({ctx.team.timezone.key}); Ctrl-C to stop", flush=True)
        idle = threading.Event()
        while not idle.wait(0.5):  # a signal delivered to another thread runs its handler here, soon
            pass
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
        detail = f", {o.queued} message(s) queued" if o.status in ("done", "preview") else ""
        note = f" ({o.note})" if o.note else ""
        lines.append(f"  {o.key} for {o.run_date}: {o.status}{detail}{note}")
    return "\n".join(lines)
