"""Roster: a generated 20,000-row member sheet (GBK CSV, as Excel in China writes it) imported
through the admin HTTP endpoint of the embedded platform, in rows per second, next to a
baseline measured in the same run: reading and checking the same rows in-process with no
database (kernel.sheets + services.roster.members.parse_row). The peak resident memory of
the whole platform process is printed after each step.

    .venv/bin/python bench/roster_import.py [--rows 20000] [--units 40]
"""
import warnings

warnings.filterwarnings("ignore")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import resource  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import requests  # noqa: E402

from bench._platform import embedded  # noqa: E402
from kernel import sheets  # noqa: E402
from services.roster.members import SHEET_COLUMNS, parse_row  # noqa: E402
from tests.thin_path import login  # noqa: E402


def sheet(rows: int, units: int) -> bytes:
    lines = ["姓名,部门,手机号码,备注,单位,类别"]
    for i in range(rows):
        unit = f"u{i % units}"
        remark = "管理员" if i < units else ""
        category = ("党员", "厅级", "非党员")[i % 3]
        lines.append(f"成员{i},办公室,139{i:08d},{remark},{unit},{category}")
    return ("\r\n".join(lines) + "\r\n").encode("gbk")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--units", type=int, default=40)
    args = parser.parse_args()
    data = sheet(args.rows, args.units)

    began = time.perf_counter()
    rows = sheets.read_rows(data, "members.csv", SHEET_COLUMNS)
    for row in rows:
        parse_row(row)
    baseline = time.perf_counter() - began

    results = []
    with embedded() as (platform, rpc):
        base = platform.base
        rpc.roster.upsert_org_units(
            [{"id": "system", "parent_id": None, "kind": "system", "name": "全系统"}]
            + [{"id": f"u{i}", "parent_id": "system", "kind": "unit", "name": f"单位{i}"}
               for i in range(args.units)])
        rpc.roster.import_members([{"name": "系统管理员", "phone": "13800000000",
                                    "unit": "system", "role": "system_admin"}])
        auth, _ = login(base, platform.settings.sms_file, "13800000000")
        for name, form in (("dry run", {"dry_run": "true"}), ("first import", {}),
                           ("re-import (unchanged)", {})):
            began = time.perf_counter()
            r = requests.post(f"{base}/api/v1/admin/roster/import", headers=auth,
                              files={"file": ("members.csv", data)}, data=form, timeout=600)
            took = time.perf_counter() - began
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            report = r.json()
            assert r.status_code == 200 and not report["errors"], r.text[:500]
            results.append((name, took, peak, report))

    print(f"member sheet: {args.rows} rows, {args.units} units, {len(data) / 1048576:.1f} MiB GBK"
          " CSV; embedded platform (SQLite), over HTTP")
    print(f"{'step':<28}{'seconds':>9}{'rows/s':>10}{'x baseline':>12}{'peak RSS MiB':>14}")
    print(f"{'parse only (baseline)':<28}{baseline:>9.2f}{args.rows / baseline:>10,.0f}"
          f"{1.0:>11.1f}x{'':>14}")
    for name, took, peak, report in results:
        print(f"{name:<28}{took:>9.2f}{args.rows / took:>10,.0f}{took / baseline:>11.1f}x"
              f"{peak / 1048576:>14.0f}   created {report['created']}, updated "
              f"{report['updated']}, unchanged {report['unchanged']}")


if __name__ == "__main__":
    main()
