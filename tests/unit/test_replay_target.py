"""A replay goes to an agency's queue only: never to one of the platform's own (its
consumers remember applied events only INBOX_KEEP_DAYS, so an older one would count twice)."""
import pytest

from challenge.deadletters import handler_queues
from kernel import replay
from kernel.errors import BadInput
from kernel.settings import SERVICES


@pytest.mark.parametrize("queue", handler_queues() + [f"dead.{q}" for q in handler_queues()]
                         + [f"rpc-{s}" for s in SERVICES] + ["rpc.reply-gateway-1234"])
def test_the_platforms_own_queues_are_refused(queue):
    with pytest.raises(BadInput) as refusal:
        replay.check_target(queue)
    assert refusal.value.reason == "queue_is_ours" and "queue" in refusal.value.fields


@pytest.mark.parametrize("queue", ["my-agency", "union-hr.challenge-events", "evt"])
def test_an_agencys_queue_is_a_target(queue):
    replay.check_target(queue)
