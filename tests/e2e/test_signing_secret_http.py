"""The token secret on the embedded platform: no public default to sign with. Member ids are
on the boards, so a token signed with the secret the code once fell back on would make anyone
the system administrator; the platform signs with its data folder's own secret instead."""
from datetime import datetime, timezone

import requests

from challenge import demo
from gateway import tokens

# what every process signed with while CHALLENGE_SECRET was unset, before there was no default
OLD_PUBLIC_DEFAULT = "dev-only-secret-change-me"


def test_a_token_signed_with_the_old_public_default_is_refused(embedded):
    base = embedded["base"]
    with embedded["platform"].rpc() as rpc:
        admin = rpc.roster.list_members(query=demo.SYSTEM_ADMIN_PHONE)["items"][0]
        victim = rpc.roster.list_members(query=demo.member_rows()[1]["phone"])["items"][0]
    forged, _ = tokens.issue(OLD_PUBLIC_DEFAULT, {"member_id": admin["member_id"],
                                                  "roles": ["system_admin"]},
                             datetime.now(timezone.utc))
    auth = {"Authorization": f"Bearer {forged}"}

    assert requests.get(f"{base}/api/v1/me", headers=auth, timeout=10).status_code == 401
    r = requests.patch(f"{base}/api/v1/admin/members/{victim['member_id']}", headers=auth,
                       json={"status": "inactive"}, timeout=10)
    assert r.status_code == 401, r.text
    with embedded["platform"].rpc() as rpc:  # nothing changed
        assert rpc.roster.get_member(victim["member_id"])["status"] == victim["status"]


def test_the_embedded_platform_signs_with_its_data_folders_own_secret(embedded):
    secret = embedded["platform"].settings.secret
    assert secret != OLD_PUBLIC_DEFAULT and len(secret.encode()) >= 32
