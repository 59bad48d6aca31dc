"""The team file's ``[suspension]`` section: when an account enters the suspension sequence, its
steps, whom the final notice copies, and when the weekly suspension meeting is.

    [suspension]
    threshold_days = 30            # more than this many days past due enters the sequence
    notice_copy = ["maria.lopez@example.com", "the account's sales rep"]
    meeting_weekday = "thursday"   # the weekly suspension meeting...
    meeting_at = "10:00"           # ...at this local time; the report is posted before it
    report_hours_before = 1
    channel = "collections"        # where the report goes (default: the collections channel);
                                   # better in [channels]: suspension = { slack = "C..", teams = "19:.." }

    [[suspension.steps]]
    name = "first call"
    does = "call"                  # call | email | notice | request (the last step, and only it)
    day = 0                        # business days after entering

Without ``steps`` the sequence is the one below: a call, an email, a second call, the final
notice and the suspension request, over two weeks (ten business days)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

CALL, EMAIL, NOTICE, REQUEST = "call", "email", "notice", "request"
DOES = (CALL, EMAIL, NOTICE, REQUEST)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class SuspensionSettingsError(ValueError):
    """The team file's [suspension] section says something impossible."""


@dataclass(frozen=True)
class Step:
    name: str
    does: str  # what ticks it off: a call (or voicemail), an email, the final notice (an email), the request
    day: int  # business days after the account entered the sequence


DEFAULT_STEPS = (
    Step("first call", CALL, 0),
    Step("email", EMAIL, 2),
    Step("second call", CALL, 4),
    Step("final notice", NOTICE, 7),
    Step("suspension request", REQUEST, 10),
)


@dataclass(frozen=True)
class SuspensionSettings:
    threshold_days: int = 30
    steps: tuple[Step, ...] = DEFAULT_STEPS
    notice_copy: tuple[str, ...] = ()
    meeting_weekday: str = "thursday"
    meeting_at: time = time(10, 0)
    report_hours_before: float = 1
    # As written in the team file (a name, or a table per platform); read into
    # ``Channels.suspension`` with the other channels, which is what the report uses.
    channel: Any = None

    @property
    def report_at(self) -> time:
        """When the weekly report is posted: the meeting's time less ``report_hours_before``."""
        meeting = datetime.combine(datetime(2000, 1, 3).date(), self.meeting_at)
        return (meeting - timedelta(hours=self.report_hours_before)).time()


def suspension_from_dict(data: Any) -> SuspensionSettings:
    if not isinstance(data, dict):
        raise SuspensionSettingsError("[suspension] must be a table")
    base = SuspensionSettings()
    unknown = set(data) - {
        "threshold_days",
        "steps",
        "notice_copy",
        "meeting_weekday",
        "meeting_at",
        "report_hours_before",
        "channel",
    }
    if unknown:
        raise SuspensionSettingsError(f"[suspension] unknown setting(s): {', '.join(sorted(unknown))}")
    threshold = _int(data.get("threshold_days", base.threshold_days), "threshold_days")
    if threshold < 1:
        raise SuspensionSettingsError("[suspension] threshold_days must be at least 1")
    steps = _steps(data["steps"]) if "steps" in data else base.steps
    copy = data.get("notice_copy", [])
    if not isinstance(copy, list) or not all(isinstance(c, str) and c.strip() for c in copy):
        raise SuspensionSettingsError('[suspension] notice_copy must be a list of people, like ["maria@x.com"]')
    weekday = str(data.get("meeting_weekday", base.meeting_weekday)).lower()
    if weekday not in WEEKDAYS:
        raise SuspensionSettingsError(
            f'[suspension] meeting_weekday must be a day of the week, like "thursday", not {data["meeting_weekday"]!r}'
        )
    try:
        meeting_at = time.fromisoformat(str(data.get("meeting_at", "10:00")))
    except ValueError as exc:
        raise SuspensionSettingsError(
            f'[suspension] meeting_at must be a time like "10:00", not {data["meeting_at"]!r}'
        ) from exc
    try:
        before = float(data.get("report_hours_before", base.report_hours_before))
    except (TypeError, ValueError) as exc:
        raise SuspensionSettingsError("[suspension] report_hours_before must be a number of hours") from exc
    minutes = meeting_at.hour * 60 + meeting_at.minute
    if not 0 <= before * 60 <= minutes:
        raise SuspensionSettingsError(
            "[suspension] report_hours_before must put the report on the meeting's day, before the meeting"
        )
    channel = data.get("channel")
    return SuspensionSettings(
        threshold_days=threshold,
        steps=steps,
        notice_copy=tuple(c.strip() for c in copy),
        meeting_weekday=weekday,
        meeting_at=meeting_at,
        report_hours_before=before,
        channel=channel if isinstance(channel, dict) or channel is None else str(channel),
    )


def _int(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SuspensionSettingsError(f"[suspension] {key} must be a whole number, not {value!r}")
    return value


def _steps(raw: Any) -> tuple[Step, ...]:
    if not isinstance(raw, list) or not raw:
        raise SuspensionSettingsError("[suspension] steps must list at least one step ([[suspension.steps]])")
    steps: list[Step] = []
    for i, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict) or not str(entry.get("name", "")).strip():
            raise SuspensionSettingsError(f"[suspension] step {i} needs a name")
        does = str(entry.get("does", "")).lower()
        if does not in DOES:
            raise SuspensionSettingsError(
                f"[suspension] step {i} ({entry['name']}): does must be one of "
                f"{', '.join(DOES)}, not {entry.get('does')!r}"
            )
        day = _int(entry.get("day"), f"step {i} day")
        if day < 0 or (steps and day < steps[-1].day):
            raise SuspensionSettingsError(
                f"[suspension] step {i} ({entry['name']}): day must be 0 or more and not before the step above it"
            )
        steps.append(Step(" ".join(str(entry["name"]).split()), does, day))
    if steps[-1].does != REQUEST or any(s.does == REQUEST for s in steps[:-1]):
        raise SuspensionSettingsError(
            '[suspension] the last step, and only it, does "request" (it opens the suspension approval)'
        )
    return tuple(steps)
