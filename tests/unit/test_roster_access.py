"""services/roster/access.py: who may act where (R4, architecture "Roles"), on a small tree."""
from services.roster import access

# system > fed (organisation) > {u1 > b1, u2}; fed > sub (organisation) > u3
PARENTS = {"system": None, "fed": "system", "u1": "fed", "b1": "u1", "u2": "fed",
           "sub": "fed", "u3": "sub"}
KINDS = {"system": "system", "fed": "organisation", "u1": "unit", "b1": "branch",
         "u2": "unit", "sub": "organisation", "u3": "unit"}
SYSTEM = [("system_admin", "system")]
FED = [("organisation_admin", "fed")]
U1 = [("unit_admin", "u1")]


def test_ancestors_run_from_the_node_to_the_root_and_survive_a_cycle():
    assert access.ancestors(PARENTS, "b1") == ["b1", "u1", "fed", "system"]
    assert access.ancestors(PARENTS, None) == []
    assert access.ancestors({"a": "b", "b": "a"}, "a") == ["a", "b"]


def test_subtree_holds_the_root_and_everything_below():
    assert access.subtree(PARENTS, "u1") == {"u1", "b1"}
    assert access.subtree(PARENTS, "fed") == {"fed", "u1", "b1", "u2", "sub", "u3"}
    assert access.subtree(PARENTS, "b1") == {"b1"}


def test_home_unit_is_the_nearest_unit_above():
    assert access.home_unit(PARENTS, KINDS, "b1") == "u1"
    assert access.home_unit(PARENTS, KINDS, "u2") == "u2"
    assert access.home_unit(PARENTS, KINDS, "fed") is None


def test_scopes_none_for_a_system_administrator_else_the_roots():
    assert access.scopes_of(SYSTEM + U1) is None
    assert access.scopes_of(U1 + FED + U1) == ["fed", "u1"]
    assert access.scopes_of([("reader", "u1")]) == []


def test_covers_inside_the_scopes_only():
    assert access.covers(PARENTS, None, "u3")
    assert access.covers(PARENTS, ["u1"], "b1")
    assert not access.covers(PARENTS, ["u1"], "u2")
    assert not access.covers(PARENTS, ["u1"], "fed")  # not upwards
    assert not access.covers(PARENTS, [], "u1")


def test_a_system_administrator_grants_anything():
    for role, node in (("system_admin", "system"), ("organisation_admin", "fed"),
                       ("unit_admin", "u2")):
        assert access.may_grant(PARENTS, SYSTEM, role, node)


def test_an_organisation_administrator_appoints_below_but_no_peer_and_no_system_role():
    assert access.may_grant(PARENTS, FED, "unit_admin", "u1")
    assert access.may_grant(PARENTS, FED, "organisation_admin", "sub")
    assert not access.may_grant(PARENTS, FED, "organisation_admin", "fed")  # a peer
    assert not access.may_grant(PARENTS, FED, "system_admin", "system")
    assert not access.may_grant(PARENTS, [("organisation_admin", "sub")], "unit_admin", "u1")


def test_a_unit_administrator_only_hands_their_own_unit_over():
    assert access.may_grant(PARENTS, U1, "unit_admin", "u1")
    assert not access.may_grant(PARENTS, U1, "unit_admin", "u2")
    assert not access.may_grant(PARENTS, U1, "unit_admin", "b1")
    assert not access.may_grant(PARENTS, U1, "organisation_admin", "fed")


def test_outranks_covers_the_member_and_everything_they_administer():
    assert access.outranks(PARENTS, U1, "b1", [])
    assert not access.outranks(PARENTS, U1, "u2", [])
    # the system administrator sitting in u1 is beyond its unit administrator
    assert not access.outranks(PARENTS, U1, "u1", SYSTEM)
    assert access.outranks(PARENTS, SYSTEM, "u1", SYSTEM)
    # an organisation administrator outranks a unit administrator below, not a peer above
    assert access.outranks(PARENTS, FED, "u1", U1)
    assert not access.outranks(PARENTS, [("organisation_admin", "sub")], "u3", FED)
    # roles other than the administrators' do not count
    assert access.outranks(PARENTS, U1, "b1", [("reader", "fed")])
