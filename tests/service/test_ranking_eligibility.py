"""Issue 18 in ranking: what eligibility for a prize depends on, kept from roster's events
(participation, administrator roles, active) and from the passes (a pass inside the month,
R15's cutoffs at their edges), marked on the live boards and the closed months' boards, and
carried by month_closed (`tops`, MONTH_TOP_DEPTH deep) so awards grants without asking."""
from datetime import timedelta

import pytest
from nameko.testing.services import replace_dependencies

from services.ranking.service import RankingService
from tests.service.helpers import call, deliver, outbox_events
from tests.service.test_ranking_months import (
    APRIL_CUTOFF, MARCH_CUTOFF, START, Attempts, board, pass_data, play,
)

MS = timedelta(milliseconds=1)
MEMBERS = {  # member: (unit, participation)
    "m1": ("u1", "required"), "m2": ("u1", "withdrawn"), "m3": ("u2", "voluntary"),
    "m4": ("u2", "required"), "admin": ("u1", "required"),
}


@pytest.fixture
def world(container_factory, migrated, fake_clock):
    config = dict(migrated, MONTH_TOP_DEPTH=3)
    container = container_factory(RankingService, config)
    attempts = Attempts()
    replace_dependencies(container, attempts=attempts)
    container.start()
    fake_clock.set(START + timedelta(days=1))
    world = {"container": container, "attempts": attempts, "clock": fake_clock,
             "config": config}
    deliver(container, "on_campaign_published", "question_bank", "campaign_published", {
        "campaign_id": "c", "name": "2018", "time_zone": "Asia/Shanghai", "starts_at": START,
        "ends_at": APRIL_CUTOFF, "levels": [], "organisation_id": "fed"})
    for member_id, (unit, participation) in MEMBERS.items():
        roster(world, "member_registered", member_id, participation=participation)
    return world


def roster(world, type_, member_id, participation="required"):
    unit = MEMBERS[member_id][0]
    deliver(world["container"], f"on_{type_}", "roster", type_, {
        "member_id": member_id, "name": member_id, "org_path": ["root", "fed", unit],
        "category": "party_member", "participation": participation, "status": "active"})


def role(world, type_, member_id, role_name):
    deliver(world["container"], f"on_{type_}", "roster", type_, {
        "member_id": member_id, "role": role_name, "org_unit_id": "fed", "by": "system"})


def marks(entries, *fields):
    return [(e["member_id"], *(e[f] for f in fields)) for e in entries]


def test_months_board_and_tops_mark_everyone_with_a_result_at_the_cutoffs_edges(world):
    c = world["container"]
    play(world, pass_data("c", "m1", "r1", 1, 50_000, START))  # the campaign's first instant
    play(world, pass_data("c", "m2", "r2", 1, 60_000, MARCH_CUTOFF))  # 23:59:59.999: March
    play(world, pass_data("c", "m3", "r3", 1, 70_000, MARCH_CUTOFF - timedelta(days=1)))
    play(world, pass_data("c", "admin", "ra", 1, 40_000, MARCH_CUTOFF - timedelta(days=2)))
    play(world, pass_data("c", "m4", "r4", 1, 80_000, MARCH_CUTOFF + MS))  # 00:00:00.000: April
    play(world, pass_data("c", "m2", "r2", 2, 120_000, APRIL_CUTOFF))  # April's last instant
    role(world, "role_granted", "admin", "system_admin")
    role(world, "role_granted", "m3", "organisation_admin")
    role(world, "role_revoked", "m3", "organisation_admin")
    role(world, "role_granted", "m4", "unit_admin")  # a unit's administrator: not the bank
    deliver(c, "on_member_deactivated", "roster", "member_deactivated", {"member_id": "m3"})

    # the live board: the inactive are off it, the withdrawn and administrators marked
    live = board(world, "system", "c")["entries"]
    assert marks(live, "rank", "participation", "bank_admin", "active") == [
        ("m2", 1, "withdrawn", False, True), ("admin", 2, "required", True, True),
        ("m1", 3, "required", False, True), ("m4", 4, "required", False, True)]

    world["clock"].set(MARCH_CUTOFF + MS)
    call(c, "close_month", "c", "2018-03")
    march = board(world, "system", "c", "2018-03")["entries"]
    assert marks(march, "rank", "active", "participation", "bank_admin", "passed_in_month") \
        == [("admin", 1, True, "required", True, True),
            ("m1", 2, True, "required", False, True),
            ("m2", 3, True, "withdrawn", False, True),
            ("m3", None, False, "voluntary", False, True)]  # inactive: kept, placeless
    [closed] = outbox_events(world["config"], "ranking", "month_closed")
    tops = {top["scope_id"]: top for top in closed["data"]["tops"]}
    assert {scope: (top["depth"], top["total"]) for scope, top in tops.items()} == {
        "system": (3, 4), "fed": (3, 4)}
    assert marks(tops["system"]["entries"], "position", "bank_admin", "participation") == [
        ("admin", 1, True, "required"), ("m1", 2, False, "required"),
        ("m2", 3, False, "withdrawn")]  # three deep: m3 beyond MONTH_TOP_DEPTH

    world["clock"].set(APRIL_CUTOFF + MS)
    call(c, "close_month", "c", "2018-04")
    april = board(world, "system", "c", "2018-04")["entries"]
    assert marks(april, "passed_in_month") == [
        ("m2", True), ("admin", False), ("m1", False), ("m3", False), ("m4", True)]
    assert [e["rank"] for e in april] == [1, 2, 3, None, 4]
    _, closed = outbox_events(world["config"], "ranking", "month_closed")
    assert [(e["member_id"], e["passed_in_month"]) for e in closed["data"]["tops"][0]["entries"]] \
        == [("m2", True), ("admin", False), ("m1", False)]


def test_an_older_campaign_event_without_its_organisation_keeps_the_one_known(world):
    deliver(world["container"], "on_level_updated", "question_bank", "level_updated", {
        "campaign_id": "c", "name": "2018", "time_zone": "Asia/Shanghai", "starts_at": START,
        "ends_at": APRIL_CUTOFF, "levels": []})
    play(world, pass_data("c", "m1", "r1", 1, 50_000, START))
    world["clock"].set(MARCH_CUTOFF + MS)
    call(world["container"], "close_month", "c", "2018-03")
    [closed] = outbox_events(world["config"], "ranking", "month_closed")
    assert [top["scope_id"] for top in closed["data"]["tops"]] == ["system", "fed"]
