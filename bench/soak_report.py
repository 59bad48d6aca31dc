"""What the soak's answers say: each request's outcome as the person saw it (answered, in how many
parts, a busy notice kept or not, turned away, duplicated), latency by minute and by command, the
backlog, the server's memory slope and CPU (bench.bench_soak)."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bench.soak_world import (
    BUSY,
    SLOPE_SECONDS,
    TURNED_AWAY,
)

if TYPE_CHECKING:
    from bench.bench_soak import Planned, Sampler


@dataclass
class Arrival:
    at: float
    text: str


@dataclass
class Record:
    """What happened to the requests, by number."""

    sent: dict[int, float] = field(default_factory=dict)
    ack_s: dict[int, float] = field(default_factory=dict)
    ack_errors: int = 0
    late_s: float = 0.0  # how far behind its schedule the latest request left (open-loop fidelity)
    arrivals: dict[int, list[Arrival]] = field(default_factory=lambda: defaultdict(list))


@dataclass(frozen=True)
class Outcome:
    """One request's answer as the person saw it."""

    answer_at: float | None  # arrival of the answer's last part
    parts: int  # answer messages (a long list comes in several)
    duplicated: bool
    notice_s: int | None  # the wait a busy notice announced
    turned_away: bool


def outcome(arrivals: list[Arrival]) -> Outcome:
    notice, away, answers = None, False, []
    for arrival in arrivals:
        busy = BUSY.search(arrival.text)
        if busy:
            notice = int(busy.group(1))
        elif TURNED_AWAY in arrival.text:
            away = True
        else:
            answers.append(arrival)
    texts = Counter(a.text for a in answers)
    total = parts_total(answers[0].text) if answers else 0
    duplicated = any(c > 1 for c in texts.values()) or len(answers) > max(total, 1)
    return Outcome(max((a.at for a in answers), default=None), len(answers), duplicated, notice, away)


def parts_total(fallback: str) -> int:
    """A reply sent in parts says so in each fallback text: "Title (2/3)"."""
    found = re.search(r"\((\d+)/(\d+)\)$", fallback)
    return int(found.group(2)) if found else 1


def pct(ordered: list[float], p: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def spread(values: list[float]) -> str:
    ordered = sorted(values)
    if not ordered:
        return "n=0"
    return (
        f"n={len(ordered)} p50 {pct(ordered, 50) * 1000:.0f} ms, p99 {pct(ordered, 99) * 1000:.0f} ms, "
        f"max {ordered[-1] * 1000:.0f} ms"
    )


def slope_mib_per_min(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of the RSS samples over the last SLOPE_SECONDS (MiB a minute)."""
    end = samples[-1][0]
    chosen = [(t, m) for t, m in samples if t >= end - SLOPE_SECONDS]
    if len(chosen) < 2:
        return float("nan")
    mean_t = sum(t for t, _ in chosen) / len(chosen)
    mean_m = sum(m for _, m in chosen) / len(chosen)
    var = sum((t - mean_t) ** 2 for t, _ in chosen)
    return 60 * sum((t - mean_t) * (m - mean_m) for t, m in chosen) / var if var else float("nan")


def report(planned: list[Planned], record: Record, sampler: Sampler, cpu_s: float, drained: float) -> float:
    """Prints the figures; returns the answer p99 in seconds."""
    outcomes = {item.n: outcome(record.arrivals.get(item.n, [])) for item in planned}
    answer_s: dict[int, float] = {
        n: o.answer_at - record.sent[n] for n, o in outcomes.items() if o.answer_at is not None and n in record.sent
    }
    by_minute: dict[int, list[int]] = defaultdict(list)
    for item in planned:
        by_minute[int((item.at - planned[0].at) // 60)].append(item.n)
    for minute, ns in sorted(by_minute.items()):
        print(
            f"  minute {minute + 1}: ack {spread([record.ack_s[n] for n in ns if n in record.ack_s])}; "
            f"answer {spread([answer_s[n] for n in ns if n in answer_s])}"
        )
    print(
        f"ack overall: {spread(list(record.ack_s.values()))}; errors {record.ack_errors}; "
        f"over 3 s: {sum(v > 3 for v in record.ack_s.values())}; "
        f"sends at most {record.late_s * 1000:.0f} ms late"
    )
    print(f"answer overall: {spread(list(answer_s.values()))}")
    for command in sorted({item.command for item in planned}):
        ns = [item.n for item in planned if item.command == command]
        print(f"  {command}: {spread([answer_s[n] for n in ns if n in answer_s])}")
    away = sum(o.turned_away for o in outcomes.values())
    missing = sum(o.answer_at is None and not o.turned_away for o in outcomes.values())
    print(
        f"answered {len(answer_s)}/{len(planned)}; missing {missing}; duplicated "
        f"{sum(o.duplicated for o in outcomes.values())}; turned away {away}; "
        f"in several parts {sum(o.parts > 1 for o in outcomes.values())}; "
        f"waited {drained:.1f} s after the last send"
    )
    notices = [n for n, o in outcomes.items() if o.notice_s is not None]
    if notices:
        announced = Counter(outcomes[n].notice_s for n in notices)
        later = sum(1 for n in notices if n in answer_s and answer_s[n] > (outcomes[n].notice_s or 0))
        never = sum(1 for n in notices if n not in answer_s)
        kept = len(notices) - later - never
        print(
            f"busy notices: {len(notices)} ('Busy right now: your answer should come in about N seconds', "
            f"N: {dict(sorted(announced.items()))}); answered later than announced: {later}, never: {never}; "
            f"kept: {kept} ({kept / len(notices) * 100:.1f}%)"
        )
    else:
        print("busy notices: 0")
    lists = sum(item.command == "list" for item in planned)
    print(
        f"lists asked {lists}, ranked {sampler.computed}, {sampler.incremental} of them for the changed accounts "
        f"only (the rest reused: {(1 - sampler.computed / lists) * 100 if lists else 0:.0f}%); requests inside the "
        f"backlog at the 5 s samples: max {max(sampler.inside, default=0)}, "
        f"last {sampler.inside[-1] if sampler.inside else 0}"
    )
    rss = [m for _, m in sampler.samples]
    print(
        f"server RSS: start {rss[0]:.1f} MiB, max {max(rss):.1f} MiB, end {rss[-1]:.1f} MiB; slope over the "
        f"last {SLOPE_SECONDS / 60:.0f} min {slope_mib_per_min(sampler.samples):+.2f} MiB/min "
        f"({len(rss)} samples)"
    )
    seconds = planned[-1].at - planned[0].at + 1 / (len(planned) / max(planned[-1].at - planned[0].at, 1e-9))
    print(f"server CPU: {cpu_s:.1f} s over {seconds:.0f} s of load ({cpu_s / seconds * 100:.0f}% of one core)")
    return pct(sorted(answer_s.values()), 99)
