"""What organisers decide and tell (issue 23 items 3, 4, 6): the R20 notice, the review of a
member's attempts, notices and SMS reminders to members. Routes of the gateway, mixed into
GatewayService: they use its proxies and checks (``self.attempts``, ``self._bank_admin`` ...).

Who sees what:
- the review: any administrator, of members inside their part of the tree (roster's
  `get_member` with the actor refuses the others, and attempts checks the part again); the
  answers, keys and marks only for the campaign's administrators (BANK_ROLES), since a
  unit's administrator may play the same levels (services/attempts/review.py);
- the R20 notice: roster's disqualifications, already limited to the actor's part, with the
  awards each member lost;
- notices: posted for a node of the poster's part; SMS reminders: the campaign's
  administrators, to the expected members of their part who have not played."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from marshmallow import RAISE, Schema, fields, validate, validates_schema, ValidationError
from werkzeug.wrappers import Response

from gateway.entrypoints import http
from kernel import r15, sheets
from kernel.errors import BadInput, Conflict, NotFound
from services.attempts.schemas import MemberReviewOut
from services.roster.schemas import (
    DisqualificationOut, MemberOut, NoticeIn, NoticeOut, ReminderLogOut, RemindOut,
)

API = "/api/v1"
ADMIN = f"{API}/admin"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LEVEL_NEWS_DAYS = 7  # a level's opening is announced for a week
MONTH_END_DAYS = 3  # the month's last days are announced this many days ahead


class _Body(Schema):
    class Meta:
        unknown = RAISE


class NoticePeriodQuery(_Body):
    """The R20 notice's period (campaign-local days, both included) and campaign."""
    from_ = fields.Date(load_default=None, data_key="from",
                        metadata={"description": "decisions or reinstatements on or after"})
    until = fields.Date(load_default=None, metadata={"description": "… on or before"})
    campaign_id = fields.Str(load_default=None, validate=validate.Length(min=1, max=36),
                             metadata={"description": "whose awards (default: current)"})

    @validates_schema
    def _in_order(self, data, **kwargs):
        if data.get("from_") and data.get("until") and data["from_"] > data["until"]:
            raise ValidationError("until is before from", field_name="until")


class RevokedAwardOut(Schema):
    award_id = fields.Str()
    period = fields.Str()
    kind = fields.Str()
    rank = fields.Int()
    amount_cny = fields.Int(allow_none=True)
    revoked_at = fields.AwareDateTime(allow_none=True)
    reason = fields.Str(allow_none=True)


class NoticeCaseOut(DisqualificationOut):
    revoked = fields.List(fields.Nested(RevokedAwardOut))
    revoked_cny = fields.Int()


class R20NoticeOut(Schema):
    campaign_id = fields.Str(allow_none=True)
    from_ = fields.Date(allow_none=True, data_key="from")
    until = fields.Date(allow_none=True)
    items = fields.List(fields.Nested(NoticeCaseOut))
    disqualified = fields.Int()  # decisions in the period
    reinstated = fields.Int()  # of them, or of earlier ones, undone in the period
    revoked_cny = fields.Int()  # the awards they lost, in yuan


class DisqualifyBody(_Body):
    reason = fields.Str(required=True, validate=validate.Length(min=2, max=500))
    evidence = fields.Str(load_default=None, allow_none=True,
                          validate=validate.Length(max=2000),
                          metadata={"description": "what the decision rests on"})
    flag_ids = fields.List(fields.Int(strict=True), load_default=list,
                           validate=validate.Length(max=100),
                           metadata={"description": "the member's flags it cites"})


class ReviewMemberOut(MemberReviewOut):
    member = fields.Nested(MemberOut)


class NoticeBody(NoticeIn):
    pass


class MemberNoticeOut(Schema):
    kind = fields.Str()  # notice | level_open | month_end
    title = fields.Str()
    body = fields.Str()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    level = fields.Int(allow_none=True)


class MemberNoticesOut(Schema):
    items = fields.List(fields.Nested(MemberNoticeOut))


class AdminNoticesOut(Schema):
    items = fields.List(fields.Nested(NoticeOut))


class ReminderBody(_Body):
    kind = fields.Str(required=True, validate=validate.OneOf(["level_open", "month_end"]))
    level = fields.Int(load_default=None, allow_none=True, strict=True,
                       validate=validate.Range(min=1, max=99))
    dry_run = fields.Bool(load_default=True, metadata={
        "description": "count who would receive it (the default); false sends"})


class ReminderPage(_Body):
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))
    offset = fields.Int(load_default=0, validate=validate.Range(min=0, max=10**9))


def automatic_notices(campaign: dict, now: datetime) -> list[dict]:
    """What members are told without anyone posting it: a level opened in the last week,
    and, in a month's last days, that the month ends (R15's cutoff)."""
    found = []
    for level in campaign.get("levels", []):
        opens = datetime.fromisoformat(level["opens_at"])
        if opens <= now < opens + timedelta(days=LEVEL_NEWS_DAYS) \
                and opens < datetime.fromisoformat(campaign["ends_at"]):
            found.append({"kind": "level_open", "level": level["number"],
                          "title": f"第{level['number']}关已开放",
                          "body": f"第{level['number']}关「{level.get('theme') or level['title']}」"
                                  "已开放，欢迎闯关。",
                          "starts_at": opens.isoformat(),
                          "ends_at": (opens + timedelta(days=LEVEL_NEWS_DAYS)).isoformat()})
    zone = campaign["time_zone"]
    month = r15.month_of(now, zone)
    cutoff = min(r15.cutoff(month, zone), datetime.fromisoformat(campaign["ends_at"]))
    warn_from = cutoff - timedelta(days=MONTH_END_DAYS)
    if datetime.fromisoformat(campaign["starts_at"]) <= now and warn_from <= now <= cutoff:
        last = cutoff.astimezone(ZoneInfo(zone))
        found.append({"kind": "month_end", "level": None, "title": "本月闯关即将截止",
                      "body": f"本月成绩以{last.month}月{last.day}日24时前提交的闯关为准，"
                              "请抓紧时间。",
                      "starts_at": warn_from.isoformat(), "ends_at": cutoff.isoformat()})
    return found


def _local_day(instant: str | None, zone: ZoneInfo) -> date | None:
    return datetime.fromisoformat(instant).astimezone(zone).date() if instant else None


def _instant(value) -> datetime | None:
    """An instant as it came over RPC (ISO text), for a schema's AwareDateTime to dump."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _lost_by(case: dict, award: dict) -> bool:
    """Whether this disqualification cost the member this award: revoked for R20 (not for
    a changed amount or place) while the decision stood (from its decision until its
    reinstatement), so a member decided twice is charged each award once."""
    revoked = award.get("revoked_at")
    reinstated = _instant(case.get("reinstated_at"))
    return bool(revoked and (award.get("reason") or "").startswith("disqualified")
                and _instant(case["decided_at"]) <= revoked
                and (reinstated is None or revoked < reinstated))


def _within(day: date | None, start: date | None, end: date | None) -> bool:
    return day is not None and (start is None or day >= start) and (end is None or day <= end)


NOTICE_HEADERS = ["姓名", "手机号", "单位", "取消资格日期", "原因", "证据", "所涉标记", "决定人",
                  "撤销的奖励", "撤销金额（元）", "恢复日期", "恢复人", "恢复理由"]
KIND_NAMES = {"monthly_champion": "月冠军", "annual_champion": "年度冠军"}


def notice_rows(notice: dict) -> list[list]:
    """The R20 notice as a sheet's rows: headers, one row a decision, and the totals."""
    rows = [NOTICE_HEADERS]
    for case in notice["items"]:
        awards = "；".join(f"{a['period']} {KIND_NAMES.get(a['kind'], a['kind'])} 第{a['rank']}名"
                          + (f" {a['amount_cny']}元" if a.get("amount_cny") else "")
                          for a in case["revoked"])
        rows.append([case["name"], case["phone_masked"], case["unit_name"],
                     case["decided_at"][:10], case["reason"], case.get("evidence") or "",
                     "、".join(f"#{f}" for f in case["flag_ids"]), case["decided_by_name"],
                     awards, case["revoked_cny"], (case.get("reinstated_at") or "")[:10],
                     case.get("reinstated_by_name") or "", case.get("reinstate_reason") or ""])
    rows.append([f"合计 {notice['disqualified']} 人", "", "", "", "", "", "", "", "",
                 notice["revoked_cny"], f"恢复 {notice['reinstated']} 人", "", ""])
    return rows


def notice_xlsx(notice: dict) -> bytes:
    """The notice as a workbook; administrators' texts (reason, evidence) go in as text,
    never as a formula (sheets.sheet_row)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("取消资格通报")
    for column, width in zip("ABCDEFGHIJKLM", (10, 14, 18, 12, 24, 30, 10, 10, 30, 12, 12,
                                               10, 20)):
        sheet.column_dimensions[column].width = width
    for row in notice_rows(notice):
        sheet.append(sheets.sheet_row(sheet, row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class ReviewRoutes:
    """Mixed into gateway.service.GatewayService."""

    # -- item 4: a member's attempts for review ------------------------------------------------

    @http("GET", f"{ADMIN}/members/<string:target>/review", auth=True,
          response=ReviewMemberOut)
    def admin_member_review(self, request, target, member_id):
        """A member's attempts (newest first) with the paper as drawn (questions, options in
        the order shown), times, start and submit instants, the client address, and their
        flags; the answers given, the key and which were wrong only for the campaign's
        administrators. Members inside my part of the organisation only."""
        who = self.roster.authorize(member_id)
        member = self.roster.get_member(target, actor=member_id)  # 403 outside my part
        campaigns = self.question_bank.list_campaigns()["items"]
        administers = {organisation: self._administers_bank(member_id, {
            "organisation_id": organisation}) for organisation in
            {c["organisation_id"] for c in campaigns}}
        keys_for = [c["campaign_id"] for c in campaigns if administers[c["organisation_id"]]]
        current = next((c["campaign_id"] for c in campaigns if c.get("current")), None)
        # each attempt's keys as its own campaign's administrators see them; `with_keys`:
        # the current campaign's (no campaign yet: nobody's keys to protect, none shown)
        review = self.attempts.member_review(target, who["visible"], current in keys_for,
                                             keys_for)
        return dict(review, member=member)

    # -- item 3: the R20 notice ---------------------------------------------------------------

    def _r20_notice(self, member_id, query) -> dict:
        cases = self.roster.disqualifications(member_id)  # the actor's part only
        try:
            campaign = self.question_bank.get_campaign(query["campaign_id"])
        except NotFound:
            if query["campaign_id"]:
                raise
            campaign = None
        zone = ZoneInfo(campaign["time_zone"] if campaign else "UTC")
        start, end = query["from_"], query["until"]
        chosen = [c for c in cases
                  if _within(_local_day(c["decided_at"], zone), start, end)
                  or _within(_local_day(c["reinstated_at"], zone), start, end)]
        lost = self._revoked_awards(campaign, {c["member_id"] for c in chosen})
        items = []
        for case in chosen:
            revoked = [a for a in lost.get(case["member_id"], []) if _lost_by(case, a)]
            items.append(dict(case, revoked=revoked,
                              revoked_cny=sum(a["amount_cny"] or 0 for a in revoked)))
        return {"campaign_id": campaign["campaign_id"] if campaign else None,
                "from_": start, "until": end, "items": items,
                "disqualified": sum(_within(_local_day(c["decided_at"], zone), start, end)
                                    for c in chosen),
                "reinstated": sum(_within(_local_day(c["reinstated_at"], zone), start, end)
                                  for c in chosen),
                "revoked_cny": sum(i["revoked_cny"] for i in items)}

    def _revoked_awards(self, campaign, members: set) -> dict:
        """The campaign's revoked awards of these members, by member, oldest period first."""
        if not campaign or not members:
            return {}
        periods = [m["month"] for m in self.ranking.months(campaign["campaign_id"])
                   if m["closed"]] + ["annual"]
        lost: dict = {}
        for period in periods:
            for award in self.awards.awards_of_period(campaign["campaign_id"], period):
                if award.get("member_id") in members and award["status"] == "revoked":
                    lost.setdefault(award["member_id"], []).append(dict(
                        award, award_id=award["id"],
                        revoked_at=_instant(award.get("revoked_at"))))
        return lost

    @http("GET", f"{ADMIN}/r20-notice", auth=True, query=NoticePeriodQuery,
          response=R20NoticeOut)
    def admin_r20_notice(self, request, member_id, query):
        """R20's organisational notice: the members disqualified (or reinstated) in the
        period, in my part of the organisation, with unit, date, reason, evidence, who
        decided, the awards they lost and their amounts, and any reinstatement."""
        return R20NoticeOut().dump(self._r20_notice(member_id, query))

    @http("GET", f"{ADMIN}/r20-notice.xlsx", auth=True, query=NoticePeriodQuery,
          response=XLSX)
    def admin_r20_notice_xlsx(self, request, member_id, query):
        """The same notice as XLSX (Chinese headers, a totals row): the rows the JSON shows
        the same administrator, no more."""
        notice = self._r20_notice(member_id, query)
        name = "r20-notice" + "".join(f"-{d}" for d in (query["from_"], query["until"]) if d)
        return Response(notice_xlsx(notice), mimetype=XLSX, headers={
            "Content-Disposition": f'attachment; filename="{name}.xlsx"'})

    def _disqualify(self, member_id, target, body):
        """R20's decision with its evidence (admin_disqualify): the flags it cites must be
        the member's own."""
        if body["flag_ids"]:
            who = self.roster.authorize(member_id)
            self.roster.get_member(target, actor=member_id)
            review = self.attempts.member_review(target, who["visible"], False)
            strangers = set(body["flag_ids"]) - {flag["flag_id"] for flag in review["flags"]}
            if strangers:
                raise BadInput("these are not the member's flags", fields={
                    "flag_ids": [str(f) for f in sorted(strangers)]}, reason="not_their_flag")
        return self.roster.disqualify(member_id, target, body["reason"], body["evidence"],
                                      body["flag_ids"])

    # -- item 6: notices and SMS reminders -------------------------------------------------------

    @http("GET", f"{API}/notices", auth=True, response=MemberNoticesOut)
    def my_notices(self, request, member_id):
        """The notices shown to me now: my organisation's, and the campaign's own (a level
        has opened, the month ends in a few days)."""
        posted = [dict(n, kind="notice", level=None)
                  for n in self.roster.member_notices(member_id)]
        try:
            campaign = self.question_bank.get_campaign()
        except NotFound:
            campaign = None
        automatic = automatic_notices(campaign, self.clock.now()) if campaign else []
        return MemberNoticesOut().dump({"items": [  # what a member may see of each, no more
            dict(n, starts_at=_instant(n["starts_at"]), ends_at=_instant(n["ends_at"]))
            for n in automatic + posted]})

    @http("GET", f"{ADMIN}/notices", auth=True, response=AdminNoticesOut)
    def admin_notices(self, request, member_id):
        """Notices for my part of the organisation (past, current, to come), newest first."""
        return {"items": self.roster.admin_notices(member_id)}

    @http("POST", f"{ADMIN}/notices", auth=True, body=NoticeBody, status=201,
          response=NoticeOut)
    def admin_post_notice(self, request, member_id, body):
        """Post a notice for everyone (system administrators) or a node of my part, shown on
        the member page from `starts_at` until `ends_at` (audited)."""
        return self.roster.post_notice(member_id, body["title"], body["body"],
                                       body["starts_at"].isoformat(),
                                       body["ends_at"].isoformat(), body["audience_id"])

    @http("POST", f"{ADMIN}/notices/<int:notice_id>/withdraw", auth=True, body=_Body,
          response=NoticeOut)
    def admin_withdraw_notice(self, request, notice_id, member_id, body):
        """Take a notice down now (audited)."""
        return self.roster.withdraw_notice(member_id, notice_id)

    @http("POST", f"{ADMIN}/reminders", auth=True, body=ReminderBody, response=RemindOut)
    def admin_send_reminders(self, request, member_id, body):
        """An SMS to the expected members of my part who have not played: `level_open`
        (level N is open: who has no attempt at it) or `month_end` (the month ends in 3
        days: who has no attempt this month); at most SMS_REMINDERS_PER_DAY each in 24 h.
        `dry_run` (the default) counts who would receive it. The campaign's administrators."""
        campaign = self._bank_admin(member_id)
        now, zone = self.clock.now(), campaign["time_zone"]
        if not datetime.fromisoformat(campaign["starts_at"]) <= now \
                <= datetime.fromisoformat(campaign["ends_at"]):
            raise Conflict("the campaign is not running", reason="campaign_not_running")
        if body["kind"] == "level_open":
            opened = [lv["number"] for lv in campaign["levels"]
                      if datetime.fromisoformat(lv["opens_at"]) <= now]
            level = body["level"] or max(opened or [1])
            if level not in opened:  # "level N is open" is never sent before it is
                raise Conflict(f"level {level} is not open", fields={"level": [str(level)]},
                               reason="level_not_open")
            played = self.attempts.players(campaign["campaign_id"], level=level)
            until = None
        else:
            month = r15.month_of(now, zone)
            year, number = (int(part) for part in month.split("-"))
            since = datetime(year, number, 1, tzinfo=ZoneInfo(zone))
            played = self.attempts.players(campaign["campaign_id"], since=since.isoformat())
            level, cutoff = None, r15.cutoff(month, zone)
            cutoff = min(cutoff, datetime.fromisoformat(campaign["ends_at"]))
            if now < cutoff - timedelta(days=MONTH_END_DAYS):  # as the page's notice says
                raise Conflict("the month ends in more than 3 days", reason="month_end_not_yet")
            cutoff = cutoff.astimezone(ZoneInfo(zone))
            until = f"{cutoff.month}月{cutoff.day}日24时"
        return self.roster.remind(member_id, body["kind"], played, body["dry_run"],
                                  level=level, until=until,
                                  within=campaign.get("organisation_id"))

    @http("GET", f"{ADMIN}/reminders", auth=True, query=ReminderPage, response=ReminderLogOut)
    def admin_reminders(self, request, member_id, query):
        """The reminders sent in my part, newest first: who sent what, when, to how many."""
        return self.roster.reminder_log(member_id, query["limit"], query["offset"])

