"""Whatever anyone types or clicks, the router answers: it never raises, never shows an internal
error, and a refusal never writes. When something is written, it is an activity or a promise
with its audit event, nothing else."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from commands.context import AppContext
from commands.messages import Reply, Tone
from tests.support.world import press, row_counts, say, seed_world

COMMAND_WORDS = ["log", "promise", "ptp", "status", "st", "list", "help", "?", "LOG", "Promise"]
WORDS = [
    # customers, whole and in pieces
    "acme",
    "dental",
    "ortho",
    "c100",
    "C300",
    '"Summit Ortho, P.C."',
    "route",
    "66",
    "100%",
    "s_c",
    "zenith",
    "paid",
    "up",
    "\u201cAcme Dental\u201d",
    # amounts
    "1,200",
    "$1.2k",
    "-5",
    "0",
    "1.200,50",
    "USD",
    "EUR",
    "300",
    "2k",
    "1.5m",
    "99999999999",
    "(5)",
    "1.005",
    # dates
    "fri",
    "next",
    "12/1",
    "13/1",
    "1/2/3",
    "2026-12-01",
    "in",
    "5",
    "days",
    "eom",
    "dec",
    "1",
    "today",
    "11/2",
    # outcomes and contacts
    "reached",
    "no-answer",
    "no",
    "answer",
    "vm",
    "email-sent",
    "with",
    "Jane",
    "Doe:",
    '"Jane',
    # things that break naive parsers
    ":",
    '"',
    "\u201c",
    "\x00",
    "\u202e",
    "<!channel>",
    "*bold*",
    "%",
    "_",
    "\\",
    "'",
    ";--",
    "\n",
]

command_shaped = st.builds(
    lambda word, parts: " ".join([word, *parts]),
    st.sampled_from(COMMAND_WORDS),
    st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=12)), max_size=10),
)
CUSTOMERS = ["c100", "acme dental", "zenith", "route 66", '"Summit Ortho, P.C."', "acme"]
well_formed = st.one_of(
    st.builds(
        "log {} {} {}".format,
        st.sampled_from(CUSTOMERS),
        st.sampled_from(["reached", "no answer", "vm", "refused", "reached with Jane Doe:"]),
        st.text(max_size=30),
    ),
    st.builds(
        "promise {} {} {} {}".format,
        st.sampled_from(CUSTOMERS),
        st.sampled_from(["10", "$1.2k", "25.50", "EUR 5", "5 usd"]),
        st.sampled_from(["fri", "12/1", "in 5 days", "tomorrow", "eom", "next fri", "dec 2"]),
        st.text(max_size=30),
    ),
)
any_text = st.one_of(st.text(), command_shaped, well_formed)
# What a successful command may write; the outbox holds what it tells other people.
LEDGER_WRITES = {"activities", "promises", "audit_events", "outbox"}
NO_SHRINK = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@pytest.fixture
def world(ctx: AppContext) -> AppContext:
    """One seeded database reused by every example of a property (state carries over)."""
    seed_world(ctx)
    return ctx


def _check(replies: list[Reply], before: dict[str, int], after: dict[str, int]) -> None:
    assert replies and all(isinstance(r, Reply) and r.title for r in replies)
    assert not any("Something went wrong" in r.title for r in replies), replies
    changed = {table: after[table] - before[table] for table in before if after[table] != before[table]}
    if any(r.tone is Tone.ERROR for r in replies):
        assert changed == {}, (replies, changed)
        return
    assert set(changed) <= LEDGER_WRITES, changed
    ledger_rows = changed.get("activities", 0) + changed.get("promises", 0)
    # One audit event per row written, and one more when a new promise replaces an open one.
    assert ledger_rows <= 1 and ledger_rows <= changed.get("audit_events", 0) <= 2 * ledger_rows


@NO_SHRINK
@given(text=any_text)
def test_any_text_gets_an_answer_and_a_refusal_writes_nothing(world: AppContext, text: str) -> None:
    before = row_counts(world)
    replies = say(world, text)
    event("refused" if replies[0].tone is Tone.ERROR else "answered")
    _check(replies, before, row_counts(world))


@NO_SHRINK
@given(
    name=st.one_of(st.sampled_from(["log_call", "promise", "paid"]), st.text(max_size=20)),
    value=st.dictionaries(
        st.sampled_from(["customer", "id", ""]) | st.text(max_size=5),
        st.one_of(
            st.sampled_from(["C100", "c100", "C999", ""]),
            st.text(max_size=8),
            st.integers(),
            st.none(),
            st.lists(st.integers(), max_size=2),
        ),
        max_size=3,
    ),
)
@example(name="log_call", value={"customer": "\x00"})  # PostgreSQL refuses NUL in a query
def test_any_button_data_gets_an_answer_and_writes_nothing(world: AppContext, name: str, value: dict) -> None:
    """Nothing but, for a button that points at nothing (stale or forged), the audit event that
    keeps the attempt on the record."""
    before = row_counts(world)
    replies = press(world, name, value)
    after = row_counts(world)
    on_record = after["audit_events"] - before["audit_events"]
    assert after == {**before, "audit_events": before["audit_events"] + on_record} and on_record in (0, 1)
    if on_record:
        assert [r.tone for r in replies] == [Tone.ERROR]
    _check(replies, before, before)
