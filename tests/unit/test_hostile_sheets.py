"""Sheets made to hurt the reader (issue 16, items 10 and 12): each is refused with one clear
error naming the row, or read right, without padding rows to a declared width, holding a
whole file's rows, or following it past the row limit. Memory is what tracemalloc saw at its
peak; the address-space cap turns a reader that runs away into a MemoryError instead of a
machine that swaps."""
import contextlib
import io
import json
import resource
import tracemalloc
import zipfile

import pytest

from kernel import sheets
from kernel.sheets import MAX_ROWS, SheetError, read_rows

COLUMNS = {"姓名": "name", "手机号码": "phone", "备注": "remarks"}
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
KIND = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def workbook(rows, dimension="A1:XFD1048576", shared=None) -> bytes:
    """A minimal XLSX as a hostile tool writes one: `rows` are the <row> elements' XML,
    streamed into the archive; `shared` the <si> elements of a shared-string table."""
    parts = {
        "[Content_Types].xml": f'<Types xmlns="{TYPES}">'
                               f'<Override PartName="/xl/workbook.xml" ContentType="{KIND}.'
                               'sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml"'
                               f' ContentType="{KIND}.worksheet+xml"/><Override PartName='
                               f'"/xl/sharedStrings.xml" ContentType="{KIND}.sharedStrings+xml"/>'
                               '</Types>',
        "_rels/.rels": f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{OFFICE}/'
                       'officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{MAIN}" xmlns:r="{OFFICE}"><sheets><sheet name="s" '
                           'sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" '
                                      f'Type="{OFFICE}/worksheet" Target="worksheets/sheet1.xml"/>'
                                      f'<Relationship Id="rId2" Type="{OFFICE}/sharedStrings" '
                                      'Target="sharedStrings.xml"/></Relationships>'}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, xml in parts.items():
            archive.writestr(name, xml)
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as out:
            out.write(f'<sst xmlns="{MAIN}">'.encode())
            for chunk in shared or ():
                out.write(chunk.encode())
            out.write(b"</sst>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out:
            out.write(f'<worksheet xmlns="{MAIN}"><dimension ref="{dimension}"/><sheetData>'
                      .encode())
            for chunk in rows:
                out.write(chunk.encode())
            out.write(b"</sheetData></worksheet>")
    return buffer.getvalue()


def text(ref, value):
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


def member_rows(count, first=2):
    yield '<row r="1">' + text("A1", "姓名") + text("B1", "手机号码") + "</row>"
    for i in range(first, first + count):
        yield f'<row r="{i}">{text(f"A{i}", f"成员{i}")}<c r="B{i}"><v>139{i:08d}</v></c></row>'


@contextlib.contextmanager
def bounded(megabytes=800):
    """Fail with MemoryError, not by swapping, if the reader grows past `megabytes` more
    address space; and report tracemalloc's peak in MB."""
    with open("/proc/self/status") as status:
        size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize"))
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (size + megabytes * 1048576, hard))
    tracemalloc.start()
    peak = {}
    try:
        yield peak
    finally:
        peak["mb"] = tracemalloc.get_traced_memory()[1] / 1048576
        tracemalloc.stop()
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def test_a_declared_dimension_of_every_cell_is_ignored():
    # 1.6 KB declaring A1:XFD1048576 over 20,000 rows: openpyxl padded each row to 16,384
    # cells (2.6 GB, 20-32 s, every service of the embedded platform frozen)
    data = workbook(member_rows(MAX_ROWS))
    assert len(data) < 400_000
    with bounded() as peak:
        rows = read_rows(data, "m.xlsx", COLUMNS)
    assert len(rows) == MAX_ROWS and rows[0] == {"name": "成员2", "phone": "13900000002"}
    assert peak["mb"] < 40, peak


def test_a_million_short_rows_stop_at_the_row_limit():
    data = workbook(f'<row><c t="inlineStr"><is><t>{i % 10}</t></is></c></row>'
                    for i in range(1_000_000))
    with bounded() as peak, pytest.raises(SheetError, match="more than 20000 rows") as err:
        read_rows(data, "m.xlsx", {"0": "name"})
    assert err.value.reason == "sheet_too_many_rows"
    assert peak["mb"] < 40, peak


def test_a_row_far_down_is_the_end_of_a_long_blank_run():
    data = workbook(list(member_rows(2)) + ['<row r="1048576">' + text("A1048576", "x")
                                            + "</row>"])
    with bounded() as peak:
        rows = read_rows(data, "m.xlsx", COLUMNS)
    assert [r["name"] for r in rows] == ["成员2", "成员3"]
    assert peak["mb"] < 5, peak


def test_cells_past_the_known_columns_are_not_kept():
    wide = "".join(f'<c r="{col}2"><v>1</v></c>' for col in ("Z", "AZ", "ZZ", "XFD"))
    data = workbook(['<row r="1">' + text("A1", "姓名") + "</row>",
                     '<row r="2">' + text("A2", "张三") + wide + "</row>"])
    assert read_rows(data, "m.xlsx", COLUMNS) == [{"name": "张三"}]
    with pytest.raises(SheetError, match="past column XFD"):
        read_rows(workbook(['<row r="1"><c r="XFE1"><v>1</v></c></row>']), "m.xlsx", COLUMNS)


def test_a_decompression_bomb_is_refused_from_the_directory():
    data = workbook("<row/>" * 100_000 for _ in range(120))   # 72 MB unpacked
    assert len(data) < 200_000
    with bounded() as peak, pytest.raises(SheetError, match="unpacks to 69 MiB") as err:
        read_rows(data, "bomb.xlsx", COLUMNS)
    assert err.value.reason == "sheet_unpacks_too_large"
    assert peak["mb"] < 5, peak


def test_shared_strings_are_capped_and_long_texts_refused_by_row(monkeypatch):
    from kernel import xlsx

    monkeypatch.setattr(xlsx, "MAX_STRINGS", 1000)
    many = workbook(member_rows(1), shared=("<si><t/></si>" for _ in range(5000)))
    with pytest.raises(SheetError, match="more than 1,000 distinct texts"):
        read_rows(many, "m.xlsx", COLUMNS)
    long = workbook(['<row r="1">' + text("A1", "姓名") + "</row>",
                     '<row r="2"><c r="A2" t="s"><v>0</v></c></row>'],
                    shared=["<si><t>" + "长" * 200_000 + "</t></si>"])
    with pytest.raises(SheetError, match="row 2: a cell is longer than 32767") as err:
        read_rows(long, "m.xlsx", COLUMNS)
    assert err.value.reason == "sheet_cell_too_long"


def test_a_document_type_declaration_is_refused():
    data = workbook(['<!DOCTYPE x [<!ENTITY a "aaaa">]><row/>'])
    with pytest.raises(SheetError, match="not a readable XLSX"):
        read_rows(data, "m.xlsx", COLUMNS)


def test_five_megabytes_of_newlines_is_a_sheet_with_no_rows():
    with bounded() as peak, pytest.raises(SheetError, match="has no rows"):
        read_rows(b"\n" * (5 * 1024 * 1024), "m.csv", COLUMNS)
    assert peak["mb"] < 30, peak
    data = "姓名\n张三\n".encode() + b"\r\n" * (2 * 1024 * 1024)
    with bounded() as peak:
        assert read_rows(data, "m.csv", COLUMNS) == [{"name": "张三"}]
    assert peak["mb"] < 30, peak


def test_a_million_short_csv_rows_stop_at_the_row_limit():
    data = ("姓名\n" + "a\n" * 2_000_000).encode()
    with bounded() as peak, pytest.raises(SheetError, match="more than 20000 rows"):
        read_rows(data, "m.csv", COLUMNS)
    assert peak["mb"] < 40, peak


def test_blank_rows_inside_a_sheet_are_still_rows():
    data = "姓名\n张三\n,\n\n李四\n\n\n".encode()
    assert [r["name"] for r in read_rows(data, "m.csv", COLUMNS)] == ["张三", "", "", "李四"]


def test_a_csv_cell_over_the_field_limit_names_its_row():
    # csv.Error (field larger than field limit) used to escape as a 500
    data = ("姓名,备注\n张三,x\n李四," + "长" * 140_000 + "\n").encode()
    with pytest.raises(SheetError, match="row 3: a cell is longer than 32767") as err:
        read_rows(data, "m.csv", COLUMNS)
    assert err.value.reason == "sheet_cell_too_long"
    with pytest.raises(SheetError, match="row 2: a cell is longer than 32767"):
        read_rows(("姓名\n" + "x" * 40_000 + "\n").encode(), "m.csv", COLUMNS)


def test_a_row_the_csv_module_refuses_is_named():
    # csv.Error (a carriage return alone inside an unquoted field) used to escape as a 500
    data = "姓名\n".encode() + b"a\n" * 3000 + b"b\rc\n"
    with pytest.raises(SheetError, match="row 3002 is not CSV"):
        read_rows(data, "m.csv", COLUMNS)


def test_json_nested_a_hundred_thousand_deep_is_refused():
    # RecursionError used to escape as a 500
    for data in (b"[" * 100_000 + b"]" * 100_000, b'[{"name": ' + b"[" * 100_000 + b"]"):
        with pytest.raises(SheetError, match="nested too deeply") as err:
            read_rows(data, "q.json", COLUMNS)
        assert err.value.reason == "sheet_too_deep"


def test_a_long_json_text_names_its_row():
    data = json.dumps([{"姓名": "a"}, {"姓名": "b" * 40_000}]).encode()
    with pytest.raises(SheetError, match="row 3: a cell is longer than 32767"):
        read_rows(data, "q.json", COLUMNS)


def test_an_upload_is_read_off_the_eventlet_hub(monkeypatch):
    """Where eventlet runs (every service), the parse runs in a real thread, so the hub the
    embedded platform's services share goes on serving while a sheet is read."""
    import threading

    from eventlet import patcher

    seen = []
    monkeypatch.setattr(patcher, "is_monkey_patched", lambda module: True)
    monkeypatch.setattr(sheets, "read_rows", lambda *args: seen.append(threading.get_ident())
                        or [])
    assert sheets.read_upload("YQ==", "m.csv", COLUMNS) == []
    assert seen and seen[0] != threading.get_ident()


def test_an_upload_refusal_is_a_bad_input_with_its_reason():
    import base64

    from kernel.errors import BadInput

    data = base64.b64encode(b"[" * 100_000).decode()
    with pytest.raises(BadInput) as err:
        sheets.read_upload(data, "q.json", COLUMNS)
    assert err.value.reason == "sheet_too_deep" and "file" in err.value.fields
