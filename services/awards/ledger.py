"""The month's award ledger as a finance office wants it: one row per award, Chinese headers,
amounts in yuan, its 状态 (待发放 payable, 待审核 held for review and why, 已发放, 已撤销) and
totals: what is payable counts payable awards only (待发放 and 已发放), held and revoked
awards are shown but not counted. Every text goes in as text (`kernel.sheets.sheet_row`):
a member's name is never a formula."""
from __future__ import annotations

import io

from kernel.sheets import sheet_row

STATUS = {"granted": "待发放", "held": "待审核", "paid": "已发放", "revoked": "已撤销"}
FLAG_REASONS = {"fast_pass": "答题用时过短", "bank_exposure": "已看过题库大部分题目"}
FLAG_STATES = {"open": "待复核", "upheld": "复核认定异常，待取消资格决定"}
PAYABLE = ("granted", "paid")
KINDS = {"monthly_champion": "月度冠军", "monthly_prize": "月度奖励"}
HEADERS = ["名次", "奖项", "姓名", "单位", "部门", "手机号", "闯关数", "用时", "金额（元）",
           "状态", "备注", "签收"]
# what a spreadsheet shows a number as: a time as hours to the millisecond, money in yuan,
# a rate as a percentage, an instant as the campaign's local date and time
TIME_FORMAT = "[h]:mm:ss.000"
MONEY_FORMAT = "#,##0.00"
PERCENT_FORMAT = "0.00%"
WHEN_FORMAT = "yyyy-mm-dd hh:mm"
MS_A_DAY = 86_400_000


def duration(ms: int | None) -> str:
    if ms is None:
        return ""
    seconds = ms // 1000
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{ms % 1000:03d}"


def day_fraction(ms: int | None) -> float | None:
    """A duration as a spreadsheet's time: a number of days, shown by TIME_FORMAT."""
    return None if ms is None else ms / MS_A_DAY


def _table(sheet, header_row: int, formats: dict[str, str], widths: dict[str, int]) -> None:
    """The header row bold and frozen, a filter over the header and the rows under it, the
    columns' number formats (`formats`: letter -> format) and widths."""
    from openpyxl.styles import Font

    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1).coordinate
    last = sheet.max_row
    while last > header_row and all(c.value in (None, "") for c in sheet[last]):
        last -= 1
    letter = sheet.cell(row=header_row, column=sheet.max_column).column_letter
    sheet.auto_filter.ref = f"A{header_row}:{letter}{max(last, header_row)}"
    for column, number_format in formats.items():
        for (cell,) in sheet.iter_rows(min_row=header_row + 1, min_col=sheet[f"{column}1"].column,
                                       max_col=sheet[f"{column}1"].column):
            if isinstance(cell.value, (int, float)) or hasattr(cell.value, "year"):
                cell.number_format = number_format
    for column, width in widths.items():
        sheet.column_dimensions[column].width = width


def _about(departments: dict, member_id) -> tuple[str, str | None]:
    """What roster says of a member for the ledger: their department, and their full phone
    when the reader may see it (the gateway passes {department, phone}; a bare string is a
    department)."""
    about = departments.get(member_id) or ""
    if isinstance(about, dict):
        return about.get("department") or "", about.get("phone")
    return about, None


def workbook(period: str, awards: list[dict], departments: dict) -> bytes:
    """The month's ledger: one row an award, 签收 left for the payee's signature; 用时 a time
    and 金额 a number, the header frozen and filtered, the totals under the table."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = period
    sheet.append([f"{period} 月度奖励台账"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(HEADERS)
    for award in awards:
        department, phone = _about(departments, award.get("member_id"))
        sheet.append(sheet_row(sheet, [
            award["rank"], KINDS.get(award["kind"], award["kind"]), award.get("name"),
            award.get("unit_name"), department, phone or award.get("phone_masked"),
            award.get("levels"), day_fraction(award.get("total_ms")),
            award.get("amount_cny"), STATUS.get(award["status"], award["status"]),
            remark(award), ""]))
    _table(sheet, 2, {"H": TIME_FORMAT, "I": MONEY_FORMAT},
           dict(zip("ABCDEFGHIJKL", (6, 10, 10, 18, 12, 14, 8, 14, 11, 8, 30, 14))))
    sheet.append([])
    for label, statuses, note in (("待审核", ("held",), "不计入合计：待复核异常记录"),
                                  ("已发放", ("paid",), ""), ("待发放", ("granted",), ""),
                                  ("合计", PAYABLE, "可发放：不含待审核、已撤销")):
        rows = [a for a in awards if a["status"] in statuses]
        sheet.append([label, f"{len(rows)} 项", "", "", "", "", "", "",
                      sum(a.get("amount_cny") or 0 for a in rows), "", note])
        sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
        sheet.cell(row=sheet.max_row, column=9).number_format = MONEY_FORMAT
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def remark(award: dict) -> str:
    """备注: why an award is held (its member's flags), or what an administrator should know
    of a paid one, or why it was revoked."""
    if award["status"] == "held":
        flags = award.get("held_for") or []
        why = "；".join(
            f"{FLAG_REASONS.get(f.get('reason'), '异常记录')}"
            f"{'（第' + str(f['level']) + '关）' if f.get('level') else ''}"
            f"，{FLAG_STATES.get(f.get('state'), '待复核')}" for f in flags)
        return f"待审核：{why or '有待复核的异常记录'}"
    from .grants import reason_zh  # grants reads this module's remark for its answers

    return award.get("attention") or reason_zh(award.get("reason"))


ORG_KINDS = (("units", "直属单位"), ("branches", "机关支部"))
PARTICIPATION = {"required": "必参", "voluntary": "自愿参加", "withdrawn": "已退出"}
MEMBER_STATUS = {"active": "在册", "inactive": "已停用"}


def _standing(standing: dict, names: dict) -> str:
    """A member's participation, status and place as the committee reads them."""
    return "，".join([PARTICIPATION.get(standing["participation"], standing["participation"]),
                     MEMBER_STATUS.get(standing["status"], standing["status"]),
                     names.get(standing["org_unit_id"], standing["org_unit_id"])])


def _removals_sheet(book, results: dict, names: dict, time_zone: str) -> None:
    """R18: per unit and organ branch, the members who left its denominator during the
    campaign, from what to what, who did it and when (campaign time)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    sheet = book.create_sheet("年内移出应参加人员")
    sheet.append(["类别", "单位/支部", "姓名", "手机号", "变更前", "变更后", "操作人", "时间",
                  "年末是否计入"])
    for kind, label in ORG_KINDS:
        for row in results.get(kind, []):
            for removed in row.get("removed", []):
                at = datetime.fromisoformat(removed["at"]).astimezone(ZoneInfo(time_zone))
                sheet.append(sheet_row(sheet, [
                    label, names.get(row["org_unit_id"], row["org_unit_id"]), removed["name"],
                    removed["phone_masked"], _standing(removed["before"], names),
                    _standing(removed["after"], names), removed["by_name"] or "系统",
                    at.replace(tzinfo=None, microsecond=0),
                    "是（已恢复）" if removed["counted_at_close"] else "否"]))
    _table(sheet, 1, {"H": WHEN_FORMAT},
           dict(zip("ABCDEFGHI", (10, 20, 10, 14, 26, 26, 12, 17, 12))))


def _number(value) -> float | None:
    """A figure the results carry as exact text ("0.5", "1/3" never) as a spreadsheet
    number."""
    return None if value in (None, "") else float(value)


def annual_workbook(results: dict, names: dict, champion_name: str | None,
                    time_zone: str = "Asia/Shanghai") -> bytes:
    """R17/R18 for the committee: the champion, then units and organ branches with every
    figure behind their scores; a second sheet lists the members who left each one's
    denominator during the campaign and who took them out."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "年度结果"
    sheet.append(["年度结果"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(sheet_row(sheet, ["个人总冠军", champion_name or "（无）"]))
    sheet.append([])
    headers = ["类别", "名次", "单位/支部", "应参加人数", "参加人数", "参与率", "闯关成绩",
               "综合得分", "优秀组织", "其中取消资格", "年内移出人数"]
    sheet.append(headers)
    header_row = sheet.max_row
    for kind, label in ORG_KINDS:
        for row in results.get(kind, []):
            sheet.append(sheet_row(sheet, [
                label, row["rank"], names.get(row["org_unit_id"], row["org_unit_id"]),
                row["expected"], row["participants"], _number(row["participation"]["value"]),
                _number(row["results"]["value"]), _number(row["score"]["value"]),
                "是" if row["excellent"] else "", row.get("disqualified", 0),
                len(row.get("removed", []))]))
    # R18's rates as percentages, the score as the number it is
    _table(sheet, header_row, {"F": PERCENT_FORMAT, "G": PERCENT_FORMAT, "H": "0.0000"},
           dict(zip("ABCDEFGHIJK", (10, 6, 20, 10, 10, 10, 10, 10, 10, 12, 12))))
    _removals_sheet(book, results, names, time_zone)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
