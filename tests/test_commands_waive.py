"""``waive``: the fee is read by the names the team gives its fees, whichever way people type
them, and the reason is what follows the fee."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from commands.approval_rules import RulesError, workflow_from_dict
from commands.context import AppContext
from commands.messages import Tone
from storage.models import ApprovalRequest
from tests.support.world import refused, say, seed_world


@pytest.mark.parametrize(
    ("text", "fee", "reason"),
    [
        ("waive acme dental 35 late fee customer was never invoiced", "late fee", "customer was never invoiced"),
        ("waive acme dental 35 late customer was never invoiced", "late fee", "customer was never invoiced"),
        (
            "waive acme dental 35 Late fee, invoice went to the wrong address",
            "late fee",
            "invoice went to the wrong address",
        ),
        ("waive acme dental 35 late charge first time late", "late fee", "first time late"),
        ("waive acme dental 35 card fee paid by card at our request", "card surcharge", "paid by card at our request"),
        ("waive acme dental 35 surcharge paid by card at our request", "card surcharge", "paid by card at our request"),
        ("waive acme dental 35 reinstatement goodwill", "reinstatement fee", "goodwill"),
        ('waive acme dental 35 "wire fee" bank charged us twice', "wire fee", "bank charged us twice"),
        ("waive acme dental 35 courier goodwill", "courier", "goodwill"),
    ],
)
def test_the_fee_is_read_as_the_team_names_it(ctx: AppContext, text: str, fee: str, reason: str) -> None:
    seed_world(ctx)
    [ack] = say(ctx, text)
    assert ack.tone is Tone.SUCCESS, ack
    with ctx.sessions() as session:
        request = session.scalars(select(ApprovalRequest)).one()
    assert (request.details["fee"], request.reason) == (fee, reason)


def test_a_team_file_names_its_own_fees(ctx: AppContext) -> None:
    seed_world(ctx)
    workflow = dataclasses.replace(
        ctx.team.workflow, fees=workflow_from_dict({"fees": {"names": ["Storage Fee"]}}).fees
    )
    ctx.team = dataclasses.replace(ctx.team, workflow=workflow)
    say(ctx, "waive acme dental 20 storage boxes were ours")
    with ctx.sessions() as session:
        request = session.scalars(select(ApprovalRequest)).one()
    assert (request.details["fee"], request.reason) == ("storage fee", "boxes were ours")
    with pytest.raises(RulesError, match=r"\[fees\] names must be a list"):
        workflow_from_dict({"fees": {"names": "late fee"}})


def test_a_fee_with_no_reason_is_refused(ctx: AppContext) -> None:
    seed_world(ctx)
    assert "say why the fee should be waived" in refused(say(ctx, "waive acme dental 35 late fee")).title
