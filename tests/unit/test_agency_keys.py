"""AGENCY_API_KEYS (gateway/agencies.py): name=key pairs, keys long enough; a bad value is
one line naming the variable, and the gateway does not start on it."""
import pytest

from gateway import agencies
from kernel.errors import Unauthorized

KEY = "x" * 32


def test_keys_are_read_as_name_key_pairs():
    assert agencies.keys_of("") == {} and agencies.keys_of(None) == {}
    assert agencies.keys_of(f" stats={KEY} , audit={KEY}y") == {
        KEY.encode(): "stats", f"{KEY}y".encode(): "audit"}


@pytest.mark.parametrize("raw, says", [
    ("stats=short", "shorter than 32 bytes"),
    (KEY, "name=key"),
    (f"Stats={KEY}", "name=key"),
    (f"stats={KEY},stats={KEY}z", "listed twice"),
    (f"stats={KEY},audit={KEY}", "listed twice"),
])
def test_a_bad_value_is_one_line_naming_the_variable(raw, says):
    with pytest.raises(ValueError) as bad:
        agencies.keys_of(raw)
    message = str(bad.value)
    assert message.startswith("AGENCY_API_KEYS") and says in message and "\n" not in message
    assert KEY not in message  # a key is never repeated into a log


def test_only_a_listed_key_names_its_agency():
    config = {"AGENCY_API_KEYS": f"stats={KEY}"}
    assert agencies.agency_of({"X-Agency-Key": KEY}, config) == "stats"
    for headers in ({}, {"X-Agency-Key": KEY[:-1]}, {"X-Agency-Key": KEY + "é"},
                    {"Authorization": f"Bearer {KEY}"}):
        with pytest.raises(Unauthorized):
            agencies.agency_of(headers, config)
    with pytest.raises(Unauthorized):  # no keys configured: nobody
        agencies.agency_of({"X-Agency-Key": KEY}, {})
