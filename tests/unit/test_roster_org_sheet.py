"""The organisation sheet (issue 19 item 2), the first system administrator (item 1), the
seed's administrator remark and R4 outside imports (issue 18, "Also"): roster's use cases on
the real store over in-memory SQLite (the fixtures of test_roster_use_cases)."""
import pytest
from sqlalchemy import select

from kernel import sheets
from kernel.errors import Conflict, Forbidden
from services.roster import admin, bootstrap, directory, orgsheet
from services.roster.members import SHEET_COLUMNS
from services.roster.models import audit_log
from services.roster.schemas import OrgImportReportOut, OrgNodeOut
from tests.unit.test_roster_use_cases import (  # noqa: F401 (fixtures)
    engine, load, people, row, snapshot, tx,
)


def org(tx, rows, actor=None, dry_run=False):
    report = orgsheet.import_org(tx, rows, dry_run=dry_run, actor=actor, source="org.csv",
                                 root=bootstrap.root(tx))
    assert OrgImportReportOut().dump(report) == report  # the entrypoint's schema keeps it
    return report


def node(tx, name):
    return next(u for u in tx.store.units().values() if u.name == name)


def actions(tx):
    return [a for (a,) in tx.session.execute(select(audit_log.c.action).order_by(audit_log.c.id))]


SHEET = [
    {"parent": "", "name": "省直工委", "kind": "组织", "code": "gw"},
    {"parent": "gw", "name": "有色冶金工会", "kind": "单位", "code": "ys"},
    {"parent": "省直工委/有色冶金工会", "name": "第一支部", "kind": "支部"},
    {"parent": "省直工委", "name": "煤炭工会", "kind": "单位"},
]


# -- the organisation sheet -----------------------------------------------------------------

def test_an_organisation_sheet_builds_the_tree_by_code_path_and_name(tx):
    report = org(tx, SHEET)
    assert (report["created"], report["errors"]) == (4, [])
    gw, ys = tx.store.unit("gw"), tx.store.unit("ys")  # a new node's id is its code
    assert (gw.parent_id, gw.kind, ys.parent_id, ys.kind) == ("system", "organisation", "gw",
                                                               "unit")
    assert node(tx, "第一支部").parent_id == "ys" and node(tx, "煤炭工会").parent_id == "gw"
    # R4: the new units have no administrator yet: the report and the tree say so
    assert {w["name"] for w in report["warnings"]} >= {"有色冶金工会", "煤炭工会"}
    tree = {n["name"]: n for n in directory.org_tree(tx.store)}
    assert tree["煤炭工会"]["warnings"] == ["unit_without_admin"]
    assert tree["一单位"]["warnings"] == ["unit_without_admin"]  # no members loaded here
    assert OrgNodeOut(many=True).dump(list(tree.values()))
    again = org(tx, SHEET)  # a re-import changes nothing
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 4)


def test_row_errors_name_the_row_the_column_and_a_reason(tx):
    report = org(tx, [
        {"parent": "", "name": "省直工委", "kind": "组织", "code": "gw"},
        {"parent": "gw", "name": "甲", "kind": "部门"},               # 3: unknown kind
        {"parent": "nowhere", "name": "乙", "kind": "单位"},           # 4: unknown parent
        {"parent": "gw", "name": "丙", "kind": "单位", "code": "c"},
        {"parent": "c", "name": "丁", "kind": "单位"},                 # 6: unit in a unit
        {"parent": "gw", "name": "", "kind": "单位"},                  # 7: no name
        {"parent": "gw", "name": "戊", "kind": "单位", "code": "c"},   # 8: code twice
        {"parent": "gw", "name": "己", "kind": "单位", "code": "a b"},  # 9: bad code
    ])
    assert [(e["row"], e["column"], e["reason"]) for e in report["errors"]] == [
        (3, "kind", "unknown_kind"), (4, "parent", "unknown_parent"),
        (6, "parent", "bad_parent"), (7, "name", "name_missing"),
        (8, "code", "duplicate_row"), (9, "code", "bad_code")]
    assert report["created"] == 2


def test_a_dry_run_discards(tx):
    report = org(tx, SHEET, dry_run=True)
    assert report["created"] == 4 and tx.discarded


def test_moves_and_renames_keep_the_node_and_its_members(tx, people):
    org(tx, SHEET)
    tx.emitted.clear()
    # u1 (一单位) gets a code by its path, then is renamed and moved under 省直工委
    first = org(tx, [{"parent": "省总工会", "name": "一单位", "kind": "单位", "code": "one"}])
    assert first["updated"] == 1 and tx.store.unit("u1").code == "one"
    moved = org(tx, [{"parent": "gw", "name": "第一单位", "kind": "单位", "code": "one"}])
    assert moved["updated"] == 1 and moved["errors"] == []
    u1 = tx.store.unit("u1")
    assert (u1.name, u1.parent_id) == ("第一单位", "gw")
    member = tx.store.member(people["0002"])
    assert member.org_unit_id == "b1"  # members keep their node
    assert "org_unit_moved" in actions(tx)
    paths = {d["member_id"]: d["org_path"] for t, d in tx.emitted if t == "member_updated"}
    assert paths[people["0002"]] == ["system", "gw", "u1", "b1"]
    renamed = org(tx, [{"parent": "gw", "name": "一单位", "kind": "单位", "code": "one"}])
    assert renamed["updated"] == 1 and actions(tx)[-2] == "org_unit_renamed"


def test_moves_keep_r4(tx, people):
    org(tx, SHEET)
    # b1 holds no administrator, but moving it takes a member into 有色冶金工会, which has none
    moved = org(tx, [{"parent": "ys", "name": "一支部", "kind": "支部", "code": "b1"}])
    assert [(e["column"], e["reason"]) for e in moved["errors"]] == [
        ("parent", "unit_without_admin")]
    cycle = org(tx, [{"parent": "gw", "name": "子组织", "kind": "组织", "code": "sub"},
                     {"parent": "sub", "name": "省直工委", "kind": "组织", "code": "gw"}])
    assert [(e["row"], e["reason"]) for e in cycle["errors"]] == [(3, "cycle")]
    kind = org(tx, [{"parent": "省总工会", "name": "一单位", "kind": "支部", "code": "u1"}])
    assert kind["errors"][0]["reason"] == "kind_in_use"


def test_only_system_and_organisation_administrators_import_inside_their_part(tx, people):
    with pytest.raises(Forbidden):
        org(tx, SHEET, actor=people["0001"])  # a unit administrator
    admin.change_role(tx, people["0000"], people["0012"],
                      {"role": "organisation_admin", "org_unit_id": "fed", "grant": True})
    report = org(tx, [
        {"parent": "", "name": "别的组织", "kind": "组织"},        # above their organisation
        {"parent": "省总工会", "name": "三单位", "kind": "单位"},  # inside: fine
        {"parent": "", "name": "省总工会", "kind": "组织", "code": "fed"},  # their own node
    ], actor=people["0012"])
    assert [(e["row"], e["reason"]) for e in report["errors"]] == [
        (2, "outside_scope"), (4, "outside_scope")]
    assert report["created"] == 1


# -- the first system administrator -----------------------------------------------------------

def test_the_first_system_administrator_and_no_second_unasked(tx):
    made = bootstrap.create_system_admin(tx, "139 0000 0001", "张三")
    assert tx.store.roles_of(made["member_id"]) == [("system_admin", "system")]
    with pytest.raises(Conflict) as refused:
        bootstrap.create_system_admin(tx, "13900000002", "李四")
    assert refused.value.reason == "system_admin_exists"
    bootstrap.create_system_admin(tx, "13900000002", "李四", org="省总工会", another=True)
    assert tx.store.member_by_phone("13900000002").org_unit_id == "fed"
    assert [a["role"] for a in bootstrap.list_admins(tx.store)] == ["system_admin"] * 2
    assert actions(tx).count("system_admin_created") == 2


def test_an_empty_tree_gets_its_root(engine):
    from sqlalchemy.orm import Session

    from services.roster.models import Base
    from tests.unit.test_roster_use_cases import FakeTx

    session = Session(engine, expire_on_commit=False, info={"metadata": Base.metadata})
    try:
        fresh = FakeTx(session)
        made = bootstrap.create_system_admin(fresh, "13900000001", "张三")
        assert made["org_unit_id"] == "system"
        assert fresh.store.unit("system").kind == "system"
        assert [t for t, _ in fresh.emitted] == ["member_registered", "role_granted"]
    finally:
        session.rollback()
        session.close()


# -- issue 18 "Also": the seed's remark, R4 outside imports ----------------------------------

def test_the_seeds_own_sheet_names_its_administrator(tx):
    # the seed's attachment: 姓 名 / 部 门 / 手机号码 / 备注, 微学习专栏管理员 (phone corrected)
    data = "姓 名,部 门,手机号码,备注\n张某某,办公室,13000000000,微学习专栏管理员\n".encode()
    rows = sheets.read_rows(data, "信息表.csv", SHEET_COLUMNS)
    report = load(tx, [dict(r, unit="u1") for r in rows])
    assert report["errors"] == [] and report["created"] == 1
    member = tx.store.member_by_phone("13000000000")
    assert tx.store.admin_of_each_unit()["u1"] == member.id


def test_members_are_not_moved_into_a_unit_without_administrator(tx, people):
    org(tx, [{"parent": "省总工会", "name": "三单位", "kind": "单位", "code": "u3"}])
    before = snapshot(tx)
    with pytest.raises(Conflict) as refused:
        admin.update_member(tx, people["0000"], people["0002"], {"org_unit_id": "u3"})
    assert refused.value.reason == "unit_without_admin"
    assert snapshot(tx) == before
    # its first administrator comes from outside: the appointment moves them in
    admin.set_unit_admin(tx, people["0000"], "u3", people["0012"])
    assert tx.store.member(people["0012"]).org_unit_id == "u3"
    assert tx.store.admin_of_each_unit()["u3"] == people["0012"]
    admin.update_member(tx, people["0000"], people["0002"], {"org_unit_id": "u3"})
    assert tx.store.member(people["0002"]).org_unit_id == "u3"
