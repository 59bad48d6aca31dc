"""A dispatcher dies at the worst moments; after a restart each message is in Slack once.

Killed after the claim and before the send: the entries stay claimed until the lease ends,
then the next dispatcher sends them. Killed after Slack took a post and before the row was
settled: the next dispatcher finds the post by its outbox key in the conversation and settles
it without posting again. Both in-process (a dispatcher that stops dead) and for real: a
dispatcher in its own process, ``kill -9``-ed while Slack holds its request."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from bot.slack.render import render
from commands.messages import Reply, Row, Where
from commands.outbox import Dispatcher
from commands.outbox.outcomes import Outcome, Sent
from storage.models import OutboxEntry
from tests.support.outbox import SlackOutbox, child_command, direct, exactly_once, landed, post, statuses

LEASE = 120
ROOT = Path(__file__).resolve().parent.parent


class Killed(BaseException):
    """The process died here (nothing after this line of the dispatcher runs)."""


class DiesAfterSend(Dispatcher):
    """A dispatcher that dies right after the platform accepted its first message."""

    def _settle(self, entry: OutboxEntry, outcome: Outcome) -> Outcome:
        if isinstance(outcome, Sent):
            raise Killed
        return super()._settle(entry, outcome)


def queue_some(slack: SlackOutbox) -> list[str]:
    return slack.queue(
        [
            direct("dana.reyes@example.com", "Your list"),
            post("finance", "Confirm a payment"),
            direct("sam.okafor@example.com", "Your list"),
            post("approvals", "Approve a hold"),
        ]
    )


def after_the_lease(slack: SlackOutbox) -> None:
    slack.ctx.clock.advance(seconds=LEASE + 1)


def test_killed_after_the_claim_before_the_send_everything_goes_out_once_after_the_lease(slack: SlackOutbox) -> None:
    keys = queue_some(slack)
    claimed = slack.restarted(lease_seconds=LEASE).claim()  # ... and the process is gone
    assert [e.key for e in claimed] == keys

    slack.ctx.clock.advance(seconds=LEASE - 1)
    assert slack.restarted().run_once().settled == 0, "a live lease is left alone"
    assert landed(slack.fake) == {}
    after_the_lease(slack)
    assert slack.restarted().run_once().sent == len(keys)
    assert exactly_once(slack.ctx, slack.fake) == []


@pytest.mark.parametrize("first", ["post", "direct", "thread reply"])
def test_killed_after_slack_took_the_post_before_the_settle_it_is_not_posted_again(
    slack: SlackOutbox, first: str
) -> None:
    if first == "thread reply":
        slack.queue([Reply(title="Approve a hold", where=Where("approvals"), track="approval:3")])
        slack.restarted().drain()
        slack.queue([Reply(title="Dana approved it", where=Where("approvals"), thread_of="approval:3")])
    elif first == "direct":
        slack.queue([direct("priya.shah@example.com", "Confirm a payment")])
    else:
        slack.queue([post("collections", "Today's summary")])
    keys = queue_some(slack)

    with pytest.raises(Killed):
        DiesAfterSend(slack.ctx, {"slack": slack.messenger()}, pacing={}, workers=1, lease_seconds=LEASE).run_once()
    assert len(slack.fake.made("chat.postMessage")) == (2 if first == "thread reply" else 1)

    slack.ctx.clock.advance(seconds=LEASE - 1)
    assert slack.restarted().run_once().settled == 0
    after_the_lease(slack)
    report = slack.restarted().run_once()
    assert report.sent == len(keys) + 1
    assert exactly_once(slack.ctx, slack.fake) == []
    assert set(statuses(slack.ctx).values()) == {"sent"}
    if first == "thread reply":
        [reply] = [m for m in slack.fake.posted("CAPPROVALS") if m.get("thread_ts")]
        assert slack.fake.made("conversations.replies"), "a thread reply is looked for in its thread"


def test_a_long_reply_cut_after_its_first_part_is_completed_not_repeated(slack: SlackOutbox) -> None:
    """A call list too long for one Slack message goes out as several; when the connection
    drops after the first part landed, the retry posts only the parts still missing."""
    long_list = Reply(
        title="Your list",
        to_user="dana.reyes@example.com",
        rows=tuple(Row(title=f"Customer {n}", detail="call today") for n in range(80)),
    )
    parts = len(render(long_list))
    assert parts >= 2
    [key] = slack.queue([long_list])
    slack.fake.fail_next("chat.postMessage", 200)  # the first part goes through ...
    slack.fake.fail_next("chat.postMessage", "drop")  # ... the second is cut
    slack.restarted().run_once()
    slack.ctx.clock.advance(seconds=400)
    slack.restarted().run_once()

    shown = [m["metadata"]["event_payload"]["part"] for m in slack.fake.posted("D0DANA")]
    assert sorted(shown) == list(range(parts)), "every part once"
    assert statuses(slack.ctx)[key] == "sent"


# -- a real process, killed -9 ------------------------------------------------------------------


def run_child_and_kill_when(slack: SlackOutbox, method: str, target: str) -> None:
    """Start a dispatcher process; Slack holds its ``method`` call about ``target`` (having
    done what it asked); kill -9 the process right then."""
    slack.fake.hang_seconds = 3
    slack.fake.fail_next(method, "timeout", target=target)
    before = len(slack.fake.made(method))
    child = subprocess.Popen(
        child_command(slack.ctx, slack.fake, lease_seconds=LEASE, client_timeout=30),
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        slack.fake.wait_for(lambda f: len(f.made(method)) > before, timeout=30)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        _, err = child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL, err.decode()[-2000:]


@pytest.mark.parametrize(
    "moment, method, target",
    [
        ("before the send", "users.lookupByEmail", "dana.reyes@example.com"),
        ("after Slack took the post", "chat.postMessage", "D0DANA"),
    ],
)
def test_a_dispatcher_process_killed_mid_round_delivers_once_after_restart(
    slack: SlackOutbox, moment: str, method: str, target: str
) -> None:
    keys = queue_some(slack)
    run_child_and_kill_when(slack, method, target)
    took = landed(slack.fake)
    assert took == ({} if moment == "before the send" else {keys[0]: 1})
    assert set(statuses(slack.ctx).values()) == {"sending"}

    after_the_lease(slack)
    report = slack.restarted().run_once()
    assert report.sent == len(keys)
    assert exactly_once(slack.ctx, slack.fake) == []
