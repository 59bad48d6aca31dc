"""A business week (Mon 23 - Fri 27 Nov 2026) at high speed, against a flaky Slack.

The test drives the clock in 15-minute steps through each working day. Every step the
scheduler ticks (morning lists, promise checks, reminders), people type now and then (promises,
payment claims, holds that need approval) and click now and then (finance confirms a payment,
a manager approves), and a dispatcher delivers. Slack answers some calls with 429s, 500s,
timeouts and dropped connections (before or after it took the post), and the dispatcher
process dies at random points (after the claim, after Slack took a post) and is restarted.
All of it comes from one seeded random.Random: the seed is in every failure message, and
``ARBOT_SIM_SEED=<seed>`` replays that week exactly.

At the end, with Slack healthy again: every outbox entry was delivered, every message the
week meant to send is in Slack exactly once and nothing else is, and every promise, payment
confirmation and approval that was created or changed has its audit events."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from commands.context import AppContext
from commands.messages import Action, ChatUser, Incoming, Where
from commands.outbox import Dispatcher
from commands.outbox.codec import decode
from commands.outbox.outcomes import Outcome, Sent
from commands.router import handle
from scheduler.service import tick
from storage.models import AuditEvent, OutboxEntry, PaymentConfirmation, Promise
from storage.models.workflows import ApprovalRequest
from tests.support.outbox import CLIENT_TIMEOUT, SlackOutbox, entries, exactly_once
from tests.support.slack import Fault
from tests.support.world import DANA, PRIYA, seed_world

SEED = int(os.environ.get("ARBOT_SIM_SEED", "20261123"))
MARIA = "maria.lopez@example.com"  # approves holds
FIRST_MORNING = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)  # Mon 07:00 in Chicago
STEPS_PER_DAY = 44  # 07:00 - 18:00 in 15-minute steps
LEASE = 300
FAULTS: list[tuple[Fault, float]] = [(429, 0.03), (500, 0.03), ("drop", 0.02), ("lost", 0.02), ("timeout", 0.005)]
DIES_BEFORE_SEND, DIES_AFTER_SEND = 0.02, 0.02
SAYINGS = [
    "promise c200 {n}0 fri",
    "promise route 66 {n}5 next tue",
    "paid acme ortho {n} today wire SIM-{n}",
    "paid route 66 {n}1 today check {n}",
    "hold acme ortho final invoice {n} days past due",
    "release acme ortho paid in full",
]


class Killed(BaseException):
    """The dispatcher process died here."""


@dataclass
class Mortal(Dispatcher):
    """A dispatcher that may die right after claiming an entry, or right after Slack took it."""

    rng: random.Random = field(default_factory=random.Random)

    def _renew(self, entry: OutboxEntry) -> bool:
        if self.rng.random() < DIES_BEFORE_SEND:
            raise Killed
        return super()._renew(entry)

    def _settle(self, entry: OutboxEntry, outcome: Outcome) -> Outcome:
        if isinstance(outcome, Sent) and self.rng.random() < DIES_AFTER_SEND:
            raise Killed
        return super()._settle(entry, outcome)


def flaky(rng: random.Random) -> object:
    def chaos(method: str) -> Fault | None:
        if method == "auth.test":
            return None
        roll = rng.random()
        for fault, chance in FAULTS:
            if roll < chance:
                return fault
            roll -= chance
        return None

    return chaos


@dataclass
class Week:
    slack: SlackOutbox
    rng: random.Random
    dispatcher: Dispatcher | None = None
    deaths: int = 0
    pressed: set[tuple[str, str]] = field(default_factory=set)
    said: int = 0

    @property
    def ctx(self) -> AppContext:
        return self.slack.ctx

    def deliver(self) -> None:
        """A round; a dead dispatcher is replaced by a fresh process's."""
        if self.dispatcher is None:
            self.dispatcher = Mortal(
                self.ctx,
                {"slack": self.slack.messenger()},
                pacing={},
                workers=1,
                lease_seconds=LEASE,
                rng=random.Random(self.rng.random()),
            )
        try:
            self.dispatcher.run_once()
        except Killed:
            self.deaths += 1
            self.dispatcher = None

    def people_act(self, n: int) -> None:
        if self.rng.random() < 0.25:
            text = self.rng.choice(SAYINGS).format(n=self.rng.randint(1, 9))
            user = ChatUser(platform="test", user_id=DANA, email=DANA)
            handle(self.ctx, Incoming(user=user, where=Where("C-test"), text=text))
            self.said += 1
        if self.rng.random() < 0.3:
            self.click_a_card()

    def click_a_card(self) -> None:
        """Finance confirms a payment card, or Maria approves a request, once per card."""
        for entry in entries(self.ctx).values():
            if entry.kind != "post" or not entry.track_key or entry.status != "sent":
                continue
            reply = decode(entry.payload)
            for button in reply.buttons:
                who = {"Confirm": PRIYA, "Approve": MARIA}.get(button.label)
                if who and (entry.track_key, button.label) not in self.pressed:
                    self.pressed.add((entry.track_key, button.label))
                    user = ChatUser(platform="test", user_id=who, email=who)
                    handle(
                        self.ctx,
                        Incoming(user=user, where=Where("C-test"), action=Action(button.action, dict(button.value))),
                    )
                    return

    def settle_everything(self) -> None:
        """Slack healthy again, and time passes until nothing is outstanding."""
        self.slack.fake.chaos = None
        for _ in range(30):
            self.ctx.clock.advance(seconds=LEASE + 60)  # type: ignore[attr-defined]
            Dispatcher(self.ctx, {"slack": self.slack.messenger()}, pacing={}, workers=1).drain()
            if all(e.status not in ("pending", "sending") for e in entries(self.ctx).values()):
                return


@pytest.fixture
def week(ctx: AppContext) -> Iterator[Week]:
    ctx.clock.at = FIRST_MORNING  # type: ignore[attr-defined]
    seed_world(ctx)
    rng = random.Random(SEED)
    slack = SlackOutbox(ctx, chaos=flaky(random.Random(rng.random())))
    slack.fake.hang_seconds = CLIENT_TIMEOUT + 0.1
    try:
        yield Week(slack, rng)
    finally:
        slack.close()


def changes_before(ctx: AppContext) -> dict[tuple[str, int], str]:
    with ctx.sessions() as session:
        rows = [("promise", p.id, p.status.value) for p in session.scalars(select(Promise))]
        rows += [("payment_confirmation", c.id, c.status.value) for c in session.scalars(select(PaymentConfirmation))]
        rows += [("approval_request", a.id, a.status.value) for a in session.scalars(select(ApprovalRequest))]
    return {(kind, id_): status for kind, id_, status in rows}


def unaudited(ctx: AppContext, before: dict[tuple[str, int], str], since: datetime) -> list[str]:
    """Rows the week created or changed without an audit event of that week for them."""
    after = changes_before(ctx)
    with ctx.sessions() as session:
        events: dict[tuple[str, int], list[str]] = {}
        for event in session.scalars(select(AuditEvent).where(AuditEvent.at >= since)):
            if event.entity_id is not None:
                events.setdefault((event.entity_type, event.entity_id), []).append(event.action)
    problems = []
    for row, status in after.items():
        if row not in before and not events.get(row):
            problems.append(f"{row[0]} {row[1]} was created without an audit event")
        elif row in before and before[row] != status and not events.get(row):
            problems.append(f"{row[0]} {row[1]} went {before[row]} -> {status} without an audit event")
        elif row not in before and status not in ("open", "pending") and len(events.get(row, [])) < 2:
            problems.append(f"{row[0]} {row[1]} was created and became {status} with {events.get(row)}")
    return problems


def test_a_business_week_against_a_flaky_slack_delivers_every_message_exactly_once(week: Week) -> None:
    replay = f"(seed {SEED}; replay with ARBOT_SIM_SEED={SEED})"
    before = changes_before(week.ctx)
    for day in range(5):
        week.ctx.clock.at = FIRST_MORNING + timedelta(days=day)  # type: ignore[attr-defined]
        for step in range(STEPS_PER_DAY):
            tick(week.ctx)
            week.people_act(step)
            week.deliver()
            week.ctx.clock.advance(minutes=15)  # type: ignore[attr-defined]
    week.settle_everything()

    outbox = entries(week.ctx)
    faults = [c for c in week.slack.fake.made(status=None) if c.status != 200]
    print(
        f"seed {SEED}: {len(outbox)} outbox entries, {week.said} things said, {len(week.pressed)} cards pressed, "
        f"{week.deaths} dispatcher deaths, {len(faults)} Slack faults"
    )
    assert week.deaths > 0 and week.said > 0 and week.pressed, f"the week was not rough enough {replay}"
    assert len(outbox) > 20, f"the week sent little: {len(outbox)} entries {replay}"
    assert faults, f"Slack never failed {replay}"
    stuck = {k: (e.status, e.last_error) for k, e in outbox.items() if e.status != "sent"}
    assert stuck == {}, f"not delivered {replay}"
    assert exactly_once(week.ctx, week.slack.fake) == [], f"not exactly once {replay}"
    assert unaudited(week.ctx, before, FIRST_MORNING) == [], f"ledger and audit disagree {replay}"
