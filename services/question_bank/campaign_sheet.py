"""The campaign sheet (R5, R9, R10): one row a level, the campaign's own fields (name, year,
time zone, first playable day, last day) on the first row (later rows may repeat them or
leave them empty). Pure: rows in, a plan or the errors by row and column out.

Columns (Chinese or English headers): 活动名称/name, 年度/year, 时区/time_zone,
首个闯关日/starts_on, 结束日期/ends_on, 关卡/level, 标题/title, 主题/theme, 开放日期/opens_on,
限时秒/time_limit_s, 抽题数/draw_count, 难度配比/mix (`easy=10 medium=8 hard=2`, or
`易10 中8 难2`; empty: any difficulty). Dates are campaign-local days (`2027-03-12`) or
instants with a time (`2027-03-12 08:00`); a day opens at its local midnight, and the
campaign ends at the last instant of its last day."""
from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kernel.errors import BadInput

from . import schedule

# our key -> the header the template writes (and errors name)
HEADERS = {
    "name": "活动名称", "year": "年度", "time_zone": "时区", "starts_on": "首个闯关日",
    "ends_on": "结束日期", "level": "关卡", "title": "标题", "theme": "主题",
    "opens_on": "开放日期", "time_limit_s": "限时秒", "draw_count": "抽题数", "mix": "难度配比",
}
COLUMNS = {**{key: key for key in HEADERS}, **{header: key for key, header in HEADERS.items()}}
CAMPAIGN_FIELDS = ("name", "year", "time_zone", "starts_on", "ends_on")
MIX_NAMES = {"easy": "easy", "易": "easy", "简单": "easy", "medium": "medium", "中": "medium",
             "中等": "medium", "hard": "hard", "难": "hard", "困难": "hard"}
MIX_SHOWN = {"easy": "易", "medium": "中", "hard": "难"}
LIMITS_S = (300, 1200)  # R10: 5 to 20 minutes


class SheetErrors(Exception):
    def __init__(self, errors: list[dict]):
        super().__init__(f"{len(errors)} error(s) in the campaign sheet")
        self.errors = errors


class MixError(ValueError):
    """A 难度配比 cell that is not a mix of the draw (its reason and words' params)."""

    def __init__(self, reason: str, message: str, **params):
        super().__init__(message)
        self.reason, self.params = reason, params


def template_rows(year: int, time_zone: str = "Asia/Shanghai") -> list[dict]:
    """The seed's pattern (schedule.pattern) for `year`, as the sheet's rows under its
    Chinese headers: what `challenge campaign template YEAR` writes."""
    try:
        plan = schedule.pattern(year, time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadInput(f"unknown time zone {time_zone} (e.g. Asia/Shanghai)",
                       fields={"time_zone": [time_zone]}, reason="unknown_time_zone") from None
    rows = []
    for level in plan["levels"]:
        row = {HEADERS["level"]: level["number"], HEADERS["title"]: level["title"],
               HEADERS["theme"]: level["theme"],
               HEADERS["opens_on"]: level["opens_at"].date().isoformat(),
               HEADERS["time_limit_s"]: level["time_limit_s"],
               HEADERS["draw_count"]: level["draw_count"], HEADERS["mix"]: ""}
        if level["number"] == 1:
            row.update({HEADERS["name"]: plan["name"], HEADERS["year"]: year,
                        HEADERS["time_zone"]: time_zone,
                        HEADERS["starts_on"]: plan["starts_at"].date().isoformat(),
                        HEADERS["ends_on"]: plan["ends_at"].date().isoformat()})
        rows.append(row)
    return rows


def keyed(rows: list[dict]) -> list[dict]:
    """Rows under the sheet's headers (the template's) as `parse` reads them."""
    return [{COLUMNS[h]: v for h, v in row.items() if h in COLUMNS} for row in rows]


def as_rows(campaign, levels) -> list[dict]:
    """A stored campaign (model rows) back as the sheet: the export that re-imports."""
    tz = ZoneInfo(campaign.time_zone)
    rows = []
    for level in levels:
        row = {HEADERS["level"]: level.number, HEADERS["title"]: level.title,
               HEADERS["theme"]: level.theme, HEADERS["opens_on"]: _shown(level.opens_at, tz),
               HEADERS["time_limit_s"]: level.time_limit_s,
               HEADERS["draw_count"]: level.draw_count,
               HEADERS["mix"]: " ".join(f"{MIX_SHOWN[k]}{v}" for k, v in (level.mix or {}).items())}
        if not rows:
            row.update({HEADERS["name"]: campaign.name, HEADERS["year"]: campaign.year,
                        HEADERS["time_zone"]: campaign.time_zone,
                        HEADERS["starts_on"]: _shown(campaign.starts_at, tz),
                        HEADERS["ends_on"]: campaign.ends_at.astimezone(tz).date().isoformat()})
        rows.append(row)
    return rows


def _shown(instant: datetime, tz: ZoneInfo) -> str:
    local = instant.astimezone(tz)
    return local.date().isoformat() if local.time() == time(0) else local.strftime(
        "%Y-%m-%d %H:%M")


def parse(rows: list[dict]) -> dict:
    """The plan of a campaign sheet ({name, year, time_zone, starts_at, ends_at, levels}),
    or SheetErrors naming each bad row and column (the header as the template writes it).
    Row numbers are the sheet's: the header is row 1, `rows[0]` row 2 (kernel.sheets)."""
    errors: list[dict] = []

    def fail(row, key, reason, message, value=None, **params):
        # the column as the template writes it; `reason` and `params` for the pages' words
        errors.append({"row": row, "column": HEADERS[key], "reason": reason,
                       "value": None if value is None else str(value), "params": params,
                       "message": message})

    if not rows:
        raise SheetErrors([{"row": None, "column": HEADERS["level"], "reason": "no_levels",
                            "message": "the sheet has no levels: one row a level"}])
    head: dict = {}
    for number, row in enumerate(rows, start=2):
        for key in CAMPAIGN_FIELDS:
            value = _text(row, key)
            if not value:
                continue
            if key in head and head[key][0] != value:
                fail(number, key, "campaign_field_differs", f"differs from row {head[key][1]} "
                     f"(a campaign has one {key})", value, other=head[key][1])
            head.setdefault(key, (value, number))
    first = {key: value for key, (value, _) in head.items()}
    plan = {"name": first.get("name", "")}
    if not plan["name"]:
        fail(2, "name", "field_missing", "the campaign's name is missing")
    elif len(plan["name"]) > 200:
        fail(2, "name", "text_too_long", "at most 200 characters", n=200)
    year = _int(first.get("year", ""))
    if year is None or not 2000 <= year <= 2100:
        fail(2, "year", "bad_year", "the year (e.g. 2027) is missing or wrong",
             first.get("year"))
    plan["year"] = year
    tz = None
    try:
        tz = ZoneInfo(first.get("time_zone") or "Asia/Shanghai")
    except (ZoneInfoNotFoundError, ValueError):
        fail(2, "time_zone", "unknown_time_zone",
             f"unknown time zone {first['time_zone']} (e.g. Asia/Shanghai)", first["time_zone"])
    plan["time_zone"] = tz.key if tz else None
    if tz is None:
        raise SheetErrors(errors)
    starts = _instant(first.get("starts_on", ""), tz)
    if starts is None:
        fail(2, "starts_on", "bad_date", "the first day (e.g. 2027-03-12) is missing or wrong",
             first.get("starts_on"))
    ends_day = _day(first.get("ends_on", ""))
    if ends_day is None:
        fail(2, "ends_on", "bad_date", "the last day (e.g. 2027-10-31) is missing or wrong",
             first.get("ends_on"))
    ends = schedule.end_of_day(ends_day, tz) if ends_day else None
    if starts and ends and ends <= starts:
        fail(2, "ends_on", "ends_before_start", "the last day comes after the first",
             first.get("ends_on"))
    if year and starts and starts.year != year:
        fail(2, "starts_on", "starts_outside_year", f"the first day is not in {year}",
             first.get("starts_on"), year=year)
    plan.update(starts_at=starts, ends_at=ends)

    levels, seen = [], {}
    for number, row in enumerate(rows, start=2):
        level = _level(row, number, tz, fail)
        if level is None:
            continue
        if level["number"] in seen:
            fail(number, "level", "level_repeated",
                 f"level {level['number']} is on row {seen[level['number']]} already",
                 level["number"], other=seen[level["number"]])
            continue
        seen[level["number"]] = number
        level["_row"] = number
        levels.append(level)
    levels.sort(key=lambda lv: lv["number"])
    numbered = {_int(_text(row, "level")) for row in rows} - {None}  # bad rows' too
    missing = sorted(set(range(1, max(numbered, default=0) + 1)) - numbered)
    if missing:
        fail(seen.get(max(numbered), None), "level", "levels_not_contiguous",
             f"levels number from 1 without gaps: {', '.join(map(str, missing))} missing",
             missing="、".join(map(str, missing)))
    previous = None
    for level in levels:
        row = level.pop("_row")
        if starts and ends and not starts <= level["opens_at"] <= ends:
            fail(row, "opens_on", "opens_outside_campaign",
                 "a level opens between the campaign's first and last day")
        if previous is not None and level["opens_at"] < previous["opens_at"]:
            fail(row, "opens_on", "opens_out_of_order",
                 f"levels open in order: not before level {previous['number']}",
                 level=previous["number"])
        previous = level
    if errors:
        raise SheetErrors(sorted(errors, key=lambda e: (e["row"] or 0)))
    plan["levels"] = levels
    return plan


def _level(row, number, tz, fail) -> dict | None:
    """One row's level, or None after naming what is wrong with it."""
    found = {}
    level = _int(_text(row, "level"))
    if level is None or level < 1 or level > 100:
        fail(number, "level", "bad_level_number", "the level's number (1, 2, 3…) is missing "
             "or wrong", _text(row, "level"))
        return None
    found["number"] = level
    for key, limit in (("title", 200), ("theme", 200)):
        value = _text(row, key)
        if not value:
            fail(number, key, "field_missing", f"the {key} is missing")
            return None
        if len(value) > limit:
            fail(number, key, "text_too_long", f"at most {limit} characters", n=limit)
            return None
        found[key] = value
    opens = _instant(_text(row, "opens_on"), tz)
    if opens is None:
        fail(number, "opens_on", "bad_date", "the opening day (e.g. 2027-03-12) is missing "
             "or wrong", _text(row, "opens_on"))
        return None
    found["opens_at"] = opens
    limit = _int(_text(row, "time_limit_s"))
    if limit is None or not LIMITS_S[0] <= limit <= LIMITS_S[1]:
        fail(number, "time_limit_s", "time_limit_range",
             "the time limit is 300 to 1200 seconds (R10: 5 to 20 minutes)",
             _text(row, "time_limit_s"))
        return None
    found["time_limit_s"] = limit
    draw_text = _text(row, "draw_count")
    draw = _int(draw_text) if draw_text else schedule.DRAW_COUNT
    if draw is None or not 1 <= draw <= 100:
        fail(number, "draw_count", "draw_range", "a level draws 1 to 100 questions",
             draw_text)
        return None
    found["draw_count"] = draw
    try:
        found["mix"] = parse_mix(_text(row, "mix"), draw)
    except MixError as err:
        fail(number, "mix", err.reason, str(err), _text(row, "mix"), **err.params)
        return None
    return found


def parse_mix(text: str, draw: int) -> dict | None:
    """`easy=10 medium=8 hard=2` or `易10 中8 难2` (separated by spaces, commas or |) as
    {"easy": 10, ...}; empty: None (any difficulty). Must add up to the draw."""
    if not text:
        return None
    mix = {}
    for part in re.split(r"[\s,，;；|、]+", text.strip()):
        if not part:
            continue
        found = re.fullmatch(r"([a-z\u4e00-\u9fff]+)\s*[=:：]?\s*(\d+)", part.lower())
        if not found or found.group(1) not in MIX_NAMES:
            raise MixError("bad_mix", f"cannot read '{part}': write easy=10 medium=8 hard=2 "
                                      "(or 易10 中8 难2)", part=part)
        mix[MIX_NAMES[found.group(1)]] = int(found.group(2))
    if sum(mix.values()) != draw:
        raise MixError("mix_total", f"the mix adds up to {sum(mix.values())}, not the draw "
                                    f"{draw}", total=sum(mix.values()), draw=draw)
    return mix


def _text(row: dict, key: str) -> str:
    value = row.get(key)
    return "" if value is None else str(value).strip()


def _int(text: str) -> int | None:
    text = str(text).strip()
    if text.endswith(".0"):
        text = text[:-2]
    return int(text) if re.fullmatch(r"\d{1,6}", text) else None


def _day(text: str) -> date | None:
    text = text.strip().replace("/", "-").replace(".", "-")
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def _instant(text: str, tz: ZoneInfo) -> datetime | None:
    """A local day (its midnight) or a local date and time; an instant with an offset is
    taken as it says."""
    text = text.strip().replace("/", "-")
    if not text:
        return None
    try:
        found = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        return None
    if found.tzinfo is not None:
        return found
    return found.replace(tzinfo=tz)
