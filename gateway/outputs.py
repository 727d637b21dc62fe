"""What organisers hand on (issue 23 items 1, 2, 5): the live-contest shortlist (R6/R17), the
unit reports (R19) and the winners' lists. Routes of the gateway, mixed into GatewayService:
they use its proxies and checks (``self.ranking``, ``self.roster`` ...).

Each output is JSON for the admin page (which prints it with print styles) and an XLSX made
here from the very rows the JSON holds, so a file never shows more than its JSON: the
shortlist and the unit reports are scoped as every admin read is (gateway/views.py
`in_scope`); the winners' list is what the organisers publish to every member."""
from __future__ import annotations

import io
from datetime import datetime

from marshmallow import Schema, fields, validate
from werkzeug.wrappers import Response

from gateway.entrypoints import http
from gateway.schemas import XLSX, CampaignQuery
from gateway.views import in_scope
from kernel.errors import Conflict, Forbidden, NotFound
from kernel.sheets import sheet_row
from services.awards.ledger import duration

API = "/api/v1"
ADMIN = f"{API}/admin"
MONTH = validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="a month is YYYY-MM")
PAID_OR_PAYABLE = ("granted", "paid")  # held (under review) and revoked awards are not published
WINNER_PLACES = 30  # R16: the federation's places 1-30


# -- queries and answers -------------------------------------------------------------------------

class MonthQuery(CampaignQuery):
    month = fields.Str(load_default=None, validate=MONTH,
                       metadata={"description": "a closed month (YYYY-MM); default: the live "
                                 "standings (shortlist) or the last closed month (winners)"})


class UnitReportQuery(CampaignQuery):
    unit_id = fields.Str(load_default=None, validate=validate.Length(min=1, max=36),
                         metadata={"description": "one unit or organ branch (default: every "
                                   "one the administrator sees, a sheet each)"})


class ShortlistRowOut(Schema):
    place = fields.Int()
    member_id = fields.Str()
    name = fields.Str(allow_none=True)
    unit_name = fields.Str(allow_none=True)
    branch_name = fields.Str(allow_none=True)
    department = fields.Str(allow_none=True)
    phone = fields.Str(allow_none=True)  # masked, full for system administrators
    levels = fields.Int()
    total_ms = fields.Int()
    at = fields.Str(allow_none=True)
    open_flags = fields.Int()  # flags not reviewed yet: marked on the list


class ShortlistPageOut(Schema):
    campaign_id = fields.Str()
    month = fields.Str(allow_none=True)  # None: the live standings
    final = fields.Bool()  # the campaign's last month closed: the list no longer changes
    cutoff = fields.Str(allow_none=True)
    size = fields.Int()
    full_phones = fields.Bool()
    items = fields.List(fields.Nested(ShortlistRowOut))


class FiguresOut(Schema):
    month = fields.Str()
    expected = fields.Int()
    participants = fields.Int()
    levels_passed = fields.Int()
    participation = fields.Float()
    results = fields.Float()
    score = fields.Float()
    rank = fields.Int()


class AbsentOut(Schema):
    member_id = fields.Str()
    name = fields.Str(allow_none=True)
    department = fields.Str(allow_none=True)
    place = fields.Str(allow_none=True)  # where they sit (their branch or unit)


class UnitReportRowOut(Schema):
    org_unit_id = fields.Str()
    name = fields.Str()
    kind = fields.Str()  # unit | branch
    now = fields.Nested(FiguresOut)
    months = fields.List(fields.Nested(FiguresOut))
    not_played = fields.List(fields.Nested(AbsentOut))


class UnitReportsOut(Schema):
    campaign_id = fields.Str()
    levels = fields.Int()
    months = fields.List(fields.Str())
    organisations = fields.List(fields.Nested(UnitReportRowOut))


class WinnerOut(Schema):
    place = fields.Int()
    name = fields.Str()  # masked as published: 张*、李*明
    unit_name = fields.Str(allow_none=True)
    levels = fields.Int(allow_none=True)
    total_ms = fields.Int(allow_none=True)
    amount_cny = fields.Int(allow_none=True)


class AnnualWinnersOut(Schema):
    champion = fields.Nested(WinnerOut, allow_none=True)
    units = fields.List(fields.Str())  # the excellent units' names, in their order
    branches = fields.List(fields.Str())


class WinnersOut(Schema):
    campaign_id = fields.Str(allow_none=True)
    month = fields.Str(allow_none=True)  # None: no month closed yet
    months = fields.List(fields.Str())  # the closed months, newest first
    champion = fields.Nested(WinnerOut, allow_none=True)
    places = fields.List(fields.Nested(WinnerOut))
    annual = fields.Nested(AnnualWinnersOut, allow_none=True)  # after the campaign's end


# -- pure helpers ----------------------------------------------------------------------------------

def mask_name(name: str | None) -> str:
    """A name as a published list shows it: the first character, and the last of a name of
    three or more (张*、李*明、欧**娜)."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name or "—"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def places_of(nodes: list[dict]):
    """A function from an org unit id to (unit name, branch name, its own name): the unit
    and the organ branch above (or at) it in the tree; an organ branch outside any unit
    belongs to its organisation's offices, so the organisation stands as its unit."""
    by_id = {node["id"]: node for node in nodes}

    def place(node_id):
        unit = branch = organisation = None
        own = by_id.get(node_id, {}).get("name")
        while node_id in by_id:
            node = by_id[node_id]
            if node["kind"] == "unit" and unit is None:
                unit = node["name"]
            if node["kind"] == "branch" and branch is None:
                branch = node["name"]
            if node["kind"] == "organisation" and organisation is None:
                organisation = node["name"]
            node_id = node.get("parent_id")
        return unit or (organisation if branch else None), branch, own
    return place


def _book():
    from openpyxl import Workbook
    book = Workbook()
    book.remove(book.active)
    return book


def _sheet(book, title: str, heading: str, headers: list[str], widths: tuple):
    from openpyxl.styles import Font
    # a sheet's title: at most 31 characters, none of []:*?/\, no apostrophe at either end
    safe = "".join(c for c in title if c not in "[]:*?/\\")[:31].strip("'") or "Sheet"
    sheet = book.create_sheet(safe)
    sheet.append(sheet_row(sheet, [heading]))
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(sheet_row(sheet, headers))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    return sheet


def _bold_last(sheet) -> None:
    from openpyxl.styles import Font
    sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)


def _download(book, filename: str) -> Response:
    out = io.BytesIO()
    book.save(out)
    return Response(out.getvalue(), mimetype=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


SHORTLIST_HEADERS = ["名次", "姓名", "单位", "支部", "部门", "手机号", "闯关数", "用时",
                     "最后通关时间", "备注"]


def shortlist_workbook(page: dict) -> object:
    book = _book()
    state = "最终名单" if page["final"] else "暂定名单"
    when = f"{page['month']} 月末" if page["month"] else "当前排名"
    sheet = _sheet(book, "现场赛入围名单", f"现场赛入围名单（{state}，{when}，前 {page['size']} 名）",
                   SHORTLIST_HEADERS, (6, 10, 18, 18, 14, 14, 8, 14, 20, 24))
    for row in page["items"]:
        sheet.append(sheet_row(sheet, [
            row["place"], row["name"], row["unit_name"] or "", row["branch_name"] or "",
            row["department"] or "", row["phone"] or "", row["levels"], duration(row["total_ms"]),
            (row["at"] or "")[:19].replace("T", " "),
            f"有 {row['open_flags']} 条异常记录待复核" if row["open_flags"] else ""]))
    sheet.append([])
    sheet.append(sheet_row(sheet, ["合计", f"{len(page['items'])} 人", "", "", "", "", "", "",
                                   "", f"待复核 {sum(1 for r in page['items'] if r['open_flags'])} 人"]))
    _bold_last(sheet)
    return book


REPORT_HEADERS = ["月份", "应参加人数", "已参加人数", "参与率", "成绩", "综合分", "排名", "通关总数"]
KINDS = {"unit": "直属单位", "branch": "机关支部"}


def _figures_row(label, f) -> list:
    return [label, f["expected"], f["participants"], round(f["participation"], 4),
            round(f["results"], 4), round(f["score"], 4), f["rank"], f["levels_passed"]]


def _percent(sheet) -> None:
    for row in sheet.iter_rows(min_row=3, max_row=sheet.max_row, min_col=4, max_col=5):
        for cell in row:
            if isinstance(cell.value, float):
                cell.number_format = "0.0%"


def unit_report_workbook(report: dict, organisations: list[dict]) -> object:
    """A sheet per unit or organ branch (its figures month by month, then who has not
    played), after a summary sheet when there are several."""
    book = _book()
    if len(organisations) > 1:
        sheet = _sheet(book, "汇总", "各单位、支部参与情况汇总（截至目前）",
                       ["单位/支部", "类型", *REPORT_HEADERS[1:], "未参加人数"],
                       (22, 10, 10, 10, 9, 9, 9, 6, 9, 10))
        for org in organisations:
            sheet.append(sheet_row(sheet, [org["name"], KINDS.get(org["kind"], org["kind"]),
                                           *_figures_row("", org["now"])[1:],
                                           len(org["not_played"])]))
        sheet.append([])
        sheet.append(sheet_row(sheet, ["合计", "", sum(o["now"]["expected"] for o in organisations),
                                       sum(o["now"]["participants"] for o in organisations),
                                       "", "", "", "", sum(o["now"]["levels_passed"]
                                                           for o in organisations),
                                       sum(len(o["not_played"]) for o in organisations)]))
        _bold_last(sheet)
        for row in sheet.iter_rows(min_row=3, max_row=sheet.max_row, min_col=5, max_col=6):
            for cell in row:
                if isinstance(cell.value, float):
                    cell.number_format = "0.0%"
    for org in organisations:
        sheet = _sheet(book, org["name"], f"{org['name']} 月度参与情况报告（共 {report['levels']} 关）",
                       REPORT_HEADERS, (18, 12, 12, 10, 10, 10, 8, 10))
        for figures in org["months"]:
            sheet.append(sheet_row(sheet, _figures_row(f"{figures['month']} 月末", figures)))
        sheet.append(sheet_row(sheet, _figures_row("截至目前", org["now"])))
        _bold_last(sheet)
        _percent(sheet)
        sheet.append([])
        sheet.append(sheet_row(sheet, [f"尚未参加人员（{len(org['not_played'])} 人）"]))
        _bold_last(sheet)
        sheet.append(sheet_row(sheet, ["姓名", "部门", "所在单位/支部"]))
        for member in org["not_played"]:
            sheet.append(sheet_row(sheet, [member["name"] or "", member["department"] or "",
                                           member["place"] or ""]))
    if not organisations:
        _sheet(book, "报告", "没有可查看的单位或支部", [], ())
    return book


def winners_workbook(winners: dict) -> object:
    book = _book()
    sheet = _sheet(book, f"{winners['month']} 获奖名单", f"{winners['month']} 月度获奖名单",
                   ["名次", "姓名", "单位", "闯关数", "用时", "奖金（元）"],
                   (8, 10, 24, 8, 14, 10))
    champion = winners["champion"]
    if champion:
        sheet.append(sheet_row(sheet, ["月度冠军", champion["name"], champion["unit_name"] or "",
                                       champion["levels"], duration(champion["total_ms"]), ""]))
    for row in winners["places"]:
        sheet.append(sheet_row(sheet, [row["place"], row["name"], row["unit_name"] or "",
                                       row["levels"], duration(row["total_ms"]),
                                       row["amount_cny"]]))
    sheet.append([])
    sheet.append(sheet_row(sheet, ["合计", f"{len(winners['places'])} 人", "", "", "",
                                   sum(r["amount_cny"] or 0 for r in winners["places"])]))
    _bold_last(sheet)
    annual = winners.get("annual")
    if annual:
        sheet = _sheet(book, "年度表彰", "年度表彰名单", ["奖项", "名称", "单位"], (14, 24, 24))
        if annual["champion"]:
            sheet.append(sheet_row(sheet, ["年度个人冠军", annual["champion"]["name"],
                                           annual["champion"]["unit_name"] or ""]))
        for label, names in (("优秀直属单位", annual["units"]), ("优秀机关支部", annual["branches"])):
            for name in names:
                sheet.append(sheet_row(sheet, [label, name, ""]))
    return book


# -- the routes ------------------------------------------------------------------------------------

class OutputRoutes:
    """Mixed into gateway.service.GatewayService."""

    # 1. R6/R17: the live contest's shortlist ------------------------------------------------

    @http("GET", f"{ADMIN}/shortlist", auth=True, query=MonthQuery, response=ShortlistPageOut)
    def admin_shortlist(self, request, member_id, query):
        """R6/R17: the live contest's shortlist: the first N eligible members (N: the award
        settings' `shortlist_size`) of the current standings (provisional) or of a closed
        month's board (final once the campaign's last month is closed), with unit, branch,
        department, phone (masked; full for system administrators), levels and time;
        members with a flag not yet reviewed marked. The disqualified and those the
        settings make ineligible are left out. An administrator sees the rows of their
        part of the organisation."""
        return ShortlistPageOut().dump(self._shortlist(member_id, query))

    @http("GET", f"{ADMIN}/shortlist.xlsx", auth=True, query=MonthQuery, response=XLSX)
    def admin_shortlist_xlsx(self, request, member_id, query):
        """The shortlist as XLSX (the rows the JSON shows the same administrator)."""
        page = self._shortlist(member_id, query)
        return _download(shortlist_workbook(page),
                         f"shortlist-{page['month'] or 'live'}.xlsx")

    def _closed_month(self, campaign_id, month):
        """The closed month's row of ranking's calendar (409 month_open while it is not)."""
        row = next((m for m in self.ranking.months(campaign_id) if m["month"] == month), None)
        if row is None:
            raise NotFound(f"{month} is not a month of this campaign", fields={"month": [month]})
        # a month before its cutoff is open whatever ranking holds; after, until it is closed
        if not row["closed"] or self.clock.now() <= datetime.fromisoformat(row["cutoff"]):
            raise Conflict(f"{month} is not closed yet", reason="month_open",
                           fields={"month": [month]})
        return row

    def _shortlist(self, member_id, query):
        who = self.roster.authorize(member_id)
        campaign = self.question_bank.get_campaign(query["campaign_id"])
        campaign_id, month = campaign["campaign_id"], query["month"]
        closed = self._closed_month(campaign_id, month) if month else None
        short = self.awards.shortlist(campaign_id, month)
        ids = [entry["member_id"] for entry in short["entries"]]
        where = self.roster.member_places(ids) if ids else {}
        place = places_of(self.roster.org_tree())
        full = any(role["role"] == "system_admin" for role in who["roles"])
        phones = self.roster.contact_phones(member_id, ids) if full and ids else {}
        flagged = self._open_flags() if ids else {}
        items = []
        for entry in short["entries"]:
            member = where.get(entry["member_id"], {})
            unit, branch, _ = place(member.get("org_unit_id"))
            items.append({
                "place": entry["place"], "member_id": entry["member_id"],
                "name": member.get("name") or entry.get("name"),
                "unit_name": unit or entry.get("unit_name"), "branch_name": branch,
                "department": member.get("department"),
                "phone": phones.get(entry["member_id"]) or entry.get("phone_masked"),
                "levels": entry["levels"], "total_ms": entry["total_ms"],
                "at": entry.get("at"), "open_flags": flagged.get(entry["member_id"], 0),
                "org_unit_id": member.get("org_unit_id")})
        return {"campaign_id": campaign_id, "month": month,
                "final": bool(closed and closed.get("final")),
                "cutoff": closed.get("cutoff") if closed else None, "size": short["size"],
                "full_phones": full, "items": in_scope(items, who["visible"])}

    def _open_flags(self) -> dict[str, int]:
        """{member id: flags not reviewed yet}, every member's (the caller scopes its rows)."""
        counts: dict[str, int] = {}
        offset = 0
        while True:
            page = self.attempts.flags(None, 500, offset, False)
            for flag in page["items"]:
                counts[flag["member_id"]] = counts.get(flag["member_id"], 0) + 1
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                return counts

    # 2. R19: the units' reports ---------------------------------------------------------------

    @http("GET", f"{ADMIN}/reports/units", auth=True, query=CampaignQuery,
          response=UnitReportsOut)
    def admin_unit_reports(self, request, member_id, query):
        """R19: every unit and organ branch the administrator sees (a unit's administrator:
        their unit): members expected, playing, the participation rate, results and the
        score R18 would give, now and at every closed month's cutoff, and the expected
        members who have not played yet (whom to chase)."""
        return UnitReportsOut().dump(self._unit_reports(member_id, query["campaign_id"]))

    @http("GET", f"{ADMIN}/reports/units.xlsx", auth=True, query=UnitReportQuery,
          response=XLSX)
    def admin_unit_reports_xlsx(self, request, member_id, query):
        """The units' reports as XLSX: with `unit_id`, that unit's month by month and who
        has not played; without, a sheet per unit or branch the administrator sees, after a
        summary sheet."""
        report = self._unit_reports(member_id, query["campaign_id"], query["unit_id"])
        return _download(unit_report_workbook(report, report["organisations"]),
                         f"unit-report-{query['unit_id'] or 'all'}.xlsx")

    def _unit_reports(self, member_id, campaign_id=None, unit_id=None):
        who = self.roster.authorize(member_id)
        campaign = self.question_bank.get_campaign(campaign_id)
        report = self.awards.with_timeout(300).unit_report(campaign["campaign_id"])
        nodes = self.roster.org_tree()
        names = {node["id"]: node["name"] for node in nodes}
        organisations = report["organisations"]
        if unit_id is not None:
            organisations = [o for o in organisations if o["org_unit_id"] == unit_id]
            if not organisations:
                raise NotFound("no such unit or organ branch", fields={"unit_id": [unit_id]})
            if not in_scope(organisations, who["visible"]):
                raise Forbidden(f"{unit_id} is outside your part of the organisation",
                                reason="outside_scope")
        organisations = in_scope(organisations, who["visible"])
        inside = {o["org_unit_id"] for o in organisations}
        absent = [m for m in report["not_played"] if inside & set(m["org_path"])]
        where = self.roster.member_places([m["member_id"] for m in absent]) if absent else {}
        rows = []
        for org in organisations:
            chase = [{"member_id": m["member_id"], "name": where.get(m["member_id"], {}).get("name"),
                      "department": where.get(m["member_id"], {}).get("department"),
                      "place": names.get(m["org_path"][-1]) if m["org_path"] else None}
                     for m in absent if org["org_unit_id"] in m["org_path"]]
            rows.append(dict(org, name=names.get(org["org_unit_id"], org["org_unit_id"]),
                             not_played=sorted(chase, key=lambda m: (m["place"] or "",
                                                                     m["name"] or ""))))
        return {"campaign_id": report["campaign_id"], "levels": report["levels"],
                "months": report["months"], "organisations": rows}

    # 5. the winners' list (表彰名单) -------------------------------------------------------------

    @http("GET", f"{API}/winners", auth=True, query=MonthQuery, response=WinnersOut)
    def winners(self, request, member_id, query):
        """The winners' list as the organisers publish it, to every member: a closed
        month's champion and places 1–30 (the last closed month by default), each with
        their unit and masked name; after the campaign's end the annual champion and the
        excellent units and organ branches. Awards held for review or revoked (and so the
        disqualified and the ineligible, who were never granted one) are not listed."""
        return WinnersOut().dump(self._winners(query))

    @http("GET", f"{ADMIN}/winners.xlsx", auth=True, query=MonthQuery, response=XLSX)
    def admin_winners_xlsx(self, request, member_id, query):
        """The winners' list as XLSX for the notice board (administrators)."""
        self.roster.authorize(member_id)
        winners = self._winners(query)
        if winners["month"] is None:
            raise Conflict("no month is closed yet", reason="month_open")
        return _download(winners_workbook(winners), f"winners-{winners['month']}.xlsx")

    def _winners(self, query):
        campaign = self.question_bank.get_campaign(query["campaign_id"])
        campaign_id = campaign["campaign_id"]
        months = self.ranking.months(campaign_id)
        closed = [m["month"] for m in months if m["closed"]][::-1]
        month = query["month"]
        if month:
            self._closed_month(campaign_id, month)
        else:
            month = closed[0] if closed else None
        out = {"campaign_id": campaign_id, "month": month, "months": closed,
               "champion": None, "places": [], "annual": None}
        if month is None:
            return out
        out_now = self._disqualified_now()
        published = [a for a in self.awards.awards_of_period(campaign_id, month)
                     if a["status"] in PAID_OR_PAYABLE and a.get("member_id")
                     and a["member_id"] not in out_now and _organisations(campaign, a)]
        champion = next((a for a in published if a["kind"] == "monthly_champion"), None)
        out["champion"] = _winner(champion) if champion else None
        out["places"] = sorted((_winner(a) for a in published if a["kind"] == "monthly_prize"
                                and a["rank"] <= WINNER_PLACES), key=lambda w: w["place"])
        if months and months[-1]["closed"]:
            out["annual"] = self._annual_winners(campaign, out_now)
        return out

    def _disqualified_now(self) -> set:
        """The members disqualified now (R20): a paid award is never revoked, so the list
        leaves them out itself."""
        return {c["member_id"] for c in self.roster.disqualifications()
                if not c.get("reinstated_at")}

    def _annual_winners(self, campaign, out_now: set):
        campaign_id = campaign["campaign_id"]
        try:
            results = self.awards.annual_results(campaign_id)
        except NotFound:
            return None
        names = {node["id"]: node["name"] for node in self.roster.org_tree()}
        titles = [a for a in self.awards.awards_of_period(campaign_id, "annual")
                  if a["kind"] == "annual_champion" and a["status"] in PAID_OR_PAYABLE
                  and a.get("member_id") not in out_now and _organisations(campaign, a)]
        champion = None
        if titles:
            member = titles[0]["member_id"]
            place = self.roster.member_places([member]).get(member, {})
            unit, branch, _ = places_of(self.roster.org_tree())(place.get("org_unit_id"))
            champion = {"place": 1, "name": mask_name(place.get("name")),
                        "unit_name": branch or unit, "levels": titles[0].get("levels"),
                        "total_ms": titles[0].get("total_ms"), "amount_cny": None}
        return {"champion": champion,
                "units": [names.get(r["org_unit_id"], r["org_unit_id"])
                          for r in results["units"] if r.get("excellent")],
                "branches": [names.get(r["org_unit_id"], r["org_unit_id"])
                             for r in results["branches"] if r.get("excellent")]}


def _organisations(campaign: dict, award: dict) -> bool:
    """Whether the award is one of the campaign organisation's own (the policy's
    `federation` scope, or none: the annual champion's), not a unit's prize of its own
    board."""
    return not campaign.get("organisation_id") \
        or award.get("scope_id") in (None, campaign["organisation_id"])


def _winner(award: dict) -> dict:
    return {"place": award["rank"], "name": mask_name(award.get("name")),
            "unit_name": award.get("unit_name"), "levels": award.get("levels"),
            "total_ms": award.get("total_ms"), "amount_cny": award.get("amount_cny")}
