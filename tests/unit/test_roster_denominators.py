"""R18's denominators in roster, pure (issue 18 item 4): who counts, which changes only an
organisation or system administrator makes, and which nodes' counts a change leaves."""
from services.roster import access, denominators

PARENTS = {"system": None, "fed": "system", "u1": "fed", "b1": "u1", "u2": "fed",
           "ob": "fed", "other": "system"}


def standing(participation="required", status="active", place="b1"):
    return {"participation": participation, "status": status, "org_unit_id": place}


def test_what_only_an_organisation_or_system_administrator_changes():
    required, volunteer = standing(), standing("voluntary")
    for after in (standing("voluntary"), standing("withdrawn"), standing(status="inactive")):
        assert denominators.changes_required(required, after), after
    assert denominators.changes_required(volunteer, required)  # into required, too
    assert denominators.changes_required(standing("withdrawn"), required)
    # not about required: a volunteer withdrawing or deactivated, a required member moved
    # or reactivated
    assert not denominators.changes_required(volunteer, standing("withdrawn"))
    assert not denominators.changes_required(volunteer, standing("voluntary", "inactive"))
    assert not denominators.changes_required(required, standing(place="u2"))
    assert not denominators.changes_required(standing(status="inactive"), required)


def test_who_keeps_the_counts():
    assert access.keeps_counts(PARENTS, [("system_admin", "system")], "b1")
    assert access.keeps_counts(PARENTS, [("organisation_admin", "fed")], "b1")
    assert not access.keeps_counts(PARENTS, [("organisation_admin", "fed")], "other")
    assert not access.keeps_counts(PARENTS, [("unit_admin", "u1")], "b1")
    # a unit administrator who is also an organisation administrator elsewhere
    assert not access.keeps_counts(PARENTS, [("unit_admin", "u1"),
                                             ("organisation_admin", "other")], "b1")


KINDS = {"system": "system", "fed": "organisation", "u1": "unit", "b1": "branch", "u2": "unit",
         "ob": "branch", "other": "organisation"}


def test_the_scored_nodes_a_change_leaves():
    def left(before, after):
        return denominators.nodes_left(PARENTS, KINDS, before, after)

    # the unit only: its branch b1 and the organisations above are not scored (R18)
    assert left(standing(), standing(status="inactive")) == ["u1"]
    assert left(standing(), standing("withdrawn")) == ["u1"]
    assert left(standing(place="ob"), standing("withdrawn", place="ob")) == ["ob"]
    assert left(standing(), standing(place="u2")) == ["u1"]  # moved away
    assert left(standing(), standing(place="u1")) == []  # within the unit
    assert left(standing(), standing("voluntary")) == []  # still counted
    assert left(standing("withdrawn"), standing(status="inactive")) == []
