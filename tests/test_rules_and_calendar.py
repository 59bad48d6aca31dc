"""Team-file workflow rules and the business calendar they lean on."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bot.settings import EXAMPLE_TEAM_FILE
from commands.calendar import BusinessCalendar
from commands.team import TeamFileError, load_team, team_from_dict

CHICAGO = ZoneInfo("America/Chicago")
US = BusinessCalendar("US")


def test_example_team_limits() -> None:
    flow = load_team(EXAMPLE_TEAM_FILE).workflow
    manager, controller = frozenset({"manager"}), frozenset({"controller"})
    assert flow.may_approve(manager, "waiver", Decimal("250"))
    assert not flow.may_approve(manager, "waiver", Decimal("250.01"))
    assert flow.may_approve(controller, "waiver", Decimal("90000"))
    assert not flow.may_approve(manager, "plan", Decimal("10"))
    assert flow.may_approve(frozenset({"vp_finance"}), "plan", Decimal("10"))
    assert not flow.may_approve(frozenset({"collector"}), "hold", None)
    assert flow.who_may_approve("waiver", Decimal("300")) == "a controller or VP finance"
    assert flow.who_may_approve("waiver", Decimal("100")) == "a manager (up to $250.00), or a controller or VP finance"
    assert flow.who_may_approve("hold", None) == "a manager, controller or VP finance"
    assert flow.channels.hold_announcements == ("client-services", "sales")
    assert flow.timers.daily_list_at == time(8, 0)


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"approvals": {"rules": [{"kind": "refund", "roles": ["manager"]}]}}, "kind must be one of"),
        ({"approvals": {"rules": [{"kind": "hold", "roles": []}]}}, "names no roles"),
        ({"approvals": {"rules": [{"kind": "waiver", "roles": ["manager"], "max_amount": "lots"}]}}, "not a number"),
        ({"timers": {"finance_remind_hourz": 3}}, "unknown timer"),
        ({"timers": {"daily_list_at": "8 o'clock"}}, "team file"),
        ({"members": [{"email": "x@example.com", "roles": ["boss"]}]}, "unknown role"),
        ({"team": {"timezone": "Mars/Olympus"}}, "unknown timezone"),
    ],
)
def test_bad_team_files_are_refused_clearly(bad: dict, message: str) -> None:
    with pytest.raises(TeamFileError, match=message):
        team_from_dict(bad)


def test_business_days_skip_weekends_and_thanksgiving() -> None:
    assert not US.is_business_day(date(2026, 11, 26))  # Thanksgiving
    assert US.on_or_after(date(2026, 11, 26)) == date(2026, 11, 27)
    assert US.on_or_after(date(2026, 11, 28)) == date(2026, 11, 30)
    assert US.add_business_days(date(2026, 11, 25), 1) == date(2026, 11, 27)
    assert US.business_days_between(date(2026, 11, 20), date(2026, 11, 30)) == 5


def test_statements_day_and_sixth_business_day() -> None:
    assert US.statements_day(2026, 8) == date(2026, 8, 14)  # 15th is a Saturday
    assert US.statements_day(2026, 11) == date(2026, 11, 16)  # 15th is a Sunday
    assert US.statements_day(2026, 12) == date(2026, 12, 15)
    assert US.nth_business_day_of_month(2026, 12, 6) == date(2026, 12, 8)
    assert US.nth_business_day_of_month(2027, 1, 1) == date(2027, 1, 4)  # New Year's Day is a Friday


def test_business_hours_count_only_the_working_day() -> None:
    friday_4pm = datetime(2026, 11, 20, 16, 0, tzinfo=CHICAGO)
    monday_10am = datetime(2026, 11, 23, 10, 0, tzinfo=CHICAGO)
    hours = US.business_hours_between(friday_4pm, monday_10am, CHICAGO, time(9), time(17))
    assert hours == pytest.approx(2.0)
    wednesday_4pm = datetime(2026, 11, 25, 16, 0, tzinfo=CHICAGO)
    friday_11am = datetime(2026, 11, 27, 11, 0, tzinfo=CHICAGO)  # Thanksgiving in between
    assert US.business_hours_between(wednesday_4pm, friday_11am, CHICAGO, time(9), time(17)) == pytest.approx(3.0)
    assert US.business_hours_between(monday_10am, friday_4pm, CHICAGO, time(9), time(17)) == 0.0
