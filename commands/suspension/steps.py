"""Reading a sequence's steps: the next one, its due day, and how a step is said in chat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from commands.parsing.dates import format_day
from commands.suspension.settings import CALL, EMAIL, NOTICE, REQUEST
from commands.team import Team
from storage.models import ActivityKind, SuspensionSequence

# What kind of logged activity ticks each kind of step. A voicemail is a call that reached no one,
# still a documented call; the final notice is an email (copying the people the team file names).
TICKED_BY: dict[str, frozenset[ActivityKind]] = {
    CALL: frozenset({ActivityKind.CALL, ActivityKind.VOICEMAIL}),
    EMAIL: frozenset({ActivityKind.EMAIL}),
    NOTICE: frozenset({ActivityKind.EMAIL}),
    REQUEST: frozenset(),
}


@dataclass(frozen=True)
class NextStep:
    number: int  # 1-based
    of: int
    name: str
    does: str
    due: date

    def overdue(self, day: date) -> bool:
        return self.due < day

    def words(self, day: date) -> str:
        """``suspension step 2 of 5, email, due Wed 25 Nov 2026 (overdue)``."""
        late = " (overdue)" if self.overdue(day) else ""
        return f"suspension step {self.number} of {self.of}, {self.name}, due {format_day(self.due)}{late}"


def next_step(sequence: SuspensionSequence) -> NextStep | None:
    """The step to do next, or None once every step is done."""
    if sequence.step >= len(sequence.steps):
        return None
    step = sequence.steps[sequence.step]
    return NextStep(
        sequence.step + 1,
        len(sequence.steps),
        str(step["name"]),
        str(step["does"]),
        date.fromisoformat(str(step["due"])),
    )


def copy_list(team: Team) -> str:
    """The people the final notice copies, by name where the team file knows them."""
    names = []
    for who in team.workflow.suspension.notice_copy:
        member = team.member(who) if "@" in who else None
        names.append(member.name if member is not None else who)
    return ", ".join(names)


def step_words(sequence: SuspensionSequence, team: Team, day: date) -> str | None:
    """How the next step reads on a call-list line and in the suspension list: its number, name
    and due day, and for the final notice whom it copies."""
    step = next_step(sequence)
    if step is None:
        return None
    copy = copy_list(team) if step.does == NOTICE else ""
    return step.words(day) + (f", copy {copy}" if copy else "")
