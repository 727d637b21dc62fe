"""Issue 22, item 2: an authorised agency reads the roster over HTTP (docs/agencies.md).

The embedded platform with the demo and one agency key: without the key (or with a member's
token) the agency routes are 401; with it, every member is there as the events name them,
phones masked, nothing an agency has no business with (the full phone, the department,
roles); `since` gives what changed after a previous read."""
import re

import pytest
import requests

from challenge import demo
from challenge.platform import EmbeddedPlatform, embedded_settings
from kernel import bus, clock
from kernel.settings import Settings
from tests.distributed import free_port
from tests.thin_path import login

KEY = "an-agency-key-that-is-long-enough-0123456789"
AGENCY = {"X-Agency-Key": KEY}
# a phone stands alone: the same digits inside an id's hex (a UUID's last group) are no phone
FULL_PHONE = re.compile(r"(?<![0-9A-Za-z])1\d{10}(?![0-9A-Za-z])")


@pytest.fixture
def platform(tmp_path):
    from datetime import datetime, timezone

    bus.reset()
    fake = clock.FakeClock(datetime(2018, 5, 20, 1, 0, tzinfo=timezone.utc))
    clock.install(fake)
    port = free_port()
    settings = Settings.from_env().with_(policy={"AGENCY_API_KEYS": f"statistics={KEY}"})
    platform = EmbeddedPlatform(embedded_settings(str(tmp_path), port, settings)
                                .with_(rpc_timeout_seconds=5.0)).start()
    with platform.rpc() as rpc:
        demo.load(rpc)
    yield {"base": f"http://127.0.0.1:{port}", "clock": fake, "sms": platform.settings.sms_file}
    platform.stop()


def roster(base, headers=AGENCY, **params):
    return requests.get(f"{base}/api/v1/agency/roster", headers=headers, params=params,
                        timeout=30)


def test_an_agency_with_its_key_reads_the_roster_as_the_events_name_members(platform):
    base = platform["base"]
    member_token = login(base, platform["sms"], "13800000003")[0]
    for headers in ({}, member_token, {"X-Agency-Key": KEY[:-1]}):
        refused = roster(base, headers)
        assert refused.status_code == 401, refused.text
        assert FULL_PHONE.search(refused.text) is None and "items" not in refused.json()
    platform["clock"].advance(minutes=3)  # a read after the demo's rows were written
    first = roster(base, limit=1000)
    assert first.status_code == 200, first.text
    page = first.json()
    admin = login(base, platform["sms"], demo.SYSTEM_ADMIN_PHONE)[0]
    listed = requests.get(f"{base}/api/v1/admin/members", headers=admin,
                          params={"limit": 200}, timeout=30).json()
    assert page["total"] == listed["total"] == len(page["items"])
    assert FULL_PHONE.search(first.text) is None  # masked, everywhere
    for item in page["items"]:
        assert set(item) == {"member_id", "member", "org_path", "category", "participation",
                             "status", "disqualified", "updated_at"}
        who = item["member"]
        assert who["name"] and re.fullmatch(r"1\d\d\*{4}\d{4}", who["phone_masked"])
    named = {m["member_id"]: m for m in listed["items"]}
    for item in page["items"]:
        assert item["member"]["name"] == named[item["member_id"]]["name"]
        assert item["member"]["phone_masked"] == named[item["member_id"]]["phone_masked"]
        # their own node is their unit or their branch (or neither: an organisation's staff)
        unit, branch = item["member"]["unit_id"], item["member"]["branch_id"]
        assert named[item["member_id"]]["unit_id"] in (unit, branch) or unit == branch is None
    for kind in ("unit_name", "branch_name"):  # the demo has members in units and in branches
        assert any(m["member"][kind] for m in page["items"])
    # what changed since: one disqualification
    platform["clock"].advance(minutes=10)
    target = next(m for m in listed["items"] if not m["roles"])
    r = requests.post(f"{base}/api/v1/admin/members/{target['member_id']}/disqualify",
                      headers=admin, json={"reason": "代他人答题"}, timeout=30)
    assert r.status_code == 200, r.text
    later = roster(base, since=page["as_of"]).json()
    assert [(m["member_id"], m["disqualified"]) for m in later["items"]] == [
        (target["member_id"], True)]
    one = requests.get(f"{base}/api/v1/agency/members/{target['member_id']}", headers=AGENCY,
                       timeout=30)
    assert one.status_code == 200 and one.json() == later["items"][0]
    refused = requests.get(f"{base}/api/v1/agency/members/{target['member_id']}",
                           headers=member_token, timeout=30)
    assert refused.status_code == 401
