"""``report explain <kpi>``: a figure's formula with the period's numbers put in, so a manager
can check the arithmetic and see which snapshot each balance came from."""

from __future__ import annotations

from decimal import Decimal

from commands.kpi.report import KpiReport, two

ALIASES = {
    "bpdso": "best_possible_dso",
    "best": "best_possible_dso",
    "ptp": "ptp_kept_rate",
    "kept": "ptp_kept_rate",
    "countback": "countback_dso",
    "over90": "over_90",
    "90+": "over_90",
    "past_due": "past_due_31",
    "31+": "past_due_31",
    "retainer": "retainer_compliance_rate",
    "retainers": "retainer_compliance_rate",
    "retainer_days": "retainer_days_to_pay",
}
EXPLAINED = (
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


def kpi_name(word: str) -> str | None:
    """The KPI a typed word names (``CEI``, ``best-possible-dso``, ``bpdso``), or None."""
    key = word.strip().lower().replace("-", "_")
    key = ALIASES.get(key, key)
    return key if key in EXPLAINED else None


def _m(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{two(value)}"


def _inputs(r: KpiReport) -> dict[str, str]:
    b, e = r.beginning.snapshot, r.ending.snapshot
    return {
        "B": f"B (beginning receivables, close of {r.beginning.day}"
        f"{f', snapshot of {b.as_of}' if b and b.batch_id else ''}) = {_m(r.beginning.total)}",
        "S": f"S (credit sales issued {r.period}) = {_m(r.sales)}",
        "E": f"E (ending receivables, close of {r.ending.day}"
        f"{f', snapshot of {e.as_of}' if e and e.batch_id else ''}) = {_m(r.ending.total)}",
        "C": f"C (part of E due on or after {r.period.last}) = {_m(r.ending_current)}",
        "n": f"n (days in the period) = {r.period.days}",
    }


def _cei(r: KpiReport, i: dict[str, str], B: str, S: str, E: str, C: str) -> tuple[str, list[str]]:
    """The CRF's formula; with credits or write-offs approved in the period, the form that
    keeps them out of both what was collected and what could have been."""
    if not r.adjusted.approved:
        return (
            "CEI = (B + S − E) / (B + S − C) × 100",
            [i["B"], i["S"], i["E"], i["C"], f"({B} + {S} − {E}) / ({B} + {S} − {C}) × 100 = {_m(r.cei)}"],
        )
    A, out = _m(r.adjusted.approved), _m(r.adjusted.carried_out)
    return (
        "CEI = (B + S − E − (A − P)) / (B + S − C − A) × 100",
        [
            i["B"],
            i["S"],
            i["E"],
            i["C"],
            f"A (credits and write-offs approved {r.period}) = {A}",
            f"P (part of A the ending receivables still carry) = {_m(r.adjusted.still_in_ending)}",
            f"({B} + {S} − {E} − {out}) / ({B} + {S} − {C} − {A}) × 100 = {_m(r.cei)}",
        ],
    )


def explain(r: KpiReport, kpi: str) -> tuple[str, list[str]]:
    """(title, lines): the formula, its inputs, and the arithmetic with the figures."""
    B, S, E, C, n = (_m(r.beginning.total), _m(r.sales), _m(r.ending.total), _m(r.ending_current), r.period.days)
    i = _inputs(r)
    p, t = r.promises, r.retainers
    cases: dict[str, tuple[str, list[str]]] = {
        "dso": ("DSO = E / S × n", [i["E"], i["S"], i["n"], f"{E} / {S} × {n} = {_m(r.dso)} days"]),
        "best_possible_dso": (
            "Best possible DSO = C / S × n",
            [i["C"], i["S"], i["n"], f"{C} / {S} × {n} = {_m(r.best_possible_dso)} days"],
        ),
        "add": ("ADD = DSO − best possible DSO", [f"{_m(r.dso)} − {_m(r.best_possible_dso)} = {_m(r.add)} days"]),
        "cei": _cei(r, i, B, S, E, C),
        "countback_dso": (
            "Countback DSO: E exhausted by monthly sales, newest month first",
            [
                i["E"],
                f"{r.countback.months_used} month(s) of sales used"
                + ("" if r.countback.exhausted else " (sales on record ran out first)"),
                f"= {_m(r.countback.days)} days",
            ],
        ),
        "ptp_kept_rate": (
            "Promise-kept rate = kept / (kept + broken) × 100",
            [
                f"promises due {r.period}: {p.kept} kept, {p.broken} broken",
                f"{p.kept} / ({p.kept} + {p.broken}) × 100 = {_m(r.ptp_kept_rate)}",
            ],
        ),
        "ptp_kept_amount_rate": (
            "Promise-kept rate by amount = kept $ / (kept $ + broken $) × 100",
            [
                f"{_m(p.kept_amount)} / ({_m(p.kept_amount)} + {_m(p.broken_amount)}) × 100"
                f" = {_m(r.ptp_kept_amount_rate)}"
            ],
        ),
        "over_90": (
            "90+ = part of E more than 90 days past due on the period's last day",
            [i["E"], f"more than 90 days past due on {r.period.last}: {_m(r.over_90)}"],
        ),
        "past_due_31": (
            "31+ = part of E more than 30 days past due on the period's last day",
            [i["E"], f"more than 30 days past due on {r.period.last}: {_m(r.past_due_31)}"],
        ),
        "retainer_compliance_rate": (
            "Retainer compliance rate = customers whose retainer meets its requirement / customers with one × 100",
            [
                f"customers with a retainer requirement on {r.period.last}: {t.required}, meeting it: {t.met}",
                f"{t.met} / {t.required} × 100 = {_m(r.retainer_compliance_rate)}",
            ],
        ),
        "retainer_days_to_pay": (
            "Retainer days to pay = average days from retainer invoice date to confirmed payment",
            [
                f"retainer invoices paid {r.period}: {t.days_to_pay.count}",
                f"average {_m(t.days_to_pay.average)} days, longest {_m(t.days_to_pay.longest)}",
            ],
        ),
    }
    return cases[kpi]
