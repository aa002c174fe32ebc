"""Paris-local days, weeks (from Monday) and months: the periods every statistic is counted in."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def paris_day(at: datetime) -> date:
    """The day it was in Paris at this instant (23:30 UTC on a winter Sunday is already Monday there)."""
    return at.astimezone(PARIS).date()


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)
