"""Campaigns as data (issue 19 item 3, R5/R9/R10): the template sheet for any year, the
sheet's validation by row and column, import as a draft, publishing, editing a published
campaign by the rules of levels, several campaigns over the years and copying a bank."""
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from kernel.errors import Conflict
from services.question_bank import campaign_sheet, campaigns, levels, schedule
from services.question_bank.demo import demo_questions
from services.question_bank import bank
from services.question_bank.models import Base
from services.question_bank.schemas import CampaignImportOut, CampaignListOut
from tests.unit.test_question_bank_use_cases import FakeTx

MARCH_2027 = datetime(2027, 3, 12, 1, 0, tzinfo=timezone.utc)  # 09:00 in Shanghai


class Tx(FakeTx):
    """As kernel.uow's: a discarded transaction is rolled back, a finished one committed."""

    def discard(self):
        self.discarded = True
        self.session.rollback()

    def done(self):
        if not self.discarded:
            self.session.commit()
        self.discarded = False


@pytest.fixture
def tx():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    session = Session(engine, expire_on_commit=False, info={"metadata": Base.metadata})
    yield Tx(session, now=datetime(2026, 12, 1, tzinfo=timezone.utc))
    session.close()


def sheet(year, changes=None):
    """The template's rows for `year`; changes as {(row index, key): value}."""
    rows = campaign_sheet.keyed(campaign_sheet.template_rows(year))
    for (index, key), value in (changes or {}).items():
        rows[index][key] = value
    return rows


def imported(tx, rows, **kwargs):
    report = campaigns.import_campaign(tx, "admin", "federation", rows,
                                       kwargs.pop("dry_run", False), **kwargs)
    assert CampaignImportOut().dump(report)["total"] == len(rows)
    tx.last_discarded = tx.discarded
    tx.done()
    return report


def published(tx, cid):
    view = campaigns.publish(tx, "admin", cid)
    tx.done()
    return view


# -- the template ------------------------------------------------------------------------------

def test_the_template_is_the_seed_pattern_for_any_year():
    plan = campaign_sheet.parse(sheet(2027))
    opens = [lv["opens_at"] for lv in plan["levels"]]
    assert Counter(o.month for o in opens) == {3: 1, 4: 1, 5: 1, 6: 1, 7: 2, 8: 2, 9: 2,
                                               10: 2}  # R9
    assert opens[0].isoformat() == "2027-03-12T00:00:00+08:00" == plan["starts_at"].isoformat()
    assert plan["ends_at"].isoformat() == "2027-10-31T23:59:59.999000+08:00"
    assert [lv["time_limit_s"] for lv in plan["levels"]] == [
        m * 60 for m in schedule.TIME_LIMITS_MIN]
    assert plan["name"] == "2027年“每月一关”学习答题闯关" and plan["year"] == 2027


def test_the_2018_template_is_the_seed_campaign():
    plan, seed = campaign_sheet.parse(sheet(2018)), schedule.campaign_2018()
    assert [dict(lv, mix=None) for lv in seed["levels"]] == plan["levels"]
    assert (plan["starts_at"], plan["ends_at"]) == (seed["starts_at"], seed["ends_at"])


# -- validation names the row and the column --------------------------------------------------

@pytest.mark.parametrize("limit, ok", [(299, False), (300, True), (1200, True), (1201, False)])
def test_time_limits_are_300_to_1200_seconds_at_their_edges(limit, ok):
    rows = sheet(2027, {(4, "time_limit_s"): str(limit)})
    if ok:
        assert campaign_sheet.parse(rows)["levels"][4]["time_limit_s"] == limit
        return
    with pytest.raises(campaign_sheet.SheetErrors) as bad:
        campaign_sheet.parse(rows)
    assert [(e["row"], e["column"]) for e in bad.value.errors] == [(6, "限时秒")]


def test_levels_open_in_order_and_inside_the_campaign():
    rows = sheet(2027, {(3, "opens_on"): "2027-03-20", (11, "opens_on"): "2027-11-01",
                          (2, "mix"): "易10 中5"})
    with pytest.raises(campaign_sheet.SheetErrors) as bad:
        campaign_sheet.parse(rows)
    found = {(e["row"], e["column"]) for e in bad.value.errors}
    # row 5 (level 4) opens before level 3; row 13 (level 12) after the end; row 4's mix
    assert found == {(5, "开放日期"), (13, "开放日期"), (4, "难度配比")}
    # the last instant of the last day is inside; its next day is not
    edge = sheet(2027, {(11, "opens_on"): "2027-10-31 23:59"})
    assert campaign_sheet.parse(edge)["levels"][11]["opens_at"].hour == 23


def test_the_campaign_fields_are_on_the_first_row_and_agree_on_others():
    rows = sheet(2027, {(0, "time_zone"): "Mars/Olympus"})
    with pytest.raises(campaign_sheet.SheetErrors) as bad:
        campaign_sheet.parse(rows)
    assert [(e["row"], e["column"]) for e in bad.value.errors] == [(2, "时区")]
    rows = sheet(2027, {(3, "year"): "2028"})
    with pytest.raises(campaign_sheet.SheetErrors) as bad:
        campaign_sheet.parse(rows)
    assert [(e["row"], e["column"]) for e in bad.value.errors] == [(5, "年度")]
    assert campaign_sheet.parse_mix("easy=10, medium=8 hard=2", 20) == {
        "easy": 10, "medium": 8, "hard": 2}


# -- import, publish, edit ---------------------------------------------------------------------

def test_a_sheet_makes_a_draft_that_publishing_makes_current(tx):
    dry = imported(tx, sheet(2027), dry_run=True)
    assert (dry["created"], dry["errors"], tx.last_discarded) == (12, [], True)
    report = imported(tx, sheet(2027))
    cid = report["campaign"]["id"]
    assert report["created"] == 12 and report["campaign"]["published_at"] is None
    assert tx.store.current_campaign() is None and tx.emitted == []  # a draft: no member sees it
    again = imported(tx, sheet(2027))
    assert (again["created"], again["unchanged"]) == (0, 12)
    published(tx, cid)
    assert levels.current_campaign(tx).id == cid
    assert [t for t, _ in tx.emitted] == ["campaign_published"]
    [listed] = CampaignListOut().dump({"items": campaigns.listing(tx)})["items"]
    assert listed["current"] and listed["levels"] == 12 and listed["year"] == 2027


def test_a_bad_sheet_changes_nothing(tx):
    report = imported(tx, sheet(2027, {(1, "time_limit_s"): "60"}))
    assert report["errors"][0]["row"] == 3 and report["campaign"] is None
    assert tx.last_discarded and tx.store.any_campaign() is None


def test_a_published_campaign_is_edited_as_levels_are(tx):
    cid = imported(tx, sheet(2027))["campaign"]["id"]
    published(tx, cid)
    tx.emitted.clear()
    tx.now = MARCH_2027  # level 1 has opened; level 2 has not
    rows = sheet(2027, {(0, "time_limit_s"): "360", (1, "theme"): "新主题"})
    refused = imported(tx, rows)
    assert [(e["row"], e["column"]) for e in refused["errors"]] == [(2, "限时秒")]
    assert tx.store.level(cid, 1).time_limit_s == 300 and tx.emitted == []
    assert tx.store.level(cid, 2).theme != "新主题"  # all or nothing
    forced = imported(tx, rows, force=True)
    assert forced["updated"] == 2 and tx.store.level(cid, 1).time_limit_s == 360
    assert [t for t, _ in tx.emitted] == ["level_updated"]
    [entry] = [e for e in tx.store.audit_log(None, 50, 0)["items"]
               if e["action"] == "campaign_imported" and e["detail"].get("forced")]
    assert entry["detail"]["forced"] == ["第1关"] and entry["actor_id"] == "admin"
    # before it opens, a level changes freely
    tx.emitted.clear()
    theme = imported(tx, sheet(2027, {(0, "time_limit_s"): "360", (1, "theme"): "再改"}))
    assert theme["errors"] == [] and tx.store.level(cid, 2).theme == "再改"


# -- several campaigns -------------------------------------------------------------------------

def test_the_next_year_is_published_after_the_last_has_ended(tx):
    tx.now = datetime(2018, 1, 5, tzinfo=timezone.utc)
    old = imported(tx, sheet(2018))["campaign"]["id"]
    published(tx, old)
    new = imported(tx, sheet(2019))["campaign"]["id"]
    tx.now = datetime(2018, 10, 31, 15, 59, 59, 999000, tzinfo=timezone.utc)  # 2018's end
    with pytest.raises(Conflict) as running:
        campaigns.publish(tx, "admin", new)
    assert running.value.reason == "campaign_still_running"
    assert levels.current_campaign(tx).id == old
    tx.now += timedelta(milliseconds=1)
    published(tx, new)
    assert levels.current_campaign(tx).id == new
    assert levels.current_campaign(tx, old).year == 2018  # the past stays readable by id
    assert [c["year"] for c in campaigns.listing(tx)] == [2019, 2018]


def test_a_bank_is_copied_from_a_past_campaign_once(tx):
    old = imported(tx, sheet(2018))["campaign"]["id"]
    new = imported(tx, sheet(2019))["campaign"]["id"]
    rows = demo_questions(1, count=25) + demo_questions(2, count=5, seed=2)
    bank.import_questions(tx, old, rows, dry_run=False)
    first = campaigns.copy_bank(tx, "admin", old, new, dry_run=False)
    assert (first["created"], first["errors"]) == (30, [])
    assert bank.count_questions(tx, new) == {"1": 25, "2": 5}
    second = campaigns.copy_bank(tx, "admin", old, new, dry_run=False)
    assert (second["created"], second["unchanged"]) == (0, 30)
    assert bank.count_questions(tx, old) == {"1": 25, "2": 5}  # the source is untouched


def test_the_setup_checklist_ticks_as_the_bank_fills(tx):
    assert campaigns.setup(tx) == {"campaign": False, "published": False,
                                   "questions": False, "campaign_id": None}
    cid = imported(tx, sheet(2027))["campaign"]["id"]
    assert campaigns.setup(tx)["campaign"] and not campaigns.setup(tx)["published"]
    published(tx, cid)
    bank.import_questions(tx, cid, demo_questions(1, count=19), dry_run=False)
    assert not campaigns.setup(tx)["questions"]  # one short of level 1's draw
    bank.import_questions(tx, cid, demo_questions(1, count=20), dry_run=False)
    assert campaigns.setup(tx) == {"campaign": True, "published": True, "questions": True,
                                   "campaign_id": cid}


def test_the_pages_word_every_campaign_refusal():
    """Each reason these use cases give has its Chinese and English words (common.js)."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2]
    code = "".join((root / "services/question_bank" / name).read_text(encoding="utf-8")
                   for name in ("campaigns.py", "levels.py", "campaign_sheet.py"))
    reasons = set(re.findall(r'reason="(\w+)"', code))
    assert {"no_campaign", "campaign_still_running", "no_organisation"} <= reasons
    words = (root / "gateway/static/common.js").read_text(encoding="utf-8")
    for reason in reasons:
        assert len(re.findall(rf"^    {reason}: \"", words, flags=re.M)) == 2, reason
