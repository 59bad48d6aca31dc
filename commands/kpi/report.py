"""The KPI report for a period: every figure a manager is judged by, from one read of the ledger.

Figures are Decimals here; :func:`as_dict` is the one place they become text, so the CLI's JSON
and CSV, the chat card and ``report explain`` all show the same digits: money and ratios as
strings with two decimals (exact, no float rounding), null where a figure is undefined, counts
as integers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.orm import Session

from commands.context import AppContext
from commands.kpi import activity, formulas
from commands.kpi.activity import Confirmations, Promises, Spread, Window
from commands.kpi.adjustments import Adjusted, adjusted_in
from commands.kpi.formulas import Countback
from commands.kpi.receivables import Receivables, receivables_on
from commands.kpi.retainers import Retainers, retainers
from commands.kpi.sales import period_sales

CENTS = Decimal("0.01")


@dataclass(frozen=True)
class Period:
    """Whole days ``first`` to ``last`` inclusive."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def __str__(self) -> str:
        return f"{self.first.isoformat()} to {self.last.isoformat()}"


def this_month(today: date) -> Period:
    """The month so far, today included."""
    return Period(today.replace(day=1), today)


def last_month(today: date) -> Period:
    end = today.replace(day=1) - timedelta(days=1)
    return Period(end.replace(day=1), end)


@dataclass(frozen=True)
class KpiReport:
    period: Period
    collector: str | None  # email, or None for the whole team
    beginning: Receivables
    ending: Receivables
    sales: Decimal
    countback: Countback
    promises: Promises
    contacts: dict[str, int]
    disputes: dict[str, Spread]
    confirmations: Confirmations
    confirmation_target_hours: Decimal
    approvals: Spread
    retainers: Retainers
    adjusted: Adjusted

    @property
    def ending_current(self) -> Decimal:
        return self.ending.current(self.period.last)

    @property
    def dso(self) -> Decimal | None:
        return formulas.dso(self.ending.total, self.sales, self.period.days)

    @property
    def best_possible_dso(self) -> Decimal | None:
        return formulas.best_possible_dso(self.ending_current, self.sales, self.period.days)

    @property
    def add(self) -> Decimal | None:
        return formulas.add(self.dso, self.best_possible_dso)

    @property
    def cei(self) -> Decimal | None:
        return formulas.cei(
            self.beginning.total,
            self.sales,
            self.ending.total,
            self.ending_current,
            credited=self.adjusted.approved,
            credited_out=self.adjusted.carried_out,
        )

    @property
    def ptp_kept_rate(self) -> Decimal | None:
        return formulas.rate(Decimal(self.promises.kept), Decimal(self.promises.kept + self.promises.broken))

    @property
    def ptp_kept_amount_rate(self) -> Decimal | None:
        p = self.promises
        return formulas.rate(p.kept_amount, p.kept_amount + p.broken_amount)

    @property
    def over_90(self) -> Decimal:
        return self.ending.past_due_over(self.period.last, 90)

    @property
    def past_due_31(self) -> Decimal:
        return self.ending.past_due_over(self.period.last, 30)

    @property
    def retainer_compliance_rate(self) -> Decimal | None:
        return formulas.rate(Decimal(self.retainers.met), Decimal(self.retainers.required))

    @property
    def weeks(self) -> Decimal:
        return Decimal(self.period.days) / 7


def kpi_report(
    ctx: AppContext, session: Session, period: Period, *, collector: tuple[str, int] | None = None
) -> KpiReport:
    """The report for the team, or for one collector (email, member id): their customers'
    receivables, sales and promises, their own contacts and requests."""
    who = collector[1] if collector else None
    window = Window.of(ctx, period.first, period.last)
    ending = receivables_on(session, period.last, collector_id=who)
    sales, months = period_sales(session, period.first, period.last, collector_id=who)
    return KpiReport(
        period=period,
        collector=collector[0] if collector else None,
        beginning=receivables_on(session, period.first - timedelta(days=1), collector_id=who),
        ending=ending,
        sales=sales,
        countback=formulas.countback_dso(ending.total, months),
        promises=activity.promises(session, window, collector_id=who),
        contacts=activity.meaningful_contacts(session, window, collector_id=who),
        disputes=activity.dispute_cycles(session, window, collector_id=who),
        confirmations=activity.confirmations(ctx, session, window, collector_id=who),
        confirmation_target_hours=activity.workday_hours(ctx),
        approvals=activity.approvals(ctx, session, window, collector_id=who),
        retainers=retainers(session, window, collector_id=who),
        adjusted=adjusted_in(session, window, collector_id=who),
    )


def two(value: Decimal | None) -> str | None:
    """Money or a ratio as the report shows it: two decimals, half up; None stays None."""
    return None if value is None else str(value.quantize(CENTS, rounding=ROUND_HALF_UP))


# The headline figures, in the order the table, the CSV and the chat card list them.
HEADLINE = (
    "beginning_receivables",
    "credit_sales",
    "ending_receivables",
    "ending_current",
    "dso",
    "best_possible_dso",
    "add",
    "cei",
    "countback_dso",
    "ptp_kept_rate",
    "ptp_kept_amount_rate",
    "over_90",
    "past_due_31",
    "retainer_compliance_rate",
    "retainer_days_to_pay",
)


def figures(report: KpiReport) -> dict[str, Decimal | None]:
    """The headline figures by key, unrounded (None where undefined): what the table, the
    targets and the digest all read."""
    return {
        "beginning_receivables": report.beginning.total,
        "credit_sales": report.sales,
        "ending_receivables": report.ending.total,
        "ending_current": report.ending_current,
        "dso": report.dso,
        "best_possible_dso": report.best_possible_dso,
        "add": report.add,
        "cei": report.cei,
        "countback_dso": report.countback.days,
        "ptp_kept_rate": report.ptp_kept_rate,
        "ptp_kept_amount_rate": report.ptp_kept_amount_rate,
        "over_90": report.over_90,
        "past_due_31": report.past_due_31,
        "retainer_compliance_rate": report.retainer_compliance_rate,
        "retainer_days_to_pay": report.retainers.days_to_pay.average,
    }


def headline(report: KpiReport) -> dict[str, str | None]:
    """The money and ratio figures, as two-decimal strings."""
    values = figures(report)
    return {key: two(values[key]) for key in HEADLINE}


def _spread(spread: Spread) -> dict[str, Any]:
    return {
        "count": spread.count,
        "average": two(spread.average),
        "median": two(spread.median),
        "longest": two(spread.longest),
    }


def as_dict(report: KpiReport) -> dict[str, Any]:
    """The whole report as JSON-ready values (see the module docstring for the conventions)."""
    p, c = report.promises, report.confirmations
    snap = report.beginning.snapshot, report.ending.snapshot
    return {
        "from": report.period.first.isoformat(),
        "to": report.period.last.isoformat(),
        "days": report.period.days,
        "collector": report.collector,
        "beginning_snapshot": snap[0].as_of.isoformat() if snap[0] else None,
        "ending_snapshot": snap[1].as_of.isoformat() if snap[1] else None,
        **headline(report),
        "countback_months": report.countback.months_used,
        "promises_kept": p.kept,
        "promises_broken": p.broken,
        "promises_kept_amount": two(p.kept_amount),
        "promises_broken_amount": two(p.broken_amount),
        "meaningful_contacts": {
            email: {"contacts": n, "per_week": two(Decimal(n) / report.weeks)} for email, n in report.contacts.items()
        },
        "dispute_cycle_days": {reason: _spread(s) for reason, s in report.disputes.items()},
        "payment_confirmation_hours": {
            **_spread(c.hours),
            "target": two(report.confirmation_target_hours),
            "within_target": c.within_target,
            "within_target_rate": two(formulas.rate(Decimal(c.within_target), Decimal(c.hours.count))),
        },
        "approval_turnaround_hours": _spread(report.approvals),
        "retainers_required": report.retainers.required,
        "retainers_met": report.retainers.met,
        "retainers_paid": report.retainers.days_to_pay.count,
        "credits_and_writeoffs_approved": two(report.adjusted.approved),
        "credits_and_writeoffs_in_ending": two(report.adjusted.still_in_ending),
    }
