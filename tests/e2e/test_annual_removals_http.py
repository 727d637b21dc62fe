"""R18's denominators over HTTP (issue 18 item 4) on the embedded platform with the demo: a
unit's administrator cannot take a required member out of their unit's count; the system
administrator can, and the annual results (JSON and XLSX) list the member under their unit
with who took them out and when."""
import io
from datetime import datetime

import openpyxl
import requests

from tests.e2e.test_visibility_http import (
    EDUCATION_ADMIN, EDUCATION_MEMBER, SYSTEM, close_the_campaign, get,
)
from tests.thin_path import login


def patch_member(base, auth, member_id, changes):
    return requests.patch(f"{base}/api/v1/admin/members/{member_id}", headers=auth,
                          json=changes, timeout=30)


def test_the_annual_results_list_who_left_each_units_count_and_who_did_it(embedded):
    base, sms = embedded["base"], embedded["sms"]
    unit_admin = login(base, sms, EDUCATION_ADMIN)[0]
    member = login(base, sms, EDUCATION_MEMBER)[1]
    assert member["participation"] == "required"
    for changes in ({"status": "inactive"}, {"participation": "withdrawn"}):
        r = patch_member(base, unit_admin, member["member_id"], changes)
        assert r.status_code == 403, r.text
        assert r.json()["error"]["reason"] == "required_needs_org_admin"
    system, system_me = login(base, sms, SYSTEM)
    r = patch_member(base, system, member["member_id"], {"participation": "withdrawn"})
    assert r.status_code == 200 and r.json()["participation"] == "withdrawn", r.text

    system = close_the_campaign(embedded)  # months later: new tokens
    unit_admin = login(base, sms, EDUCATION_ADMIN)[0]
    for auth in (system, unit_admin):  # the unit's administrator sees their unit's list
        results = get(base, "/admin/annual", auth).json()
        rows = {row["org_unit_id"]: row for row in results["units"]}
        [removed] = rows["unit-education"]["removed"]
        assert (removed["member_id"], removed["name"], removed["by"], removed["by_name"]) == (
            member["member_id"], member["name"], system_me["member_id"], "系统管理员")
        assert (removed["before"]["participation"], removed["after"]["participation"]) == (
            "required", "withdrawn")
        assert removed["counted_at_close"] is False
        assert removed["at"].startswith("2018-05-20")
        assert all(row["removed"] == [] for unit, row in rows.items() if unit != "unit-education")
    assert set(rows) == {"unit-education"}  # the last reader: the unit's administrator
    book = openpyxl.load_workbook(io.BytesIO(get(base, "/admin/annual.xlsx", system).content))
    listed = list(book["年内移出应参加人员"].values)
    assert [row[1:3] + row[6:] for row in listed[1:]] == [
        ("省教科文卫工会", member["name"], "系统管理员", datetime(2018, 5, 20, 9, 0), "否")]
