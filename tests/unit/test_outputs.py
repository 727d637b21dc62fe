"""The organisers' outputs' pure parts (issue 23): names as published, the shortlist's cut
among the eligible (R17: no pass inside the month asked for), the units' figures at each
closed month's cutoff (R18 at the cutoff, R19), and where a member sits in the tree."""
from datetime import datetime, timezone

from gateway.outputs import mask_name, places_of
from services.awards import reports

NODES = [{"id": "system", "parent_id": None, "kind": "system", "name": "全系统"},
         {"id": "fed", "parent_id": "system", "kind": "organisation", "name": "总工会"},
         {"id": "u1", "parent_id": "fed", "kind": "unit", "name": "一单位"},
         {"id": "b1", "parent_id": "fed", "kind": "branch", "name": "一支部"},
         {"id": "b9", "parent_id": "u1", "kind": "branch", "name": "单位内支部"}]
MAY, JUNE = datetime(2018, 5, 31, 15, 59, tzinfo=timezone.utc), datetime(
    2018, 6, 30, 15, 59, tzinfo=timezone.utc)


def test_names_are_masked_as_lists_publish_them():
    assert [mask_name(n) for n in ("张三", "李小明", "欧阳娜娜", "王", "", None)] == [
        "张*", "李*明", "欧**娜", "王", "—", "—"]


def test_a_member_sits_in_the_unit_and_branch_above_them():
    place = places_of(NODES)
    assert place("b9") == ("一单位", "单位内支部", "单位内支部")
    assert place("b1") == ("总工会", "一支部", "一支部")  # the organisation's offices
    assert place("fed") == (None, None, "总工会")
    assert place("nowhere") == (None, None, None)


def test_the_shortlist_counts_the_eligible_only_and_asks_no_pass_in_the_month():
    settings = reports.contest_eligibility({"exclude_inactive": True, "exclude_withdrawn": True,
                                            "exclude_bank_admins": True,
                                            "monthly_needs_pass_in_month": True})
    board = [{"member_id": "a", "disqualified": True}, {"member_id": "b", "bank_admin": True},
             {"member_id": "c", "passed_in_month": False},
             {"member_id": "d", "participation": "withdrawn"},
             {"member_id": "e", "active": False}, {"member_id": "f"}, {"member_id": "g"}]
    assert [(e["member_id"], e["place"]) for e in reports.shortlist(board, settings, 2)] == [
        ("c", 1), ("f", 2)]


def test_units_are_scored_at_each_cutoff_by_who_had_started_by_then():
    roster = [{"member_id": m, "status": "active", "participation": "required",
               "org_path": ["system", "fed", "u1"]} for m in ("m1", "m2", "m3", "m4")]
    roster += [{"member_id": "m5", "status": "active", "participation": "withdrawn",
                "org_path": ["system", "fed", "b1"]},
               {"member_id": "m6", "status": "active", "participation": "voluntary",
                "org_path": ["system", "fed", "b1"]}]
    played = [{"member_id": "m1", "levels_passed": 3, "first_started_at": "2018-05-02T01:00:00+00:00"},
              {"member_id": "m2", "levels_passed": 1, "first_started_at": "2018-06-03T01:00:00+00:00"},
              {"member_id": "m6", "levels_passed": 0, "first_started_at": "2018-06-04T01:00:00+00:00"}]
    months = [{"month": "2018-05", "cutoff": MAY.isoformat(), "levels": {"m1": 2}},
              {"month": "2018-06", "cutoff": JUNE, "levels": {"m1": 3, "m2": 1}}]
    report = reports.unit_report("c", NODES, roster, played, 4, months)
    unit = next(o for o in report["organisations"] if o["org_unit_id"] == "u1")
    assert [(m["month"], m["participants"], m["levels_passed"]) for m in unit["months"]] == [
        ("2018-05", 1, 2), ("2018-06", 2, 4)]
    assert unit["months"][0]["participation"] == 0.25 and unit["months"][0]["results"] == 0.5
    assert (unit["now"]["expected"], unit["now"]["participants"]) == (4, 2)
    branch = next(o for o in report["organisations"] if o["org_unit_id"] == "b1")
    assert branch["kind"] == "branch" and branch["now"]["expected"] == 1  # m5 withdrew
    assert {m["member_id"] for m in report["not_played"]} == {"m3", "m4"}
    assert report["months"] == ["2018-05", "2018-06"]


class _Proxy:
    def __init__(self, **calls):
        self.__dict__.update(calls)


def test_the_winners_list_leaves_out_the_disqualified_and_units_own_prizes():
    from gateway.outputs import OutputRoutes

    def award(member, kind, rank, scope, status="paid"):
        return {"id": f"{member}-{scope}", "member_id": member, "kind": kind, "rank": rank,
                "scope_id": scope, "status": status, "amount_cny": 100, "name": f"成员{member}",
                "unit_name": "一单位", "levels": 12, "total_ms": 1000}

    routes = OutputRoutes()
    routes.question_bank = _Proxy(get_campaign=lambda _=None: {
        "campaign_id": "c", "organisation_id": "fed"})
    routes.ranking = _Proxy(months=lambda c: [{"month": "2018-05", "closed": True},
                                              {"month": "2018-06", "closed": False}])
    routes.roster = _Proxy(disqualifications=lambda actor=None: [
        {"member_id": "out", "reinstated_at": None},
        {"member_id": "back", "reinstated_at": "2018-06-02T00:00:00+00:00"}])
    routes.awards = _Proxy(awards_of_period=lambda c, period: [
        award("champ", "monthly_champion", 1, "fed"),
        award("out", "monthly_prize", 2, "fed"),  # paid, then disqualified: never revoked
        award("back", "monthly_prize", 3, "fed"),
        award("unit", "monthly_prize", 1, "u1"),  # a unit's prize of its own board
    ])
    got = routes._winners({"campaign_id": None, "month": None})
    assert got["champion"]["name"] == mask_name("成员champ")
    assert [(w["place"], w["name"]) for w in got["places"]] == [(3, mask_name("成员back"))]


def test_a_sheet_title_from_an_org_name_has_no_apostrophe_at_either_end():
    from gateway.outputs import _book, _sheet

    book = _book()
    sheet = _sheet(book, "'一单位" + "长" * 26 + "'x", "标题", ["列"], (10,))  # cut at 31
    assert sheet.title == "一单位" + "长" * 26 and _sheet(book, "''", "", [], ()).title == "Sheet"
