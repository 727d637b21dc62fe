"""Use cases of campaigns and levels (R5, R9, R10): which campaign, editing a level before
it opens (campaigns.py creates, edits and publishes whole campaigns from their sheet),
and the statistics organisers tune a level's bank with, fed by attempts' events. Plain
functions over a unit of work (`tx.store`, `tx.emit`, `tx.now`)."""
from __future__ import annotations

from kernel.errors import BadInput, Conflict, NotFound, load

from . import draw, schedule, statistics
from .models import Campaign, Level, QuestionStat
from .schemas import LevelChangesIn


# -- which campaign ----------------------------------------------------------------------------

def campaign(tx, campaign_id) -> Campaign:
    found = tx.store.campaign(campaign_id) if isinstance(campaign_id, str) else None
    if found is None:
        raise NotFound("no such campaign", fields={"campaign_id": [campaign_id]})
    return found


def current_campaign(tx, campaign_id=None) -> Campaign:
    """The given campaign, or the current one (kernel/campaigns.py)."""
    if campaign_id:
        return campaign(tx, campaign_id)
    found = tx.store.current_campaign()
    if found is None:
        raise NotFound("no campaign has been published", reason="no_campaign")
    return found


def level(tx, campaign_id: str, number: int) -> Level:
    found = tx.store.level(campaign_id, number)
    if found is None:
        raise NotFound(f"level {number} does not exist", fields={"level": [number]})
    return found


# -- campaigns and levels ----------------------------------------------------------------------

def update_level(tx, actor, campaign_id, number: int, changes: dict, force: bool,
                 confirm: bool = False) -> dict:
    """Edit a level before it opens. After it has opened the change is refused unless
    `force`, and then it is logged as forced. A draw other than R10's 20 questions needs
    `confirm`. Emits `level_updated`."""
    changes = load(LevelChangesIn(), changes, "changes")
    found = campaign(tx, campaign_id)
    edited = level(tx, found.id, number)
    before = {k: getattr(edited, k) for k in changes}
    if before == changes:
        return campaign_view(tx, found)
    draw_count = changes.get("draw_count", edited.draw_count)
    if draw_count != before.get("draw_count", draw_count) and \
            draw_count != schedule.DRAW_COUNT and not confirm:
        raise Conflict(f"R10: a paper draws {schedule.DRAW_COUNT} questions; send "
                       f"confirm=true to draw {draw_count}",
                       fields={"confirm": [f"required to draw other than "
                                           f"{schedule.DRAW_COUNT}"]},
                       reason="draw_count_not_r10")
    opened = edited.opens_at <= tx.now
    if opened and not force:
        raise Conflict(f"level {number} opened at {edited.opens_at.isoformat()}; members "
                       "are playing it. Send force=true to change it anyway (logged).",
                       fields={"force": ["required after the level has opened"]},
                       reason="level_opened")
    for key, value in changes.items():
        setattr(edited, key, value)
    _check_level(tx, found, edited)
    tx.store.audit("level_updated", actor=actor, target=f"{found.id}/{number}",
                   scope_id=found.organisation_id,
                   detail={"forced": opened,
                           "changes": {k: [before[k], changes[k]] for k in changes
                                       if before[k] != changes[k]}})
    tx.store.flush()
    tx.emit("level_updated", _campaign_event(tx, found))
    return campaign_view(tx, found)


def _check_level(tx, found: Campaign, edited: Level) -> None:
    if not 300 <= edited.time_limit_s <= 1200:
        raise BadInput("R10: a level's time limit is 5 to 20 minutes",
                       fields={"time_limit_s": ["between 300 and 1200 seconds"]},
                       reason="time_limit_range")
    if edited.mix:
        unknown = set(edited.mix) - {"easy", "medium", "hard"}
        if unknown or any(not isinstance(v, int) or v < 0 for v in edited.mix.values()):
            raise BadInput("the mix counts questions per difficulty: easy, medium, hard",
                           fields={"mix": ["whole numbers per easy/medium/hard"]}, reason="bad_mix")
        if sum(edited.mix.values()) != edited.draw_count:
            raise BadInput(f"the mix adds up to {sum(edited.mix.values())} but the draw is "
                           f"{edited.draw_count}", fields={"mix": ["must add up to the draw"]},
                           reason="mix_total")
    if not found.starts_at <= edited.opens_at <= found.ends_at:
        raise BadInput("a level opens within its campaign",
                       fields={"opens_at": ["outside the campaign"]},
                       reason="opens_outside_campaign")
    others = {lv.number: lv.opens_at for lv in tx.store.levels(found.id)}
    others[edited.number] = edited.opens_at
    ordered = [others[n] for n in sorted(others)]
    if ordered != sorted(ordered):
        raise BadInput("levels open in order: a level cannot open before the one below it",
                       fields={"opens_at": ["out of order"]}, reason="opens_out_of_order")


def campaign_view(tx, found: Campaign) -> dict:
    """The campaign for CampaignOut: each level with its count of active questions, how
    many it lacks for one paper (`bank_short`: while above 0 every start of the level is
    refused, before and after it opens) and the warnings an organiser must see."""
    buckets = tx.store.active_buckets(found.id)
    return dict(_columns(found), levels=[
        dict(_columns(lv), active_questions=sum(buckets.get(lv.number, {}).values()),
             bank_short=draw.short_by(lv.draw_count, lv.mix, buckets.get(lv.number, {})),
             warnings=draw.shortfalls(lv.number, lv.draw_count, lv.mix,
                                      buckets.get(lv.number, {})))
        for lv in tx.store.levels(found.id)])


def _columns(row) -> dict:
    return {column.key: getattr(row, column.key) for column in row.__table__.columns}


def _campaign_event(tx, found: Campaign) -> dict:
    return {
        "campaign_id": found.id, "name": found.name, "time_zone": found.time_zone,
        "starts_at": found.starts_at, "ends_at": found.ends_at,
        "organisation_id": found.organisation_id,
        "levels": [{"number": lv.number, "title": lv.title, "theme": lv.theme,
                    "opens_at": lv.opens_at, "time_limit_s": lv.time_limit_s,
                    "draw_count": lv.draw_count} for lv in tx.store.levels(found.id)],
    }


# -- statistics (R10), fed by attempts' events -------------------------------------------------

def count_attempt(tx, data: dict, passed: bool) -> None:
    """Fold one graded (or expired) attempt into the member's and the questions' counters."""
    count_attempts(tx, [data], passed)


class _Sums:
    """What a batch adds to a stat row: statistics.add folded from zero (the campaign and
    level a new row is made with)."""

    def __init__(self, campaign_id, level):
        self.campaign_id, self.level = campaign_id, level
        self.shown = self.graded = self.right = 0
        self.sum_rest = self.sum_rest_sq = self.sum_right_rest = 0


def count_attempts(tx, batch: list[dict], passed: bool) -> None:
    """Fold a batch of graded (or expired) attempts, in order, into the members' and the
    questions' counters: what the batch adds is summed here, then written as one multi-row
    upsert per table (~20 question rows a paper become one statement a batch)."""
    members: dict = {}
    questions: dict = {}
    for data in batch:
        key = (data["campaign_id"], data["level"], data["member_id"])
        member = members.setdefault(key, {"attempts": 0, "passes": 0, "expired": 0,
                                          "attempts_to_first_pass": None})
        member["attempts"] += 1
        expired = not passed and data.get("reason") == "expired"
        member["expired"] += 1 if expired else 0
        if passed:
            member["passes"] += 1
            if member["attempts_to_first_pass"] is None:  # after the attempts held before
                member["attempts_to_first_pass"] = member["attempts"]
        _sum(questions, data, data.get("wrong_question_ids") or [], expired)
    tx.store.add_member_stats([dict(zip(("campaign_id", "level", "member_id"), key), **adds)
                               for key, adds in members.items()])
    tx.store.add_question_stats([dict(vars(sums), question_id=question_id)
                                 for question_id, sums in questions.items()])


def _sum(questions: dict, data: dict, wrong_ids, expired: bool) -> None:
    """One paper's appearance added to the batch's sums (as _fold, from zero)."""
    ids = data.get("question_ids") or []
    wrong = set(wrong_ids)
    right_total = len(ids) - len(wrong & set(ids))
    for question_id in ids:
        sums = questions.get(question_id)
        if sums is None:
            sums = questions[question_id] = _Sums(data["campaign_id"], data["level"])
        if expired:  # never answered: shown, but says nothing about the question
            sums.shown += 1
            continue
        right = question_id not in wrong
        statistics.add(sums, right, right_total - (1 if right else 0))


def recount_attempt(tx, data: dict) -> None:
    """A regraded attempt (attempts' `attempt_regraded`): its graded appearance as first
    counted is taken back out of each question's sums and the corrected one folded in; a
    failure that now passes adds a pass (and may make the first pass come sooner)."""
    _fold(tx, data, data["wrong_before"], False, statistics.remove)
    _fold(tx, data, data["wrong_after"], False, statistics.add)
    if data["passed_after"] and not data["passed_before"]:
        member = tx.store.member_stat(data["campaign_id"], data["level"], data["member_id"])
        if member is not None:
            member.passes += 1
            number = data["level_attempt_number"]
            if member.attempts_to_first_pass is None or number < member.attempts_to_first_pass:
                member.attempts_to_first_pass = number


def _fold(tx, data: dict, wrong_ids, expired: bool, fold) -> None:
    """Fold one paper's appearance into (or, with statistics.remove, out of) its questions."""
    ids = data.get("question_ids") or []
    wrong = set(wrong_ids)
    right_total = len(ids) - len(wrong & set(ids))
    stats = tx.store.question_stats(ids)
    for question_id in ids:
        stat = stats.get(question_id)
        if stat is None:
            stat = QuestionStat(question_id=question_id, campaign_id=data["campaign_id"],
                                level=data["level"], shown=0, graded=0, right=0,
                                sum_rest=0, sum_rest_sq=0, sum_right_rest=0)
            tx.store.add(stat)
            stats[question_id] = stat
        if expired:  # never answered: shown, but says nothing about the question
            stat.shown += 1
            continue
        right = question_id not in wrong
        fold(stat, right, right_total - (1 if right else 0))


def limits(knobs) -> dict:
    """The thresholds a question is flagged by (STATS_* knobs)."""
    return {"min_graded": knobs.stats_min_graded, "facility_floor": knobs.stats_facility_floor,
            "discrimination_floor": knobs.stats_discrimination_floor}


def level_statistics(tx, knobs, campaign_id, number: int, limit: int,
                     per_question: bool) -> dict:
    """Pass rate, attempts to pass, and every question's facility and discrimination, the
    flagged ones and those most often wrong first. Without `per_question`, the level's
    figures only: a question's counters, read before and after one's own failed attempt,
    tell which of its questions were wrong (an answer oracle), so they are for the bank's
    administrators, who see the answers anyway."""
    found = current_campaign(tx, campaign_id)
    level(tx, found.id, number)
    members = tx.store.member_stats(found.id, number)
    attempts = sum(m.attempts for m in members)
    passes = sum(m.passes for m in members)
    to_pass = [m.attempts_to_first_pass for m in members if m.attempts_to_first_pass]
    summary = {
        "campaign_id": found.id, "level": number,
        "attempts": attempts, "passes": passes,
        "pass_rate": round(passes / attempts, 4) if attempts else None,
        "members_tried": len(members),
        "members_passed": len(to_pass),
        "mean_attempts_to_pass": round(sum(to_pass) / len(to_pass), 2) if to_pass else None,
        "expired": sum(m.expired for m in members),
    }
    if not per_question:
        return summary
    thresholds = limits(knobs)
    questions = {q.id: q for q in tx.store.questions(found.id, level=number)}
    rows = []
    for stat in tx.store.level_question_stats(found.id, number):
        question = questions.get(stat.question_id)
        rows.append(dict(statistics.describe(stat, **thresholds),
                         question_id=stat.question_id,
                         stem=question.stem if question else None,
                         status=question.status if question else None,
                         topic=question.topic if question else None))
    rows.sort(key=lambda r: (not r["flags"], -r["wrong"], r["question_id"]))
    return {
        **summary,
        "active_questions": sum(1 for q in questions.values() if q.status == "active"),
        "flagged": [r for r in rows if r["flags"]],
        "most_wrong": sorted(rows, key=lambda r: (-r["wrong"], r["question_id"]))[:limit],
        "questions": rows,
        "limits": thresholds,
    }
