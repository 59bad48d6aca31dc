"""``arbot demo``: load the demo portfolio and print what it holds.

Exit codes follow the CLI's: 0 loaded (or already loaded, which is fine to rerun from
``make run``), 1 refused (bad count, or a database holding real customers)."""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal

from sqlalchemy.exc import IntegrityError

from commands.context import AppContext
from demo import BUCKETS, DEMO_ERP_PREFIX, DemoAlreadyLoaded, DemoError, DemoSummary, load_demo

KIND_LABELS = {
    "standard": "standard",
    "final": "final",
    "recurring": "recurring (MRR)",
    "retainer": "retainer",
    "credit_memo": "credit memo",
    "unapplied_payment": "unapplied payment",
}


def run(ctx: AppContext, args: argparse.Namespace) -> int:
    try:
        with ctx.sessions.begin() as session:
            summary = load_demo(session, ctx, seed=args.seed, customers=args.customers)
    except DemoAlreadyLoaded as exc:
        print(exc)
        return 0
    except DemoError as exc:
        print(f"arbot demo: {exc}", file=sys.stderr)
        return 1
    except IntegrityError:
        # Two loads racing on one database: the other one won, this one wrote nothing.
        print(
            "arbot demo: another demo load wrote to this database at the same time; nothing was written",
            file=sys.stderr,
        )
        return 1
    print(render(summary, seed=args.seed))
    return 0


def render(s: DemoSummary, *, seed: int) -> str:
    """The summary as plain text: who owns what, the aging grid, and the workflow states."""
    lines = [
        f"Loaded the demo portfolio (seed {seed}) as of {s.anchor:%A} {s.anchor.isoformat()}",
        f"Customers: {s.customers} ({_pairs(s.segments)}); ERP ids {DEMO_ERP_PREFIX}10000"
        f"..{DEMO_ERP_PREFIX}{10000 + s.customers - 1}",
        f"Collectors: {_pairs(s.collectors)} accounts",
        f"Invoices: {s.invoices:,} ({s.paid_invoices:,} paid in the past, {s.invoices - s.paid_invoices:,} open)",
        "",
        _row("Open items", list(BUCKETS) + ["all"]),
    ]
    for kind, label in KIND_LABELS.items():
        counts = s.open_items.get(kind, dict.fromkeys(BUCKETS, 0))
        lines.append(_row(label, [f"{counts[b]:,}" for b in BUCKETS] + [f"{sum(counts.values()):,}"]))
    lines += [
        _row("open balance", [_money(s.bucket_totals[b]) for b in BUCKETS] + [_money(s.open_total)]),
        "",
        f"Promises: {s.promises.get('kept', 0)} kept, {s.promises.get('broken', 0)} broken, "
        f"{s.promises.get('open', 0)} open",
        f"Disputes open: {s.open_disputes}; holds active: {s.active_holds}; payment plans active: {s.active_plans}",
        f"Accounts with a credit balance: {s.credit_accounts}",
        f"Worked this morning: {s.reached_today} reached, {s.tried_today} called three times without reaching anyone",
    ]
    return "\n".join(lines)


def _row(label: str, cells: list[str]) -> str:
    return f"  {label:<20}" + "".join(f"{cell:>15}" for cell in cells)


def _pairs(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in counts.items())


def _money(amount: Decimal) -> str:
    return f"${amount:,.2f}"
