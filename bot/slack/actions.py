"""Button presses. A button that needs typed input opens its form (``views.open`` must happen
within 3 seconds of the press, while its ``trigger_id`` is valid, so it is started right after
the acknowledgement, not queued behind the core); any other press goes to the core as the
neutral :class:`~commands.messages.Action` the button carried."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.incoming import Request, action_origin, trigger_of
from bot.slack.modals import Origin, form_for, wants_form
from bot.slack.render import ACTION_ID_PREFIX, decode_button
from commands.messages import Action, Reply, Tone

if TYPE_CHECKING:
    from bot.slack.runtime import SlackRuntime

ACTION_IDS = re.compile(rf"^{re.escape(ACTION_ID_PREFIX)}\d+$")
STALE = Reply(
    title="That button is from a message I can no longer read",
    text="Type the command instead; `/ar help` lists them.",
    tone=Tone.ERROR,
    private=True,
)


def register(app: AsyncApp, runtime: SlackRuntime) -> None:
    async def on_button(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        where, to, from_home = action_origin(body)
        button = decode_button(action.get("value"))
        if button is None:
            runtime.tell(to, STALE)
        elif wants_form(button):
            pressed = str((action.get("text") or {}).get("text") or "Details")
            form = form_for(Origin(button, where, to, from_home), pressed=pressed, today=runtime.ctx.today())
            runtime.start(client.views_open(trigger_id=body["trigger_id"], view=form))
        else:
            runtime.submit(
                Request(
                    user_id=to.user_id,
                    where=where,
                    to=to,
                    from_home=from_home,
                    action=Action(button.action, button.value),
                    request_id=trigger_of(body),
                )
            )

    app.action(ACTION_IDS)(on_button)
