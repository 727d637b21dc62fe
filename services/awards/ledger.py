"""The month's award ledger as a finance office wants it: one row per award, Chinese headers,
amounts in yuan, a total of what is payable, revoked awards shown but not counted. Every
text goes in as text (`kernel.sheets.sheet_row`): a member's name is never a formula."""
from __future__ import annotations

import io

from kernel.sheets import sheet_row

STATUS = {"granted": "待发放", "paid": "已发放", "revoked": "已撤销"}
KINDS = {"monthly_champion": "月度冠军", "monthly_prize": "月度奖励"}
HEADERS = ["名次", "奖项", "姓名", "单位", "部门", "手机号", "闯关数", "用时", "金额（元）",
           "状态", "备注"]


def duration(ms: int | None) -> str:
    if ms is None:
        return ""
    seconds = ms // 1000
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{ms % 1000:03d}"


def workbook(period: str, awards: list[dict], departments: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = period
    sheet.append([f"{period} 月度奖励台账"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(HEADERS)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    payable = 0
    for award in awards:
        amount = award.get("amount_cny")
        if award["status"] != "revoked" and amount:
            payable += amount
        sheet.append(sheet_row(sheet, [
            award["rank"], KINDS.get(award["kind"], award["kind"]), award.get("name"),
            award.get("unit_name"), departments.get(award.get("member_id"), ""),
            award.get("phone_masked"), award.get("levels"), duration(award.get("total_ms")),
            amount, STATUS.get(award["status"], award["status"]),
            award.get("attention") or award.get("reason") or ""]))
    sheet.append([])
    sheet.append(["合计", f"{sum(1 for a in awards if a['status'] != 'revoked')} 项", "", "", "",
                  "", "", "", payable, "", "不含已撤销"])
    sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
    for column, width in zip("ABCDEFGHIJK", (6, 10, 10, 18, 12, 14, 8, 14, 10, 8, 30)):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


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

    from openpyxl.styles import Font

    sheet = book.create_sheet("年内移出应参加人员")
    sheet.append(["类别", "单位/支部", "姓名", "手机号", "变更前", "变更后", "操作人", "时间",
                  "年末是否计入"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for kind, label in ORG_KINDS:
        for row in results.get(kind, []):
            for removed in row.get("removed", []):
                at = datetime.fromisoformat(removed["at"]).astimezone(ZoneInfo(time_zone))
                sheet.append(sheet_row(sheet, [
                    label, names.get(row["org_unit_id"], row["org_unit_id"]), removed["name"],
                    removed["phone_masked"], _standing(removed["before"], names),
                    _standing(removed["after"], names), removed["by_name"] or "系统",
                    at.strftime("%Y-%m-%d %H:%M"),
                    "是（已恢复）" if removed["counted_at_close"] else "否"]))
    for column, width in zip("ABCDEFGHI", (10, 20, 10, 14, 26, 26, 12, 17, 12)):
        sheet.column_dimensions[column].width = width


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
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for kind, label in ORG_KINDS:
        for row in results.get(kind, []):
            sheet.append(sheet_row(sheet, [
                label, row["rank"], names.get(row["org_unit_id"], row["org_unit_id"]),
                row["expected"], row["participants"], row["participation"]["value"],
                row["results"]["value"], row["score"]["value"], "是" if row["excellent"] else "",
                row.get("disqualified", 0), len(row.get("removed", []))]))
    for column, width in zip("ABCDEFGHIJK", (10, 6, 20, 10, 10, 10, 10, 10, 10, 12, 12)):
        sheet.column_dimensions[column].width = width
    _removals_sheet(book, results, names, time_zone)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
