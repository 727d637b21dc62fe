"""Hostile sheets next to a normal 20,000-row one, measured in the same run (issue 16, item 10).

1. Parse only: each sheet read by kernel.sheets.read_rows in a fresh process, so its peak
   resident memory is its own: seconds, extra peak RSS over the process before the parse,
   and both as ratios to the normal sheet.
2. Over HTTP: each sheet uploaded to the embedded platform's member import (dry run) while a
   green thread asks GET /healthz every 20 ms. The longest gap between two answers (from the
   upload's start to its end) is how long the other services were frozen: when the hub is
   blocked the probe cannot even send, so its own latency would hide the freeze.

    .venv/bin/python bench/hostile_sheets.py [--skip-http]
"""
import warnings

warnings.filterwarnings("ignore")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import zipfile  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.roster_import import sheet as member_csv  # noqa: E402
from services.roster.members import SHEET_COLUMNS  # noqa: E402
from tests.unit.test_hostile_sheets import MAIN, workbook  # noqa: E402


def normal_xlsx(rows=20_000) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["姓名", "部门", "手机号码", "备注", "单位", "类别"])
    for i in range(rows):
        sheet.append([f"成员{i}", "办公室", 13900000000 + i, "", f"u{i % 40}", "党员"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def inline(ref, text):
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def dimension_bomb(rows=20_000) -> bytes:
    """A name and a phone a row, under `<dimension ref="A1:XFD1048576"/>`."""
    head = '<row r="1">' + inline("A1", "姓名") + inline("B1", "手机号码") + "</row>"
    return workbook([head] + [f'<row r="{i}">{inline(f"A{i}", f"成员{i}")}<c r="B{i}">'
                              f'<v>139{i:08d}</v></c></row>' for i in range(2, rows + 2)])


def million_rows() -> bytes:
    row = f'<row>{inline("A1", "x")}</row>'
    return workbook([f'<row>{inline("A1", "姓名")}</row>'] + [row * 10_000] * 100)


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out:
            out.write(f'<worksheet xmlns="{MAIN}"><sheetData>'.encode())
            for _ in range(1000):
                out.write(b"<row/>" * 100_000)   # 600 MB unpacked
    return buffer.getvalue()


SHEETS = {
    "normal 20,000-row CSV (GBK)": ("m.csv", lambda: member_csv(20_000, 40)),
    "normal 20,000-row XLSX": ("m.xlsx", normal_xlsx),
    "dimension A1:XFD1048576, 20,000 rows": ("m.xlsx", dimension_bomb),
    "XLSX, a million short rows": ("m.xlsx", million_rows),
    "XLSX, 600 MB unpacked (zip bomb)": ("m.xlsx", zip_bomb),
    "CSV, 5 MiB of newlines": ("m.csv", lambda: b"\n" * (5 * 1024 * 1024 - 1)),
    "CSV, a 140,000-character cell": ("m.csv", lambda: ("姓名,备注\n张三," + "长" * 140_000
                                                         + "\n").encode()),
    "JSON nested 100,000 deep": ("m.json", lambda: b"[" * 100_000 + b"]" * 100_000),
}


def parse_one(name):
    """In a fresh process: build the sheet, then time its parse and its peak memory."""
    from kernel import sheets

    filename, build = SHEETS[name]
    data = build()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    began = time.perf_counter()
    try:
        outcome = f"{len(sheets.read_rows(data, filename, SHEET_COLUMNS)):,} rows"
    except (sheets.SheetError, MemoryError) as err:
        outcome = f"refused: {str(err)[:60]}"
    took = time.perf_counter() - began
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(json.dumps({"bytes": len(data), "seconds": took, "rss_mib": grown / 1024,
                      "outcome": outcome}))


def parse_all():
    results = {}
    for name in SHEETS:
        out = subprocess.run([sys.executable, __file__, "--one", name], capture_output=True,
                             text=True, timeout=600, cwd=ROOT)
        results[name] = json.loads(out.stdout.strip().splitlines()[-1])
    normal = results["normal 20,000-row CSV (GBK)"]
    print("parse only (kernel.sheets.read_rows), each in a fresh process; ratios to the "
          "normal 20,000-row CSV")
    print(f"{'sheet':<40}{'KiB':>8}{'seconds':>9}{'x':>7}{'+RSS MiB':>10}{'x':>7}  outcome")
    for name, r in results.items():
        print(f"{name:<40}{r['bytes'] / 1024:>8,.0f}{r['seconds']:>9.2f}"
              f"{r['seconds'] / normal['seconds']:>7.2f}{r['rss_mib']:>10.1f}"
              f"{r['rss_mib'] / max(normal['rss_mib'], 0.1):>7.2f}  {r['outcome']}")


def over_http():
    import requests

    from bench._platform import embedded
    from tests.thin_path import login

    with embedded() as (platform, rpc):
        base = platform.base
        rpc.roster.upsert_org_units(
            [{"id": "system", "parent_id": None, "kind": "system", "name": "全系统"}]
            + [{"id": f"u{i}", "parent_id": "system", "kind": "unit", "name": f"单位{i}"}
               for i in range(40)])
        rpc.roster.import_members([{"name": "系统管理员", "phone": "13800000000",
                                    "unit": "system", "role": "system_admin"}])
        auth, _ = login(base, platform.settings.sms_file, "13800000000")
        print("\nover HTTP: member import (dry run) on the embedded platform, GET /healthz "
              "every 20 ms meanwhile")
        print(f"{'sheet':<40}{'status':>7}{'seconds':>9}{'probes':>8}{'longest gap ms':>16}")
        for name, (filename, build) in SHEETS.items():
            data = build()
            answered, done = [], [False]

            def probe():
                while not done[0]:
                    requests.get(f"{base}/healthz", timeout=120)
                    answered.append(time.perf_counter())
                    eventlet.sleep(0.02)

            began = time.perf_counter()
            prober = eventlet.spawn(probe)
            r = requests.post(f"{base}/api/v1/admin/roster/import", headers=auth,
                              files={"file": (filename, data)}, data={"dry_run": "true",
                                                                      "unit": "u1"},
                              timeout=600)
            ended = time.perf_counter()
            done[0] = True
            prober.wait()
            marks = [began] + [t for t in answered if t < ended] + [ended]
            gap = max(b - a for a, b in zip(marks, marks[1:]))
            print(f"{name:<40}{r.status_code:>7}{ended - began:>9.2f}{len(marks) - 2:>8}"
                  f"{gap * 1000:>16,.0f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()
    if args.one:
        return parse_one(args.one)
    parse_all()
    if not args.skip_http:
        over_http()


if __name__ == "__main__":
    main()
