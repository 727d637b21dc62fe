"""A member's attempts for review (issue 23): each attempt's answers, key and marks are shown
as its own campaign's administrators see them, not by the current campaign alone (a
member plays a campaign a year, and a reviewer may administer only one of them)."""
from types import SimpleNamespace

from services.attempts import review

QUESTION = {"id": "q1", "number": 1, "type": "single", "stem": "?", "options": ["A", "B"]}


def attempt(id_, campaign_id):
    return SimpleNamespace(id=id_, campaign_id=campaign_id, status="passed",
                           answers={"q1": ["A"]}, saved_answers=None, wrong_question_ids=[],
                           voided_question_ids=[], questions=[QUESTION], key={"q1": ["A"]})


def test_keys_are_decided_per_attempt_by_its_own_campaign():
    store = SimpleNamespace(member=lambda m: SimpleNamespace(org_path=["system"]),
                            flags_of=lambda m: [],
                            attempts_of=lambda m, most: [attempt("new", "c2019"),
                                                         attempt("old", "c2018")])
    tx = SimpleNamespace(store=store)
    got = review.member_review(tx, "m1", None, True, keys_for=["c2019"])
    shown = {a["attempt"].id: (a["with_keys"], "key" in a["questions"][0]) for a in got["attempts"]}
    assert shown == {"new": (True, True), "old": (False, False)}
    assert all(not a["with_keys"] for a in review.member_review(tx, "m1", None, True,
                                                                 keys_for=[])["attempts"])
    assert all(a["with_keys"] for a in review.member_review(tx, "m1", None, True)["attempts"])
