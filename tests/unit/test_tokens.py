"""Signed bearer tokens: expiry and tampering."""
from datetime import datetime, timedelta, timezone

import pytest

from gateway import tokens
from kernel.errors import Unauthorized

NOW = datetime(2018, 5, 20, 1, 0, tzinfo=timezone.utc)
MEMBER = {"member_id": "m1", "roles": []}


def test_a_token_verifies_until_it_expires():
    token, expires = tokens.issue("s", MEMBER, NOW)
    assert tokens.verify("s", token, NOW)["sub"] == "m1"
    assert tokens.verify("s", token, expires)["sub"] == "m1"
    with pytest.raises(Unauthorized, match="expired"):
        tokens.verify("s", token, expires + timedelta(seconds=1))


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
    lambda t: t.replace(t.split(".")[0], tokens._b64(b'{"sub":"admin","roles":[],"exp":9999999999}')),
    lambda t: t.split(".")[0],  # no signature
    lambda t: "",
])
def test_tampered_tokens_are_refused(mangle):
    token, _ = tokens.issue("s", MEMBER, NOW)
    with pytest.raises(Unauthorized):
        tokens.verify("s", mangle(token), NOW)


def test_another_secret_is_refused():
    token, _ = tokens.issue("s", MEMBER, NOW)
    with pytest.raises(Unauthorized):
        tokens.verify("other", token, NOW)


def test_rotating_the_secret_keeps_old_tokens_until_they_expire():
    old, expires = tokens.issue("old-secret", {"member_id": "m1"}, NOW)
    # the new secret is in place, the old one kept as previous: both kinds verify
    assert tokens.verify("new-secret", old, NOW, previous="old-secret")["sub"] == "m1"
    new, _ = tokens.issue("new-secret", {"member_id": "m2"}, NOW)
    assert tokens.verify("new-secret", new, NOW, previous="old-secret")["sub"] == "m2"
    # ... old ones only until they expire, and not at all once previous is gone
    with pytest.raises(Unauthorized):
        tokens.verify("new-secret", old, expires + timedelta(seconds=1), previous="old-secret")
    with pytest.raises(Unauthorized):
        tokens.verify("new-secret", old, NOW)
    with pytest.raises(Unauthorized):
        tokens.verify("new-secret", old, NOW, previous="")
    # a token signed with neither is refused whatever previous says
    forged, _ = tokens.issue("guess", {"member_id": "m3"}, NOW)
    with pytest.raises(Unauthorized):
        tokens.verify("new-secret", forged, NOW, previous="old-secret")
