"""Collector types ``status <customer>``: the account card, and nothing written."""

from __future__ import annotations

from commands.context import AppContext
from commands.messages import Tone
from tests.support.world import field, refused, row_counts, say, seed_world


def test_status_shows_balance_buckets_promises_holds_disputes_and_contacts(ctx: AppContext) -> None:
    seed_world(ctx)
    say(ctx, "log c100 reached with Jane Doe: will pay fri")
    say(ctx, "promise c100 1,200 fri")
    before = row_counts(ctx)
    [reply] = say(ctx, "status acme dental")
    assert row_counts(ctx) == before
    assert reply.tone is Tone.INFO and reply.title == "Acme Dental Group (C100)"
    assert [(f.label, f.value) for f in reply.fields] == [
        ("Balance", "$3,350.10"),
        ("Current", "$500.00"),
        ("1-30 days", "-$250.00"),
        ("31-60 days", "$1,000.00"),
        ("61-90 days", "$100.10"),
        ("90+ days", "$2,000.00"),
        ("Collector", "Dana Reyes"),
        ("Suspension", "not in sequence"),
    ]
    assert [(r.title, r.detail) for r in reply.rows] == [
        ("Promise: $1,200.00 by Fri 27 Nov 2026", ""),
        ("Hold since Fri 20 Nov 2026 10:00 AM CST", "final invoice over 90 days"),
        ("Dispute: $100.10 since Wed 18 Nov 2026 9:00 AM CST", "INV-4 billed twice"),
        ("Mon 23 Nov 2026 9:00 AM CST call, reached with Jane Doe", "will pay fri"),
        ("Fri 20 Nov 2026 9:30 AM CST call, no-answer", ""),
    ]
    assert reply.rows[3].fields[0].value == "Dana Reyes"
    assert reply.text == ""


def test_status_says_which_sections_are_empty(ctx: AppContext) -> None:
    seed_world(ctx)
    [reply] = say(ctx, 'status "Zenith Labs"')
    assert reply.text == "No open promises, no active holds, no open disputes, no contacts logged."
    assert field(reply, "Balance") == "900.00 EUR"
    assert field(reply, "Collector") == "unassigned"
    assert reply.rows == ()


def test_status_shows_only_the_last_five_contacts(ctx: AppContext) -> None:
    seed_world(ctx)
    for n in range(7):
        say(ctx, f"log zenith email-sent reminder {n}")
    [reply] = say(ctx, "status zenith")
    assert [r.detail for r in reply.rows] == [f"reminder {n}" for n in (6, 5, 4, 3, 2)]
    assert reply.rows[0].title == "Mon 23 Nov 2026 9:00 AM CST email"


def test_status_refusals(ctx: AppContext) -> None:
    seed_world(ctx)
    assert "which customer?" in refused(say(ctx, "status")).title
    assert "no customer matches 'nobody inc'" in refused(say(ctx, "status nobody inc")).title
    assert "Acme Ortho (C200)" in refused(say(ctx, "status acme")).title
    assert "Usage: status <customer>" in refused(say(ctx, "status acme")).text
