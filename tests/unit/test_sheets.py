"""Files people bring: encodings, formats, limits; one clear error for what is not a sheet."""
import io
import json

import pytest
from openpyxl import Workbook

from kernel.sheets import SheetError, read_rows

COLUMNS = {"姓名": "name", "name": "name", "部门": "department", "department": "department",
           "手机号码": "phone", "phone": "phone", "备注": "remarks", "remarks": "remarks"}
SEED_SHEET = "姓名,部门,手机号码,备注\n张三,办公室,13900000000,管理员\n李四,组织部,139000000000,\n"


def test_gbk_csv_as_excel_in_china_writes_it():
    rows = read_rows(SEED_SHEET.encode("gbk"), "members.csv", COLUMNS)
    assert rows == [
        {"name": "张三", "department": "办公室", "phone": "13900000000", "remarks": "管理员"},
        {"name": "李四", "department": "组织部", "phone": "139000000000", "remarks": ""}]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_utf8_with_and_without_bom(encoding):
    rows = read_rows(SEED_SHEET.encode(encoding), "members.csv", COLUMNS)
    assert rows[0]["name"] == "张三" and len(rows) == 2


def test_english_headers_tabs_and_trailing_blank_rows():
    data = "Name\tPhone\tUnknown\nWang Wei\t138 0000 0001\tx\n\t\t\n".encode()
    assert read_rows(data, "m.tsv", COLUMNS) == [{"name": "Wang Wei", "phone": "138 0000 0001"}]


def test_xlsx_with_phones_typed_as_numbers():
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "部门", "手机号码", "备注"])
    sheet.append(["张三", "办公室", 13900000000, None])
    buffer = io.BytesIO()
    book.save(buffer)
    rows = read_rows(buffer.getvalue(), "members.xlsx", COLUMNS)
    assert rows == [{"name": "张三", "department": "办公室", "phone": "13900000000",
                     "remarks": ""}]


def test_json_list_of_objects():
    data = json.dumps([{"name": "王伟", "phone": 13800000001, "extra": 1}]).encode()
    assert read_rows(data, "m.json", COLUMNS) == [{"name": "王伟", "phone": "13800000001"}]


@pytest.mark.parametrize("data, filename, message", [
    (b"", "m.csv", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "photo.csv", "binary"),
    (b"PK\x03\x04 not really a zip", "m.xlsx", "not a readable XLSX"),
    (b"a,b,c\n1,2,3\n", "m.csv", "no known column"),
    (b"\xff\xfe\xfa\xfb" * 10, "m.csv", "neither UTF-8 nor GBK"),
    (b"[1, 2]", "m.json", "list of objects"),
    (b"{not json", "m.json", "not valid JSON"),
])
def test_what_is_not_a_sheet_gets_one_clear_error(data, filename, message):
    with pytest.raises(SheetError, match=message):
        read_rows(data, filename, COLUMNS)


def test_size_and_row_limits():
    with pytest.raises(SheetError, match="limit is 1 MiB"):
        read_rows(b"x" * (1024 * 1024 + 1), "big.csv", COLUMNS, max_bytes=1024 * 1024)
    data = ("姓名\n" + "张三\n" * 11).encode()
    with pytest.raises(SheetError, match="more than 10 rows; the limit is 10"):
        read_rows(data, "m.csv", COLUMNS, max_rows=10)
    assert len(read_rows(data, "m.csv", COLUMNS, max_rows=11)) == 11
