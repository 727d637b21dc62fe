"""A level's bank short of its draw, and a draw other than R10's 20, over HTTP (issue 18,
"Also"), on the embedded platform with the demo (30 questions a level, level 1 open)."""
import requests

from tests.thin_path import login

SYSTEM = "13800000000"


def campaign(embedded, auth):
    r = requests.get(f"{embedded['base']}/api/v1/admin/campaign", headers=auth, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def test_bank_short_shows_and_a_draw_other_than_20_is_confirmed(embedded):
    auth = login(embedded["base"], embedded["sms"], SYSTEM)[0]
    assert [lv["bank_short"] for lv in campaign(embedded, auth)["levels"]] == [0] * 12
    level = f"{embedded['base']}/api/v1/admin/campaign/levels/4"  # not open yet
    refused = requests.patch(level, headers=auth, json={"draw_count": 40}, timeout=10)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["reason"] == "draw_count_not_r10" and "confirm" in error["fields"]
    done = requests.patch(level, headers=auth, json={"draw_count": 40, "confirm": True},
                          timeout=10)
    assert done.status_code == 200, done.text
    # the bank of 30 is now 10 short: every start would be refused, and the view says so
    assert done.json()["levels"][3]["bank_short"] == 10
    assert campaign(embedded, auth)["levels"][3]["bank_short"] == 10
