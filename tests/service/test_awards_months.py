"""awards and R16/R20: a closed month's awards from ranking's snapshot under the default
policy, the 5/6, 15/16 and 30/31 borders with tied results, disqualification before and
after the close (revoke, the next moves up, paid awards flagged), a duplicated
month_closed, and the finance ledger."""
import base64
import io
from datetime import datetime, timedelta, timezone

import openpyxl
import pytest
from nameko.testing.services import replace_dependencies

from services.awards.service import AwardsService
from services.ranking import rules
from tests.service.helpers import call, deliver, outbox_events

LOCAL = timezone(timedelta(hours=8))
START = datetime(2018, 3, 12, tzinfo=LOCAL)
AT = datetime(2018, 3, 20, tzinfo=LOCAL)


class Ranking:
    """ranking's month boards, built with ranking's own order and places."""

    def __init__(self, boards):
        self.boards, self.calls = boards, 0

    def leaderboard(self, scope, campaign_id, limit, offset, month):
        self.calls += 1
        entries = self.boards.get(scope, [])
        return {"total": len(entries), "entries": entries[offset:offset + limit]}


def board(results, disqualified=()):
    placed = rules.board(results, set(disqualified))
    return [dict(e, name=f"name-{e['member_id']}", unit_name="单位", phone_masked="138****0000")
            for e in placed]


def month_results(n=40, ties=()):
    """n members, m1 best; members in `ties` share the result of the one before them."""
    out = []
    for i in range(1, n + 1):
        levels, total = 3, 100_000 + i * 1000
        if i in ties:
            total = out[-1].total_ms
        out.append(rules.Result(f"m{i:02d}", levels, total, AT + timedelta(minutes=i)))
    return out


@pytest.fixture
def awards(container_factory, migrated, fake_clock):
    def make(results, disqualified=()):
        container = container_factory(AwardsService, migrated)
        ranking = Ranking({"system": board(results, disqualified),
                           "federation": board(results, disqualified)})
        replace_dependencies(container, ranking=ranking)
        container.start()
        container.fake_ranking = ranking
        deliver(container, "on_campaign_published", "question_bank", "campaign_published", {
            "campaign_id": "c", "name": "c", "time_zone": "Asia/Shanghai", "starts_at": START,
            "ends_at": START + timedelta(days=200), "organisation_id": "federation",
            "levels": []})
        return container
    return make


def close(container, month="2018-03"):
    return deliver(container, "on_month_closed", "ranking", "month_closed", {
        "campaign_id": "c", "month": month, "cutoff": AT, "snapshot_id": "s1",
        "ranked_members": 40})


def granted(container, month="2018-03"):
    return {(a["scope_id"], a["rank"]): (a["member_id"], a["amount_cny"])
            for a in call(container, "awards_of_period", "c", month)
            if a["status"] in ("granted", "paid")}


def test_the_default_policy_on_a_generated_month(awards, migrated):
    container = awards(month_results(40))
    close(container)
    got = granted(container)
    assert got[("system", 1)] == ("m01", None)  # the monthly champion
    assert [got[("federation", p)] for p in (1, 5, 6, 15, 16, 30)] == [
        ("m01", 300), ("m05", 300), ("m06", 200), ("m15", 200), ("m16", 100), ("m30", 100)]
    assert ("federation", 31) not in got and len(got) == 31
    assert sum(amount or 0 for _, amount in got.values()) == 5 * 300 + 10 * 200 + 15 * 100
    assert len(outbox_events(migrated, "awards", "award_granted")) == 31


def test_ties_at_the_borders_go_to_the_earlier_last_pass(awards):
    # m06 ties m05, m16 ties m15, m31 ties m30 on levels and time; the earlier pass wins
    container = awards(month_results(40, ties={6, 16, 31}))
    close(container)
    got = granted(container)
    assert (got[("federation", 5)], got[("federation", 6)]) == (("m05", 300), ("m06", 200))
    assert (got[("federation", 15)], got[("federation", 16)]) == (("m15", 200), ("m16", 100))
    assert got[("federation", 30)] == ("m30", 100) and ("federation", 31) not in got


def test_a_duplicated_month_closed_grants_nothing_more(awards, migrated):
    container = awards(month_results(40))
    body = close(container)
    calls = container.fake_ranking.calls
    from nameko.testing.services import entrypoint_hook

    with entrypoint_hook(container, "on_month_closed") as hook:
        hook(body)  # redelivered
    close(container)  # and a second event for the same month
    assert len(outbox_events(migrated, "awards", "award_granted")) == 31
    assert container.fake_ranking.calls == calls  # nor asked ranking again


def test_disqualified_before_the_close_is_skipped_and_after_it_revoked(awards, migrated,
                                                                       fake_clock):
    container = awards(month_results(40), disqualified={"m03"})  # marked in the snapshot
    close(container)
    got = granted(container)
    assert got[("federation", 3)] == ("m04", 300) and got[("federation", 30)] == ("m31", 100)
    assert "m03" not in {m for m, _ in got.values()}
    # after the close: m05 (300) is disqualified; m07 has been paid already
    paid = next(a for a in call(container, "awards_of_period", "c", "2018-03")
                if a["member_id"] == "m07" and a["scope_id"] == "federation")
    call(container, "mark_paid", "finance", paid["id"])
    deliver(container, "on_member_disqualified", "roster", "member_disqualified", {
        "member_id": "m05", "reason": "代答", "decided_at": AT, "decided_by": "admin"})
    got = granted(container)
    assert "m05" not in {m for m, _ in got.values()}
    assert got[("federation", 4)] == ("m06", 300)  # the next moved up
    assert got[("federation", 30)] == ("m32", 100)
    revoked = [a for a in call(container, "awards_of_period", "c", "2018-03")
               if a["status"] == "revoked"]
    assert {a["member_id"] for a in revoked if a["reason"] == "disqualified (R20)"} == {"m05"}
    [m07] = [a for a in call(container, "awards_of_period", "c", "2018-03")
             if a["member_id"] == "m07" and a["scope_id"] == "federation"]
    assert m07["status"] == "paid" and m07["amount_cny"] == 200  # never changed silently
    assert "尚欠 100 元" in m07["attention"]  # now 5th (300): says what is still owed
    assert len(outbox_events(migrated, "awards", "award_revoked")) == len(revoked)


def test_the_ledger_has_chinese_headers_and_a_payable_total(awards):
    container = awards(month_results(40))
    close(container)
    ledger = call(container, "ledger", "c", "2018-03", {"m01": "办公室"})
    sheet = openpyxl.load_workbook(io.BytesIO(base64.b64decode(ledger["content_b64"]))).active
    rows = list(sheet.values)
    assert rows[1][:4] == ("名次", "奖项", "姓名", "单位")
    assert rows[2][4] == "办公室" or "办公室" in [r[4] for r in rows[2:4]]
    assert rows[-1][0] == "合计" and rows[-1][8] == 5000


class Fake:
    def __init__(self, **answers):
        self.__dict__.update(answers)

    def with_timeout(self, seconds):
        return self


def test_annual_results_once_on_campaign_closed(container_factory, migrated, fake_clock):
    nodes = [{"id": "system", "parent_id": None, "kind": "system", "name": "s"},
             {"id": "fed", "parent_id": "system", "kind": "organisation", "name": "f"},
             {"id": "A", "parent_id": "fed", "kind": "unit", "name": "A"},
             {"id": "B", "parent_id": "fed", "kind": "unit", "name": "B"},
             {"id": "ob", "parent_id": "fed", "kind": "branch", "name": "ob"}]
    roster = [{"member_id": m, "org_path": ["system", "fed", unit], "participation": "required",
               "status": "active"} for m, unit in
              (("a1", "A"), ("a2", "A"), ("b1", "B"), ("o1", "ob"))]
    final = board([rules.Result("a1", 12, 1000, AT), rules.Result("b1", 6, 900, AT)], {"a1"})
    removals = [{"member_id": "a3", "name": "王五", "phone_masked": "138****0003",
                 "before": {"participation": "required", "status": "active", "org_unit_id": "A"},
                 "after": {"participation": "required", "status": "inactive",
                           "org_unit_id": "A"},
                 "left": ["A", "fed", "system"], "at": "2018-06-01T02:00:00+00:00",
                 "by": "admin-1", "by_name": "系统管理员"}]
    container = container_factory(AwardsService, migrated)
    replace_dependencies(
        container,
        ranking=Fake(months=lambda c: [{"month": "2018-10", "snapshot_id": "final"}],
                     leaderboard=lambda s, c, limit, offset, month: {
                         "total": len(final), "entries": final[offset:offset + limit]}),
        roster=Fake(org_tree=lambda: nodes, roster_for_scoring=lambda: roster,
                    scoring_removals=lambda since, until: removals if since else []),
        attempts=Fake(participants=lambda c: [{"member_id": "a1"}, {"member_id": "b1"}]),
        question_bank=Fake(get_campaign=lambda c: {
            "levels": [{}] * 12, "starts_at": "2018-03-12T00:00:00+08:00",
            "ends_at": "2018-10-31T23:59:59.999000+08:00"}))
    container.start()
    body = deliver(container, "on_campaign_closed", "ranking", "campaign_closed",
                   {"campaign_id": "c", "final_snapshot_id": "final"})
    result = call(container, "annual_results", "c")
    assert result["champion_member_id"] == "b1"  # a1 is disqualified
    # A: 1 of 2 played, but a1 is disqualified: participation ½, results 0 → ½·½ = 0.25
    # (a1's 12 levels once gave A 0.75, level with B); B: 1 of 1, 6/12 → ½ + ¼ = 0.75;
    # ob: nobody played → 0
    assert [(u["org_unit_id"], u["score"]["exact"], u["participation"]["exact"],
             u["disqualified"]) for u in result["units"]] == [("B", "3/4", "1", 0),
                                                              ("A", "1/4", "1/2", 1)]
    # who left A's denominator during the year, and who took them out
    assert result["units"][1]["removed"] == [
        {k: v for k, v in removals[0].items() if k != "left"} | {"counted_at_close": False}]
    assert result["units"][0]["removed"] == [] and result["branches"][0]["removed"] == []
    assert [b["org_unit_id"] for b in result["branches"]] == ["ob"]
    [published] = outbox_events(migrated, "awards", "annual_results_published")
    assert published["data"] == {"campaign_id": "c", "champion_member_id": "b1",
                                 "excellent_units": ["B", "A"], "excellent_branches": []}
    from nameko.testing.services import entrypoint_hook

    with entrypoint_hook(container, "on_campaign_closed") as hook:
        hook(body)
    assert len(outbox_events(migrated, "awards", "annual_results_published")) == 1
    xlsx = call(container, "annual_xlsx", "c", {"A": "甲单位", "B": "乙单位"}, "李娜")
    book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(xlsx["content_b64"])))
    rows = list(book.active.values)
    assert rows[1][:2] == ("个人总冠军", "李娜")
    assert rows[3][:3] == ("类别", "名次", "单位/支部")
    assert rows[4][:3] == ("直属单位", 1, "乙单位") and rows[4][7] == 0.75
    assert rows[5][:3] == ("直属单位", 2, "甲单位") and rows[5][9:11] == (1, 1)
    assert list(book["年内移出应参加人员"].values)[1] == (
        "直属单位", "甲单位", "王五", "138****0003", "必参，在册，甲单位", "必参，已停用，甲单位",
        "系统管理员", datetime(2018, 6, 1, 10, 0), "否")  # a local date-time, not text

