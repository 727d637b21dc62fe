"""awards and issue 18 through the container's entrypoints: a month granted from the tops
month_closed carries (no RPC to ranking), only to members who played that month, held
while a flag from attempts is open and released when it is cleared, a lost month granted
again (idempotent), the settings and the audit log."""
from datetime import datetime, timedelta, timezone

import pytest
from nameko.testing.services import replace_dependencies

from kernel.errors import Conflict
from services.awards.service import AwardsService
from tests.service.helpers import call, deliver, outbox_events

AT = datetime(2018, 3, 20, tzinfo=timezone(timedelta(hours=8)))


def entry(i, **marks):
    return {"member_id": f"m{i:02d}", "position": i, "levels": 3, "total_ms": 100_000 + i,
            "name": f"name-m{i:02d}", "unit_name": "单位", "phone_masked": "138****0000",
            "disqualified": False, "active": True, "participation": "required",
            "bank_admin": False, "passed_in_month": True} | marks


BOARD = [entry(i, passed_in_month=i > 10) for i in range(1, 61)]  # m01–m10 did not play


class Ranking:
    """ranking as awards calls it: counts every call (none is expected with tops)."""

    def __init__(self):
        self.calls = 0

    def leaderboard(self, scope, campaign_id, limit, offset, month):
        self.calls += 1
        return {"total": len(BOARD), "entries": BOARD[offset:offset + limit]}

    def months(self, campaign_id):
        self.calls += 1
        return [{"month": "2018-03", "closed": True, "snapshot_id": "s1"},
                {"month": "2018-04", "closed": False}]

    def with_timeout(self, seconds):
        return self


@pytest.fixture
def awards(container_factory, migrated, fake_clock):
    container = container_factory(AwardsService, migrated)
    container.fake_ranking = Ranking()
    replace_dependencies(container, ranking=container.fake_ranking)
    container.start()
    deliver(container, "on_campaign_published", "question_bank", "campaign_published", {
        "campaign_id": "c", "name": "c", "time_zone": "Asia/Shanghai", "starts_at": AT,
        "ends_at": AT + timedelta(days=200), "organisation_id": "federation", "levels": []})
    return container


def close(container, tops=True):
    data = {"campaign_id": "c", "month": "2018-03", "cutoff": AT, "snapshot_id": "s1",
            "ranked_members": len(BOARD)}
    if tops:
        data["tops"] = [{"scope_id": scope, "depth": 60, "total": len(BOARD), "entries": BOARD}
                        for scope in ("system", "federation")]
    return deliver(container, "on_month_closed", "ranking", "month_closed", data)


def standing(container):
    return {(a["scope_id"], a["rank"]): (a["member_id"], a["status"])
            for a in call(container, "awards_of_period", "c", "2018-03")
            if a["status"] != "revoked"}


def test_a_month_is_granted_from_its_tops_only_to_members_who_played_it(awards):
    close(awards)
    assert awards.fake_ranking.calls == 0  # item 12: no round trip to ranking
    got = standing(awards)
    # "prizes for doing nothing": m01–m10 lead the cumulative board but passed nothing in March
    assert got[("system", 1)][0] == "m11" and got[("federation", 1)][0] == "m11"
    assert got[("federation", 30)][0] == "m40" and ("federation", 31) not in got
    assert not {f"m{i:02d}" for i in range(1, 11)} & {m for m, _ in got.values()}


def test_without_tops_the_boards_are_read_from_ranking(awards):
    close(awards, tops=False)
    assert awards.fake_ranking.calls > 0
    assert standing(awards)[("federation", 1)][0] == "m11"


def test_a_flag_from_attempts_holds_the_award_until_it_is_cleared(awards, migrated):
    deliver(awards, "on_attempt_flagged", "attempts", "attempt_flagged", {
        "attempt_id": "a1", "member_id": "m12", "reason": "fast_pass",
        "detail": {"level": 1}, "flag_id": 5})
    close(awards)
    assert standing(awards)[("federation", 2)] == ("m12", "held")
    held = next(a for a in call(awards, "awards_of_period", "c", "2018-03")
                if a["member_id"] == "m12")
    with pytest.raises(Conflict):
        call(awards, "mark_paid", "finance", held["id"])
    deliver(awards, "on_flag_reviewed", "attempts", "flag_reviewed", {
        "flag_id": 5, "attempt_id": "a1", "member_id": "m12", "outcome": "cleared",
        "reviewed_by": "admin", "reviewed_at": AT})
    assert standing(awards)[("federation", 2)] == ("m12", "granted")
    assert call(awards, "mark_paid", "finance", held["id"])["status"] == "paid"
    assert len(outbox_events(migrated, "awards", "award_released")) == 1
    actions = [e["action"] for e in call(awards, "audit_log", None, 500, 0)["items"]]
    assert {"award_released", "award_paid", "awards_month_granted"} <= set(actions)


def test_a_lost_month_is_granted_again_once(awards, migrated):
    assert call(awards, "missing_months", "c", ["2018-03"]) == ["2018-03"]
    got = call(awards, "grant_month", "admin", "c", "2018-03")
    assert (got["granted"], got["awards"], got["held"]) == (True, 31, 0)
    assert call(awards, "missing_months", "c", ["2018-03"]) == []
    again = call(awards, "grant_month", "admin", "c", "2018-03")
    assert (again["granted"], again["awards"]) == (False, 31)
    assert len(outbox_events(migrated, "awards", "award_granted")) == 31
    close(awards)  # the month_closed that was late grants nothing more
    assert len(outbox_events(migrated, "awards", "award_granted")) == 31
    with pytest.raises(Conflict) as refused:
        call(awards, "grant_month", "admin", "c", "2018-04")
    assert refused.value.reason == "month_not_closed"


def test_settings_are_read_changed_and_audited(awards):
    assert call(awards, "settings", "c")["exclude_inactive"] is True
    got = call(awards, "set_settings", "admin", "c", {"monthly_needs_pass_in_month": False})
    assert got["monthly_needs_pass_in_month"] is False and got["updated_by"] == "admin"
    close(awards)
    assert standing(awards)[("federation", 1)][0] == "m01"  # the cumulative reading
    [changed] = [e for e in call(awards, "audit_log", None, 50, 0)["items"]
                 if e["action"] == "award_settings_changed"]
    assert changed["actor_id"] == "admin"


class Fake:
    def __init__(self, **answers):
        self.__dict__.update(answers)

    def with_timeout(self, seconds):
        return self


def test_campaign_closed_learns_its_last_month_without_asking_ranking(container_factory,
                                                                       migrated, fake_clock):
    """Issue 18 item 12: the last month is the one granted with the final snapshot."""
    asked = []
    container = container_factory(AwardsService, migrated)
    replace_dependencies(
        container,
        ranking=Fake(months=lambda c: asked.append("months") or [],
                     leaderboard=lambda s, c, limit, offset, month: asked.append(month) or {
                         "total": len(BOARD), "entries": BOARD[offset:offset + limit]}),
        roster=Fake(org_tree=lambda: [{"id": "system", "parent_id": None, "kind": "system",
                                       "name": "s"}],
                    roster_for_scoring=lambda: [],
                    scoring_removals=lambda since, until: []),
        attempts=Fake(participants=lambda c: []),
        question_bank=Fake(get_campaign=lambda c: {
            "levels": [{}] * 12, "starts_at": "2018-03-12T00:00:00+08:00",
            "ends_at": "2018-10-31T23:59:59.999000+08:00"}))
    container.start()
    deliver(container, "on_campaign_published", "question_bank", "campaign_published", {
        "campaign_id": "c", "name": "c", "time_zone": "Asia/Shanghai", "starts_at": AT,
        "ends_at": AT + timedelta(days=200), "organisation_id": "federation", "levels": []})
    close(container)  # March, granted from its tops with snapshot s1
    deliver(container, "on_campaign_closed", "ranking", "campaign_closed",
            {"campaign_id": "c", "final_snapshot_id": "s1"})
    assert asked == ["2018-03"]  # the final board of March only; never ranking.months
    assert call(container, "annual_results", "c")["champion_member_id"] == "m01"
