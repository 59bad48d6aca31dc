"""The team file: who is on the team, their roles, the team's timezone and country, and how
accounts without an owner are spread over collectors.

The file (TOML, path in ``ARBOT_TEAM_FILE``) is the source of truth for roles; :func:`sync_members`
mirrors it into the ``team_members`` table so ledger rows can point at people.
"""

from __future__ import annotations

import tomllib
import zlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.approval_rules import PLATFORMS, RulesError, Workflow, workflow_from_dict
from commands.targets import Target, targets_from_dict
from storage.models import TeamMember

ROLES = frozenset(
    {"collector", "finance", "finance_lead", "manager", "controller", "vp_finance", "admin", "client_services"}
)


class TeamFileError(ValueError):
    """The team file is missing something or says something impossible."""


@dataclass(frozen=True)
class Member:
    email: str
    name: str
    roles: frozenset[str]
    chat: str | None = None  # home platform ("slack" | "teams"); None: worked out (commands.outbox.routing)

    def has(self, role: str) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class Team:
    name: str
    timezone: ZoneInfo
    country: str
    subdivision: str | None
    capacity: int
    members: tuple[Member, ...]
    assignment: dict[str, Any] = field(default_factory=dict)
    workflow: Workflow = field(default_factory=Workflow)
    targets: tuple[Target, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict)

    def member(self, email: str) -> Member | None:
        email = email.strip().lower()
        return next((m for m in self.members if m.email == email), None)

    @cached_property
    def collectors(self) -> tuple[Member, ...]:
        return tuple(m for m in self.members if m.has("collector"))

    def collector_for(self, erp_id: str, name: str) -> Member | None:
        """Owner for an account the import file does not assign.

        Rule ``hash`` (default) spreads accounts evenly and stably: the same customer always lands
        with the same collector while the collector list is unchanged. Rule ``alphabet`` gives each
        collector a range of first letters (``"dana@x.com" = "A-H"``)."""
        collectors = self.collectors
        if not collectors:
            return None
        if self.assignment.get("rule", "hash") == "alphabet":
            letter = (name.strip()[:1] or "#").upper()
            for email, span in self.assignment.get("ranges", {}).items():
                lo, _, hi = span.partition("-")
                if lo.upper() <= letter <= (hi or lo).upper():
                    return self.member(email)
        return collectors[zlib.crc32(erp_id.encode()) % len(collectors)]


def load_team(path: str | Path) -> Team:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise TeamFileError(f"team file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise TeamFileError(f"team file {path} is not valid TOML: {exc}") from exc
    return team_from_dict(data)


def team_from_dict(data: dict[str, Any]) -> Team:
    info = data.get("team", {})
    members = tuple(_member(entry, i) for i, entry in enumerate(data.get("members", []), start=1))
    emails = [m.email for m in members]
    if len(set(emails)) != len(emails):
        raise TeamFileError("team file lists the same email twice")
    try:
        tz = ZoneInfo(info.get("timezone", "UTC"))
    except Exception as exc:  # zoneinfo raises several types for a bad key
        raise TeamFileError(f"unknown timezone {info.get('timezone')!r}") from exc
    try:
        workflow = workflow_from_dict(data)
        targets = targets_from_dict(data.get("targets", {}))
    except (RulesError, ValueError) as exc:
        raise TeamFileError(f"team file: {exc}") from exc
    return Team(
        name=info.get("name", "Collections"),
        timezone=tz,
        country=info.get("country", "US"),
        subdivision=info.get("subdivision"),
        capacity=int(info.get("capacity", 75)),
        members=members,
        assignment=data.get("assignment", {}),
        workflow=workflow,
        targets=targets,
        raw=data,
    )


def _member(entry: dict[str, Any], index: int) -> Member:
    email = str(entry.get("email", "")).strip().lower()
    if "@" not in email:
        raise TeamFileError(f"member #{index} needs an email")
    roles = frozenset(r.strip().lower().replace(" ", "_") for r in entry.get("roles", []))
    unknown = roles - ROLES
    if unknown:
        raise TeamFileError(f"member {email}: unknown role(s) {', '.join(sorted(unknown))}")
    chat = entry.get("chat")
    if chat is not None and chat not in PLATFORMS:
        raise TeamFileError(f"member {email}: chat must be one of {', '.join(PLATFORMS)}, not {chat!r}")
    return Member(email=email, name=str(entry.get("name") or email), roles=roles, chat=chat)


def sync_members(session: Session, team: Team) -> dict[str, int]:
    """Upsert the file's members into ``team_members``; members no longer listed become inactive.
    Returns email -> member id."""
    existing = {m.email: m for m in session.scalars(select(TeamMember))}
    for member in team.members:
        row = existing.get(member.email)
        if row is None:
            row = TeamMember(email=member.email)
            session.add(row)
            existing[member.email] = row
        row.name, row.roles, row.active = member.name, " ".join(sorted(member.roles)), True
    listed = {m.email for m in team.members}
    for email, row in existing.items():
        if email not in listed:
            row.active = False
    session.flush()
    return {email: row.id for email, row in existing.items()}
