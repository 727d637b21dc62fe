"""The finance ledger and the annual workbook as a finance office and the committee use them
(issue 21 item 11), read back with openpyxl: the payee's contact (the full phone only when the
gateway passes it), a 签收 column, times as spreadsheet times and rates as percentages (numbers
with a number format, not text), the header frozen and filtered."""
import io
from datetime import datetime, timedelta

import openpyxl

from services.awards.ledger import annual_workbook, workbook

AWARDS = [
    {"rank": 1, "kind": "monthly_champion", "name": "张三", "unit_name": "省产业工会",
     "member_id": "m1", "phone_masked": "138****0001", "levels": 3, "total_ms": 3_723_456,
     "amount_cny": 500, "status": "granted"},
    {"rank": 2, "kind": "monthly_prize", "name": "李四", "unit_name": "省教科文卫工会",
     "member_id": "m2", "phone_masked": "138****0002", "levels": 3, "total_ms": 605_000,
     "amount_cny": 100, "status": "paid"},
]


def ledger(departments):
    return openpyxl.load_workbook(io.BytesIO(workbook("2018-05", AWARDS, departments))).active


def test_the_ledger_has_contacts_a_signature_column_and_real_times():
    sheet = ledger({"m1": {"department": "办公室", "phone": "13800000001"},
                    "m2": {"department": "财务处", "phone": None}})
    headers = [c.value for c in sheet[2]]
    assert headers[-1] == "签收" and headers[5] == "手机号"
    first, second = ([c for c in sheet[row]] for row in (3, 4))
    # a system administrator's ledger: the full phone where roster gave it, else masked
    assert first[5].value == "13800000001" and second[5].value == "138****0002"
    assert first[4].value == "办公室"
    # 1:02:03.456 as a time the spreadsheet can add up, shown to the millisecond
    # (stored as a number of days; openpyxl reads a number with a time format as a time)
    assert first[7].value == timedelta(hours=1, minutes=2, seconds=3, milliseconds=456)
    assert first[7].number_format == "[h]:mm:ss.000"
    assert first[8].value == 500 and first[8].number_format == "#,##0.00"
    assert first[11].value in (None, "")  # signed on paper
    assert sheet.freeze_panes == "A3"
    assert sheet.auto_filter.ref == "A2:L4"


def test_a_department_alone_still_reads_as_before():
    sheet = ledger({"m1": "办公室"})
    assert sheet["E3"].value == "办公室" and sheet["F3"].value == "138****0001"


def test_the_annual_workbook_shows_rates_as_percentages_and_times_as_times():
    def figure(value):
        return {"exact": str(value), "value": value}

    results = {"units": [{"rank": 1, "org_unit_id": "u1", "expected": 10, "participants": 8,
                          "participation": figure(0.8), "results": figure(0.5),
                          "score": figure(0.65), "excellent": True, "removed": [{
                              "name": "王五", "phone_masked": "138****0003",
                              "before": {"participation": "required", "status": "active",
                                         "org_unit_id": "u1"},
                              "after": {"participation": "withdrawn", "status": "active",
                                        "org_unit_id": "u1"},
                              "by_name": "管理员", "at": "2018-06-01T02:30:00+00:00",
                              "counted_at_close": False}]}],
               "branches": []}
    book = openpyxl.load_workbook(io.BytesIO(annual_workbook(results, {"u1": "省产业工会"},
                                                             "张三")))
    sheet = book["年度结果"]
    header = next(r for r in range(1, 6) if sheet.cell(row=r, column=1).value == "类别")
    row = [c for c in sheet[header + 1]]
    assert row[5].value == 0.8 and row[5].number_format == "0.00%"
    assert row[6].value == 0.5 and row[6].number_format == "0.00%"
    assert sheet.freeze_panes == f"A{header + 1}"
    assert sheet.auto_filter.ref == f"A{header}:K{header + 1}"
    removals = book["年内移出应参加人员"]
    when = removals["H2"]
    assert when.value == datetime(2018, 6, 1, 10, 30) and when.number_format == "yyyy-mm-dd hh:mm"
    assert removals.freeze_panes == "A2" and removals.auto_filter.ref == "A1:I2"
