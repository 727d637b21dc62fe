"""question_bank administration: level edits before and after opening, the bank warnings,
question edit/retire/export/re-import, sheet formats, and the statistics fed by attempts."""
import base64
import io
import json
import random
import statistics as stats
import uuid
from datetime import datetime, timezone

import openpyxl
import pytest
from nameko.testing.services import entrypoint_hook

from kernel.errors import BadInput, Conflict
from kernel.sheets import read_rows
from services.question_bank.demo import demo_questions
from services.question_bank.questions import SHEET_COLUMNS
from services.question_bank.service import QuestionBankService
from tests.service.helpers import call, deliver, outbox_events, publish_campaign

ADMIN = "admin-1"


@pytest.fixture
def bank(container_factory, migrated, fake_clock):  # the clock: 2018-03-12 09:00 Shanghai
    container = container_factory(QuestionBankService, migrated)
    container.start()
    return container


@pytest.fixture
def cid(bank):
    return publish_campaign(bank)["campaign_id"]


def level(bank, number):
    return call(bank, "get_campaign")["levels"][number - 1]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# -- levels ----------------------------------------------------------------------------------

def test_a_level_is_edited_before_it_opens_and_only_forced_after(bank, cid, migrated,
                                                                  fake_clock):
    call(bank, "update_level", ADMIN, cid, 2, {"time_limit_s": 480, "theme": "新主题"})
    assert (level(bank, 2)["time_limit_s"], level(bank, 2)["theme"]) == (480, "新主题")
    [event] = outbox_events(migrated, "question_bank", "level_updated")
    assert event["data"]["levels"][1]["time_limit_s"] == 480
    # level 1 opened at 2018-03-12 00:00 Shanghai; it is 09:00
    with pytest.raises(Conflict) as refused:
        call(bank, "update_level", ADMIN, cid, 1, {"time_limit_s": 600})
    assert "force" in refused.value.fields
    assert level(bank, 1)["time_limit_s"] == 300
    call(bank, "update_level", ADMIN, cid, 1, {"time_limit_s": 600}, force=True)
    assert level(bank, 1)["time_limit_s"] == 600
    entries = [e for e in call(bank, "audit_log")["items"] if e["action"] == "level_updated"]
    assert [(e["action"], e["detail"]["forced"]) for e in entries] == [
        ("level_updated", True), ("level_updated", False)]
    assert entries[0]["detail"]["changes"] == {"time_limit_s": [300, 600]}
    # the edge: a level opening at exactly now counts as open
    fake_clock.set(datetime(2018, 3, 31, 16, 0, tzinfo=timezone.utc))  # level 2 opens
    with pytest.raises(Conflict):
        call(bank, "update_level", ADMIN, cid, 2, {"time_limit_s": 540})


@pytest.mark.parametrize("changes, field", [
    ({"time_limit_s": 299}, "time_limit_s"),
    ({"time_limit_s": 1201}, "time_limit_s"),
    ({"mix": {"easy": 10, "hard": 4}}, "mix"),
    ({"mix": {"trivial": 20}}, "mix"),
    ({"opens_at": "2018-09-01T00:00:00+08:00"}, "opens_at"),  # after level 5
    ({"opens_at": "2018-04-01"}, "opens_at"),  # no offset
    ({"colour": "red"}, "colour"),
])
def test_bad_level_changes_name_the_field_and_change_nothing(bank, cid, migrated, changes,
                                                             field):
    with pytest.raises(BadInput) as bad:
        call(bank, "update_level", ADMIN, cid, 4, changes)
    assert field in bad.value.fields
    assert level(bank, 4)["time_limit_s"] == 480 and level(bank, 4)["mix"] is None
    assert outbox_events(migrated, "question_bank", "level_updated") == []


def test_a_small_bank_or_bucket_is_a_warning_before_the_level_opens(bank, cid):
    rows = demo_questions(3, count=30)
    for i, row in enumerate(rows):
        row["difficulty"] = ["easy", "medium", "hard"][i % 3]  # 10 of each
    call(bank, "import_questions", cid, rows)
    assert level(bank, 3)["warnings"] == []
    call(bank, "update_level", ADMIN, cid, 3, {"mix": {"easy": 4, "medium": 4, "hard": 12}})
    assert level(bank, 3)["warnings"] == ["level 3's bank is 2 question(s) short of the draw "
                                          "(hard)"]
    with pytest.raises(Conflict, match=r"2 question\(s\) short of the draw \(hard\)"):
        call(bank, "draw_paper", cid, 3)
    call(bank, "update_level", ADMIN, cid, 3, {"mix": {"easy": 6, "medium": 6, "hard": 8}})
    paper = call(bank, "draw_paper", cid, 3)
    by_id = {q["id"]: q["difficulty"] for q in call(bank, "list_questions", cid, level=3,
                                                   limit=100)["items"]}
    drawn = [by_id[q["id"]] for q in paper["questions"]]
    assert (drawn.count("easy"), drawn.count("medium"), drawn.count("hard")) == (6, 6, 8)
    assert level(bank, 5)["warnings"] == ["level 5's bank is 20 question(s) short of the draw"]


# -- questions ---------------------------------------------------------------------------------

def test_a_retired_question_is_never_drawn_and_drawn_papers_keep_their_copy(bank, cid):
    call(bank, "import_questions", cid, demo_questions(1, count=21))
    paper = call(bank, "draw_paper", cid, 1)
    kept = json.dumps(paper, sort_keys=True)
    victim = paper["questions"][0]["id"]
    call(bank, "retire_question", ADMIN, victim)
    with pytest.raises(Conflict):
        call(bank, "retire_question", ADMIN, victim)
    assert json.dumps(paper, sort_keys=True) == kept
    for _ in range(30):  # 20 of the 20 left: the retired one can never come back
        assert victim not in call(bank, "draw_paper", cid, 1)["key"]
    call(bank, "retire_question", ADMIN, call(bank, "list_questions", cid)["items"][0]["id"])
    with pytest.raises(Conflict, match="1 question"):
        call(bank, "draw_paper", cid, 1)
    assert call(bank, "list_questions", cid, status="retired")["total"] == 2


def test_an_edit_is_validated_and_the_next_paper_shows_it(bank, cid):
    call(bank, "import_questions", cid, demo_questions(1, count=20))
    question = next(q for q in call(bank, "list_questions", cid)["items"]
                    if q["type"] == "single")
    with pytest.raises(BadInput) as bad:
        call(bank, "update_question", ADMIN, question["id"], {"answer": "F"})
    assert "answer" in bad.value.fields
    with pytest.raises(BadInput):
        call(bank, "update_question", ADMIN, question["id"], {"status": "retired"})
    call(bank, "update_question", ADMIN, question["id"], {"stem": "【演示】改过的题干"})
    stems = {q["id"]: q["stem"] for q in call(bank, "draw_paper", cid, 1)["questions"]}
    assert stems[question["id"]] == "【演示】改过的题干"
    [entry] = call(bank, "audit_log")["items"][:1]
    assert entry["action"] == "question_updated" and entry["target"] == question["id"]


def test_reimport_updates_never_duplicates_and_an_export_round_trips(bank, cid):
    rows = demo_questions(2, count=20)
    call(bank, "import_questions", cid, rows)
    again = call(bank, "import_questions", cid, rows)
    assert (again["created"], again["unchanged"]) == (0, 20)
    rows[0]["explanation"] = "新的解析"
    assert call(bank, "import_questions", cid, rows)["updated"] == 1
    export = call(bank, "export_questions", cid, "xlsx", level=2)
    assert export["rows"] == 20
    book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(export["content_b64"])))
    sheet = book.active
    sheet.cell(row=2, column=4).value = "【演示】在表格里改了题干"
    out = io.BytesIO()
    book.save(out)
    report = call(bank, "import_sheet", cid, b64(out.getvalue()), "questions.xlsx")
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 1, 19)
    assert call(bank, "count_questions", cid) == {"2": 20}
    assert "【演示】在表格里改了题干" in {q["stem"] for q in call(
        bank, "list_questions", cid, level=2, limit=100)["items"]}
    bad = dict(read_rows(base64.b64decode(export["content_b64"]), "q.xlsx", SHEET_COLUMNS)[0],
               id=str(uuid.uuid4()))
    report = call(bank, "import_questions", cid, [bad])
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(2, "id")]


def test_csv_in_gbk_and_json_sheets_and_files_that_are_not_sheets(bank, cid):
    gbk = ("关卡,题型,题干,选项,答案,解析,难度,主题\n"
           "1,单选,党的十九大在哪一年召开？,2016|2017|2018,B,,易,十九大\n"
           "1,判断,党章是党的根本大法。,,对,,中,党章\n"
           "1,多选,下列属于“四个意识”的是,政治意识|大局意识|核心意识|看齐意识,ABCD,,难,\n"
           "1,单选,题干,甲|乙,C,,易,\n").encode("gbk")
    report = call(bank, "import_sheet", cid, b64(gbk), "题库.csv")
    assert report["created"] == 3
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(5, "answer")]
    payload = json.dumps([{"level": 2, "type": "judge", "stem": "对吗？", "answer": "false"},
                          {"level": 2, "type": "single", "stem": "选", "options": ["x", "y"],
                           "answer": "A"}], ensure_ascii=False).encode()
    assert call(bank, "import_sheet", cid, b64(payload), "q.json")["created"] == 2
    before = call(bank, "count_questions", cid)
    for name, data in [("junk.xlsx", b"PK\x03\x04junk"), ("empty.csv", b""),
                       ("noise.csv", bytes(range(256)) * 4), ("x.json", b"{\"a\": 1}")]:
        with pytest.raises(BadInput) as bad:
            call(bank, "import_sheet", cid, b64(data), name)
        assert "file" in bad.value.fields
    assert call(bank, "count_questions", cid) == before


# -- statistics --------------------------------------------------------------------------------

def attempt_event(cid, member, level, paper_ids, wrong, passed, reason="wrong_answers"):
    now = datetime(2018, 3, 12, 2, 0, tzinfo=timezone.utc)
    data = {"attempt_id": str(uuid.uuid4()), "member_id": member, "campaign_id": cid,
            "run_id": "r", "run_number": 1, "level": level, "started_at": now,
            "submitted_at": now, "duration_ms": 1000, "run_levels_passed": 1,
            "run_total_ms": 1000, "question_ids": paper_ids, "wrong_question_ids": wrong}
    if not passed:
        data.update(correct=len(paper_ids) - len(wrong), total=len(paper_ids), reason=reason)
    return data


def test_statistics_equal_a_direct_computation(bank, cid):
    call(bank, "import_questions", cid, demo_questions(1, count=25))
    ids = [q["id"] for q in call(bank, "list_questions", cid, limit=100)["items"]]
    rng = random.Random(7)
    skill = {f"m{i}": rng.random() for i in range(30)}
    hard = ids[0]  # almost everyone misses it: it blocks passes
    seen = {q: [] for q in ids}  # (x, y) per question, for the direct computation
    attempts_of, first_pass = {}, {}
    for round_ in range(4):
        for member, p in skill.items():
            paper = rng.sample(ids, 20)
            if round_ == 0 and hard not in paper:
                paper[0] = hard
            wrong = [q for q in paper if rng.random() > (0.05 if q == hard else p)]
            passed = not wrong
            handler = "on_attempt_passed" if passed else "on_attempt_failed"
            body = deliver(bank, handler, "attempts",
                           "attempt_passed" if passed else "attempt_failed",
                           attempt_event(cid, member, 1, paper, wrong, passed))
            if round_ == 0 and member == "m0":
                deliver_again = body
                assert not passed  # m0 met the hard question: the redelivery below is a fail
            attempts_of[member] = attempts_of.get(member, 0) + 1
            if passed and member not in first_pass:
                first_pass[member] = attempts_of[member]
            right_total = 20 - len(wrong)
            for q in paper:
                x = 0 if q in wrong else 1
                seen[q].append((x, right_total - x))
    with entrypoint_hook(bank, "on_attempt_failed") as hook:  # a redelivery changes nothing
        hook(deliver_again)
    deliver(bank, "on_attempt_failed", "attempts", "attempt_failed",
            attempt_event(cid, "m0", 1, ids[:20], ids[:20], False, reason="expired"))
    result = call(bank, "level_statistics", cid, 1)
    assert result["attempts"] == 121 and result["expired"] == 1
    assert result["members_passed"] == len(first_pass)
    if first_pass:
        assert result["mean_attempts_to_pass"] == round(
            sum(first_pass.values()) / len(first_pass), 2)
    by_id = {row["question_id"]: row for row in result["questions"]}
    for q, pairs in seen.items():
        xs, ys = [x for x, _ in pairs], [y for _, y in pairs]
        row = by_id[q]
        assert row["graded"] == len(pairs)
        assert row["shown"] == len(pairs) + (1 if q in ids[:20] else 0)
        assert row["facility"] == round(sum(xs) / len(xs), 4)
        if len(set(xs)) > 1 and len(set(ys)) > 1:
            assert row["discrimination"] == pytest.approx(stats.correlation(xs, ys), abs=1e-4)
    assert "blocks_passes" in by_id[hard]["flags"]
    assert result["flagged"][0]["question_id"] == hard
    assert result["most_wrong"][0]["question_id"] == hard
