"""Workflow rules from the team file: chat destinations, who may approve what up to which
amount, and the timers for reminders, escalations and expiries.

Authorization is always decided here from the actor's roles in the team file, never from data
carried in a button."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import time
from decimal import Decimal, InvalidOperation
from typing import Any

from commands.hold_kinds import HoldKinds, HoldKindsError, hold_kinds_from_dict
from commands.suspension.settings import SuspensionSettings, SuspensionSettingsError, suspension_from_dict

APPROVAL_KINDS = ("hold", "release", "waiver", "plan", "credit", "writeoff")

DEFAULT_RULES: tuple[dict[str, Any], ...] = (
    {"kind": "hold", "roles": ["manager", "controller", "vp_finance"]},
    {"kind": "release", "roles": ["manager", "controller", "vp_finance"]},
    {"kind": "waiver", "roles": ["manager"], "max_amount": "250"},
    {"kind": "waiver", "roles": ["controller", "vp_finance"]},
    {"kind": "plan", "roles": ["controller", "vp_finance"]},
    {"kind": "credit", "roles": ["manager"], "max_amount": "1000"},
    {"kind": "credit", "roles": ["controller", "vp_finance"]},
    {"kind": "writeoff", "roles": ["controller", "vp_finance"]},
)


class RulesError(ValueError):
    """The team file's workflow sections say something impossible."""


PLATFORMS = ("slack", "teams")


@dataclass(frozen=True)
class Channels:
    """The core names channels by role ("finance"); ``destinations`` says where each lives on
    each platform when the team file gives a table (``finance = { slack = "C0123", teams =
    "19:...@thread.tacv2" }``). A plain string is the channel's name or id on any platform."""

    collections: str = "collections"
    finance: str = "finance"
    approvals: str = "approvals"
    hold_announcements: tuple[str, ...] = ("client-services", "sales")
    admins: str = "arbot-admins"  # delivery failures a person must fix are reported here
    suspension: str | None = None  # the weekly suspension report; None: the collections channel
    destinations: dict[str, dict[str, str]] = field(default_factory=dict)

    def on(self, name: str) -> dict[str, str]:
        """Where channel ``name`` lives, per platform ({} when the team file gave a plain name)."""
        return self.destinations.get(name, {})


@dataclass(frozen=True)
class ApprovalRule:
    kind: str
    roles: frozenset[str]
    max_amount: Decimal | None = None  # None: no limit

    def covers(self, roles: frozenset[str], amount: Decimal | None) -> bool:
        if not roles & self.roles:
            return False
        return self.max_amount is None or amount is None or amount <= self.max_amount


@dataclass(frozen=True)
class Timers:
    """Business hours count only inside the working day on business days."""

    workday_start: time = time(9, 0)
    workday_end: time = time(17, 0)
    finance_remind_hours: float = 4
    finance_escalate_hours: float = 8
    urgent_remind_hours: float = 1
    urgent_escalate_hours: float = 2
    clearance_remind_hours: float = 4  # a clearance request waiting for its collector: remind
    clearance_escalate_hours: float = 8  # ... then tell the managers (urgent ones: the urgent hours)
    approval_remind_days: int = 1
    approval_expire_days: int = 3
    promise_grace_days: int = 1
    plan_default_grace_days: int = 5  # business days a missed plan instalment may still be paid
    daily_list_at: time = time(8, 0)
    catch_up_hours: float = 4
    release_on_confirmed_payment: bool = True
    digest_weekday: str = "monday"  # the weekly digest goes out on the first business day from this weekday
    digest_at: time = time(8, 30)
    cash_post_at: time = time(16, 45)  # the end-of-day cash post, business days
    # From [suspension] (not [timers]): the weekly suspension report, before the meeting.
    suspension_weekday: str = "thursday"
    suspension_report_at: time = time(9, 0)


_FROM_OTHER_SECTIONS = frozenset({"suspension_weekday", "suspension_report_at"})


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


DEFAULT_FEES = (
    "late fee",
    "card surcharge",
    "admin fee",
    "reinstatement fee",
    "finance charge",
    "returned payment fee",
    "collection fee",
)


@dataclass(frozen=True)
class Workflow:
    channels: Channels = field(default_factory=Channels)
    rules: tuple[ApprovalRule, ...] = ()
    timers: Timers = field(default_factory=Timers)
    fees: tuple[str, ...] = DEFAULT_FEES  # the fees a waiver names, as the team calls them
    holds: HoldKinds = field(default_factory=HoldKinds)  # the kinds of hold and whom each is announced to
    suspension: SuspensionSettings = field(default_factory=SuspensionSettings)  # the suspension sequence

    def hold_channels(self, kind: str) -> tuple[str, ...]:
        """Who is told when a hold of ``kind`` is placed or released."""
        return self.holds.channels(kind, self.channels.hold_announcements)

    def approver_rules(self, kind: str) -> tuple[ApprovalRule, ...]:
        return tuple(r for r in self.rules if r.kind == kind)

    def may_approve(self, roles: frozenset[str], kind: str, amount: Decimal | None) -> bool:
        return any(rule.covers(roles, amount) for rule in self.approver_rules(kind))

    def who_may_approve(self, kind: str, amount: Decimal | None) -> str:
        """Plain words for a refusal or a card, roles as people say them and most junior first:
        'a manager (up to $250.00), or a controller or VP finance'."""
        parts = []
        for rule in self.approver_rules(kind):
            limit = f" (up to ${rule.max_amount:,.2f})" if rule.max_amount is not None else ""
            if amount is None or rule.covers(rule.roles, amount):
                parts.append(role_names(rule.roles) + limit)
        return ", or ".join(parts) or "nobody (no rule in the team file)"


# Roles from the most junior to the most senior, and how people name them.
_ROLE_WORDS = {
    "collector": "collector",
    "finance": "finance team member",
    "finance_lead": "finance lead",
    "manager": "manager",
    "controller": "controller",
    "vp_finance": "VP finance",
    "admin": "admin",
    "client_services": "client services member",
}


def role_names(roles: frozenset[str] | set[str]) -> str:
    """'a manager, controller or VP finance': one article, a list as people say it."""
    order = list(_ROLE_WORDS)
    words = [
        _ROLE_WORDS.get(r, r.replace("_", " "))
        for r in sorted(roles, key=lambda r: (order.index(r) if r in order else len(order), r))
    ]
    if not words:
        return "nobody"
    listed = words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
    article = "an" if listed[0] in "aeiou" else "a"
    return f"{article} {listed}"


def workflow_from_dict(data: dict[str, Any]) -> Workflow:
    try:
        suspension = suspension_from_dict(data.get("suspension", {}))
    except SuspensionSettingsError as exc:
        raise RulesError(str(exc)) from exc
    channels, holds = _channels(data.get("channels", {}), data.get("holds", {}), suspension.channel)
    timers = replace(
        _timers(data.get("timers", {})),
        suspension_weekday=suspension.meeting_weekday,
        suspension_report_at=suspension.report_at,
    )
    return Workflow(
        channels=channels,
        holds=holds,
        suspension=suspension,
        rules=tuple(_rule(r) for r in data.get("approvals", {}).get("rules", DEFAULT_RULES)),
        timers=timers,
        fees=_fees(data.get("fees", {}).get("names", DEFAULT_FEES)),
    )


def _fees(names: Any) -> tuple[str, ...]:
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) and n.strip() for n in names):
        raise RulesError('[fees] names must be a list of fee names, like ["late fee", "card surcharge"]')
    return tuple(" ".join(n.lower().split()) for n in names)


def _channels(data: dict[str, Any], holds_data: dict[str, Any], suspension: Any = None) -> tuple[Channels, HoldKinds]:
    """The channels, and the hold kinds (whose own announcement channels are places too).
    The suspension report's channel may be given in ``[channels]`` (``suspension = { slack =
    "C...", teams = "19:..." }``) or, as before, as ``[suspension] channel``; either way it is
    read like every other channel, so a table places it per platform. Not both: two places for
    one report would leave a reader guessing which counts."""
    base = Channels()
    destinations: dict[str, dict[str, str]] = {}

    def channel(role: str, value: Any) -> str:
        if not isinstance(value, dict):
            return str(value)
        places = {str(k): str(v) for k, v in value.items() if k != "name"}
        unknown = set(places) - set(PLATFORMS)
        if unknown or not places:
            raise RulesError(
                f"channel {role} names {', '.join(sorted(unknown)) or 'no platform'}; give {' and/or '.join(PLATFORMS)}"
            )
        name = str(value.get("name", role))
        destinations[name] = places
        return name

    announce = data.get("hold_announcements", base.hold_announcements)
    try:
        holds = hold_kinds_from_dict(holds_data, channel)
    except HoldKindsError as exc:
        raise RulesError(str(exc)) from exc
    return Channels(
        collections=channel("collections", data.get("collections", base.collections)),
        finance=channel("finance", data.get("finance", base.finance)),
        approvals=channel("approvals", data.get("approvals", base.approvals)),
        hold_announcements=tuple(channel(f"hold_announcements[{i}]", c) for i, c in enumerate(announce)),
        admins=channel("admins", data.get("admins", base.admins)),
        suspension=_suspension_channel(channel, data.get("suspension"), suspension),
        destinations=destinations,
    ), holds


def _suspension_channel(channel: Callable[[str, Any], str], in_channels: Any, in_suspension: Any) -> str | None:
    if in_channels is not None and in_suspension is not None:
        raise RulesError(
            "the suspension report's channel is set twice: keep [channels] suspension, drop [suspension] channel"
        )
    value = in_channels if in_channels is not None else in_suspension
    return None if value is None else channel("suspension", value)


def _rule(data: dict[str, Any]) -> ApprovalRule:
    kind = str(data.get("kind", ""))
    if kind not in APPROVAL_KINDS:
        raise RulesError(f"approval rule kind must be one of {', '.join(APPROVAL_KINDS)}, not {kind!r}")
    roles = frozenset(str(r).replace(" ", "_") for r in data.get("roles", []))
    if not roles:
        raise RulesError(f"approval rule for {kind} names no roles")
    limit = data.get("max_amount")
    try:
        max_amount = None if limit is None else Decimal(str(limit))
    except InvalidOperation as exc:
        raise RulesError(f"approval rule for {kind}: max_amount {limit!r} is not a number") from exc
    return ApprovalRule(kind=kind, roles=roles, max_amount=max_amount)


def _timers(data: dict[str, Any]) -> Timers:
    base = Timers()
    values: dict[str, Any] = {}
    for name, default in vars(base).items():
        if name not in data or name in _FROM_OTHER_SECTIONS:
            continue
        raw = data[name]
        if isinstance(default, time):
            values[name] = time.fromisoformat(str(raw))
        elif isinstance(default, bool):
            values[name] = bool(raw)
        else:
            values[name] = type(default)(raw)
    unknown = set(data) - (set(vars(base)) - _FROM_OTHER_SECTIONS)
    if unknown:
        raise RulesError(f"unknown timer setting(s): {', '.join(sorted(unknown))}")
    if values.get("digest_weekday", base.digest_weekday).lower() not in WEEKDAYS:
        raise RulesError(f'digest_weekday must be a day of the week, like "monday", not {data["digest_weekday"]!r}')
    if "digest_weekday" in values:
        values["digest_weekday"] = values["digest_weekday"].lower()
    return Timers(**values)
