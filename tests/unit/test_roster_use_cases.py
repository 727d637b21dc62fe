"""roster's use cases (imports.py, admin.py, logins.py, directory.py) on the real store over
an in-memory SQLite session and a fake unit of work: the rules they enforce (R1-R4, R20,
who may act on whom, the login limits), in milliseconds, no container. Each refusal is
checked to leave the members, their roles and the audit log as they were."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from kernel import events as contract
from kernel.errors import Conflict, Forbidden, RateLimited
from services.roster import admin, directory, imports, login, logins
from services.roster.models import Base, LoginCode, audit_log
from services.roster.schemas import ImportReportOut, MemberOut, MemberPageOut
from services.roster.store import RosterStore

NOW = datetime(2018, 3, 12, 1, 0, tzinfo=timezone.utc)
SECRET = "s" * 32
TREE = [
    {"id": "system", "parent_id": None, "kind": "system", "name": "全系统"},
    {"id": "fed", "parent_id": "system", "kind": "organisation", "name": "省总工会"},
    {"id": "u1", "parent_id": "fed", "kind": "unit", "name": "一单位"},
    {"id": "b1", "parent_id": "u1", "kind": "branch", "name": "一支部"},
    {"id": "u2", "parent_id": "fed", "kind": "unit", "name": "二单位"},
]


class FakeTx:
    """What a use case sees of kernel.uow's Transaction; events are built against the
    contract as `tx.emit` builds them."""

    def __init__(self, session, now=NOW):
        self.session, self.store, self.now = session, RosterStore(session), now
        self.emitted, self.discarded = [], False

    def emit(self, type_, data):
        contract.build("roster", type_, data, self.now)  # refused if it breaks the contract
        self.emitted.append((type_, data))

    def discard(self):
        self.discarded = True


@pytest.fixture(scope="module")
def engine():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    return engine


@pytest.fixture
def tx(engine):
    session = Session(engine, expire_on_commit=False, info={"metadata": Base.metadata})
    tx = FakeTx(session)
    admin.upsert_org_units(tx, TREE, None)
    yield tx
    session.rollback()  # each test starts from empty tables
    session.close()


def row(phone, unit="u1", **kw):
    return dict({"name": f"成员{phone[-3:]}", "phone": phone, "unit": unit}, **kw)


def load(tx, rows, actor=None, dry_run=False):
    report = imports.import_members(tx, rows, dry_run=dry_run, actor=actor, source="s.csv",
                                    unit=None)
    assert ImportReportOut().dump(report) == report  # the entrypoint's schema keeps it whole
    return report


@pytest.fixture
def people(tx):
    """A system administrator, each unit's administrator and a member of each."""
    report = load(tx, [
        row("13800000000", unit="fed", role="system_admin", name="系统管理员"),
        row("13800000001", remarks="管理员", name="一单位管理员"),
        row("13800000002", branch="b1"),
        row("13800000011", unit="u2", remarks="管理员", name="二单位管理员"),
        row("13800000012", unit="u2", category="非党员"),
    ])
    assert report["errors"] == [] and report["created"] == 5
    tx.emitted.clear()
    return {m.phone[-4:]: m.id for m in tx.store.members_by_phone().values()}


def snapshot(tx):
    """The members, their roles and the audit log: what a refusal must leave alone."""
    members = sorted((m.phone, m.name, m.org_unit_id, m.category, m.participation, m.status,
                      m.disqualified) for m in tx.store.members_by_phone().values())
    roles = sorted((k, sorted(v)) for k, v in tx.store.roles_by_member().items())
    audit = tx.session.execute(select(audit_log.c.action)).all()
    return members, roles, len(audit)


# -- imports (R3, R4) ------------------------------------------------------------------------

def test_a_sheet_registers_members_and_appoints_unit_administrators(tx, people):
    assert tx.store.admin_of_each_unit() == {"u1": people["0001"], "u2": people["0011"]}
    assert tx.store.roles_of(people["0000"]) == [("system_admin", "system")]
    member = tx.store.member(people["0012"])
    assert (member.category, member.participation) == ("non_party", "voluntary")  # R2
    again = load(tx, [row("13800000002", branch="b1")])
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 1)
    assert tx.emitted == []


def test_events_follow_each_row_member_first(tx):
    load(tx, [row("13800000001", remarks="管理员")])
    assert [t for t, _ in tx.emitted] == ["member_registered", "role_granted"]


def test_a_unit_left_without_administrator_has_none_of_its_rows_applied(tx):
    before = snapshot(tx)
    report = load(tx, [row("13800000001"), row("13800000002", branch="b1")])
    assert report["skipped"] == 2 and report["created"] == 0
    assert [(e["row"], e["unit"]) for e in report["errors"]] == [(None, "u1")]
    assert snapshot(tx)[:2] == before[:2] and tx.emitted == []


def test_row_errors_name_row_and_column(tx, people):
    report = load(tx, [
        row("13800000003", remarks="管理员"),  # u1 already marked on this sheet? no: first
        row("13800000004", remarks="管理员"),  # R4: two administrators for one unit
        row("13800000003"),  # the same phone twice
        row("12345"),
        row("13800000005", unit="nowhere"),
        row("13800000006", unit="u2", branch="b1"),  # b1 is not inside u2
    ])
    assert [(e["row"], e["column"]) for e in report["errors"]] == [
        (3, "remarks"), (4, "phone"), (5, "phone"), (6, "unit"), (7, "branch")]
    assert report["created"] == 1


def test_a_dry_run_reports_and_discards(tx, people):
    report = load(tx, [row("13800000009")], dry_run=True)
    assert report["created"] == 1 and report["dry_run"] is True
    assert tx.discarded


def test_a_unit_administrator_imports_inside_their_unit_only(tx, people):
    before = snapshot(tx)
    report = load(tx, [row("13800000021", unit="u2"), row("13800000012"),
                       row("13800000022", role="organisation_admin")],
                  actor=people["0001"])
    assert [(e["row"], e["column"]) for e in report["errors"]] == [
        (2, "unit"), (3, "phone"), (4, "role")]
    # another unit's phone is not a way to find its owner
    assert "成员012" not in report["errors"][1]["message"]
    assert snapshot(tx)[:2] == before[:2]


def test_an_importer_changes_neither_their_own_place_nor_their_roles(tx, people):
    before = snapshot(tx)
    report = load(tx, [row("13800000001", unit="u1", branch="b1", remarks="管理员",
                           name="一单位管理员")], actor=people["0001"])
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(2, "branch")]
    assert snapshot(tx)[:2] == before[:2]


def test_a_member_may_not_import(tx, people):
    with pytest.raises(Forbidden):
        load(tx, [row("13800000030")], actor=people["0002"])


def test_a_big_sheet_yields_to_the_hub_every_250_rows(tx, people, monkeypatch):
    yields = []
    monkeypatch.setattr(imports.eventlet, "sleep", lambda seconds: yields.append(seconds))
    rows = [row(f"139{i:08d}") for i in range(600)]
    report = load(tx, rows)
    assert report["created"] == 600
    # rows 2..601 in the check pass and again in the apply pass: 250 and 500 each time
    assert yields == [0, 0, 0, 0]


# -- administrators' changes -----------------------------------------------------------------

def test_a_unit_administrator_cannot_leave_their_unit_before_a_successor(tx, people):
    before = snapshot(tx)
    with pytest.raises(Conflict):
        admin.update_member(tx, people["0000"], people["0001"], {"org_unit_id": "u2"})
    assert snapshot(tx) == before and tx.emitted == []


def test_nobody_edits_their_own_place(tx, people):
    before = snapshot(tx)
    with pytest.raises(Forbidden) as refused:
        admin.update_member(tx, people["0001"], people["0001"], {"category": "non_party"})
    assert refused.value.reason == "self_edit"
    assert snapshot(tx) == before


def test_deactivation_is_audited_and_emitted(tx, people):
    out = admin.update_member(tx, people["0000"], people["0012"], {"status": "inactive"})
    assert MemberOut().dump(out) == out and out["status"] == "inactive"
    assert [t for t, _ in tx.emitted] == ["member_deactivated", "member_updated"]


def test_set_unit_admin_replaces_the_one_before(tx, people):
    admin.set_unit_admin(tx, people["0000"], "u1", people["0002"])
    assert tx.store.admin_of_each_unit()["u1"] == people["0002"]
    assert [t for t, _ in tx.emitted] == ["role_revoked", "role_granted"]


def test_the_last_system_administrator_stays(tx, people):
    before = snapshot(tx)
    with pytest.raises(Conflict):
        admin.change_role(tx, people["0000"], people["0000"],
                          {"role": "system_admin", "org_unit_id": "system", "grant": False})
    assert snapshot(tx) == before


def test_a_unit_administrator_grants_no_organisation_role(tx, people):
    with pytest.raises(Forbidden) as refused:
        admin.change_role(tx, people["0001"], people["0002"],
                          {"role": "organisation_admin", "org_unit_id": "fed", "grant": True})
    assert refused.value.reason == "may_not_grant_role"


def test_required_members_keep_their_participation(tx, people):
    with pytest.raises(Conflict):
        admin.set_participation(tx, people["0002"], "withdrawn")
    assert admin.set_participation(tx, people["0012"], "withdrawn")["participation"] == \
        "withdrawn"


def test_a_decision_above_is_undone_only_from_above(tx, people):
    admin.disqualify(tx, people["0000"], people["0002"], "他人代答")
    before = snapshot(tx)
    with pytest.raises(Forbidden) as refused:
        admin.reinstate(tx, people["0001"], people["0002"], "复核")
    assert refused.value.reason == "decided_above_you"
    assert snapshot(tx) == before
    out = admin.reinstate(tx, people["0000"], people["0002"], "复核")
    assert out["disqualified"] is False
    [case] = directory.disqualifications(tx.store, people["0001"])
    assert (case["decided_by_name"], case["reinstate_reason"]) == ("系统管理员", "复核")


def test_nobody_reinstates_themself(tx, people):
    admin.disqualify(tx, people["0000"], people["0001"], "代答")
    with pytest.raises(Forbidden) as refused:
        admin.reinstate(tx, people["0001"], people["0001"], "我没有")
    assert refused.value.reason == "self_reinstatement"


# -- what administrators see -----------------------------------------------------------------

def test_a_unit_administrator_lists_their_unit_only(tx, people):
    page = directory.list_members(tx.store, people["0011"], 50, 0, None, None, None, None)
    assert MemberPageOut().dump(page) == page
    assert {m["unit_id"] for m in page["items"]} == {"u2"} and page["total"] == 2
    found = directory.list_members(tx.store, people["0000"], 50, 0, "８００００００１２", None,
                                   None, None)  # full-width digits find the ASCII phone
    assert [m["member_id"] for m in found["items"]] == [people["0012"]]


def test_authorize_outside_scope_is_refused(tx, people):
    with pytest.raises(Forbidden) as refused:
        directory.authorize(tx.store, people["0001"], "u2", ("unit_admin",))
    assert refused.value.reason == "outside_scope"
    assert directory.authorize(tx.store, people["0001"], "b1", ("unit_admin",))["visible"] \
        == ["b1", "u1"]


# -- login -----------------------------------------------------------------------------------

def test_a_code_goes_only_to_an_active_member_and_not_twice_a_minute(tx, people):
    delivery = logins.request_code(tx, SECRET, "138 0000 0002")
    assert (delivery.phone, delivery.at) == ("13800000002", NOW)
    assert logins.request_code(FakeTx(tx.session, NOW + timedelta(minutes=2)), SECRET,
                               "13900000009") is None  # unknown: a row, nothing sent
    with pytest.raises(RateLimited) as limited:
        logins.request_code(FakeTx(tx.session, NOW + timedelta(seconds=15)), SECRET,
                            "13800000002")
    assert limited.value.retry_after == 45


def test_a_wrong_code_is_a_try_and_the_right_one_is_used_once(tx, people):
    delivery = logins.request_code(tx, SECRET, "13800000002")
    wrong = "000000" if delivery.code != "000000" else "111111"
    assert logins.verify_code(tx, SECRET, "13800000002", wrong) is None
    code_row = tx.session.scalars(select(LoginCode)).one()
    assert code_row.tries == 1
    member = logins.verify_code(tx, SECRET, "13800000002", delivery.code)
    assert member["member_id"] == people["0002"]
    assert logins.verify_code(tx, SECRET, "13800000002", delivery.code) is None


def test_codes_end_after_their_tries(tx, people):
    delivery = logins.request_code(tx, SECRET, "13800000002")
    for _ in range(login.MAX_TRIES):
        logins.verify_code(tx, SECRET, "13800000002", "x")
    assert logins.verify_code(tx, SECRET, "13800000002", delivery.code) is None


def test_the_audit_log_is_scoped_and_dumps_whole(tx, people):
    from kernel.audit import AuditPageOut

    admin.disqualify(tx, people["0011"], people["0012"], "代答")
    page = directory.audit_log(tx.store, people["0011"], 50, 0)
    assert AuditPageOut().dump(page) == page
    # u2's own entries only: its administrator's appointment and the decision, newest first
    assert [(e["action"], e["scope_id"]) for e in page["items"]] == [
        ("member_disqualified", "u2"), ("role_granted", "u2")]
    assert directory.audit_log(tx.store, people["0000"], 50, 0)["total"] > 1
