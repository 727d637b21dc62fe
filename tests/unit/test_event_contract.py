"""kernel/events.py against the event table of shared/design/contracts.md, and the envelope."""
import os
import re
from datetime import datetime, timezone

import pytest

from kernel import events

CONTRACTS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "design",
                         "contracts.md")
NOW = datetime(2018, 3, 12, 9, 31, 7, 412000, tzinfo=timezone.utc)


def contract_rows():
    """{event type: set of top-level field names} from the table under '## Events'."""
    text = open(CONTRACTS, encoding="utf-8").read().split("## Events", 1)[1]
    rows, previous = {}, set()
    for line in text.splitlines():
        m = re.match(r"\|\s*(`[a-z_]+`(?:,\s*`[a-z_]+`)*)\s*\|\s*(.+?)\s*\|$", line)
        if not m:
            continue
        types = re.findall(r"`([a-z_]+)`", m.group(1))
        spec = re.sub(r"\([^)]*\)", "", m.group(2))  # drop explanations
        spec = re.sub(r"\[[^\]]*\]", "", spec)  # drop nested lists
        fields = set()
        if spec.startswith("the same, plus"):
            fields |= previous
            spec = spec[len("the same, plus"):]
        for part in spec.split(","):
            for name in part.split(" or "):
                name = name.strip().rstrip(":").strip()
                if name:
                    fields.add(name)
        for type_ in types:
            rows[type_] = fields
        previous = fields
    return rows


@pytest.mark.skipif(not os.path.exists(CONTRACTS), reason="shared/ is not beside the project")
def test_every_contract_event_has_a_schema_with_its_fields():
    rows = contract_rows()
    assert len(rows) == 17
    ours = {type_: schema for (_, type_), schema in events.EVENTS.items()}
    added = {type_ for _, type_ in events.BEYOND_CONTRACT}
    assert set(rows) == set(ours) - added and not added & set(rows)
    for type_, fields in rows.items():
        declared = set(ours[type_]().fields)
        assert fields <= declared, f"{type_} lacks {fields - declared}"


def test_build_refuses_data_outside_the_contract():
    with pytest.raises(ValueError, match="unknown|outside|Unknown"):
        events.build("roster", "member_deactivated", {"member_id": "m", "phone": "1"}, NOW)
    with pytest.raises(ValueError, match="member_id"):
        events.build("roster", "member_deactivated", {}, NOW)
    with pytest.raises(ValueError, match="no event"):
        events.build("roster", "attempt_passed", {}, NOW)


def test_envelope_round_trip():
    body = events.build("roster", "member_disqualified", {
        "member_id": "m1", "reason": "R20", "decided_at": NOW, "decided_by": "admin"}, NOW)
    assert set(body) == {"event_id", "type", "version", "occurred_at", "producer", "data"}
    assert body["occurred_at"] == "2018-03-12T09:31:07.412+00:00"
    body["data"]["added_later"] = True  # a newer producer's field: consumers ignore it
    parsed = events.parse(body)
    assert parsed["data"]["decided_at"] == NOW and "added_later" not in parsed["data"]


def test_what_counts_as_a_transient_handler_failure():
    from sqlalchemy.exc import OperationalError, TimeoutError as PoolTimeout

    from kernel.entrypoints import _transient

    assert _transient(PoolTimeout("QueuePool limit reached"))
    assert _transient(OperationalError("SELECT 1", {}, Exception("server closed")))
    assert not _transient(ValueError("a bug"))
    assert not _transient(KeyError("member_id"))


def test_another_service_away_is_transient_so_the_event_is_requeued():
    """Issue 18 item 11: awards' month_closed handler calling ranking while it restarts
    raises TimedRpcProxy's ServiceUnavailable; dead-lettering it lost the month's awards."""
    from kernel.entrypoints import _transient
    from kernel.errors import ServiceUnavailable

    assert _transient(ServiceUnavailable("ranking did not answer within 30 s"))
