"""Typed holds, as conversations: a collector asks for a scheduling (or service suspension) hold,
the approval card names the kind and warns about unapplied credits, the approver's decision
places a hold of that kind and tells that kind's channels (falling back to the general hold
channels), and status shows the kind. A `hold` without a kind keeps working (product release);
a kind that is almost right or unknown is refused with the kinds there are."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from commands.context import AppContext
from commands.messages import Tone
from commands.team import TeamFileError, team_from_dict
from storage.models import AuditEvent, Hold, HoldStatus, Invoice, InvoiceKind
from tests.support.harness import Conversation, Sent
from tests.support.world import field, refused, row_counts, seed_world

DANA, MARIA = "dana.reyes@example.com", "maria.lopez@example.com"


def ask(chat: Conversation, text: str) -> tuple[Sent, str]:
    """Dana asks for a hold; the approvals card and her answer's text."""
    [ack] = chat.say(DANA, text)
    assert ack.tone is Tone.SUCCESS and ack.title.startswith("Approval requested: hold on"), ack
    return chat.last_post("approvals"), ack.text


def audit(ctx: AppContext, action: str) -> list[AuditEvent]:
    with ctx.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def holds_of(ctx: AppContext, customer_id: int) -> list[Hold]:
    with ctx.sessions() as session:
        return list(session.scalars(select(Hold).where(Hold.customer_id == customer_id).order_by(Hold.id)))


def test_a_scheduling_hold_is_announced_to_scheduling_only_and_shown_with_its_kind(ctx: AppContext) -> None:
    ids = seed_world(ctx)
    chat = Conversation(ctx)
    card, _ = ask(chat, "hold acme ortho scheduling 95 days past due, no new bookings")
    assert field(card.reply, "Asked") == "Put Acme Ortho (C200) on hold: 95 days past due, no new bookings"
    assert field(card.reply, "Hold kind") == "scheduling"
    assert "unapplied credits" not in card.reply.text

    [answer] = chat.click(MARIA, card, "Approve")
    assert "Scheduling hold placed; #scheduling told." in answer.text
    [hold] = holds_of(ctx, ids["C200"])
    assert (hold.kind, hold.reason, hold.status) == (
        "scheduling",
        "95 days past due, no new bookings",
        HoldStatus.ACTIVE,
    )
    [post] = chat.messenger.posts("scheduling")
    assert post.reply.title == "Hold placed on Acme Ortho (C200)"
    assert post.reply.text == (
        "Scheduling hold placed on Acme Ortho (C200): 95 days past due, no new bookings. Approved by Maria Lopez."
    )
    assert chat.messenger.posts("client-services") == [] and chat.messenger.posts("sales") == []
    [placed] = audit(ctx, "hold.placed")
    assert (placed.entity_id, placed.data["kind"]) == (hold.id, "scheduling")
    [requested] = audit(ctx, "approval.requested")
    assert requested.data["details"] == {"hold_kind": "scheduling"}

    [status] = chat.say(DANA, "status acme ortho")
    [row] = [r for r in status.rows if r.title.startswith("Hold since")]
    assert (row.detail, [(f.label, f.value) for f in row.fields]) == (
        "95 days past due, no new bookings",
        [("Kind", "scheduling")],
    )

    # Released: the same kind's channel hears it, nobody else.
    release, _ = ask_release(chat)
    chat.click(MARIA, release, "Approve")
    [released] = chat.messenger.posts("scheduling")[1:]
    assert released.reply.text == (
        "Scheduling hold released on Acme Ortho (C200): paid by wire. Released by Maria Lopez."
    )
    assert audit(ctx, "hold.released")[0].data["kind"] == "scheduling"
    assert chat.messenger.posts("client-services") == []


def ask_release(chat: Conversation) -> tuple[Sent, str]:
    [ack] = chat.say(DANA, "release acme ortho paid by wire")
    assert ack.title.startswith("Approval requested: hold release"), ack
    return chat.last_post("approvals"), ack.text


@pytest.mark.parametrize(
    ("text", "kind", "channels"),
    [
        ("hold acme ortho final invoice 120 days past due", "product_release", ("client-services", "sales")),
        ("hold acme ortho --suspension 45 days past due", "service_suspension", ("client-services", "support")),
        ("hold acme ortho service suspension 45 days past due", "service_suspension", ("client-services", "support")),
        ("hold acme ortho schedule stop bookings", "scheduling", ("scheduling",)),
    ],
)
def test_each_kind_is_read_and_told_to_its_channels(
    ctx: AppContext, text: str, kind: str, channels: tuple[str, ...]
) -> None:
    ids = seed_world(ctx)
    chat = Conversation(ctx)
    card, _ = ask(chat, text)
    chat.click(MARIA, card, "Approve")
    [hold] = holds_of(ctx, ids["C200"])
    assert hold.kind == kind
    told = {s.ref.where.channel for s in chat.messenger.sent if s.reply.title.startswith("Hold placed")}
    assert told == set(channels)


def test_a_hold_without_a_kind_is_a_product_release_hold_and_old_holds_read_as_one(ctx: AppContext) -> None:
    ids = seed_world(ctx)  # Acme Dental's hold was stored without a kind
    chat = Conversation(ctx)
    [old] = holds_of(ctx, ids["C100"])
    assert old.kind == "product_release"
    [status] = chat.say(DANA, "status acme dental")
    [row] = [r for r in status.rows if r.title.startswith("Hold since")]
    assert [(f.label, f.value) for f in row.fields] == [("Kind", "product release")]
    card, _ = ask(chat, "hold acme ortho retainer unpaid")
    assert field(card.reply, "Hold kind") == "product release"
    assert field(card.reply, "Asked") == "Put Acme Ortho (C200) on hold: retainer unpaid"


def test_the_card_warns_about_unapplied_credits_before_a_hold(ctx: AppContext) -> None:
    ids = seed_world(ctx)
    with ctx.sessions.begin() as session:
        for number, kind, amount in (
            ("CM-9", InvoiceKind.CREDIT_MEMO, "-120.00"),
            ("UP-1", InvoiceKind.UNAPPLIED_PAYMENT, "-50.00"),
        ):
            session.add(
                Invoice(
                    customer_id=ids["C200"],
                    number=number,
                    kind=kind,
                    due_date=date(2026, 11, 10),
                    amount=Decimal(amount),
                    open_balance=Decimal(amount),
                    currency="USD",
                )
            )
    chat = Conversation(ctx)
    card, ack_text = ask(chat, "hold acme ortho 90 days past due")
    warning = (
        "Warning: Acme Ortho has $170.00 of unapplied credits (CM-9 $120.00, UP-1 $50.00). "
        "Ask finance to apply them before holding the account: what is past due may be paid already."
    )
    assert warning in card.reply.text.splitlines()
    assert warning in ack_text  # the collector hears it too, and can ask finance first
    [answer] = chat.click(MARIA, card, "Approve")
    [decided] = chat.messenger.updates(card.ref)
    assert warning in decided.reply.text.splitlines()  # still said on the decided card


def test_a_release_card_does_not_warn_about_credits(ctx: AppContext) -> None:
    seed_world(ctx)  # Acme Dental: on hold, with a $250.00 credit memo
    chat = Conversation(ctx)
    [ack] = chat.say(DANA, "release acme dental paid in full")
    assert "unapplied credits" not in chat.last_post("approvals").reply.text and "Warning" not in ack.text


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "hold acme ortho --vacation 95 days past due",
            "'--vacation' is not a kind of hold; the kinds are product release, scheduling or service suspension",
        ),
        ("hold acme ortho shceduling 95 days past due", "did you mean a scheduling hold?"),
        ("hold acme ortho scheduling", "say why the account should go on a scheduling hold, after the kind"),
        ("hold nobody scheduling late", "no customer matches 'nobody'"),
    ],
)
def test_a_bad_kind_is_refused_and_writes_nothing(ctx: AppContext, text: str, says: str) -> None:
    seed_world(ctx)
    chat = Conversation(ctx)
    before = row_counts(ctx)
    reply = refused(chat.say(DANA, text))
    assert says in reply.title + reply.text, reply
    assert row_counts(ctx) == before and chat.messenger.sent == []


def _team(holds: dict[str, Any]) -> dict[str, Any]:
    return {
        "members": [{"email": "a@x.com", "roles": ["manager"]}],
        "holds": holds,
        "channels": {"hold_announcements": ["general-holds"]},
    }


def test_the_team_file_names_kinds_and_a_kind_without_channels_uses_the_general_ones() -> None:
    team = team_from_dict(
        _team(
            {
                "default_kind": "install",
                "kinds": {
                    "install": {"label": "installation", "words": ["install"], "blocks_clearance": False},
                    "scheduling": {"announce": ["bookings", {"slack": "C0SUPPORT", "name": "support"}]},
                },
            }
        )
    )
    flow = team.workflow
    assert flow.holds.default == "install" and not flow.holds.blocks_clearance("install")
    assert flow.hold_channels("install") == ("general-holds",)
    assert flow.hold_channels("scheduling") == ("bookings", "support")
    assert flow.channels.on("support") == {"slack": "C0SUPPORT"}
    assert flow.holds.label("service_suspension") == "service suspension"  # a kind no longer listed
    default = team_from_dict({"members": []}).workflow
    assert [k.key for k in default.holds.kinds] == ["product_release", "scheduling", "service_suspension"]
    assert default.hold_channels("scheduling") == ("client-services", "sales")


@pytest.mark.parametrize(
    ("holds", "says"),
    [
        ({"default_kind": "nope"}, "default_kind 'nope' is not one of the kinds listed"),
        ({"kinds": {"a": {"words": ["stop"]}, "b": {"words": ["stop"]}}}, "the word(s) stop name more than one kind"),
        ({"kinds": {}}, "must name at least one kind"),
        ({"kinds": {"a": {"announce": "sales"}}}, "announce must be a list of channels"),
    ],
)
def test_a_bad_holds_section_is_refused_at_start(holds: dict[str, Any], says: str) -> None:
    with pytest.raises(TeamFileError, match="team file: ") as raised:
        team_from_dict(_team(holds))
    assert says in str(raised.value)
