"""Form submissions. A form with a problem the core's checks find without the ledger (a bad
amount, a past promise date) is answered with the error under that field and stays open;
otherwise it closes at once and the core gets the form's action with the values by field (or,
for a one-field form, the button press with its value filled in)."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack.incoming import Request, trigger_of
from bot.slack.modals import CALLBACK_PREFIX, read_submission

if TYPE_CHECKING:
    from bot.slack.runtime import SlackRuntime

log = logging.getLogger(__name__)

CALLBACK_IDS = re.compile(rf"^{re.escape(CALLBACK_PREFIX)}")


def register(app: AsyncApp, runtime: SlackRuntime) -> None:
    async def on_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        try:
            read = read_submission(view, today=runtime.ctx.today())
        except (KeyError, TypeError, ValueError):
            log.warning("form %s came back without what it was opened with", view.get("callback_id"))
            await ack()
            return
        if isinstance(read, dict):
            await ack(response_action="errors", errors=read)
            return
        await ack()
        origin = read.origin
        runtime.submit(
            Request(
                user_id=str(body["user"]["id"]),
                where=origin.where,
                to=origin.to,
                action=read.action,
                from_home=origin.from_home,
                request_id=trigger_of(body),
            )
        )

    app.view(CALLBACK_IDS)(on_submit)
