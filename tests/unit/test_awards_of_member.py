"""What a member is told of their own awards (issue 21 item 3): each month's, in the member's
states; a revoked award is never shown as payable, and one replaced by a new amount is not
shown beside it."""
from datetime import datetime, timezone

import pytest

from services.awards import grants
from tests.unit.awards_uow import awards_work
from tests.unit.test_awards_use_cases import award_of, close_month, pay

AT = datetime(2018, 3, 20, tzinfo=timezone.utc)


@pytest.fixture
def work(fake_clock):
    return awards_work()


def told(work, member):
    with work as tx:
        return [(a["period"], a["kind"], a["rank"], a["amount_cny"], a["state"])
                for a in grants.awards_of_member(tx, member, "c")]


def test_a_member_is_told_each_award_and_where_it_stands(work):
    close_month(work)
    assert told(work, "m01") == [("2018-03", "monthly_champion", 1, None, "payable"),
                                 ("2018-03", "monthly_prize", 1, 300, "payable")]
    pay(work, "m02")
    assert told(work, "m02") == [("2018-03", "monthly_prize", 2, 300, "paid")]
    assert told(work, "m31") == []  # place 31: no prize
    assert told(work, "m01")[0][4] == "payable" and award_of(work, "m01")["status"] == "granted"


def test_a_revoked_award_is_not_payable_and_a_replaced_one_is_not_told(work):
    close_month(work)
    with work as tx:
        grants.disqualify(tx, "m05", AT)  # m05 loses theirs; m06 moves up from 200 to 300
    assert {state for *_, state in told(work, "m05")} == {"revoked"}
    assert told(work, "m06") == [("2018-03", "monthly_prize", 5, 300, "payable")]
