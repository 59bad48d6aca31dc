"""What every use case is handed: sessions, the team, the business calendar, the clock and the
ranking policy. Built once by the composition root (bot.app) and passed in, never global."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from commands.calendar import BusinessCalendar
from commands.clock import Clock, local_today
from commands.mail.config import MailSettings
from commands.team import Team

if TYPE_CHECKING:
    from commands.calllist.reuse import CallListCache


@dataclass
class AppContext:
    sessions: sessionmaker[Session]
    team: Team
    calendar: BusinessCalendar
    clock: Clock
    policy_file: Path | None = None
    # The chat platforms this deployment talks on, in order of preference ("slack", "teams");
    # the terminal when none is configured. Decides where each outbox entry goes.
    platforms: tuple[str, ...] = ("terminal",)
    # Called after a transaction that queued messages committed: wakes this process's
    # dispatcher so the post goes out now, not at its next poll.
    on_enqueued: Callable[[], None] = field(default=lambda: None)
    # Each collector's list for the day, reused until the ledger changes for their accounts.
    call_lists: CallListCache = field(default_factory=lambda: _call_list_cache())
    # The mail server customers' email goes through (SMTP_URL, SMTP_FROM); None: no email.
    mail: MailSettings | None = None
    # The folder the team file is in: the team's own mail templates live in its mail/ folder.
    team_folder: Path | None = None

    def today(self) -> date:
        """The team's local calendar date now."""
        return local_today(self.clock, self.team.timezone)

    def work_day(self) -> date:
        """Today if it is a business day, else the next business day (the list for a Saturday is Monday's)."""
        return self.calendar.on_or_after(self.today())


def _call_list_cache() -> CallListCache:
    from commands.calllist.reuse import CallListCache  # the package is light; the ranking loads when used

    return CallListCache()
