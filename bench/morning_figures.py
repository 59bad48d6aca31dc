"""What one bench morning recorded (its dispatcher rounds, the fake's calls and refusals, the
outbox entries) and what it says: the total against the pacing floor and the floor the fake's
429s allow, duplicates, and where the time went, per run and over all runs
(bench.bench_morning_post)."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from bench.morning_world import PER_CHANNEL_SECONDS, RETRY_AFTER, TARGET_RATIO, MorningClock
from commands.outbox import RoundReport
from storage.models import OutboxEntry


@dataclass
class Round:
    started: float
    ended: float
    claimed: int  # entries the round settled one way or another: what it had claimed
    report: RoundReport


@dataclass
class Morning:
    job_started: float
    job_ended: float
    delivered: float
    rounds: list[Round]
    backoffs: list[float]
    calls: list[Any]  # every call the fake saw
    refusals: list[tuple[str, str, float]]
    entries: list[OutboxEntry]
    outcomes: dict[str, str]
    clock: MorningClock

    def queued_at(self, entry: OutboxEntry) -> float:
        """When ``entry`` was queued, on the monotonic clock the calls are timed by."""
        return self.clock.origin + (entry.created_at - self.clock.start).total_seconds()

    @property
    def posts(self) -> list[Any]:
        return [c for c in self.calls if c.method == "chat.postMessage"]


# -- what it says -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    total: float
    job: float
    pacing_floor: float
    rules_floor: float
    pacing_429: int
    random_429: int
    duplicates: int
    messages: int
    channels: int
    first_round_wait: float
    first_wave: float  # first round's start to the last post accepted in it
    retry_waits: list[float]  # per 429: until the channel was tried again
    backoffs: list[float]  # per 429: the backoff the dispatcher asked for
    lookups: int  # history reads before a retry
    openings: int  # users.lookupByEmail and conversations.open calls during the morning
    queued_floor: float  # a second view, not the target's: see queued_floor()
    last_429: float  # the last random 429, from the job's end (the floor's perfect sender has it at 0)

    @property
    def above(self) -> float:
        """What the total spends above the target's floor."""
        return self.total - self.rules_floor

    @property
    def ratio(self) -> float:
        return self.total / self.rules_floor if self.rules_floor else math.inf


def figures(m: Morning) -> Figures:
    accepted = [c for c in m.posts if c.status == 200]
    per_channel = Counter(str(c.answer["channel"]) for c in accepted)
    # Only the fake's random 429s raise the floor; a pacing 429 is the sender's own doing.
    refused = Counter(channel for channel, why, _ in m.refusals if why == "random")
    pacing_floor = max((n - 1) * PER_CHANNEL_SECONDS for n in per_channel.values())
    rules = max((n - 1) * PER_CHANNEL_SECONDS + refused[ch] * RETRY_AFTER for ch, n in per_channel.items())
    job = m.job_ended - m.job_started
    return Figures(
        total=m.delivered - m.job_started,
        job=job,
        pacing_floor=pacing_floor,
        rules_floor=job + rules,
        pacing_429=sum(why == "pacing" for _, why, _ in m.refusals),
        random_429=sum(why == "random" for _, why, _ in m.refusals),
        duplicates=duplicates(m),
        messages=len(accepted),
        channels=len(per_channel),
        first_round_wait=_first_round_wait(m),
        first_wave=_first_wave(m),
        retry_waits=retry_waits(m),
        backoffs=list(m.backoffs),
        lookups=sum(c.method == "conversations.history" for c in m.calls),
        openings=sum(c.method in ("users.lookupByEmail", "conversations.open") for c in m.calls),
        queued_floor=queued_floor(m),
        last_429=max((at for _, why, at in m.refusals if why == "random"), default=m.job_ended) - m.job_ended,
    )


def queued_floor(m: Morning) -> float:
    """The earliest the fake's rules let the last message land, counted from when each message
    was queued rather than from the job's end: the job commits in several transactions and the
    dispatcher starts on the first while the job still runs, so the target's floor (the job's
    whole time, then the channel's) can lie above the total. Per channel, in the order they
    landed: a message goes no earlier than it was queued, a second after the one before it,
    plus one Retry-After per random 429 it got. Shown beside the target's floor only."""
    channel_of = {str(c.answer["ts"]): str(c.answer["channel"]) for c in m.posts if c.status == 200}
    queued: dict[str, list[float]] = {}
    for entry in m.entries:
        channel = channel_of.get(entry.message_id or "")
        if channel is not None:
            queued.setdefault(channel, []).append(m.queued_at(entry))
    random_429s = [(channel, at) for channel, why, at in m.refusals if why == "random"]
    latest = 0.0
    for channel, times in queued.items():
        landed = sorted(c.at for c in m.posts if c.status == 200 and str(c.answer["channel"]) == channel)
        earliest, previous = -math.inf, -math.inf
        for at, queued_time in zip(landed, sorted(times), strict=False):
            refused = sum(1 for ch, when in random_429s if ch == channel and previous < when <= at)
            earliest = max(queued_time, earliest + PER_CHANNEL_SECONDS) + refused * RETRY_AFTER
            previous = at
        latest = max(latest, earliest - m.job_started)
    return latest


def duplicates(m: Morning) -> int:
    """Messages accepted more than once for one outbox key: the key's stored message id names
    one accepted post; any other accepted post with the same channel and text is a duplicate."""
    from tests.support.slack import text_of

    by_content = Counter((str(c.answer["channel"]), text_of(c.params)) for c in m.posts if c.status == 200)
    content_of = {
        str(c.answer["ts"]): (str(c.answer["channel"]), text_of(c.params)) for c in m.posts if c.status == 200
    }
    extra = 0
    for entry in m.entries:
        content = content_of.get(entry.message_id or "")
        extra += by_content[content] - 1 if content else 0
    return extra


def _first_round_wait(m: Morning) -> float:
    """From the tick's return to the start of the first round that claimed anything (negative:
    the commit's kick started it while the tick was still returning)."""
    working = [r.started for r in m.rounds if r.claimed]
    return (min(working) - m.job_ended) if working else math.nan


def _first_wave(m: Morning) -> float:
    """The first round that claimed anything: its start to the last post it got accepted."""
    first = next((r for r in m.rounds if r.claimed), None)
    if first is None:
        return math.nan
    landed = [c.at for c in m.posts if c.status == 200 and first.started <= c.at <= first.ended]
    return (max(landed) - first.started) if landed else math.nan


def retry_waits(m: Morning) -> list[float]:
    """For each 429: the time until the channel was tried again (a history read or a post),
    which is what the message waited; Slack asked for Retry-After."""
    attempts: dict[str, list[tuple[float, int]]] = {}
    for call in m.calls:
        if call.method in ("chat.postMessage", "conversations.history"):
            attempts.setdefault(_channel_of(call), []).append((call.at, call.status))
    waits = []
    for tries in attempts.values():
        for (at, status), (next_at, _) in pairwise(tries):
            if status == 429:
                waits.append(next_at - at)
    return waits


def _channel_of(call: Any) -> str:
    from tests.support.slack import channel_id

    return channel_id(str(call.params.get("channel", "")))


def round_lines(m: Morning) -> list[str]:
    """The dispatcher's rounds, relative to the job's start: when, how long, claimed, outcome."""
    lines = []
    for r in m.rounds:
        if not r.claimed:
            continue
        rep = r.report
        lines.append(
            f"    round at +{r.started - m.job_started:5.2f} s, {r.ended - r.started:4.2f} s: claimed "
            f"{r.claimed}, sent {rep.sent}, retried {rep.retried}, failed {rep.failed}"
        )
    empty = sum(1 for r in m.rounds if not r.claimed)
    lines.append(f"    and {empty} round(s) that claimed nothing (waiting for a retry to come due)")
    return lines


def report(n: int, m: Morning, f: Figures) -> None:
    waits = f.retry_waits
    print(
        f"  run {n}: total {f.total:.2f} s (job {f.job:.2f} s, then {f.total - f.job:.2f} s delivering); "
        f"{f.messages} messages in {f.channels} channels; pacing floor {f.pacing_floor:.1f} s; "
        f"floor with the fake's 429s {f.rules_floor:.2f} s; ratio {f.ratio:.2f}; "
        f"429s {f.pacing_429 + f.random_429} ({f.pacing_429} pacing, {f.random_429} random); "
        f"duplicates {f.duplicates}; {f.openings} users.lookupByEmail / conversations.open",
        flush=True,
    )
    print(
        f"    from when each message was queued, the rules allow {f.queued_floor:.2f} s at the earliest "
        f"(total / that: {f.total / f.queued_floor:.2f}); not the target's floor"
    )
    print(
        f"    job's end -> first round: {f.first_round_wait * 1000:+.0f} ms (the commit kicks it); first round: "
        f"{f.first_wave:.2f} s to its last accepted post"
    )
    print(
        f"    above the floor: {f.above:.2f} s; the last random 429 came {f.last_429:+.2f} s after the job's end "
        f"(the floor's perfect sender gets every 429 at the job's end and retries exactly Retry-After later)"
    )
    if waits:
        print(
            f"    after a 429 (Retry-After {RETRY_AFTER} s) the dispatcher asked a backoff of "
            f"{min(f.backoffs):.2f}-{max(f.backoffs):.2f} s (mean {statistics.mean(f.backoffs):.2f}); "
            f"the channel was tried again {min(waits):.2f}-{max(waits):.2f} s later "
            f"(mean {statistics.mean(waits):.2f}); {f.lookups} history read(s) before retries"
        )
    for line in round_lines(m):
        print(line)
    bad = {k: v for k, v in m.outcomes.items() if v != "done"}
    if bad:
        print(f"    job outcomes not done: {bad}")


def summary(all_figures: list[Figures]) -> None:
    def span(values: list[float], unit: str = " s", fmt: str = ".2f") -> str:
        return f"median {statistics.median(values):{fmt}}{unit} (range {min(values):{fmt}}-{max(values):{fmt}}{unit})"

    print(f"total {span([f.total for f in all_figures])}; job {span([f.job for f in all_figures])}")
    waits = [w for f in all_figures for w in f.retry_waits]
    print(
        f"above the floor {span([f.above for f in all_figures])}; last random 429 after the job's end "
        f"{span([f.last_429 for f in all_figures])}"
        + (f"; retried after {span(waits)} (every 429 of every run)" if waits else "")
    )
    print(
        f"pacing floor {span([f.pacing_floor for f in all_figures], fmt='.1f')}; "
        f"floor with the 429s {span([f.rules_floor for f in all_figures])}"
    )
    print(
        f"from each message's queueing: earliest {span([f.queued_floor for f in all_figures])}; "
        f"total / that {span([f.total / f.queued_floor for f in all_figures], unit='')} (not the target)"
    )
    ratios = [f.ratio for f in all_figures]
    print(
        f"ratio total/floor {span(ratios, unit='')} (target <= {TARGET_RATIO}): "
        f"{'met' if statistics.median(ratios) <= TARGET_RATIO else 'NOT met'}"
    )
    print(
        f"429s per run {[f.pacing_429 + f.random_429 for f in all_figures]} "
        f"(pacing {[f.pacing_429 for f in all_figures]}); "
        f"duplicates {sum(f.duplicates for f in all_figures)} (must be 0)",
        flush=True,
    )
