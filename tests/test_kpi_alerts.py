"""Targets from the team file, and the collections channel told once when an import makes a
figure cross one (and once when it comes back). Every figure is worked out by hand from the
files below; the messages are read from the outbox the import wrote them to."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from commands.context import AppContext
from commands.importing import import_aging_file
from commands.messages import Tone
from commands.outbox.codec import decode
from commands.targets import Target, TargetsError, targets_from_dict
from commands.team import TeamFileError, team_from_dict
from storage.models import OutboxEntry, TargetState

HEADER = "Customer ID,Customer Name,Invoice No.,Invoice Date,Due Date,Original Amount,Amount Due\n"
SNAPSHOTS = [
    # 30 Sep, window 1-30 Sep: E 1000, S 1000 -> DSO 30: met, and a target first seen met says nothing.
    (date(2026, 9, 30), ["A,Acme,A1,2026-09-15,2026-10-15,1000.00,1000.00"]),
    # 31 Oct, window 2-31 Oct: E 1300, S 300 (A2) -> DSO 130: past the target of 35.
    (
        date(2026, 10, 31),
        ["A,Acme,A1,2026-09-15,2026-10-15,1000.00,1000.00", "A,Acme,A2,2026-10-20,2026-11-19,300.00,300.00"],
    ),
    # 20 Nov, window 22 Oct-20 Nov: A1 and A2 paid; E 900, S 900 (A3) -> DSO 30: back under.
    (date(2026, 11, 20), ["A,Acme,A3,2026-11-05,2026-12-05,900.00,900.00"]),
]


def _import(ctx: AppContext, tmp_path: Path, n: int) -> None:
    as_of, rows = SNAPSHOTS[n]
    path = tmp_path / f"aging{n}.csv"
    path.write_text(HEADER + "".join(row + "\n" for row in rows))
    import_aging_file(ctx, path, as_of=as_of)


def _channel_posts(ctx: AppContext) -> list[tuple[str, str]]:
    with ctx.sessions() as session:
        entries = session.scalars(select(OutboxEntry).order_by(OutboxEntry.id)).all()
        return [(e.destination, decode(e.payload).text) for e in entries]


def _with_targets(ctx: AppContext, **targets: object) -> AppContext:
    return replace(ctx, team=replace(ctx.team, targets=targets_from_dict(targets)))


def test_dso_past_its_target_is_told_once_and_again_when_back(ctx: AppContext, tmp_path: Path) -> None:
    ctx = _with_targets(ctx, dso=35)
    _import(ctx, tmp_path, 0)
    assert _channel_posts(ctx) == []

    _import(ctx, tmp_path, 1)
    crossed = [("collections", "DSO is 130.0 days, above the target of 35 days.")]
    assert _channel_posts(ctx) == crossed
    with ctx.sessions() as session:
        state = session.get(TargetState, "dso")
        assert (state.missed, Decimal(state.value), state.checked_on) == (True, Decimal(130), date(2026, 10, 31))

    _import(ctx, tmp_path, 2)
    assert _channel_posts(ctx) == [
        *crossed,
        ("collections", "DSO is back under its target: 30.0 days (target 35 days)."),
    ]


def test_staying_past_a_target_says_nothing_more(ctx: AppContext, tmp_path: Path) -> None:
    """A ceiling of 20 days: 30 Sep (DSO 30) crosses it; 31 Oct (130) and 20 Nov (30) stay past."""
    ctx = _with_targets(ctx, dso=20)
    for n in range(3):
        _import(ctx, tmp_path, n)
    assert _channel_posts(ctx) == [("collections", "DSO is 30.0 days, above the target of 20 days.")]


def test_money_past_due_over_its_ceiling(ctx: AppContext, tmp_path: Path) -> None:
    """On 20 Nov nothing is past due; on 31 Oct A1 (due 15 Oct) is 16 days late: not yet 31+.
    A ceiling of $500 on 90+ stays met; a $500 ceiling on all past due over 30 days is crossed
    only by a file where A1 is 46 days late (as of 30 Nov)."""
    ctx = _with_targets(ctx, past_due_31_max=500, over_90_max=500)
    _import(ctx, tmp_path, 0)
    _import(ctx, tmp_path, 1)
    assert _channel_posts(ctx) == []
    path = tmp_path / "late.csv"
    path.write_text(HEADER + "A,Acme,A1,2026-09-15,2026-10-15,1000.00,1000.00\n")
    import_aging_file(ctx, path, as_of=date(2026, 11, 30))
    assert _channel_posts(ctx) == [
        ("collections", "Money more than 30 days past due is $1,000.00, above the target of $500.00.")
    ]


def test_a_dry_run_tells_nobody_and_keeps_no_state(ctx: AppContext, tmp_path: Path) -> None:
    ctx = _with_targets(ctx, dso=35)
    _import(ctx, tmp_path, 0)
    path = tmp_path / "next.csv"
    path.write_text(HEADER + "".join(row + "\n" for row in SNAPSHOTS[1][1]))
    import_aging_file(ctx, path, as_of=SNAPSHOTS[1][0], dry_run=True)
    assert _channel_posts(ctx) == []
    with ctx.sessions() as session:
        assert session.get(TargetState, "dso").missed is False


def test_the_team_file_states_targets() -> None:
    assert targets_from_dict({"dso": 35, "past_due_31_max": 2_000_000, "cei_min": 80.5}) == (
        Target("dso", Decimal(35)),
        Target("past_due_31_max", Decimal(2_000_000)),
        Target("cei_min", Decimal("80.5")),
    )
    assert Target("cei_min", Decimal(80)).missed_by(Decimal("79.9"))
    assert not Target("dso", Decimal(35)).missed_by(Decimal(35))


@pytest.mark.parametrize(
    ("targets", "message"),
    [
        ({"dso_days": 35}, "[targets] dso_days: no such target"),
        ({"dso": "soon"}, "[targets] dso must be a number, not 'soon'"),
        ({"dso": -1}, "[targets] dso must be a number of zero or more"),
        ({"dso": True}, "[targets] dso must be a number, not True"),
    ],
)
def test_a_bad_target_is_refused_when_the_team_file_loads(targets: dict[str, object], message: str) -> None:
    with pytest.raises(TargetsError) as refused:
        targets_from_dict(targets)
    assert str(refused.value).startswith(message)
    with pytest.raises(TeamFileError) as team_refused:
        team_from_dict({"team": {"name": "T"}, "targets": targets})
    assert message in str(team_refused.value)


def test_a_confirmed_payment_that_keeps_a_promise_can_cross_a_target(ctx: AppContext) -> None:
    """In the last 30 days one promise broke and an earlier check saw 0% kept, under the floor of
    40%. Dana's customer keeps today's promise when finance confirms the payment: 1 of 2 kept,
    50%, back over the floor, and the collections channel is told once."""
    from datetime import datetime

    from storage.models import Customer, Promise, PromiseStatus, TeamMember
    from tests.support.harness import Conversation
    from tests.support.world import DANA, PRIYA, seed_world

    seed_world(ctx)
    ctx = _with_targets(ctx, ptp_kept_rate_min=40)
    chat = Conversation(ctx)
    made = datetime(2026, 11, 2, 15, tzinfo=UTC)
    with ctx.sessions.begin() as session:
        dana = session.scalar(select(TeamMember.id).where(TeamMember.email == DANA))
        customers = session.scalars(select(Customer).where(Customer.collector_id == dana).order_by(Customer.id)).all()
        session.add_all(
            [
                Promise(
                    customer_id=customers[1].id,
                    member_id=dana,
                    amount=Decimal("100.00"),
                    promised_date=date(2026, 11, 10),
                    status=PromiseStatus.BROKEN,
                    created_at=made,
                ),
                Promise(
                    customer_id=customers[0].id,
                    member_id=dana,
                    amount=Decimal("50.00"),
                    promised_date=date(2026, 11, 23),
                    created_at=made,
                ),
            ]
        )
        erp_id = customers[0].erp_id
    with ctx.sessions.begin() as session:  # the state as an earlier check left it: 0% kept, past the floor
        session.add(TargetState(key="ptp_kept_rate_min", missed=True, value="0", checked_on=date(2026, 11, 20)))

    [ack] = chat.say(DANA, f"paid {erp_id} 50 today")
    assert ack.tone is Tone.SUCCESS, ack
    chat.click(PRIYA, chat.last_post("finance"), "Confirm")
    told = [s.reply.text for s in chat.messenger.posts("collections")]
    assert told == ["Promise-kept rate is back at or above its target: 50.0% (target 40%)."]
    chat.say(DANA, f"paid {erp_id} 10 today")
    chat.click(PRIYA, chat.last_post("finance"), "Confirm")  # no promise kept this time: nothing new said
    assert len(chat.messenger.posts("collections")) == 1
