"""Issue 23 items 3 and 6, the gateway's pure parts: the notices the campaign makes by itself
at their edges (a level's opening week, R15's last 3 days, the campaign's end), and the R20
notice's sheet (totals; an administrator's text never becomes a formula)."""
import io
from datetime import datetime, timedelta, timezone

import openpyxl

from gateway.review import automatic_notices, notice_xlsx

SHANGHAI = timezone(timedelta(hours=8))
CAMPAIGN = {
    "time_zone": "Asia/Shanghai",
    "starts_at": "2018-03-11T16:00:00+00:00", "ends_at": "2018-10-31T15:59:59.999000+00:00",
    "levels": [{"number": 4, "title": "第4关", "theme": "主题教育",
                "opens_at": "2018-05-31T16:00:00+00:00"}],
}


def kinds(at):
    return [(n["kind"], n.get("level")) for n in automatic_notices(CAMPAIGN, at)]


def test_a_level_is_announced_for_a_week_from_its_opening():
    opens = datetime(2018, 6, 1, tzinfo=SHANGHAI)
    assert kinds(opens - timedelta(microseconds=1)) == []
    [notice] = automatic_notices(CAMPAIGN, opens)
    assert (notice["kind"], notice["level"]) == ("level_open", 4)
    assert notice["title"] == "第4关已开放" and "主题教育" in notice["body"]
    assert kinds(opens + timedelta(days=7) - timedelta(microseconds=1)) == [("level_open", 4)]
    assert kinds(opens + timedelta(days=7)) == []


def test_the_months_last_three_days_are_announced_until_its_cutoff():
    cutoff = datetime(2018, 7, 1, tzinfo=SHANGHAI) - timedelta(milliseconds=1)  # R15
    assert kinds(cutoff - timedelta(days=3) - timedelta(milliseconds=1)) == []
    [notice] = automatic_notices(CAMPAIGN, cutoff - timedelta(days=3))
    assert notice["kind"] == "month_end" and "6月30日24时" in notice["body"]
    assert notice["ends_at"] == cutoff.isoformat()
    assert kinds(cutoff) == [("month_end", None)]
    assert kinds(cutoff + timedelta(milliseconds=1)) == []  # July: its own end is far


def test_the_campaigns_last_month_ends_at_the_campaigns_end():
    ends = datetime.fromisoformat(CAMPAIGN["ends_at"])
    assert kinds(ends - timedelta(days=3)) == [("month_end", None)]
    assert kinds(datetime(2018, 3, 1, tzinfo=SHANGHAI)) == []  # before the campaign


def test_the_notice_sheet_has_its_totals_and_no_formula():
    case = {"name": "张三", "phone_masked": "138****0005", "unit_name": "省产业工会",
            "decided_at": "2018-06-01T02:00:00+00:00", "reason": "=HYPERLINK(\"x\")",
            "evidence": "+1 代答", "flag_ids": [3, 4], "decided_by_name": "李四",
            "revoked": [{"period": "2018-05", "kind": "monthly_champion", "rank": 1,
                         "amount_cny": 300}], "revoked_cny": 300,
            "reinstated_at": None, "reinstated_by_name": None, "reinstate_reason": None}
    notice = {"items": [case], "disqualified": 1, "reinstated": 0, "revoked_cny": 300}
    sheet = openpyxl.load_workbook(io.BytesIO(notice_xlsx(notice))).active
    rows = list(sheet.values)
    assert rows[0][:4] == ("姓名", "手机号", "单位", "取消资格日期")
    assert rows[1][4] == "'=HYPERLINK(\"x\")" and sheet["E2"].data_type == "s"
    assert rows[1][5] == "'+1 代答" and rows[1][6] == "#3、#4"
    assert rows[1][8] == "2018-05 月冠军 第1名 300元"
    assert rows[2][0] == "合计 1 人" and rows[2][9] == 300


class _Proxy:
    def __init__(self, **calls):
        self.__dict__.update(calls)


def test_each_r20_case_is_charged_only_the_awards_its_decision_revoked():
    from gateway.review import R20NoticeOut, ReviewRoutes

    def case(decided, reinstated=None):
        return {"member_id": "m1", "name": "王伟", "phone_masked": "138****0001",
                "unit_id": "u1", "unit_name": "一单位", "reason": "代答", "evidence": None,
                "flag_ids": [], "decided_at": decided, "decided_by": "a",
                "decided_by_name": "管理员", "reinstated_at": reinstated}

    def award(id_, revoked_at, reason, amount):
        return {"id": id_, "member_id": "m1", "status": "revoked", "period": "2018-05",
                "kind": "monthly_prize", "rank": 3, "amount_cny": amount, "scope_id": "fed",
                "revoked_at": revoked_at, "reason": reason, "granted_at": "2018-05-01"}

    routes = ReviewRoutes()
    routes.roster = _Proxy(disqualifications=lambda actor: [
        case("2018-06-01T02:00:00+00:00", "2018-06-10T02:00:00+00:00"),
        case("2018-06-20T02:00:00+00:00")])
    routes.question_bank = _Proxy(get_campaign=lambda _=None: dict(CAMPAIGN, campaign_id="c"))
    routes.ranking = _Proxy(months=lambda c: [{"month": "2018-05", "closed": True}])
    routes.awards = _Proxy(awards_of_period=lambda c, period: [
        award("first", "2018-06-01T02:00:01+00:00", "disqualified (R20)", 100),
        award("amount", "2018-06-05T02:00:00+00:00", "amount changed (regrade)", 50),
        award("second", "2018-06-20T02:00:01+00:00", "disqualified (R20)", 30),
    ] if period == "2018-05" else [])
    notice = R20NoticeOut().dump(routes._r20_notice("a", {"from_": None, "until": None,
                                                          "campaign_id": None}))
    assert [[a["award_id"] for a in c["revoked"]] for c in notice["items"]] == [
        ["first"], ["second"]]
    assert [c["revoked_cny"] for c in notice["items"]] == [100, 30]
    assert notice["revoked_cny"] == 130 and "from" in notice
