"""The ``arbot`` command line. Parses arguments, builds the context, and hands each subcommand
to the module that owns it. Exit codes: 0 ok, 1 refused input, 2 usage error, 3 the database
cannot be used (unreachable, locked, read-only, full: said in one line, never a traceback).
``mail bounce``, which a mail server runs, says 75 (EX_TEMPFAIL) for both of the last two: the
server keeps the message and tries again later."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from sqlalchemy import make_url

from bot.app import build_context, sync_team
from bot.log_setup import chat_log_file
from bot.log_setup import configure as configure_logging
from bot.settings import Settings
from bot.teams.package import add_parser as add_teams_package_parser
from commands.context import AppContext
from commands.mail.config import MailConfigError
from commands.team import TeamFileError
from storage.db import make_engine, normalize_url
from storage.db_problems import database_problem
from storage.migrate import upgrade

DATABASE_UNUSABLE = 3
EX_TEMPFAIL = 75  # sysexits.h: a mail server keeps the message and delivers it again later


def _cmd_db(args: argparse.Namespace) -> int:
    """upgrade: migrate. check: do the call list's packed open items match the invoices (they
    can only drift if something wrote invoices with plain SQL)? repack: rebuild them all."""
    settings = Settings.from_env()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    if args.action == "upgrade":
        print(f"database is at the latest schema ({engine.url.render_as_string(hide_password=True)})")
        return 0
    from storage.open_items import rebuild_packs, stale_packs

    with engine.begin() as conn:
        if args.action == "repack":
            rebuild_packs(conn)
        stale = stale_packs(conn)
    if stale:
        print(
            f"packed open items disagree with the invoices for {len(stale)} customer(s) (ids "
            f"{', '.join(map(str, stale[:10]))}{' ...' if len(stale) > 10 else ''}); run `arbot db repack`"
        )
        return 1
    print("packed open items match the invoices" + (" (rebuilt)" if args.action == "repack" else ""))
    return 0


def _with_context(run: Callable[[AppContext, argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Subcommands that touch the ledger get a migrated database and a synced team."""

    def handler(args: argparse.Namespace) -> int:
        settings = Settings.from_env()
        engine = make_engine(settings.database_url)
        upgrade(engine)
        ctx = build_context(settings, engine=engine)
        sync_team(ctx)
        return run(ctx, args)

    return handler


def _lazy(module: str, func: str) -> Callable[[AppContext, argparse.Namespace], int]:
    """Import the subcommand's module only when it runs, so `arbot --help` stays fast."""

    def run(ctx: AppContext, args: argparse.Namespace) -> int:
        import importlib

        return getattr(importlib.import_module(module), func)(ctx, args)

    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="arbot", description="Collections chat-ops bot")
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="database schema and checks")
    db.add_argument(
        "action",
        choices=["upgrade", "check", "repack"],
        help="upgrade the schema; check or rebuild the call list's packed open items",
    )
    db.set_defaults(handler=_cmd_db)

    demo = sub.add_parser("demo", help="load the deterministic demo portfolio")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--customers", type=int, default=300)
    demo.set_defaults(handler=_with_context(_lazy("bot.cli_demo", "run")))

    imp = sub.add_parser("import", help="import an AR aging / open-items file (CSV or XLSX)")
    imp.add_argument("file")
    imp.add_argument("--skip-invalid", action="store_true", help="import the valid rows, report the rest")
    imp.add_argument("--as-of", help="snapshot date YYYY-MM-DD (default: from the file, else today)")
    imp.add_argument(
        "--date-format",
        choices=("dmy", "mdy", "ymd"),
        help="how numeric dates read when the file cannot tell (dmy: 31/12/2026, mdy: 12/31/2026)",
    )
    imp.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    imp.set_defaults(handler=_with_context(_lazy("bot.cli_import", "run")))

    cl = sub.add_parser("calllist", help="print the prioritized call list")
    cl.add_argument("--date", help="YYYY-MM-DD (default: today, or the next business day)")
    cl.add_argument("--collector", help="collector email (default: every collector)")
    cl.add_argument("--format", choices=["table", "json", "csv"], default="table")
    cl.set_defaults(handler=_with_context(_lazy("bot.cli_calllist", "run")))

    report = sub.add_parser("report", help="the team's KPIs (DSO, CEI, ADD, promises kept) for a period")
    report_sub = report.add_subparsers(dest="report", required=True)
    kpi = report_sub.add_parser("kpi", help="KPIs for the days --from to --to inclusive")
    _period_arguments(kpi, collector="one collector's customers and work (email)")
    kpi.add_argument("--format", choices=["table", "json", "csv"], default="table")
    kpi.set_defaults(handler=_with_context(_lazy("bot.cli_report", "run")))
    weekly = report_sub.add_parser("weekly", help="the weekly workbook: KPIs, aging, activity, promises, disputes")
    weekly.add_argument("file", help="the workbook to write (.xlsx)")
    weekly.add_argument("--week-of", help="a day in the week to report (default: last week)")
    weekly.set_defaults(handler=_with_context(_lazy("bot.cli_workbooks", "run_weekly")))

    export = sub.add_parser("export", help="spreadsheets of the ledger")
    export_sub = export.add_subparsers(dest="export", required=True)
    activity = export_sub.add_parser("activity", help="every call, voicemail and email logged in a period")
    _period_arguments(activity, collector="one collector's activity (email)")
    activity.add_argument("file", help="the workbook to write (.xlsx)")
    activity.set_defaults(handler=_with_context(_lazy("bot.cli_workbooks", "run_activity")))

    chat = sub.add_parser("chat", help="talk to the bot in the terminal")
    chat.add_argument("--as", dest="as_email", required=True, help="your team email")
    chat.set_defaults(handler=_with_context(_lazy("bot.terminal", "run")))

    sched = sub.add_parser("scheduler", help="run the scheduled jobs: daily lists, statements, finals, timers")
    sched.add_argument("--once", action="store_true", help="run one tick and exit (for cron)")
    sched.add_argument(
        "--at",
        help='with --once: run the tick as if it were this local time, e.g. "2026-11-23 08:00" (records real runs)',
    )
    sched.add_argument(
        "--dry-run", action="store_true", help="with --once: print what would be posted; record, queue and send nothing"
    )
    sched.set_defaults(handler=_with_context(_lazy("bot.cli_scheduler", "run")))

    outbox = sub.add_parser("outbox", help="what the bot sent or could not send; requeue failures")
    outbox.add_argument("--failed", action="store_true", help="only entries that could not be delivered")
    outbox.add_argument("--limit", type=int, default=50, help="how many of the newest entries (default 50)")
    outbox_sub = outbox.add_subparsers(dest="outbox_action")
    retry = outbox_sub.add_parser("retry", help="requeue failed entries once their cause is fixed")
    retry.add_argument("ids", nargs="*", type=int, help="entry ids (from `arbot outbox --failed`)")
    retry.add_argument("--failed", dest="all_failed", action="store_true", help="every failed entry")
    outbox.set_defaults(handler=_with_context(_lazy("bot.cli_outbox", "run")))

    mail = sub.add_parser("mail", help="customer email: bounces that come back later")
    bounce = mail.add_subparsers(dest="mail_action", required=True).add_parser(
        "bounce", help="take bounce reports (DSN) from stdin, as a mail alias pipes them, or from .eml files"
    )
    bounce.add_argument("files", nargs="*", help="saved messages (.eml); none: one message on stdin")
    # The database or the settings unusable: EX_TEMPFAIL, so the mail server keeps the bounce
    # and delivers it again later instead of bouncing it.
    bounce.set_defaults(handler=_with_context(_lazy("bot.cli_mail", "run_bounce")), cannot_run_exit=EX_TEMPFAIL)

    audit = sub.add_parser("audit", help="check the audit log's hash chain")
    audit_verify = audit.add_subparsers(dest="audit_action", required=True).add_parser(
        "verify", help="walk the chain; exit 1 at the first broken link"
    )
    audit_verify.add_argument("--tip", help="a tip printed by an earlier verify; it must still be in the chain")
    audit.set_defaults(handler=_with_context(_lazy("bot.cli_audit", "run")))

    serve = sub.add_parser("serve", help="run the chat endpoints (Slack, Teams) and the scheduler")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 3978)")
    serve.add_argument(
        "--dev", action="store_true", help="verbose logging, no scheduler, Teams endpoint with authentication OFF"
    )
    serve.set_defaults(handler=_with_context(_lazy("bot.cli_serve", "run")))

    add_teams_package_parser(sub)
    return parser


def _period_arguments(parser: argparse.ArgumentParser, *, collector: str) -> None:
    """--from and --to (whole days, both included) and --collector, as every period report takes them."""
    parser.add_argument("--from", dest="date_from", required=True, help="first day YYYY-MM-DD")
    parser.add_argument("--to", dest="date_to", required=True, help="last day YYYY-MM-DD")
    parser.add_argument("--collector", help=collector)


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging("WARNING")
    args = build_parser().parse_args(argv)
    if args.command == "chat":  # from the first line on, the log stays out of the conversation
        configure_logging("WARNING", to_file=chat_log_file())
    try:
        return int(args.handler(args))
    except (TeamFileError, MailConfigError) as exc:
        print(f"arbot: {exc}", file=sys.stderr)
        return int(getattr(args, "cannot_run_exit", 2))
    except Exception as exc:
        problem = database_problem(exc)
        if problem is None:
            raise
        print(f"arbot {args.command}: {problem} ({_database_named()})", file=sys.stderr)
        return int(getattr(args, "cannot_run_exit", DATABASE_UNUSABLE))


def _database_named() -> str:
    """Which database, without its password: the one the settings name."""
    try:
        return make_url(normalize_url(Settings.from_env().database_url)).render_as_string(hide_password=True)
    except Exception:  # a URL that does not parse is named by its setting
        return "DATABASE_URL"


if __name__ == "__main__":
    sys.exit(main())
