"""``arbot report kpi --from YYYY-MM-DD --to YYYY-MM-DD [--collector EMAIL] [--format table|json|csv]``.

JSON is one object (money and ratios as two-decimal strings, null when undefined, counts as
integers); CSV is one row per headline figure (kpi, value) through the formula-safe writer; the
table is for people. Refusals go to stderr with exit code 1, so stdout always parses."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from sqlalchemy import select

from commands.context import AppContext
from commands.exports import csv_text
from commands.kpi import HEADLINE, Period, as_dict, kpi_report
from storage.db import read_only
from storage.models import TeamMember


class ReportError(Exception):
    """Arguments that name no report: said on stderr, exit code 1."""


def run(ctx: AppContext, args: argparse.Namespace) -> int:
    try:
        period = Period(day_of(args.date_from, "--from"), day_of(args.date_to, "--to"))
        if period.last < period.first:
            raise ReportError(f"--to {period.last} is before --from {period.first}")
        with ctx.sessions() as session:
            collector = collector_named(session, args.collector)
            report = as_dict(kpi_report(ctx, read_only(session), period, collector=collector))
    except ReportError as exc:
        print(f"arbot report: {exc}", file=sys.stderr)
        return 1
    render = {"table": render_table, "json": render_json, "csv": render_csv}[args.format]
    sys.stdout.write(render(report))
    return 0


def day_of(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ReportError(f"{option} must be a day like 2026-10-31, not {text!r}") from None


def collector_named(session, email: str | None) -> tuple[str, int] | None:  # type: ignore[no-untyped-def]
    if email is None:
        return None
    member_id = session.scalar(select(TeamMember.id).where(TeamMember.email == email.strip().lower()))
    if member_id is None:
        raise ReportError(f"{email} is not on the team")
    return email.strip().lower(), member_id


def render_json(report: dict[str, object]) -> str:
    return json.dumps(report, indent=2) + "\n"


def render_csv(report: dict[str, object]) -> str:
    rows = [{"kpi": key, "value": report[key]} for key in ("from", "to", "days", "collector", *HEADLINE)]
    return csv_text(rows, ["kpi", "value"])


def render_table(report: dict[str, object]) -> str:
    who = report["collector"] or "whole team"
    lines = [f"KPIs {report['from']} to {report['to']} ({report['days']} days), {who}", ""]
    lines += [f"  {key:<24}{'n/a' if report[key] is None else report[key]:>16}" for key in HEADLINE]
    lines += ["", "  meaningful contacts (per week)"]
    contacts = report["meaningful_contacts"]
    assert isinstance(contacts, dict)
    lines += [f"    {email:<30}{c['contacts']:>6}{c['per_week']:>10}" for email, c in contacts.items()] or ["    none"]
    lines += ["", "  dispute cycle days (count, average, median, longest)"]
    disputes = report["dispute_cycle_days"]
    assert isinstance(disputes, dict)
    lines += [
        f"    {reason[:30]:<30}{s['count']:>6}{s['average']:>9}{s['median']:>9}{s['longest']:>9}"
        for reason, s in disputes.items()
    ] or ["    none resolved"]
    conf, appr = report["payment_confirmation_hours"], report["approval_turnaround_hours"]
    assert isinstance(conf, dict) and isinstance(appr, dict)
    conf, appr = ({k: "n/a" if v is None else v for k, v in d.items()} for d in (conf, appr))
    lines += [
        "",
        f"  payment confirmations: {conf['count']} answered, average {conf['average']} business hours, "
        f"{conf['within_target']} within {conf['target']} h",
        f"  approvals: {appr['count']} decided, average {appr['average']} business hours, longest {appr['longest']}",
    ]
    return "\n".join(lines) + "\n"
