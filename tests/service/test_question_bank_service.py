"""question_bank through its entrypoints: the template campaign, imports, papers."""
import pytest

from kernel.errors import Conflict
from services.question_bank.demo import demo_questions
from services.question_bank.service import QuestionBankService
from tests.service.helpers import call, outbox_events, publish_campaign


@pytest.fixture
def bank(container_factory, migrated, fake_clock):
    container = container_factory(QuestionBankService, migrated)
    container.start()
    return container


def test_the_template_campaign_is_published_once(bank, migrated):
    first = publish_campaign(bank)
    with pytest.raises(Conflict):
        call(bank, "publish_campaign", None, first["campaign_id"])
    assert len(first["levels"]) == 12
    [event] = outbox_events(migrated, "question_bank")
    assert event["type"] == "campaign_published"
    assert event["data"]["organisation_id"] == "federation"
    assert event["data"]["levels"][0]["opens_at"] == "2018-03-11T16:00:00.000+00:00"


def test_import_dry_run_then_real_and_draw(bank):
    campaign = publish_campaign(bank)
    cid = campaign["campaign_id"]
    rows = demo_questions(1, count=25) + [{"level": 1, "type": "single", "stem": "s",
                                          "options": "a|b", "answer": "C"}]
    dry = call(bank, "import_questions", cid, rows, dry_run=True)
    assert (dry["created"], dry["errors"][0]["row"], dry["errors"][0]["column"]) == (
        25, 27, "answer")
    assert call(bank, "count_questions", cid) == {}
    call(bank, "import_questions", cid, rows)
    assert call(bank, "count_questions", cid) == {"1": 25}
    paper = call(bank, "draw_paper", cid, 1)
    assert len(paper["questions"]) == 20 and len(paper["key"]) == 20
    assert {q["id"] for q in paper["questions"]} == set(paper["key"])
    assert all("answer" not in q for q in paper["questions"])


def test_a_small_bank_is_a_clear_conflict(bank):
    cid = publish_campaign(bank)["campaign_id"]
    call(bank, "import_questions", cid, demo_questions(2, count=15))
    with pytest.raises(Conflict, match="level 2's bank is 5 question"):
        call(bank, "draw_paper", cid, 2)
