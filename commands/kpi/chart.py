"""The weekly digest's picture: receivables by aging bucket at the end of each of the last 12 weeks,
stacked, with the team's ceiling on money more than 30 days past due drawn across.

The oldest buckets are stacked at the bottom, so the top of the 31+ part of each bar can be read
against the ceiling line directly; current money sits on top. Each week's receivables are those
of the latest snapshot as of that day (:func:`commands.kpi.receivables.receivables_on`), so a
week without an import repeats the snapshot before it, as the KPI report would."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from commands.kpi.receivables import ZERO, receivables_on

# (label, more than this many days past due, at most this many); stacked bottom to top.
BUCKETS = (("over 90", 90, None), ("61-90", 60, 90), ("31-60", 30, 60), ("1-30", 0, 30), ("current", None, 0))
COLOURS = ("#8c1d18", "#d9534f", "#f0ad4e", "#f7d774", "#5b9bd5")


@dataclass(frozen=True)
class Week:
    ends: date
    buckets: dict[str, Decimal]

    @property
    def past_due_31(self) -> Decimal:
        return sum((self.buckets[label] for label, lo, _ in BUCKETS if lo is not None and lo >= 30), ZERO)


def aging_weeks(session: Session, last: date, *, weeks: int = 12, collector_id: int | None = None) -> list[Week]:
    """Receivables by bucket at the close of ``last`` and of the same weekday in each of the
    ``weeks - 1`` weeks before, oldest first."""
    out = []
    for back in range(weeks - 1, -1, -1):
        day = last - timedelta(weeks=back)
        owed = receivables_on(session, day, collector_id=collector_id)
        buckets = dict.fromkeys((label for label, _, _ in BUCKETS), ZERO)
        for due, amount in owed.by_due.items():
            buckets[_bucket((day - due).days)] += amount
        out.append(Week(day, buckets))
    return out


def _bucket(days_late: int) -> str:
    for label, lo, hi in BUCKETS:
        if (lo is None or days_late > lo) and (hi is None or days_late <= hi):
            return label
    raise AssertionError(days_late)  # the buckets cover every integer


def aging_chart_png(weeks: list[Week], *, ceiling: Decimal | None = None, title: str = "Receivables by age") -> bytes:
    """A PNG (1200 x 600 px, 32 colours) of the stacked weekly buckets, in thousands of dollars."""
    import matplotlib

    matplotlib.use("Agg")  # no screen on a server
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(figsize=(12, 6), dpi=100)
    try:
        labels = [f"{w.ends:%d %b}" for w in weeks]
        base = [0.0] * len(weeks)
        for (label, _, _), colour in zip(BUCKETS, COLOURS, strict=True):
            heights = [float(w.buckets[label]) / 1000 for w in weeks]
            axes.bar(labels, heights, bottom=base, color=colour, label=label, width=0.7)
            base = [b + h for b, h in zip(base, heights, strict=True)]
        if ceiling is not None:
            axes.axhline(
                float(ceiling) / 1000,
                color="black",
                linestyle="--",
                linewidth=1.5,
                label=f"31+ ceiling ${float(ceiling) / 1000:,.0f}k",
            )
        axes.set_ylabel("thousands of dollars")
        axes.set_title(title)
        axes.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
        axes.legend(loc="upper left", frameon=False, ncols=3)
        axes.grid(axis="y", alpha=0.3)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    finally:
        plt.close(figure)
    return _small(buffer.getvalue())


def _small(png: bytes) -> bytes:
    """The same picture in 32 colours (flat bars and text need no more): about 11 KB instead of
    35, so it fits inside a Teams card (40 KB in all) as well as in an upload."""
    from PIL import Image

    out = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=32).save(out, format="PNG", optimize=True)
    return out.getvalue()
