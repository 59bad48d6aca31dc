"""The Teams turn handler: a message or a card click in, the core's answer out.

A message (a personal chat, or an @mention in a channel or group chat, the mention stripped) and
a card click (``adaptiveCard/action`` from ``Action.Execute``, or the ``Action.Submit`` fallback)
become the neutral :class:`Incoming`; the core handles it on a worker thread (one transaction)
and delivers its posts through the :class:`TeamsMessenger`; what is left for the asker is sent in
place, in the thread of a channel message. A click is answered in the invoke response: the card
redrawn when the click changed it (the same card is also updated in the message for everyone),
else a short message only the clicker sees. A button that needs typed input (Log call, Promise,
Paid; Partial and Reject pressed without a value) answers with the core's form drawn as a card
(commands.forms); the form's submit is checked (a problem comes back as the card again, the
message under its field) and goes to the core as the form's action, and the form card turns into
the core's answer. Installs and channel events store where the bot may post later."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes, AdaptiveCardInvokeResponse, Attachment

from bot.runtime.backlog import kind_of, turned_away
from bot.runtime.requests import ChatRuntime
from bot.teams import capture, inbound, references
from bot.teams.cards import CARD_CONTENT_TYPE, REFRESH_VERB, read_action, render, render_pages
from bot.teams.file_offers import CONSENT_INVOKE, KEPT, Consent, UploadFailed, file_info, read_consent, upload
from bot.teams.form_cards import FORM_VERB, FormSubmit, read_form, render_form
from bot.teams.identity import email_of, identities
from bot.teams.messenger import Outbox, TeamsMessenger
from commands import forms, messages
from commands.context import AppContext
from commands.failures import new_ref
from commands.messages import Action, ChatUser, DeliveryFailed, Incoming, Reply, Tone, Where
from commands.workflows.current_card import current_card_for_message

log = logging.getLogger(__name__)
CARD_ACTION = "adaptiveCard/action"
MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"
ERROR_RESPONSE = "application/vnd.microsoft.error"
_CONVERSATIONS_KEPT = 10_000


class MessageInvokeResponse(AdaptiveCardInvokeResponse):
    """The schema object for a text answer to a click: its ``value`` is a string, which the
    stock class (typed for a card) cannot serialize."""

    _attribute_map = {**AdaptiveCardInvokeResponse._attribute_map, "value": {"key": "value", "type": "str"}}


@dataclass(frozen=True)
class Answer:
    """What the core said to the asker, the redrawn card when a click changed its own card, and
    who asked (None when even that could not be found out)."""

    replies: list[Reply]
    card: Reply | None = None
    user: ChatUser | None = None
    # The Teams messages of each reply (by its id), drawn on the worker thread that answered.
    drawn: dict[int, list[Activity]] = field(default_factory=dict, compare=False)


class TeamsBot:
    def __init__(self, ctx: AppContext, outbox: Outbox, messenger: TeamsMessenger) -> None:
        self.ctx, self.outbox, self.messenger = ctx, outbox, messenger
        self.chat = ChatRuntime(ctx, "teams")
        self.identities = identities(ctx)
        # conversation id -> ((reference, email) last stored, the keys it is stored under)
        self._seen: dict[str, tuple[tuple[dict[str, Any], str | None], list[str]]] = {}

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if activity.type == ActivityTypes.message:
            await self._on_message(turn_context)
        elif activity.type == ActivityTypes.invoke:
            await self._on_invoke(turn_context)
        elif activity.type in (ActivityTypes.conversation_update, ActivityTypes.installation_update):
            await self._on_membership(turn_context)

    async def _on_message(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        submitted = read_form(activity.value) if isinstance(activity.value, dict) else None
        if submitted is not None:
            await self._on_form_fallback(turn_context, submitted)
            return
        clicked = read_action(activity.value) if isinstance(activity.value, dict) else None
        action = Action(name=clicked[0], value=clicked[1]) if clicked else None
        text = None if action else " ".join(mention_free_text(activity).split())
        answer = await self._answer(turn_context, text, action)
        if activity.conversation.conversation_type == "personal" or answer.user is None or not answer.replies:
            await self.chat.deliver_async(
                answer.replies, lambda reply: self._send(turn_context, reply, answer.drawn.get(id(reply)))
            )
        else:
            await self._answer_privately(turn_context, answer.user, answer.replies)
        self.chat.finished(self._key(activity), answer.replies)

    async def _answer_privately(self, turn_context: TurnContext, user: ChatUser, replies: list[Reply]) -> None:
        """An answer asked for in a channel carries balances and notes: it goes to the asker's
        personal chat with the bot, and the channel only hears that it went there."""
        try:
            if not user.email:
                raise DeliveryFailed("no email to reach a personal chat by", permanent=True)
            for reply in replies:
                await asyncio.to_thread(self.messenger.direct, user.email, reply)
        except DeliveryFailed:
            note = (
                "I can't message you privately yet, and I don't answer with account details in a channel. "
                "Open a chat with arbot (Apps > arbot > Chat), then ask me there."
            )
        else:
            note = (
                f"{user.display_name or 'I'}: I sent you the answer in our chat."
                if user.display_name
                else "I sent you the answer in our chat."
            )
        await self._send(turn_context, Reply(title=note))

    async def _send(self, turn_context: TurnContext, reply: Reply, drawn: list[Activity] | None = None) -> None:
        """Into the turn's conversation: every page of a long reply, in order, then its files.
        ``drawn`` is the reply already drawn on the worker thread that answered; otherwise it
        is drawn on one now (mentions and file offers read the database)."""
        if drawn is None:
            personal = turn_context.activity.conversation.conversation_type == "personal"
            drawn = await asyncio.to_thread(self.messenger.activities, reply, personal=personal)
        await self.outbox.send_all(turn_context, drawn)

    async def _on_invoke(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        value = activity.value if isinstance(activity.value, dict) else {}
        card_action = value.get("action") if isinstance(value.get("action"), dict) else {}
        if activity.name == CONSENT_INVOKE:
            await self._on_file_consent(turn_context, read_consent(value))
            return
        if activity.name != CARD_ACTION or card_action.get("type") != "Action.Execute":
            await _answer_invoke(turn_context, error_response("NotSupported", "this bot answers card buttons only"))
            return
        if card_action.get("verb") == REFRESH_VERB:
            await self._refresh(turn_context)
            return
        data = card_action.get("data") if isinstance(card_action.get("data"), dict) else {}
        submitted = read_form(data) if card_action.get("verb") == FORM_VERB else None
        if submitted is not None:
            await _answer_invoke(turn_context, await self._on_form(turn_context, submitted))
            return
        clicked = read_action(data)
        if clicked is None:
            await _answer_invoke(turn_context, error_response("BadRequest", "this button is not one of ours"))
            return
        form = form_to_open(clicked[0], clicked[1])
        if form is not None:
            await self._open_form(turn_context, form, Action(clicked[0], clicked[1]))
            return
        answer = await self._answer(turn_context, None, Action(name=clicked[0], value=clicked[1]))
        await self._respond_to_click(turn_context, answer)
        self.chat.finished(self._key(turn_context.activity), answer.replies)

    async def _on_file_consent(self, turn_context: TurnContext, consent: Consent) -> None:
        """The person accepted or declined a file: on accept its bytes go to the upload URL Teams
        gave, and the file is shown; Teams is answered 200 either way (the card is done)."""
        await turn_context.send_activity(Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=200)))
        offered = await asyncio.to_thread(self.messenger.offers.taken, consent.offer) if consent.offer else None
        name = offered.name if offered else (consent.name or "the file")
        if not consent.accepted:
            await self._send(turn_context, Reply(title=f"Not sent: {name}", text="Ask again when you want it."))
        elif offered is None or not consent.upload_url:
            await self._send(
                turn_context,
                messages.error(
                    f"{name} is no longer here to send (a download waits {KEPT.days} days); ask for it again"
                ),
            )
        else:
            try:
                await upload(consent.upload_url, offered.data)
            except UploadFailed as exc:
                ref = new_ref()
                log.warning("teams upload of %s failed (ref %s): %s", name, ref, exc)
                await self._send(
                    turn_context,
                    messages.error(f"I could not put {name} in your OneDrive: {exc} (ref {ref}); ask for it again"),
                )
                return
            await self.outbox.send_all(turn_context, [file_info(consent)])

    async def _open_form(self, turn_context: TurnContext, form: forms.Form, pressed: Action) -> None:
        """The form goes into the conversation as a card of its own (a call list it was opened
        from stays as it is); the click is answered with where to find it."""
        card = render_form(form, pressed, values=form.initial(self.ctx.today(), pressed.value))
        await self.outbox.send_all(turn_context, [_card_activity(card, form.title)])
        body = MessageInvokeResponse(
            status_code=200, type=MESSAGE_RESPONSE, value=f"{form.title}: fill in the form below"
        )
        await _answer_invoke(turn_context, body)

    async def _on_form(self, turn_context: TurnContext, submitted: FormSubmit) -> AdaptiveCardInvokeResponse:
        """A form's submit: the card again with the problems under their fields, or the core's
        answer drawn in the form's place (the rest of it sent as messages)."""
        card = await self._form_outcome(turn_context, submitted)
        return AdaptiveCardInvokeResponse(status_code=200, type=CARD_CONTENT_TYPE, value=card)

    async def _on_form_fallback(self, turn_context: TurnContext, submitted: FormSubmit) -> None:
        """An older client's Action.Submit of a form: the outcome comes as a new card."""
        card = await self._form_outcome(turn_context, submitted)
        await self.outbox.send_all(turn_context, [_card_activity(card, "arbot")])

    async def _form_outcome(self, turn_context: TurnContext, submitted: FormSubmit) -> dict[str, Any]:
        form = forms.form_for_button(submitted.pressed.name, submitted.pressed.value, pressed=submitted.label)
        if form is None:
            return render(messages.error("That form is not one of ours"), refreshable=False)
        errors = forms.check(form, submitted.values, self.ctx.today())
        if errors:
            return render_form(form, submitted.pressed, label=submitted.label, values=submitted.values, errors=errors)
        action = forms.submission(form, submitted.pressed, submitted.values)
        answer = await self._answer(turn_context, None, action)
        self.chat.finished(self._key(turn_context.activity), answer.replies)
        first, rest = (answer.replies[0], answer.replies[1:]) if answer.replies else (Reply(title="Done"), [])
        if first.tone is Tone.ERROR:
            problem = "\n".join(part for part in (first.title, first.text) if part)
            return render_form(form, submitted.pressed, label=submitted.label, values=submitted.values, problem=problem)
        await self.chat.deliver_async(rest, lambda reply: self._send(turn_context, reply))
        return render_pages(first)[0]

    async def _respond_to_click(self, turn_context: TurnContext, answer: Answer) -> None:
        personal = turn_context.activity.conversation.conversation_type == "personal"
        only_clicker = [r for r in answer.replies if r.private and not personal and answer.card is None]
        await self.chat.deliver_async(
            [r for r in answer.replies if r not in only_clicker], lambda reply: self._send(turn_context, reply)
        )
        if answer.card is not None:
            card = render_pages(answer.card)[0]
            self.outbox.keep(turn_context.activity.reply_to_id or "", card)
            body = AdaptiveCardInvokeResponse(status_code=200, type=CARD_CONTENT_TYPE, value=card)
        else:
            said = only_clicker or answer.replies
            text = "\n".join(_plain(r) for r in said) if only_clicker else (said[0].title if said else "Done")
            body = MessageInvokeResponse(status_code=200, type=MESSAGE_RESPONSE, value=text)
        await _answer_invoke(turn_context, body)

    async def _refresh(self, turn_context: TurnContext) -> None:
        """Drawn from the database every time: right after a typed decision, after a restart,
        on any replica."""
        reply = await asyncio.to_thread(self._current_card, turn_context.activity.reply_to_id or "")
        if reply is None:
            body = error_response("NotFound", "this message is not a card the bot keeps up to date")
        else:
            first_page = render_pages(reply)[0]  # a tracked card is short: one page
            body = AdaptiveCardInvokeResponse(status_code=200, type=CARD_CONTENT_TYPE, value=first_page)
        await _answer_invoke(turn_context, body)

    async def _on_membership(self, turn_context: TurnContext) -> None:
        """Installs, uninstalls and channel events: where the bot may post from now on."""
        activity = turn_context.activity
        self._seen.clear()  # what is stored changes here; the next message re-checks it
        channel_data = activity.channel_data or {}
        event = channel_data.get("eventType")
        reference = TurnContext.get_conversation_reference(activity).serialize()
        removed = capture.bot_was_removed(activity) or (
            activity.type == ActivityTypes.installation_update and str(activity.action or "").startswith("remove")
        )
        if removed:
            dropped = await asyncio.to_thread(references.forget, self.ctx.sessions, activity.conversation.id)
            log.info("Teams app removed from %s; forgot %s", activity.conversation.id, dropped or "nothing")
            return
        if event == "channelDeleted":
            channel_id = (channel_data.get("channel") or {}).get("id", "")
            await asyncio.to_thread(references.forget, self.ctx.sessions, channel_id)
            return
        installed = capture.bot_was_added(activity) or activity.type == ActivityTypes.installation_update
        if activity.conversation.conversation_type == "personal":
            if installed:
                email = await email_of(turn_context, self.ctx)
                await asyncio.to_thread(
                    capture.remember_conversation, self.ctx, reference, conversation_type="personal", email=email
                )
            return
        if installed or event in ("channelCreated", "channelRenamed", "channelRestored"):
            channels = await capture.team_channels(turn_context) if installed else []
            named = channel_data.get("channel") or {}
            if not installed and named.get("id"):
                channels = [(named["id"], named.get("name"))]
            saved = await asyncio.to_thread(capture.remember_channels, self.ctx, reference, channels)
            log.info("Teams channels known after %s: %s", event or activity.type, saved or "none")

    async def _user(self, turn_context: TurnContext) -> ChatUser:
        sender = turn_context.activity.from_property
        email = await email_of(turn_context, self.ctx, self.identities)
        return ChatUser(
            platform="teams",
            user_id=sender.id if sender else "",
            email=email,
            display_name=getattr(sender, "name", None),
        )

    @staticmethod
    def _key(activity: Activity) -> str | None:
        """The activity's idempotency key (its id within its conversation)."""
        return inbound.event_id(activity.conversation.id, activity.id) if activity.id else None

    async def _answer(self, turn_context: TurnContext, text: str | None, action: Action | None) -> Answer:
        """Who asked, the core and the redrawn card, in the one error path: whatever fails, the
        asker gets a sentence with a reference. A redelivery this process answered is dropped."""
        if not self.chat.first_sight(self._key(turn_context.activity)):
            log.info("dropped a redelivered Teams activity %s", turn_context.activity.id)
            return Answer(replies=[])
        place = self.chat.backlog.enter(kind_of(text))
        if place is None:
            log.warning(
                "Teams activity %s turned away: %d requests inside", turn_context.activity.id, self.chat.backlog.inside
            )
            return Answer(replies=[turned_away()])
        try:
            if place.announced and turn_context.activity.type == ActivityTypes.message:
                await self._notify(turn_context, place.notice())
            user = await self._user(turn_context)
            return await asyncio.to_thread(self._converse, turn_context, user, text, action)
        except Exception as exc:
            return Answer(replies=[self.chat.failed(exc, "request")])
        finally:
            self.chat.backlog.leave(place)

    async def _notify(self, turn_context: TurnContext, reply: Reply) -> None:
        """A short note into the conversation now, drawn on the event loop rather than behind
        the requests waiting for a worker thread."""
        await self.chat.deliver_async(
            [reply], lambda r: self.outbox.send_all(turn_context, self.messenger.activities(r))
        )

    def _converse(self, turn_context: TurnContext, user: ChatUser, text: str | None, action: Action | None) -> Answer:
        """On a worker thread: keep the conversation's reference fresh, let the core handle the
        message (with the activity's key), and return what is left for the asker."""
        activity = turn_context.activity
        keys = self._remember(activity, user)
        where = self._where(activity, user, keys, clicked=action is not None)
        clicked = activity.reply_to_id if action is not None else None
        before = self._current_card(clicked) if clicked else None
        replies = self.chat.converse(
            lambda: Incoming(user=user, where=where, text=text, action=action, request_id=self._key(activity))
        )
        after = self._current_card(clicked) if clicked else None
        # The click changed its own card (a decision): the clicker gets it redrawn at once.
        card = after if after != before else None
        return Answer(replies=replies, card=card, user=user, drawn=self._drawn(activity, replies))

    def _drawn(self, activity: Activity, replies: list[Reply]) -> dict[int, list[Activity]]:
        """In a personal chat, each reply drawn now, on this worker thread: sending it then needs
        no second turn on a worker behind other people's requests. A reply that cannot be drawn
        is left to the delivery, which tells the asker it was lost, each reply on its own."""
        if activity.conversation.conversation_type != "personal":
            return {}  # a channel's answer may go to the asker's personal chat instead
        drawn = {}
        for reply in replies:
            try:
                drawn[id(reply)] = self.messenger.activities(reply, personal=True)
            except Exception:
                log.debug("reply %r left to draw at delivery", reply.title[:80], exc_info=True)
        return drawn

    def _current_card(self, message_id: str) -> Reply | None:
        """The clicked card as the database has it now (decided, or still pending)."""
        with self.ctx.sessions() as session:
            return current_card_for_message(session, self.ctx, message_id)

    def _remember(self, activity: Activity, user: ChatUser) -> list[str]:
        """Keep the stored reference of this conversation fresh, and return the core names it goes
        by. Only a reference that changed since this process last stored it costs a write."""
        reference = TurnContext.get_conversation_reference(activity).serialize()
        reference.pop("activityId", None)
        known = self._seen.get(activity.conversation.id)
        if known is not None and known[0] == (reference, user.email):
            return known[1]
        kind = activity.conversation.conversation_type
        keys = capture.remember_conversation(self.ctx, reference, conversation_type=kind, email=user.email)
        self._seen[activity.conversation.id] = ((reference, user.email), keys)
        while len(self._seen) > _CONVERSATIONS_KEPT:
            self._seen.pop(next(iter(self._seen)))
        return keys

    def _where(self, activity: Activity, user: ChatUser, keys: list[str], *, clicked: bool) -> Where:
        """The neutral place of a message: ``dm:<email>`` for a personal chat; for a channel its
        core name (else its Teams id) and the thread (the root of the thread it is in)."""
        conversation_id = activity.conversation.id
        button_thread = activity.reply_to_id if clicked else None
        if activity.conversation.conversation_type == "personal":
            channel = references.dm_key(user.email) if user.email else conversation_id
            return Where(channel=channel, thread=button_thread)
        channel = next((k for k in keys if not k.startswith("dm:")), references.base_conversation(conversation_id))
        return Where(channel=channel, thread=references.thread_of(conversation_id) or button_thread)


def form_to_open(name: str, value: dict[str, Any]) -> forms.Form | None:
    """The core's form a click opens: Log call, Promise, Paid, or Partial / Reject when their
    value was not typed on the card itself (then the click acts at once, as before)."""
    form = forms.form_for_button(name, value)
    if form is None or form.action is not None:
        return form
    needs = value.get("needs")
    return None if isinstance(needs, str) and str(value.get(needs) or "").strip() else form


def _card_activity(card: dict[str, Any], summary_text: str) -> Activity:
    return Activity(
        type=ActivityTypes.message,
        summary=summary_text,
        attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=card)],
    )


def mention_free_text(activity: Activity) -> str:
    """The message without the @mention of the bot (``<at>arbot</at> promise acme 1200 fri``)."""
    if activity.recipient is not None and activity.entities:
        return TurnContext.remove_recipient_mention(activity) or ""
    return activity.text or ""


async def _answer_invoke(turn_context: TurnContext, body: AdaptiveCardInvokeResponse) -> None:
    """The invoke's HTTP answer. The SDK's default path fails to serialize a plain dict body, so
    the response carries the schema object itself."""
    await turn_context.send_activity(
        Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=200, body=body))
    )


def error_response(code: str, message: str) -> AdaptiveCardInvokeResponse:
    return AdaptiveCardInvokeResponse(status_code=400, type=ERROR_RESPONSE, value={"code": code, "message": message})


def _plain(reply: Reply) -> str:
    return "\n".join(part for part in (reply.title, reply.text) if part)
