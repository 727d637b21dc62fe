"""Hostile sheets uploaded to the embedded platform (issue 16, items 10 and 12): each is a 400
naming the file and row with a reason the pages translate, and nothing changes."""
import io
import zipfile

import requests

from tests.thin_path import login

SYSTEM = "13800000000"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def upload(embedded, auth, path, name, data, **form):
    return requests.post(f"{embedded['base']}/api/v1/admin/{path}", headers=auth,
                         files={"file": (name, data)}, data=form, timeout=60)


def count(embedded, auth, path, **params):
    r = requests.get(f"{embedded['base']}/api/v1/admin/{path}", headers=auth,
                     params=dict(params, limit=1), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["total"]


def million_rows() -> bytes:
    """A sheet of a million one-cell rows under a dimension of every cell Excel has, as
    openpyxl reads it (its parts named in [Content_Types].xml), in under a megabyte."""
    from tests.unit.test_hostile_sheets import workbook

    def rows(text):
        return f'<row><c t="inlineStr"><is><t>{text}</t></is></c></row>'

    return workbook([rows("姓名")] + [rows("x") * 10_000 for _ in range(100)])


def test_hostile_sheets_are_refused_by_row_and_change_nothing(embedded):
    auth = login(embedded["base"], embedded["sms"], SYSTEM)[0]
    members = count(embedded, auth, "members")
    questions = count(embedded, auth, "questions")
    cases = [
        ("roster/import", "m.csv", ("姓名,手机号码\n张三,13900000001\n李四," + "长" * 140_000
                                     + "\n").encode(), "sheet_cell_too_long", "row 3: a cell"),
        ("roster/import", "m.xlsx", million_rows(), "sheet_too_many_rows", "more than 20000"),
        ("questions/import", "q.json", b"[" * 100_000 + b"]" * 100_000, "sheet_too_deep",
         "nested too deeply"),
        ("questions/import", "q.csv", ("level,type,stem\n4,judge," + "x" * 200_000).encode(),
         "sheet_cell_too_long", "row 2: a cell"),
    ]
    for path, name, data, reason, words in cases:
        form = {"unit": "unit-education"} if path.startswith("roster") else {}
        r = upload(embedded, auth, path, name, data, **form)
        assert r.status_code == 400, (name, r.text[:300])
        error = r.json()["error"]
        assert error.get("reason") == reason and words in error["fields"]["file"][0], error
        assert name in error["message"]
    assert count(embedded, auth, "members") == members
    assert count(embedded, auth, "questions") == questions


def test_a_decompression_bomb_is_refused_before_it_is_unpacked(embedded):
    auth = login(embedded["base"], embedded["sms"], SYSTEM)[0]
    members = count(embedded, auth, "members")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out:
            out.write(f'<worksheet xmlns="{MAIN}"><sheetData>'.encode())
            for _ in range(100):
                out.write(b"<row/>" * 200_000)
    r = upload(embedded, auth, "roster/import", "bomb.xlsx", buffer.getvalue(),
               unit="unit-education")
    assert r.status_code == 400 and r.json()["error"]["reason"] == "sheet_unpacks_too_large"
    assert count(embedded, auth, "members") == members
