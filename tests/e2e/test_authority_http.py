"""Issue 16's roster cases over HTTP, on the embedded platform with the demo: a unit
administrator's sheet cannot make anyone an administrator, a disqualified administrator
cannot reinstate themself, and a phone in full-width digits logs in as the registered one."""
import requests

from tests.e2e.test_admin_roster_http import EDU_ADMIN, SYSTEM, admin, members_of, upload
from tests.thin_path import last_code, wait_for


def audit(embedded, auth):
    r = requests.get(f"{embedded['base']}/api/v1/admin/audit", headers=auth,
                     params={"limit": 200}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def full_width(phone):
    """'13800000005' as '1３８０００００００５': the look-alike of the issue."""
    return phone[0] + "".join(chr(ord(d) + 0xFEE0) for d in phone[1:])


def test_a_unit_administrators_sheet_grants_no_role_and_a_look_alike_phone_is_the_same(
        embedded):
    base, edu, system = embedded["base"], admin(embedded), admin(embedded, SYSTEM)
    target = next(m for m in members_of(embedded, system, "unit-education")["items"]
                  if not m["roles"])
    phone = "1380000" + target["phone_masked"][-4:]  # the demo's phones
    before = audit(embedded, system)
    sheet = (f"姓名,部门,手机号码,备注,角色\n{target['name']},{target['department']},"
             f"{phone},,system_admin\n")
    r = upload(embedded, edu, "提权.csv", sheet.encode("gbk"), unit="unit-education")
    assert r.status_code == 200, r.text
    assert [(e["row"], e["column"]) for e in r.json()["errors"]] == [(2, "role")]
    assert (r.json()["updated"], r.json()["unchanged"]) == (0, 0)
    after = audit(embedded, system)
    assert after["total"] == before["total"] + 1
    assert after["items"][0]["action"] == "members_imported"
    assert requests.get(f"{base}/api/v1/admin/members/{target['member_id']}", headers=system,
                        timeout=10).json()["roles"] == []

    # the member logs in with their phone in full-width digits: the same member, no admin
    r = requests.post(f"{base}/api/v1/auth/code", json={"phone": full_width(phone)}, timeout=10)
    assert r.status_code == 202, r.text
    code = wait_for(lambda: last_code(embedded["sms"], phone), what="a code for the phone")
    r = requests.post(f"{base}/api/v1/auth/token",
                      json={"phone": full_width(phone), "code": code}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["member"]["member_id"] == target["member_id"]
    auth = {"Authorization": f"Bearer {r.json()['token']}"}
    for path in ("/admin/questions", "/admin/months", "/admin/members"):
        assert requests.get(f"{base}/api/v1{path}", headers=auth, timeout=10).status_code == 403


def test_a_disqualified_administrator_cannot_reinstate_themself_over_http(embedded):
    base, edu, system = embedded["base"], admin(embedded), admin(embedded, SYSTEM)
    me = requests.get(f"{base}/api/v1/me", headers=edu, timeout=10).json()["member"]
    assert me["roles"] and me["phone_masked"].endswith(EDU_ADMIN[-4:])
    members = f"{base}/api/v1/admin/members/{me['member_id']}"
    r = requests.post(f"{members}/disqualify", headers=system, json={"reason": "代他人答题"},
                      timeout=10)
    assert r.status_code == 200, r.text
    before = audit(embedded, system)["total"]
    r = requests.post(f"{members}/reinstate", headers=edu, json={"reason": "我没有作弊"},
                      timeout=10)
    assert r.status_code == 403 and r.json()["error"]["reason"] == "self_reinstatement", r.text
    r = requests.get(f"{base}/api/v1/admin/members", headers=edu, timeout=10)
    assert r.status_code == 403 and r.json()["error"]["reason"] == "roles_suspended", r.text
    assert requests.get(members, headers=system, timeout=10).json()["disqualified"]
    assert audit(embedded, system)["total"] == before
