"""Roster administration over HTTP and the `challenge roster import` command, on the embedded
platform with the demo (unit-education's administrator is 13800000001)."""
import io
import os
import subprocess
import sys

import openpyxl
import requests

from tests.thin_path import login

SYSTEM, EDU_ADMIN, MEMBER = "13800000000", "13800000001", "13800000005"
SEED_LIKE = ("姓名,部门,手机号码,备注\n张三,办公室,139 0000-0001,\n李四,组织部,139000000020,\n"
             "王五,宣传部,13900000003,\n")


def admin(embedded, phone=EDU_ADMIN):
    return login(embedded["base"], embedded["sms"], phone)[0]


def upload(embedded, auth, name, data, **form):
    return requests.post(f"{embedded['base']}/api/v1/admin/roster/import", headers=auth,
                         files={"file": (name, data)}, data=form, timeout=30)


def members_of(embedded, auth, unit):
    r = requests.get(f"{embedded['base']}/api/v1/admin/members", headers=auth,
                     params={"unit_id": unit, "limit": 200}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def test_a_gbk_sheet_dry_run_then_real_run(embedded):
    auth = admin(embedded)
    before = members_of(embedded, auth, "unit-education")["total"]
    dry = upload(embedded, auth, "成员.csv", SEED_LIKE.encode("gbk"),
                 unit="unit-education", dry_run="true")
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert (report["created"], report["dry_run"]) == (2, True)
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(3, "phone")]
    assert "12 digit" in report["errors"][0]["message"]
    assert members_of(embedded, auth, "unit-education")["total"] == before
    real = upload(embedded, auth, "成员.csv", SEED_LIKE.encode("gbk"), unit="unit-education")
    assert real.json()["created"] == 2
    again = upload(embedded, auth, "成员.csv", SEED_LIKE.encode("gbk"), unit="unit-education")
    assert (again.json()["created"], again.json()["unchanged"]) == (0, 2)
    after = members_of(embedded, auth, "unit-education")
    assert after["total"] == before + 2
    assert "张三" in {m["name"] for m in after["items"]}


def test_an_xlsx_sheet_and_files_that_are_not_sheets(embedded):
    auth = admin(embedded)
    book = openpyxl.Workbook()
    book.active.append(["name", "department", "phone", "remarks", "category"])
    book.active.append(["赵六", "财务部", 13900000011, "", "厅级"])
    buffer = io.BytesIO()
    book.save(buffer)
    r = upload(embedded, auth, "members.xlsx", buffer.getvalue(), unit="省教科文卫工会")
    assert r.status_code == 200 and r.json()["created"] == 1, r.text
    before = members_of(embedded, auth, "unit-education")["total"]
    for name, data in [("junk.csv", os.urandom(2048)), ("empty.csv", b""),
                       ("x.xlsx", b"PK\x03\x04 not a zip")]:
        r = upload(embedded, auth, name, data, unit="unit-education")
        assert r.status_code == 400, (name, r.text)
        assert "file" in r.json()["error"]["fields"]
    r = requests.post(f"{embedded['base']}/api/v1/admin/roster/import", headers=auth,
                      json={"rows": []}, timeout=10)
    assert r.status_code == 400 and "file" in r.json()["error"]["fields"]
    r = upload(embedded, auth, "big.csv", b"a" * (5 * 1024 * 1024 + 1), unit="unit-education")
    assert r.status_code == 413
    r = upload(embedded, auth, "m.csv", SEED_LIKE.encode(), unit="unit-education", oops="1")
    assert r.status_code == 400 and "oops" in r.json()["error"]["fields"]
    assert members_of(embedded, auth, "unit-education")["total"] == before


def test_a_unit_admin_is_refused_outside_their_unit_over_http(embedded):
    base, auth = embedded["base"], admin(embedded)
    r = upload(embedded, auth, "m.csv", SEED_LIKE.encode(), unit="unit-industry")
    assert r.json()["created"] == 0
    assert {e["column"] for e in r.json()["errors"]} == {"unit", "phone"}
    system = admin(embedded, SYSTEM)
    other = members_of(embedded, system, "unit-industry")["items"][0]
    r = requests.patch(f"{base}/api/v1/admin/members/{other['member_id']}", headers=auth,
                       json={"name": "改名"}, timeout=10)
    assert r.status_code == 403
    r = requests.post(f"{base}/api/v1/admin/members/{other['member_id']}/disqualify",
                      headers=auth, json={"reason": "代答"}, timeout=10)
    assert r.status_code == 403
    assert requests.get(f"{base}/api/v1/admin/members/{other['member_id']}", headers=system,
                        timeout=10).json()["name"] == other["name"]
    plain = admin(embedded, MEMBER)
    assert requests.get(f"{base}/api/v1/admin/members", headers=plain,
                        timeout=10).status_code == 403


def test_disqualify_shows_in_the_notice_and_the_audit_log(embedded):
    base, auth = embedded["base"], admin(embedded)
    target = members_of(embedded, auth, "unit-education")["items"][-1]
    r = requests.post(f"{base}/api/v1/admin/members/{target['member_id']}/disqualify",
                      headers=auth, json={"reason": "使用刷题软件"}, timeout=10)
    assert r.status_code == 200 and r.json()["disqualified"]
    notice = requests.get(f"{base}/api/v1/admin/disqualifications", headers=auth,
                          timeout=10).json()["items"]
    assert [(n["name"], n["reason"]) for n in notice] == [(target["name"], "使用刷题软件")]
    audit = requests.get(f"{base}/api/v1/admin/audit", headers=auth, timeout=10).json()
    assert audit["items"][0]["action"] == "member_disqualified"
    assert audit["items"][0]["target"] == target["member_id"]
    r = requests.patch(f"{base}/api/v1/admin/members/{target['member_id']}", headers=auth,
                       json={"status": "retired"}, timeout=10)
    assert r.status_code == 400 and "status" in r.json()["error"]["fields"]


def test_the_roster_import_command(embedded, tmp_path):
    sheet = tmp_path / "成员.csv"
    sheet.write_bytes(SEED_LIKE.encode("gbk"))
    auth = admin(embedded)
    env = dict(os.environ, CHALLENGE_TOKEN=auth["Authorization"][7:])
    command = [sys.executable, "-m", "challenge.cli", "roster", "import", str(sheet),
               "--unit", "unit-education", "--url", embedded["base"]]
    dry = subprocess.run(command + ["--dry-run"], env=env, capture_output=True, text=True,
                         timeout=60)
    assert dry.returncode == 3, dry.stderr  # row errors
    assert "dry run" in dry.stdout and "row 3, phone" in dry.stdout
    assert "uploading" in dry.stderr and "100%" in dry.stderr
    assert members_of(embedded, auth, "unit-education")["total"] == 30
    wrong = subprocess.run(command, env=dict(env, CHALLENGE_TOKEN="nonsense"),
                           capture_output=True, text=True, timeout=60)
    assert wrong.returncode == 2 and "401" in wrong.stderr
    real = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert "created   2" in real.stdout
    assert members_of(embedded, auth, "unit-education")["total"] == 32
