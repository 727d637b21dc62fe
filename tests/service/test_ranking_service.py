"""ranking's live boards from attempt_passed events: duplicates, order, scopes, paging."""
from datetime import datetime, timedelta, timezone

import pytest

from services.ranking.service import RankingService
from tests.service.helpers import call, deliver

T0 = datetime(2018, 3, 20, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def ranking(container_factory, migrated, fake_clock):
    container = container_factory(RankingService, migrated)
    container.start()
    for member_id, name, place in [("m1", "王伟", "unit-a"), ("m2", "李娜", "unit-b"),
                                   ("m3", "张敏", "unit-a")]:
        deliver(container, "on_member_registered", "roster", "member_registered", {
            "member_id": member_id, "name": name, "org_path": ["system", "fed", place],
            "category": "party_member", "participation": "required", "status": "active",
            "phone_masked": "138****0001", "unit_name": place,
        })
    return container


def passed(container, member, run, levels, total_ms, minutes):
    return deliver(container, "on_attempt_passed", "attempts", "attempt_passed", {
        "attempt_id": f"{run}-{levels}", "member_id": member, "campaign_id": "c",
        "run_id": run, "run_number": 1, "level": levels,
        "started_at": T0, "submitted_at": T0 + timedelta(minutes=minutes),
        "duration_ms": 1000, "run_levels_passed": levels, "run_total_ms": total_ms,
    })


def board(ranking, scope="system", **kw):
    return call(ranking, "leaderboard", scope, **kw)


def test_board_order_and_scopes(ranking):
    passed(ranking, "m1", "r1", 1, 90_000, 1)
    passed(ranking, "m2", "r2", 1, 80_000, 2)
    passed(ranking, "m3", "r3", 1, 80_000, 3)
    passed(ranking, "m1", "r1", 2, 200_000, 4)
    got = board(ranking)
    assert [(e["member_id"], e["rank"]) for e in got["entries"]] == [
        ("m1", 1), ("m2", 2), ("m3", 3)]
    assert got["entries"][0]["phone_masked"] == "138****0001"
    assert [e["member_id"] for e in board(ranking, "unit-a")["entries"]] == ["m1", "m3"]
    assert board(ranking, "unit-b")["total"] == 1


def test_duplicate_and_late_events_change_nothing(ranking):
    body = passed(ranking, "m1", "r1", 2, 200_000, 5)
    passed(ranking, "m1", "r1", 1, 90_000, 1)  # arrives after the later pass
    from tests.service.helpers import entrypoint_hook
    with entrypoint_hook(ranking, "on_attempt_passed") as hook:
        hook(body)  # the same event again
    [entry] = board(ranking)["entries"]
    assert (entry["levels"], entry["total_ms"]) == (2, 200_000)


def test_best_run_is_the_result(ranking):
    passed(ranking, "m1", "r1", 2, 300_000, 1)
    passed(ranking, "m1", "r9", 2, 250_000, 9)  # R14: a second run, faster
    [entry] = board(ranking)["entries"]
    assert entry["total_ms"] == 250_000


def test_paging_keeps_places_and_my_rank(ranking):
    for i, member in enumerate(["m1", "m2", "m3"]):
        passed(ranking, member, f"r{i}", 1, 10_000 * (i + 1), i)
    page = board(ranking, limit=1, offset=2)
    assert [(e["member_id"], e["rank"]) for e in page["entries"]] == [("m3", 3)]
    ranks = call(ranking, "my_rank", "m3")
    assert {s["scope_id"]: s["rank"] for s in ranks["scopes"]} == {
        "system": 3, "fed": 3, "unit-a": 2}


def test_disqualified_member_is_marked_and_takes_no_place(ranking):
    for i, member in enumerate(["m1", "m2", "m3"]):
        passed(ranking, member, f"r{i}", 1, 10_000 * (i + 1), i)
    deliver(ranking, "on_member_disqualified", "roster", "member_disqualified", {
        "member_id": "m1", "reason": "R20", "decided_at": T0, "decided_by": "admin"})
    entries = board(ranking)["entries"]
    assert [(e["member_id"], e["rank"], e["disqualified"]) for e in entries] == [
        ("m1", None, True), ("m2", 1, False), ("m3", 2, False)]
    assert board(ranking, limit=1, offset=2)["entries"][0]["rank"] == 2
