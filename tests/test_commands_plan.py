"""``plan``: the first instalment's date is read like a promise's, at most 90 days ahead, so a
month/day that has just passed is refused with the date it was read as, never a plan that
silently starts a year later."""

from __future__ import annotations

from datetime import UTC, datetime

from commands.clock import FixedClock
from commands.context import AppContext
from commands.messages import Tone
from tests.support.world import refused, row_counts, say, seed_world


def test_a_first_date_more_than_90_days_ahead_is_refused_with_how_it_was_read(
    ctx: AppContext, clock: FixedClock
) -> None:
    seed_world(ctx)
    clock.at = datetime(2026, 12, 15, 16, tzinfo=UTC)  # 12/1 has just passed
    before = row_counts(ctx)
    reply = refused(say(ctx, "plan summit ortho 1,200 4 monthly 12/1"))
    assert reply.title == (
        "the first instalment can be at most 90 days ahead (until Mon 15 Mar 2027), like a "
        "promise; I read the date as Wed 1 Dec 2027"
    )
    assert row_counts(ctx) == before
    [ack] = say(ctx, "plan summit ortho 1,200 4 monthly 1/4")
    assert ack.tone is Tone.SUCCESS, ack
