"""The organisation sheet over HTTP (POST /api/v1/admin/org-units/import) and through
`challenge org import` (issue 19 item 2), and R4 outside imports (issue 18, "Also"), on the
embedded platform with the demo (federation 省总工会 with unit-education, unit-industry)."""
import os
import subprocess
import sys

import requests

from tests.thin_path import login

SYSTEM, EDU_ADMIN = "13800000000", "13800000001"
SHEET = ("上级,名称,类型,编码\n"
         "省总工会,有色冶金工会,单位,ys\n"
         "省总工会/有色冶金工会,有色第一支部,支部,\n"
         "ys,有色第二支部,部门,\n"            # row 4: 部门 is no kind
         "省总工会,煤炭工会,单位,mt\n")


def upload(embedded, auth, data, name="组织.csv", **form):
    return requests.post(f"{embedded['base']}/api/v1/admin/org-units/import", headers=auth,
                         files={"file": (name, data)}, data=form, timeout=30)


def tree(embedded, auth):
    r = requests.get(f"{embedded['base']}/api/v1/admin/org-units", headers=auth, timeout=10)
    assert r.status_code == 200, r.text
    return {n["name"]: n for n in r.json()["nodes"]}


def test_dry_run_then_import_then_reimport_with_moves_and_renames(embedded):
    auth = login(embedded["base"], embedded["sms"], SYSTEM)[0]
    before = tree(embedded, auth)
    dry = upload(embedded, auth, SHEET.encode("gbk"), dry_run="true")
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert report["dry_run"] and report["created"] == 3
    assert [(e["row"], e["column"], e["reason"]) for e in report["errors"]] == [
        (4, "kind", "unknown_kind")]
    assert tree(embedded, auth) == before  # the dry run changed nothing

    real = upload(embedded, auth, SHEET.encode("utf-8-sig")).json()
    assert (real["dry_run"], real["created"], len(real["errors"])) == (False, 3, 1)
    assert {w["name"] for w in real["warnings"]} == {"有色冶金工会", "煤炭工会"}
    after = tree(embedded, auth)
    assert after["有色冶金工会"]["id"] == "ys" and after["有色冶金工会"]["parent_id"] == "federation"
    assert after["有色第一支部"]["parent_id"] == "ys"
    assert after["煤炭工会"]["warnings"] == ["unit_without_admin"]  # R4, on the API
    assert after["省教科文卫工会"]["warnings"] == []

    # re-import: a demo unit gets its code by its path, then is renamed; 有色第一支部 moves
    members_before = requests.get(f"{embedded['base']}/api/v1/admin/members", headers=auth,
                                  params={"unit_id": "unit-industry", "limit": 5},
                                  timeout=10).json()
    again = upload(embedded, auth, ("上级,名称,类型,编码\n"
                                    "省总工会,省产业工会,单位,unit-industry\n"
                                    "省总工会,省产业工会（新）,单位,unit-industry\n").encode())
    assert again.json()["errors"][0]["reason"] == "duplicate_row"
    renamed = upload(embedded, auth, "名称,上级,类型,编码\n省产业工会（新）,省总工会,单位,"
                                     "unit-industry\n有色第一支部,mt,支部,\n".encode()).json()
    # the branch without a code is found by its path only: under 煤炭工会 it is a new node
    assert (renamed["updated"], renamed["created"]) == (1, 1)
    now = tree(embedded, auth)
    assert now["省产业工会（新）"]["id"] == "unit-industry" and "省产业工会" not in now
    members_after = requests.get(f"{embedded['base']}/api/v1/admin/members", headers=auth,
                                 params={"unit_id": "unit-industry", "limit": 5},
                                 timeout=10).json()
    assert members_after["total"] == members_before["total"]  # members keep their node
    assert {m["unit_name"] for m in members_after["items"]} == {"省产业工会（新）"}
    audit = requests.get(f"{embedded['base']}/api/v1/admin/audit", headers=auth,
                         params={"limit": 20}, timeout=10).json()["items"]
    renames = [e for e in audit if e["action"] == "org_unit_renamed"]
    assert renames and renames[0]["detail"]["name"] == ["省产业工会", "省产业工会（新）"]


def test_a_unit_administrator_may_not_import_and_members_wait_for_an_administrator(embedded):
    system = login(embedded["base"], embedded["sms"], SYSTEM)[0]
    unit_admin = login(embedded["base"], embedded["sms"], EDU_ADMIN)[0]
    refused = upload(embedded, unit_admin, SHEET.encode())
    assert refused.status_code == 403
    assert "有色冶金工会" not in tree(embedded, system)
    upload(embedded, system, SHEET.encode())
    member = requests.get(f"{embedded['base']}/api/v1/admin/members", headers=system,
                          params={"unit_id": "unit-education", "limit": 50},
                          timeout=10).json()["items"]
    plain = next(m for m in member if not m["roles"])
    moved = requests.patch(f"{embedded['base']}/api/v1/admin/members/{plain['member_id']}",
                           headers=system, json={"org_unit_id": "mt"}, timeout=10)
    assert moved.status_code == 409 and moved.json()["error"]["reason"] == "unit_without_admin"


def test_the_org_import_command(embedded, tmp_path):
    auth = login(embedded["base"], embedded["sms"], SYSTEM)[0]
    sheet = tmp_path / "组织.csv"
    sheet.write_text(SHEET, encoding="utf-8")
    env = dict(os.environ, CHALLENGE_TOKEN=auth["Authorization"][7:])
    command = [sys.executable, "-m", "challenge.cli", "org", "import", str(sheet),
               "--url", embedded["base"]]
    dry = subprocess.run(command + ["--dry-run"], env=env, capture_output=True, text=True,
                         timeout=60)
    assert dry.returncode == 3, dry.stderr  # a row error
    assert "dry run" in dry.stdout and "row 4, kind" in dry.stdout
    assert "有色冶金工会" not in tree(embedded, auth)
    real = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert "created   3" in real.stdout and "煤炭工会 has no administrator" in real.stdout
    assert "有色冶金工会" in tree(embedded, auth)
