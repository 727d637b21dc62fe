"""Reading the files people bring: CSV (UTF-8, UTF-8 with BOM, or GB18030/GBK as Excel in
China writes it), XLSX and JSON, into rows keyed by our column names.

A file that is not a sheet at all (binary junk, empty, over the size or row limit, no known
header) raises `SheetError` with one clear message, and nothing is read from it. Row numbers
are a sheet's: the header is row 1, so `rows[i]` is row i + 2.
"""
from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date, datetime

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000


class SheetError(Exception):
    pass


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
    return _limit(_keyed(table, columns, filename), max_rows, filename)


def _limit(rows, max_rows, filename):
    if len(rows) > max_rows:
        raise SheetError(f"{filename} has {len(rows)} rows; the limit is {max_rows}")
    return rows


def _norm(header) -> str:
    return "".join(str(header or "").split()).lower()


def _keyed(table: list[list], columns: dict[str, str], filename) -> list[dict]:
    while table and not any(_cell(v) for v in table[-1]):
        table.pop()  # trailing blank rows
    if not table:
        raise SheetError(f"{filename} has no rows")
    lookup = {_norm(k): v for k, v in columns.items()}
    keys = [lookup.get(_norm(h)) for h in table[0]]
    if not any(keys):
        raise SheetError(f"{filename}: no known column in the first row (expected some of: "
                         f"{', '.join(sorted(set(columns)))})")
    return [{key: _cell(value) for key, value in zip(keys, row) if key}
            for row in table[1:]]


def _cell(value) -> str:
    """A cell as text: numbers without a trailing .0 (phones typed as numbers), dates ISO."""
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


def _csv(data: bytes, filename: str) -> list[list]:
    text = _decode(data, filename)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    return [row for row in csv.reader(io.StringIO(text), dialect)]


def _xlsx(data: bytes, filename: str) -> list[list]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise SheetError(f"{filename} is not a readable XLSX workbook ({exc})") from None
    try:
        sheet = book.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _json(data: bytes, filename: str, columns: dict[str, str]) -> list[dict]:
    try:
        payload = json.loads(_decode(data, filename))
    except ValueError as exc:
        raise SheetError(f"{filename} is not valid JSON ({exc})") from None
    if isinstance(payload, dict):
        payload = next((v for v in payload.values() if isinstance(v, list)), None)
    if not isinstance(payload, list) or not all(isinstance(r, dict) for r in payload):
        raise SheetError(f"{filename}: JSON must be a list of objects (one per row)")
    lookup = {_norm(k): v for k, v in columns.items()}
    return [{lookup[_norm(k)]: (v if isinstance(v, list) else _cell(v))
             for k, v in row.items() if _norm(k) in lookup} for row in payload]


def write_rows(rows: list[dict], headers: list[str], fmt: str) -> tuple[bytes, str]:
    """Rows as a file people open: `csv` (UTF-8 with a BOM, so Excel reads Chinese right),
    `xlsx` or `json`. Returns the bytes and the media type."""
    if fmt == "json":
        body = json.dumps([{h: row.get(h, "") for h in headers} for row in rows],
                          ensure_ascii=False, indent=1)
        return body.encode("utf-8"), "application/json"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(headers)
        for row in rows:
            writer.writerow([row.get(h, "") for h in headers])
        return out.getvalue().encode("utf-8-sig"), "text/csv; charset=utf-8"
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append(headers)
        for row in rows:
            sheet.append([row.get(h, "") for h in headers])
        out = io.BytesIO()
        book.save(out)
        return out.getvalue(), ("application/vnd.openxmlformats-officedocument."
                                "spreadsheetml.sheet")
    raise ValueError(f"unknown format {fmt!r} (csv, xlsx or json)")


def read_upload(content_b64: str, filename: str, columns: dict[str, str]) -> list[dict]:
    """An uploaded file (base64 over RPC) read as `read_rows` does; a file that is not a
    sheet is a BadInput naming the field `file`, so it changes nothing."""
    import base64
    import binascii

    from kernel.errors import BadInput

    try:
        return read_rows(base64.b64decode(content_b64 or "", validate=True), filename or "",
                         columns)
    except (SheetError, binascii.Error, ValueError) as err:
        raise BadInput(str(err), fields={"file": [str(err)]}) from None
