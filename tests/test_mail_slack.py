"""The follow-up email on Slack, through the real endpoint (signed slash commands, button
presses and a view submission against the fake Web API) and a real SMTP server on 127.0.0.1:
the list line's Email button, the draft's Edit form prefilled, the edited email at the server,
and the collector told in a direct message."""

from __future__ import annotations

import json

from commands.context import AppContext
from storage.models import Activity, Outcome
from tests.support.mail import send_mail, smtp_server, text_body
from tests.support.slack import Call, SlackWorld, text_of

ANSWERED_IN = {"channel": "C0COLLECT", "ts": "1764000000.000100"}


def answer(world: SlackWorld, text: str) -> Call:
    """What ``/ar text`` answered Dana (privately, on its response URL), as a message to click on."""
    name = world.command("U0DANA", text)
    world.settle()
    return Call("response_url", world.answers(name)[-1], 200, ANSWERED_IN)


def clicked(world: SlackWorld, message: Call, label: str, customer: str | None = None) -> Call:
    """What pressing ``label`` answered Dana: a message only she sees, in the channel."""
    world.click("U0DANA", message, label, customer=customer)
    world.settle()
    return Call("chat.postEphemeral", world.fake.made("chat.postEphemeral")[-1].params, 200, ANSWERED_IN)


def buttons(message: Call) -> list[tuple[str, str | None]]:
    return [
        (e["text"]["text"], json.loads(e["value"])["v"].get("customer"))
        for b in message.params["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def test_email_from_the_list_edited_in_a_slack_form_reaches_the_server(world: SlackWorld) -> None:
    ctx: AppContext = world.ctx
    assert "Added contact" in text_of(answer(world, 'contact C200 "Raj Patel" raj@acmeortho.example billing').params)
    answer(world, "log C200 no-answer")
    with smtp_server() as (server, settings):
        ctx.mail = settings
        listed = answer(world, "list")
        assert ("Email", "C200") in buttons(listed) and ("Email", "C100") not in buttons(listed)
        draft = clicked(world, listed, "Email", "C200")
        assert "A-1" in text_of(draft.params) and "How to pay" in text_of(draft.params)

        world.click("U0DANA", draft, "Edit")
        world.settle()
        form = world.fake.made("views.open")[-1]
        view = form.params["view"]
        initial = {b["block_id"]: b["element"].get("initial_value") for b in view["blocks"] if b["type"] == "input"}
        assert initial["to"] == "raj@acmeortho.example" and initial["message"].startswith("Hello Raj Patel,")
        status, _ = world.submit(
            "U0DANA",
            form,
            {"to": "raj@acmeortho.example", "subject": "About A-1", "message": "Hi Raj,\n\nsee below.\n\nDana"},
        )
        assert status == 200
        world.settle()
        assert send_mail(ctx, settings).sent == 1
        world.settle()

    [got] = server.received
    assert got.message["Subject"] == "About A-1" and text_body(got.message).startswith("Hi Raj,")
    told = [text_of(c.params) for c in world.posts("D0DANA")]
    assert any("Email sent to Acme Ortho (C200)" in t for t in told), told
    with ctx.sessions() as session:
        assert session.query(Activity).filter(Activity.outcome == Outcome.EMAIL_SENT).count() == 1
