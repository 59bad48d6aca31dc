"""Naming a customer: ERP id first, then the exact name, then a unique piece of the name."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from commands.context import AppContext
from commands.parsing.customers import resolve_customer, resolve_first
from commands.refusal import Refusal
from storage.models import Customer
from tests.support.world import seed_world


def _name(session: Session, phrase: str) -> str:
    found = resolve_customer(session, phrase)
    assert isinstance(found, Customer), found
    return found.erp_id


@pytest.mark.parametrize(
    ("phrase", "erp_id"),
    [
        ("C100", "C100"),
        ("c100", "C100"),  # ERP ids are matched case-insensitively
        ("Acme Dental Group", "C100"),
        ("acme dental", "C100"),  # a unique piece of the name
        ("  ACME   dental ", "C100"),  # spacing and case do not matter
        ("ortho, p.c.", "C300"),
        ("Summit Ortho, P.C.", "C300"),
        ("route 66", "C400"),
        ("100%", "C500"),  # % is a character here, not a wildcard
        ("s_c", "C500"),  # and so is _
        ("zenith", "C600"),
    ],
)
def test_customers_are_found_by_id_name_or_a_unique_piece(ctx: AppContext, phrase: str, erp_id: str) -> None:
    seed_world(ctx)
    with ctx.sessions() as session:
        assert _name(session, phrase) == erp_id


def test_an_erp_id_wins_over_names_and_an_exact_name_over_pieces(ctx: AppContext) -> None:
    seed_world(ctx)
    with ctx.sessions.begin() as session:
        created = datetime(2026, 1, 1, tzinfo=UTC)
        session.add(Customer(erp_id="ORTHO", name="Bayside Clinic", created_at=created))
        session.add(Customer(erp_id="C900", name="Acme", created_at=created))
    with ctx.sessions() as session:
        assert _name(session, "ortho") == "ORTHO"  # "ortho" is also in two names
        assert _name(session, "acme") == "C900"  # exact name, though three names contain it


def test_several_matches_are_listed_with_their_ids(ctx: AppContext) -> None:
    seed_world(ctx)
    with ctx.sessions() as session:
        refusal = resolve_customer(session, "acme")
    assert isinstance(refusal, Refusal)
    assert refusal.message == (
        "'acme' matches several customers: Acme Dental Group (C100), Acme Ortho (C200). "
        "Did you mean one of these? Use its ERP id or more of its name"
    )


def test_at_most_five_candidates_are_shown(ctx: AppContext) -> None:
    with ctx.sessions.begin() as session:
        for i in range(8):
            session.add(Customer(erp_id=f"K{i}", name=f"Kline Clinic {i}", created_at=datetime(2026, 1, 1, tzinfo=UTC)))
    with ctx.sessions() as session:
        refusal = resolve_customer(session, "kline")
    assert isinstance(refusal, Refusal)
    assert "Kline Clinic 4 (K4) and more." in refusal.message
    assert "K5" not in refusal.message


@pytest.mark.parametrize(
    ("phrase", "says"),
    [
        ("xyz", "no customer matches 'xyz'; check the spelling or use the ERP id"),
        ("", "which customer?"),
        ("50%", "no customer matches '50%'"),  # not a wildcard: no name has "50%"
        ("x" * 300, "longer than any customer name"),
    ],
)
def test_no_match_is_refused(ctx: AppContext, phrase: str, says: str) -> None:
    seed_world(ctx)
    with ctx.sessions() as session:
        refusal = resolve_customer(session, phrase)
    assert isinstance(refusal, Refusal)
    assert says in refusal.message


def test_the_first_split_that_names_a_customer_wins(ctx: AppContext) -> None:
    seed_world(ctx)
    with ctx.sessions() as session:
        customer, reading = resolve_first(session, [("xyz", 1), ("acme", 2), ("zenith", 3), ("c100", 4)])
        assert (customer.erp_id, reading) == ("C600", 3)
        refusal = resolve_first(session, [("xyz", 1), ("acme", 2)])
    assert isinstance(refusal, Refusal) and "no customer matches 'xyz'" in refusal.message
