"""The Teams bot through botbuilder's TestAdapter: people type in a personal chat or @mention the
bot in a channel, click Adaptive Card buttons (``Action.Execute`` invokes), and the bot answers,
posts proactively to channels it learnt at install, and survives a restart.

The test rig, ``TeamsWorld``, is in tests/support/teams.py."""

from __future__ import annotations

import asyncio

from botbuilder.schema import Activity, ActivityTypes, ChannelAccount
from sqlalchemy import func, select

from commands.context import AppContext
from storage.models import ApprovalRequest, ApprovalStatus, ConversationRef, OutboxEntry, Promise
from tests.support.teams import (
    CHANNELS,
    DANA,
    MARIA,
    PRIYA,
    SERVICE_URL,
    TEAM_ID,
    TeamsWorld,
    card_of,
    channel,
    in_conversation,
    personal,
    run,
    seeded_teams_world,
    stored_conversation_keys,
    teams_ctx,
    teams_user_id,
    title_of,
    tracked_message_id,
)


def test_a_command_in_personal_chat_is_answered_there(ctx: AppContext) -> None:
    from tests.support.world import seed_world

    seed_world(ctx)
    world = TeamsWorld(teams_ctx(ctx))

    async def conversation() -> None:
        await world.start()
        [status] = await world.say(DANA, "status acme dental")
        assert status.conversation.id == personal(DANA).id
        assert title_of(status) == "Acme Dental Group (C100)"
        assert {"title": "Balance", "value": "$3,350.10"} in card_of(status)["body"][2]["facts"]
        [unknown] = await world.say(DANA, "promse acme 100 fri")
        assert card_of(unknown)["body"][0]["color"] == "Attention"
        assert r"Did you mean \`promise\`?" in title_of(unknown)

    run(conversation)
    with ctx.sessions() as session:
        stored = session.scalar(select(ConversationRef).where(ConversationRef.key == f"dm:{DANA}"))
    assert stored.reference["conversation"]["id"] == personal(DANA).id
    assert stored.reference["serviceUrl"] == SERVICE_URL and "activityId" not in stored.reference


def test_a_mention_in_a_channel_is_stripped_and_answered_in_the_personal_chat(ctx: AppContext) -> None:
    """Balances and notes are not for the whole channel: the answer goes to the asker's chat
    with the bot, and the channel thread only hears that it went there."""
    from tests.support.world import seed_world

    seed_world(ctx)
    world = TeamsWorld(teams_ctx(ctx))

    async def conversation() -> None:
        await world.start()
        await world.install_team()
        [refused] = await world.say(DANA, "status acme dental", where=channel("collections", "1690"), mention=True)
        assert refused.conversation.id == f"{TEAM_ID};messageid=1690"
        assert title_of(refused).startswith("I can't message you privately yet"), title_of(refused)
        await world.say(DANA, "help")  # Dana opens her chat with the bot
        answer, note = await world.say(
            DANA, "promise acme dental 1200 fri", where=channel("collections", "1700"), mention=True
        )
        assert answer.conversation.id == personal(DANA).id
        assert title_of(answer).startswith("Promise recorded"), title_of(answer)
        assert note.conversation.id == f"{TEAM_ID};messageid=1700"
        assert "sent you the answer in our chat" in title_of(note) and "1,200" not in title_of(note)

    run(conversation)
    with ctx.sessions() as session:
        promise = session.scalar(select(Promise).order_by(Promise.id.desc()))
    assert (promise.amount, promise.promised_date.isoformat()) == (1200, "2026-11-27")


def test_approve_click_refreshes_the_card_for_everyone_and_tells_the_requester(ctx: AppContext) -> None:
    world = seeded_teams_world(ctx)

    async def conversation() -> None:
        await world.start()
        await world.install_team()
        sent = await world.say(DANA, "hold acme ortho final invoice 120 days past due")
        card_post = in_conversation(sent, CHANNELS["approvals"])  # a new thread in #approvals
        ack = in_conversation(sent, personal(DANA).id)
        assert title_of(card_post) == "Approval needed: hold on Acme Ortho"
        assert ack.conversation.id == personal(DANA).id and title_of(ack).startswith("Approval requested")
        card_id = tracked_message_id(ctx, "approval:1")
        body, others = await world.click(
            MARIA, card_of(card_post), "Approve", message_id=card_id, where=channel("approvals", card_id)
        )
        assert (body.status_code, body.type) == (200, "application/vnd.microsoft.card.adaptive")
        assert body.value["body"][0]["text"] == "Approved: hold on Acme Ortho"
        assert "actions" not in body.value  # decided: nothing left to press
        [update] = world.adapter.updated_activities
        assert (update.id, card_of(update)) == (card_id, body.value)  # the same card, for everyone
        told = {(a.conversation.id, title_of(a)) for a in others}
        assert (f"{CHANNELS['approvals']};messageid={card_id}", "Approved: hold on Acme Ortho (request #1)") in told
        assert (personal(DANA).id, "Approved: hold on Acme Ortho (request #1)") in told
        assert any(conv == CHANNELS["client-services"] and t.startswith("Hold placed") for conv, t in told)

    run(conversation)
    with ctx.sessions() as session:
        assert session.get(ApprovalRequest, 1).status is ApprovalStatus.APPROVED


def test_reject_click_takes_the_typed_reason(ctx: AppContext) -> None:
    world = seeded_teams_world(ctx)

    async def conversation() -> None:
        await world.start()
        await world.install_team()
        card_post = in_conversation(await world.say(DANA, "hold acme ortho retainer unpaid"), CHANNELS["approvals"])
        card_id = tracked_message_id(ctx, "approval:1")
        where = channel("approvals", card_id)
        body, [form] = await world.click(MARIA, card_of(card_post), "Reject", message_id=card_id, where=where)
        assert body.type == "application/vnd.microsoft.activity.message"  # without a reason: the form
        assert [i["id"] for i in card_of(form)["body"] if i["type"].startswith("Input.")] == ["reason"]
        body, _ = await world.click(
            MARIA,
            card_of(card_post),
            "Reject",
            message_id=card_id,
            where=where,
            typed="they paid the retainer this morning",
        )
        assert body.value["body"][0]["text"] == "Rejected: hold on Acme Ortho"
        assert "they paid the retainer this morning" in body.value["body"][1]["text"]

    run(conversation)
    with ctx.sessions() as session:
        request = session.get(ApprovalRequest, 1)
    assert (request.status, request.decision_reason) == (ApprovalStatus.REJECTED, "they paid the retainer this morning")


def test_finance_confirms_part_of_a_payment_from_its_card(ctx: AppContext) -> None:
    world = seeded_teams_world(ctx)

    async def conversation() -> None:
        await world.start()
        await world.install_team()
        sent = await world.say(DANA, "paid acme dental 1200 today wire REF-1")
        [card_post] = [a for a in sent if a.conversation.id == CHANNELS["finance"]]
        assert title_of(card_post).startswith("Payment to confirm")
        card_id = tracked_message_id(ctx, "confirmation:1")
        body, _ = await world.click(
            PRIYA, card_of(card_post), "Partial", message_id=card_id, where=channel("finance", card_id), typed="500"
        )
        assert body.value["body"][0]["text"].startswith("Payment partly confirmed")
        assert "$500.00 of $1,200.00 received" in body.value["body"][1]["text"]

    run(conversation)


def test_list_buttons_answer_in_the_personal_chat(ctx: AppContext) -> None:
    world = seeded_teams_world(ctx)

    async def conversation() -> None:
        await world.start()
        [listed] = await world.say(DANA, "list")
        card = card_of(listed)
        assert title_of(listed).startswith("Your call list for Mon 23 Nov 2026")
        first_row = card["body"][1]
        assert [a["title"] for a in first_row["items"][-1]["actions"]] == ["Log call", "Promise", "Paid"]
        body, [form] = await world.click(DANA, {"body": [first_row]}, "Log call", message_id="41", where=personal(DANA))
        assert title_of(form) == "Log a call"
        assert form.conversation.id == personal(DANA).id
        assert body.type == "application/vnd.microsoft.activity.message" and "fill in the form" in body.value

    run(conversation)


def test_submit_fallback_and_refresh(ctx: AppContext) -> None:
    """An older client sends Action.Submit as a message with the data as its value; a client
    showing a stale card asks for a refresh and gets the card as last drawn."""
    world = seeded_teams_world(ctx)

    async def conversation() -> None:
        await world.start()
        await world.install_team()
        card_post = in_conversation(await world.say(DANA, "hold acme ortho retainer unpaid"), CHANNELS["approvals"])
        card_id = tracked_message_id(ctx, "approval:1")
        refresh = card_of(card_post)["refresh"]["action"]
        response = await world.send(
            Activity(
                type=ActivityTypes.invoke,
                name="adaptiveCard/action",
                reply_to_id=card_id,
                from_property=ChannelAccount(id=teams_user_id(MARIA)),
                conversation=channel("approvals", card_id),
                value={"action": {"type": "Action.Execute", "verb": refresh["verb"], "data": refresh["data"]}},
            )
        )
        assert response[0].value.body.value == card_of(card_post)
        approve = card_of(card_post)["actions"][0]["fallback"]
        sent = await world.send(
            Activity(
                type=ActivityTypes.message,
                value=approve["data"],
                reply_to_id=card_id,
                from_property=ChannelAccount(id=teams_user_id(MARIA)),
                conversation=channel("approvals", card_id),
            )
        )
        assert title_of(world.adapter.updated_activities[0]) == "Approved: hold on Acme Ortho"
        assert any(title_of(a) == "Approved: hold on Acme Ortho (request #1)" for a in sent)

    run(conversation)
    with ctx.sessions() as session:
        assert session.get(ApprovalRequest, 1).status is ApprovalStatus.APPROVED


def test_a_redelivered_message_takes_effect_once(ctx: AppContext) -> None:
    world = seeded_teams_world(ctx)

    async def conversation() -> None:
        await world.start()
        first = await world.say(DANA, "promise acme dental 310 fri", activity_id="act-7")
        again = await world.say(DANA, "promise acme dental 310 fri", activity_id="act-7")
        assert len(first) == 1 and again == []

    run(conversation)
    with ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Promise).where(Promise.amount == 310)) == 1


def test_proactive_posts_survive_a_restart(ctx: AppContext) -> None:
    """References learnt by one process are what the next one posts through."""
    world = seeded_teams_world(ctx)

    async def before_restart() -> None:
        await world.start()
        await world.install_team()
        await world.say(DANA, "help")

    run(before_restart)
    restarted = TeamsWorld(teams_ctx(ctx))
    from commands.messages import Reply, Where

    async def after_restart() -> None:
        await restarted.start()
        messenger = restarted.app.messenger
        ref = await asyncio.to_thread(messenger.post, Where("collections"), Reply(title="Daily summary"))
        dm = await asyncio.to_thread(messenger.direct, DANA, Reply(title="Your list is ready"))
        threaded = await asyncio.to_thread(
            messenger.post, Where("collections", thread=ref.message_id), Reply(title="In the thread")
        )
        posts = restarted.adapter.activity_buffer
        assert [(a.conversation.id, title_of(a)) for a in posts] == [
            (TEAM_ID, "Daily summary"),
            (personal(DANA).id, "Your list is ready"),
            (f"{TEAM_ID};messageid={ref.message_id}", "In the thread"),
        ]
        assert (dm.where.channel, threaded.where.thread) == (f"dm:{DANA}", ref.message_id)

    run(after_restart)


def test_an_unknown_channel_is_failed_and_reported_not_swallowed(ctx: AppContext) -> None:
    """No team installed: the approval is saved and acknowledged; the card's entry fails with
    what to do, and the admins are told (here their channel is unknown too: the report waits
    in the outbox, failed, for ``arbot outbox``)."""
    world = seeded_teams_world(ctx)

    async def conversation() -> None:
        await world.start()
        sent = await world.say(DANA, "hold acme ortho retainer unpaid")
        assert [title_of(a) for a in sent] == ["Approval requested: hold on Acme Ortho (request #1)"]

    run(conversation)
    with ctx.sessions() as session:
        assert session.get(ApprovalRequest, 1).status is ApprovalStatus.PENDING
        card, report = session.scalars(select(OutboxEntry).order_by(OutboxEntry.id)).all()
    assert (card.status, card.destination) == ("failed", "approvals")
    assert "does not know the Teams channel #approvals yet" in (card.last_error or "")
    assert report.key == f"admin-report:{card.id}#0" and report.payload["title"].startswith("Not delivered")


def test_a_channel_mapped_by_id_in_the_team_file_is_reached_without_an_install(ctx: AppContext) -> None:
    from tests.support.world import seed_world

    seed_world(ctx)
    world = TeamsWorld(teams_ctx(ctx, channels={"approvals": "19:mapped@thread.tacv2"}))

    async def conversation() -> None:
        await world.start()
        await world.say(DANA, "help")  # the bot has seen one conversation: it knows the service URL
        sent = await world.say(DANA, "hold acme ortho retainer unpaid")
        assert in_conversation(sent, "19:mapped@thread.tacv2")

    run(conversation)


def test_uninstall_forgets_the_personal_chat(ctx: AppContext) -> None:
    world = seeded_teams_world(ctx)

    async def conversation() -> None:
        await world.start()
        await world.send(
            Activity(
                type=ActivityTypes.installation_update,
                action="add",
                from_property=ChannelAccount(id=teams_user_id(PRIYA)),
                conversation=personal(PRIYA),
            )
        )
        assert await stored_conversation_keys(ctx) == [f"dm:{PRIYA}"]
        await world.send(
            Activity(
                type=ActivityTypes.installation_update,
                action="remove",
                from_property=ChannelAccount(id=teams_user_id(PRIYA)),
                conversation=personal(PRIYA),
            )
        )
        assert await stored_conversation_keys(ctx) == []

    run(conversation)
