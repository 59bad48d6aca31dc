"""``arbot calllist [--date YYYY-MM-DD] [--collector EMAIL] [--format table|json|csv]``.

Prints the ranked call list: a table for people (fits a 100-column terminal, grouped by
collector), JSON or CSV for other programs. Notes and refusals go to stderr, so the JSON and CSV
on stdout always parse.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from datetime import date
from itertools import groupby, zip_longest

from commands.calllist import CallListError, CallListRow, PolicyError, build_call_list
from commands.context import AppContext
from commands.exports import csv_text
from storage.db import read_only

WIDTH = 100
_CUSTOMER, _BALANCE, _DPD = 28, 13, 4
REASONS_AT = 3 + 2 + _CUSTOMER + 1 + _BALANCE + 1 + _DPD + 2  # the column reasons start in
_REASONS = WIDTH - 1 - REASONS_AT


def run(ctx: AppContext, args: argparse.Namespace) -> int:
    try:
        day = list_day(ctx, args.date)
        with ctx.sessions() as session:
            rows = build_call_list(read_only(session), ctx, day=day, collector_email=args.collector)
    except (CallListError, PolicyError) as exc:
        print(f"arbot calllist: {exc}", file=sys.stderr)
        return 1
    render = {"table": render_table, "json": render_json, "csv": render_csv}[args.format]
    sys.stdout.write(render(rows, day, ctx))
    return 0


def list_day(ctx: AppContext, text: str | None) -> date:
    """The day asked for, or today; a weekend or holiday gives way to the next business day,
    with a note when the day was asked for explicitly."""
    if text is None:
        return ctx.work_day()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        raise CallListError(f"--date must look like 2026-11-23, not {text!r}")
    try:
        asked = date.fromisoformat(text.strip())
    except ValueError:
        raise CallListError(f"--date {text} is not a date on the calendar") from None
    day = ctx.calendar.on_or_after(asked)
    if day != asked:
        why = ctx.calendar.holiday_name(asked) or asked.strftime("%A")
        print(f"{_long(asked)} is not a business day ({why}): showing the list for {_long(day)}.", file=sys.stderr)
    return day


def _long(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def render_table(rows: list[CallListRow], day: date, ctx: AppContext) -> str:
    if not rows:
        return f"No accounts to contact on {_long(day)}.\n"
    out = [f"Call list for {_long(day)}"]
    for email, group in groupby(rows, key=lambda r: r.collector_email):
        group = list(group)
        member = ctx.team.member(email) if email else None
        who = f"{member.name} <{email}>" if member else (email or "Accounts without a collector")
        out += [
            "",
            f"{who}: {len(group)} account{'s' if len(group) != 1 else ''}",
            f"{'#':>3}  {'Customer':<{_CUSTOMER}} {'Balance':>{_BALANCE}} {'DPD':>{_DPD}}  Reasons",
        ]
        out += [line for row in group for line in _table_row(row)]
    return "\n".join(out) + "\n"


def _table_row(row: CallListRow) -> list[str]:
    """Two lines or more: the customer's name then its ERP id; the reasons wrap alongside."""
    name = row.customer_name
    if len(name) > _CUSTOMER:
        name = name[: _CUSTOMER - 1] + "…"
    balance = f"${row.balance_due:,.2f}"
    reasons = textwrap.wrap("; ".join(row.reasons), _REASONS) or [""]
    left = [
        f"{row.rank:>3}  {name:<{_CUSTOMER}} {balance:>{_BALANCE}} {row.days_past_due:>{_DPD}}",
        f"{'':>3}  {row.erp_id[:_CUSTOMER]:<{_CUSTOMER}} {'':>{_BALANCE}} {'':>{_DPD}}",
    ]
    blank = " " * len(left[1])
    return [f"{lhs or blank}  {rhs}".rstrip() for lhs, rhs in zip_longest(left, reasons, fillvalue="")]


FIELDS = (
    "date",
    "collector",
    "rank",
    "customer_id",
    "customer_name",
    "score",
    "balance_due",
    "days_past_due",
    "reasons",
)


def _record(row: CallListRow, day: date) -> dict[str, object]:
    return {
        "date": day.isoformat(),
        "collector": row.collector_email,
        "rank": row.rank,
        "customer_id": row.erp_id,
        "customer_name": row.customer_name,
        "score": row.score,
        "balance_due": str(row.balance_due),
        "days_past_due": row.days_past_due,
        "reasons": list(row.reasons),
    }


def render_json(rows: list[CallListRow], day: date, ctx: AppContext) -> str:
    return json.dumps([_record(row, day) for row in rows], indent=2) + "\n"


def render_csv(rows: list[CallListRow], day: date, ctx: AppContext) -> str:
    """CSV for the team's spreadsheets; text that would run as a formula is escaped."""
    return csv_text(({**_record(row, day), "reasons": "; ".join(row.reasons)} for row in rows), FIELDS)
