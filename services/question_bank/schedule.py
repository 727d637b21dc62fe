"""R5/R9/R10: the seed's pattern as data: 12 levels, one a month March–June, two a month
July–October, playable from 12 March, over at 31 October 23:59:59.999 local. `pattern(year)`
is that schedule for any year (what `challenge campaign template YEAR` writes as a sheet);
2018's is the seed's own, with R5's themes."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# (opening date, theme) per level; R5's monthly themes
LEVELS_2018 = [  # the seed's; `pattern` repeats its days in any year
    (date(2018, 3, 12), "党的十九大报告"),
    (date(2018, 4, 1), "“不忘初心、牢记使命”主题教育"),
    (date(2018, 5, 1), "“不忘初心、牢记使命”主题教育"),
    (date(2018, 6, 1), "“不忘初心、牢记使命”主题教育"),
    (date(2018, 7, 1), "改革开放40周年"),
    (date(2018, 7, 16), "改革开放40周年"),
    (date(2018, 8, 1), "改革开放40周年"),
    (date(2018, 8, 16), "改革开放40周年"),
    (date(2018, 9, 1), "改革开放40周年"),
    (date(2018, 9, 16), "改革开放40周年"),
    (date(2018, 10, 1), "中央和省委重大会议和决策部署"),
    (date(2018, 10, 16), "中央和省委重大会议和决策部署"),
]
# R10: 5 to 20 minutes, rising with difficulty
TIME_LIMITS_MIN = [5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 18, 20]
DRAW_COUNT = 20
CAMPAIGN_END = date(2018, 10, 31)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=tz)


# another year's themes are the organisers' to write: the template says so
THEME_TO_WRITE = "待定主题（请修改）"


def end_of_day(day: date, tz: ZoneInfo) -> datetime:
    """The last instant of `day`, local (23:59:59.999): a campaign's end."""
    return local_midnight(day + timedelta(days=1), tz) - timedelta(milliseconds=1)


def campaign_name(year: int) -> str:
    return f"{year}年“每月一关”学习答题闯关"


def pattern(year: int, time_zone: str = "Asia/Shanghai") -> dict:
    """R5/R9/R10: the seed's schedule moved to `year`: the same days, limits and draw, the
    seed's themes in 2018 and a theme to write in any other year."""
    tz = ZoneInfo(time_zone)
    levels = [
        {
            "number": n,
            "title": f"第{n}关",
            "theme": theme if year == 2018 else THEME_TO_WRITE,
            "opens_at": local_midnight(day.replace(year=year), tz),
            "time_limit_s": minutes * 60,
            "draw_count": DRAW_COUNT,
        }
        for n, ((day, theme), minutes) in enumerate(zip(LEVELS_2018, TIME_LIMITS_MIN), 1)
    ]
    return {
        "name": campaign_name(year),
        "year": year,
        "time_zone": time_zone,
        "starts_at": levels[0]["opens_at"],
        "ends_at": end_of_day(CAMPAIGN_END.replace(year=year), tz),
        "levels": levels,
    }


def campaign_2018(time_zone: str = "Asia/Shanghai") -> dict:
    return pattern(2018, time_zone)
