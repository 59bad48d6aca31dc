"""Metrics and reports for managers: the Credit Research Foundation's KPIs (DSO, best possible
DSO, ADD, CEI, countback DSO), promise-kept rates, past-due balances and the team's response
times, for any period of whole days. See :mod:`commands.kpi.receivables` for how receivables on
a past day are read from a ledger that keeps only its current state."""

from commands.kpi.explain import EXPLAINED, explain, kpi_name
from commands.kpi.report import HEADLINE, KpiReport, Period, as_dict, headline, kpi_report, last_month, this_month

__all__ = [
    "EXPLAINED",
    "HEADLINE",
    "KpiReport",
    "Period",
    "as_dict",
    "explain",
    "headline",
    "kpi_name",
    "kpi_report",
    "last_month",
    "this_month",
]
