"""An XLSX workbook's first sheet as rows, read by streaming, for kernel.sheets.

openpyxl pads every row to the width the sheet *declares* (`<dimension ref="A1:XFD1048576"/>`
in a 1.6 KB file made it build 16,384 cells a row) and builds a whole row, and every shared
string, before anyone can count them. Here expat reads the unpacked XML a chunk at a time and
we keep only what a row holds: the declared dimension is ignored, a row is as wide as its last
cell, missing rows are blank rows, and the reader stops as soon as its caller does. What the
archive may unpack to is checked from its directory before anything is read, and each part is
read no further than the size it declares (zipfile stops there), so a decompression bomb is
refused in microseconds.
"""
from __future__ import annotations

import itertools
import posixpath
import re
import zipfile
from xml.parsers import expat

MAX_INFLATED = 64 * 1024 * 1024   # every part of an XLSX, unpacked (a 20,000-row sheet: ~4 MiB)
MAX_STRINGS = 400_000             # shared strings (20,000 rows of 20 distinct texts)
MAX_COLUMNS = 16_384              # Excel's last column, XFD
CHUNK = 64 * 1024

_REF = re.compile(r"([A-Z]{1,3})\d*$")


class XlsxError(Exception):
    """What kernel.sheets turns into a SheetError; `reason` as in kernel.errors."""

    def __init__(self, message: str, reason: str = "sheet_unreadable"):
        super().__init__(message)
        self.reason = reason


def rows(data: bytes, max_cell: int):
    """The first sheet's rows, top to bottom, each a list of cell values (None for empty),
    as long as its last cell. Texts longer than `max_cell` are cut at `max_cell + 1`, so the
    caller can refuse them by row without us holding them whole."""
    import io

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise XlsxError(f"not a readable XLSX workbook ({exc})") from None
    with archive:
        _check_unpacked_size(archive)
        try:
            book = _Book(archive, max_cell)
            yield from _sheet_rows(archive, book, max_cell)
        except (zipfile.BadZipFile, KeyError, IndexError, ValueError, OSError,
                expat.ExpatError, OverflowError) as exc:
            raise XlsxError(f"not a readable XLSX workbook ({exc})") from None


def _check_unpacked_size(archive: zipfile.ZipFile) -> None:
    infos = archive.infolist()
    if any(i.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) for i in infos):
        raise XlsxError("not a readable XLSX workbook (a part is packed neither stored nor "
                        "deflated, as Excel packs them)")
    total = sum(i.file_size for i in infos)
    if total > MAX_INFLATED:
        raise XlsxError(f"unpacks to {total / 1048576:,.0f} MiB; the limit is "
                        f"{MAX_INFLATED / 1048576:.0f} MiB", reason="sheet_unpacks_too_large")


def _parse(archive, path, start=None, end=None, text=None):
    """Stream one XML part through expat with handlers taking (local name, attributes).
    A document type declaration is refused: no XLSX part has one, and entities are how
    small XML becomes large."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True

    def refuse(*_):
        raise XlsxError("not a readable XLSX workbook (an XML part declares a document type)")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    if start:
        parser.StartElementHandler = lambda name, attrs: start(name.rpartition(" ")[2], attrs)
    if end:
        parser.EndElementHandler = lambda name: end(name.rpartition(" ")[2])
    if text:
        parser.CharacterDataHandler = text
    with archive.open(path) as source:
        while chunk := source.read(CHUNK):
            parser.Parse(chunk, False)
            yield
        parser.Parse(b"", True)


def _drain(parsing) -> None:
    for _ in parsing:
        pass


class _Book:
    """Where the first sheet is, its shared strings, which styles are dates, the epoch."""

    def __init__(self, archive: zipfile.ZipFile, max_cell: int):
        names = set(archive.namelist())
        workbook = _relationships(archive, "_rels/.rels", "", names)[1].get(
            "officeDocument", "xl/workbook.xml")
        by_id, by_type = _relationships(archive, _rels_path(workbook),
                                        posixpath.dirname(workbook), names)
        first, self.date1904 = _first_sheet(archive, workbook)
        if first not in by_id:
            raise KeyError("the workbook names no worksheet")
        self.sheet = by_id[first]
        strings, styles = by_type.get("sharedStrings"), by_type.get("styles")
        self.strings = _shared_strings(archive, strings, max_cell) if strings in names else []
        self.dates = _date_styles(archive, styles) if styles in names else set()


def _rels_path(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _resolve(folder: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(folder, target))


def _relationships(archive, path, folder, names) -> tuple[dict, dict]:
    """A part's relationship targets by id, and by the last word of their type."""
    by_id, by_type = {}, {}

    def start(name, attrs):
        if name == "Relationship":
            target = _resolve(folder, attrs.get("Target", ""))
            by_id[attrs.get("Id")] = target
            by_type.setdefault(attrs.get("Type", "").rpartition("/")[2], target)

    if path in names:
        _drain(_parse(archive, path, start))
    return by_id, by_type


def _first_sheet(archive, workbook) -> tuple[str | None, bool]:
    found = {"sheet": None, "date1904": False}

    def start(name, attrs):
        if name == "sheet" and found["sheet"] is None:
            found["sheet"] = next((v for k, v in attrs.items() if k.endswith(" id")), "")
        elif name == "workbookPr":
            found["date1904"] = attrs.get("date1904") in ("1", "true")

    _drain(_parse(archive, workbook, start))
    return found["sheet"], found["date1904"]


class _Text:
    """Text gathered from expat's pieces, kept no longer than `limit` + 1 characters: enough
    for the caller to see it is too long, without holding it whole."""
    __slots__ = ("parts", "length", "limit")

    def __init__(self, limit: int):
        self.parts, self.length, self.limit = [], 0, limit

    def add(self, data: str) -> None:
        if self.length <= self.limit:
            self.parts.append(data[:self.limit + 1 - self.length])
        self.length += len(data)

    def value(self) -> str:
        return "".join(self.parts)


def _shared_strings(archive, path, max_cell) -> list[str]:
    """Each `<si>`'s text (its runs joined, phonetic guides left out), as openpyxl reads it."""
    strings: list[str] = []
    state = {"phonetic": 0, "in_t": False, "text": _Text(max_cell)}

    def start(name, attrs):
        if name == "rPh":
            state["phonetic"] += 1
        elif name == "t" and not state["phonetic"]:
            state["in_t"] = True

    def end(name):
        if name == "rPh":
            state["phonetic"] -= 1
        elif name == "t":
            state["in_t"] = False
        elif name == "si":
            strings.append(state["text"].value().replace("x005F_", ""))
            state["text"] = _Text(max_cell)
            if len(strings) > MAX_STRINGS:
                raise XlsxError(f"has more than {MAX_STRINGS:,} distinct texts",
                                reason="sheet_too_many_rows")

    def text(data):
        if state["in_t"]:
            state["text"].add(data)

    _drain(_parse(archive, path, start, end, text))
    return strings


def _date_styles(archive, path) -> set[int]:
    """The cell styles (indexes of `cellXfs`) whose number format shows a date."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

    formats, xfs, state = dict(BUILTIN_FORMATS), [], {"in_cell_xfs": False}

    def start(name, attrs):
        if name == "numFmt":
            formats[int(attrs.get("numFmtId", -1))] = attrs.get("formatCode", "")
        elif name == "cellXfs":
            state["in_cell_xfs"] = True
        elif name == "xf" and state["in_cell_xfs"]:
            xfs.append(int(attrs.get("numFmtId", 0)))

    def end(name):
        if name == "cellXfs":
            state["in_cell_xfs"] = False

    _drain(_parse(archive, path, start, end))
    return {i for i, fmt in enumerate(xfs) if is_date_format(formats.get(fmt, ""))}


def _column(ref: str | None, following: int) -> int:
    """A cell's column number from its reference (`B7`), else the one after the last."""
    if not ref:
        number = following
    else:
        match = _REF.match(ref)
        if not match:
            raise ValueError(f"a cell reference {ref[:20]!r} is not one")
        number = 0
        for letter in match.group(1):
            number = number * 26 + ord(letter) - 64
    if number > MAX_COLUMNS:
        raise ValueError(f"a cell past column XFD (in {ref[:20] if ref else 'a row'!r})")
    return number


class _Cell:
    """The cell being read: its column, type, style and text."""
    __slots__ = ("column", "kind", "style", "text", "reading")

    def __init__(self, column, kind, style, max_cell):
        self.column, self.kind, self.style = column, kind, style
        self.text, self.reading = _Text(max_cell), False


def _sheet_rows(archive, book: _Book, max_cell: int):
    """Rows as expat finishes them; a run of missing rows is one count of blank rows, given
    out one at a time only as far as the caller reads."""
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

    epoch = CALENDAR_MAC_1904 if book.date1904 else CALENDAR_WINDOWS_1900
    done: list = []                      # rows (lists) and gaps (ints) of the last chunk
    state = {"row": 0, "cells": None, "cell": None, "last": 0}

    def start(name, attrs):
        if name == "row":
            number = attrs.get("r")
            number = int(number) if number and number.isdigit() else 0
            if number > state["row"] + 1:
                done.append(number - state["row"] - 1)
            state["row"] = max(number, state["row"] + 1)
            state["cells"], state["last"] = {}, 0
        elif name == "c" and state["cells"] is not None:
            column = _column(attrs.get("r"), state["last"] + 1)
            state["cell"], state["last"] = _Cell(column, attrs.get("t", "n"), attrs.get("s"),
                                                 max_cell), column
        elif name in ("v", "t") and state["cell"] is not None:
            state["cell"].reading = True

    def text(data):
        cell = state["cell"]
        if cell is not None and cell.reading:
            cell.text.add(data)

    def end(name):
        if name in ("v", "t") and state["cell"] is not None:
            state["cell"].reading = False
        elif name == "c" and state["cell"] is not None:
            cell, state["cell"] = state["cell"], None
            value = _value(cell, book, epoch, from_excel)
            if value is not None:
                state["cells"][cell.column] = value
        elif name == "row" and state["cells"] is not None:
            cells, state["cells"] = state["cells"], None
            row = [None] * max(cells, default=0)
            for column, value in cells.items():
                row[column - 1] = value
            done.append(row)

    for _ in _parse(archive, book.sheet, start, end, text):
        batch, done[:] = list(done), []
        for item in batch:
            if isinstance(item, int):
                yield from itertools.repeat((), item)
            else:
                yield item


def _value(cell: _Cell, book: _Book, epoch, from_excel):
    text = cell.text.value()
    if cell.kind == "s":
        return book.strings[int(text)] if text.strip() else None
    if cell.kind in ("inlineStr", "str", "e", "d"):
        return text
    if cell.kind == "b":
        return text.strip() in ("1", "true")
    if not text.strip():
        return None
    try:
        number = int(text)
    except ValueError:
        number = float(text)
    if cell.style is not None and cell.style.isdigit() and int(cell.style) in book.dates:
        return from_excel(number, epoch)
    return number
