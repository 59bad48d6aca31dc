"""Who is acting: the team member behind a chat message or a button, as the use cases see them."""

from __future__ import annotations

from dataclasses import dataclass

from commands.team import Member


@dataclass(frozen=True)
class Actor:
    """The team member who spoke: roles from the team file, id from ``team_members``."""

    member: Member
    member_id: int

    @property
    def email(self) -> str:
        return self.member.email
