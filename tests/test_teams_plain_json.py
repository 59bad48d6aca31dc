"""Sending a reply: the kept Bot Connector clients serialize a card's content as the plain JSON it
is, and the body Teams receives is the same as msrest's own serializer makes of it."""

from __future__ import annotations

import copy
import enum
from decimal import Decimal

from botbuilder.schema import Activity, ActivityTypes, Attachment
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import MicrosoftAppCredentials
from msrest.serialization import Serializer

from bot.teams.cards import CARD_CONTENT_TYPE, render
from bot.teams.connectors import PlainJsonSerializer, SharedCard, plain_json, with_plain_json
from commands.messages import Button, Field, Reply, Row


class Colour(enum.Enum):
    RED = "red"


def _activity(content: object) -> Activity:
    return Activity(
        type=ActivityTypes.message,
        summary="Acme Dental Group (C100)",
        attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=content)],
    )


def _models() -> dict[str, type]:
    client = ConnectorClient(MicrosoftAppCredentials("", ""), base_url="http://127.0.0.1:1/")
    return dict(client._serialize.dependencies)


def test_a_rendered_card_is_sent_as_msrest_would_send_it() -> None:
    reply = Reply(
        title="Acme Dental Group (C100)",
        text="No open promises.",
        fields=(Field("Balance", "$3,350.10"), Field("Collector", "Dana Reyes")),
        rows=(Row("Hold since Fri 20 Nov 2026", detail="final invoice", fields=(Field("Kind", "scheduling"),)),),
        buttons=(Button("Log call", "log_call", {"customer_id": 7, "urgent": False, "note": None}),),
    )
    card = render(reply)
    assert plain_json(card)
    models = _models()
    ours = PlainJsonSerializer(models).body(_activity(card), "Activity")
    assert ours == Serializer(models).body(_activity(card), "Activity")
    assert ours["attachments"][0]["content"] is card  # handed over, not walked


def test_a_card_on_its_way_out_is_shared_by_the_sdks_copies_and_sent_as_it_is() -> None:
    card = SharedCard(render(Reply(title="Acme Dental Group (C100)", fields=(Field("Balance", "$3,350.10"),))))
    activity = _activity(card)
    copied = copy.deepcopy(activity)
    assert copied is not activity and copied.attachments[0].content is card
    models = _models()
    ours = PlainJsonSerializer(models).body(copied, "Activity")
    assert ours["attachments"][0]["content"] is card
    assert ours == Serializer(models).body(_activity(dict(card)), "Activity")


def test_content_that_is_not_plain_json_is_left_to_msrest() -> None:
    content = {"amount": Decimal("1.50"), "colour": Colour.RED, "items": [1, 2.5, True, None]}
    assert not plain_json(content)
    models = _models()
    ours = PlainJsonSerializer(models).body(_activity(content), "Activity")
    assert ours == Serializer(models).body(_activity(content), "Activity")


def test_a_kept_client_sends_through_the_plain_json_serializer() -> None:
    client = with_plain_json(ConnectorClient(MicrosoftAppCredentials("", ""), base_url="http://127.0.0.1:1/"))
    assert isinstance(client.conversations._serialize, PlainJsonSerializer)
