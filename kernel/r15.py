"""R15, a campaign's months and their cutoffs, written once for every service: ranking
closes a month at its cutoff, attempts tells a member before an attempt starts by when it
must be submitted to count in this month (and the member page shows it).

A month is campaign-local (the campaign's time zone); its cutoff is 23:59:59.999 on its
last day, that zone's wall clock, as an aware instant."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


def month_of(at: datetime, time_zone: str) -> str:
    """The campaign-local month an instant falls in, as YYYY-MM."""
    return at.astimezone(ZoneInfo(time_zone)).strftime("%Y-%m")


def cutoff(month: str, time_zone: str) -> datetime:
    """R15: 23:59:59.999 local on the month's last day, as an aware instant."""
    year, number = (int(part) for part in month.split("-"))
    first_next = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=ZoneInfo(time_zone))
    return first_next - timedelta(milliseconds=1)
