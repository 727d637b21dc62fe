"""awards' methods on a worker built by nameko's worker_factory, with a real SQLite database."""
import pytest
from nameko.testing.services import worker_factory

from kernel.errors import BadInput
from services.awards.policy import default_policy
from services.awards.service import AwardsService
from tests.unit.awards_uow import awards_work


@pytest.fixture
def session():
    """The worker's unit of work (it was its session before kernel/uow.py)."""
    return awards_work()


def test_default_policy_is_the_seeds_r16():
    lines = default_policy("c", "federation")
    assert [(l["scope"], l["place_from"], l["place_to"], l["amount_cny"]) for l in lines] == [
        ("system", 1, 1, None), ("federation", 1, 5, 300), ("federation", 6, 15, 200),
        ("federation", 16, 30, 100)]


def test_set_and_read_policies(session):
    service = worker_factory(AwardsService, uow=session)
    lines = [{"period": "monthly", "scope": "system", "place_from": 1, "place_to": 3,
              "kind": "monthly_prize", "amount_cny": 500}]
    assert service.set_policies("c", lines) == [dict(lines[0], campaign_id="c")]
    assert service.policies("other") == []


def test_a_bad_policy_line_names_its_field_and_changes_nothing(session):
    service = worker_factory(AwardsService, uow=session)
    service.set_policies("c", [{"period": "monthly", "scope": "system", "place_from": 1,
                                "place_to": 1, "kind": "monthly_champion",
                                "amount_cny": None}])
    with pytest.raises(BadInput) as bad:
        service.set_policies("c", [{"period": "monthly", "scope": "system",
                                    "place_from": "first", "place_to": 1, "kind": "x"}])
    assert "place_from" in bad.value.fields
    assert [l["kind"] for l in service.policies("c")] == ["monthly_champion"]


def test_a_campaign_run_by_the_root_keeps_both_place_one_lines(session):
    """The champion and the first cash prize share scope and place when the campaign's
    organisation is the system root: both lines are stored (a kind each)."""
    service = worker_factory(AwardsService, uow=session)
    service.set_policies("c", default_policy("c", "system"))
    assert [(l["kind"], l["place_from"]) for l in service.policies("c")][:2] == [
        ("monthly_champion", 1), ("monthly_prize", 1)]
