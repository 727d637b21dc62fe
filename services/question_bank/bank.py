"""Use cases of the question bank (R7, R10, R11): importing, editing, retiring and exporting
questions, and drawing a random paper. Plain functions over a unit of work (`tx.store`,
`tx.now`) and the pure rules (questions.py, draw.py, statistics.py)."""
from __future__ import annotations

import base64
import uuid

from kernel import sheets
from kernel.errors import BadInput, Conflict, NotFound

from . import draw, statistics
from .levels import campaign, current_campaign, limits
from .models import Question
from .questions import EXPORT_HEADERS, RowError, as_row, identity, parse_row

# (campaign_id, level) -> (bank_version, questions): a draw reads one row to know the bank
# it holds is current, instead of loading the level's questions every time
_banks: dict[tuple[str, int], tuple[int, list[dict]]] = {}


# -- questions ---------------------------------------------------------------------------------

def import_questions(tx, campaign_id, rows: list[dict], dry_run: bool, actor=None,
                     source=None) -> dict:
    """Apply the good rows, report the bad ones by row and column; dry run changes nothing.

    A row with an `id` (from an export) updates that question; a row without one updates the
    active question with the same level, type, stem and options (its answer, explanation,
    difficulty or topic may change), so re-importing a sheet never duplicates. Row numbers
    are a sheet's: data row i is reported as i + 1.
    """
    found = campaign(tx, campaign_id)
    levels = tx.store.level_numbers(found.id)
    existing = tx.store.questions(found.id)
    by_id = {q.id: q for q in existing}
    by_identity = {identity(q.level, q.type, q.stem, q.options): q
                   for q in existing if q.status == "active"}
    report = {"total": len(rows), "created": 0, "updated": 0, "unchanged": 0,
              "errors": [], "dry_run": dry_run}
    seen, touched = {}, set()
    for index, row in enumerate(rows, start=2):
        try:
            question = parse_row(row, levels)
            ref = str(row.get("id") or "").strip()
            if ref and ref not in by_id:
                raise RowError("id", f"no question {ref} in this campaign (leave id empty "
                                     "for a new question)", "unknown_question_id", ref)
            same = identity(question["level"], question["type"], question["stem"],
                            question["options"])
            if same in seen:
                raise RowError("stem", f"the same question is already on row {seen[same]}",
                               "duplicate_question", other=seen[same])
        except RowError as err:
            report["errors"].append(err.entry(index))
            continue
        seen[same] = index
        target = by_id.get(ref) if ref else by_identity.get(same)
        if target is None:
            target = Question(id=str(uuid.uuid4()), campaign_id=found.id, status="active",
                              created_at=tx.now, **question)
            tx.store.add(target)
            by_identity[same] = target
            report["created"] += 1
            touched.add(question["level"])
        elif any(getattr(target, k) != v for k, v in question.items() if k != "demo"):
            touched.update({target.level, question["level"]})
            for key, value in question.items():
                setattr(target, key, value)
            target.updated_at = tx.now
            report["updated"] += 1
        else:
            report["unchanged"] += 1
    if dry_run:
        tx.discard()
        return report
    _bump(tx, found.id, touched)
    tx.store.audit("questions_imported", actor=actor, target=source,
                   scope_id=found.organisation_id,
                   detail={k: report[k] for k in ("total", "created", "updated", "unchanged")}
                   | {"errors": len(report["errors"])})
    return report


def list_questions(tx, knobs, campaign_id, filters: dict) -> dict:
    """Questions with their answers and statistics (administrators only), paged and
    filtered as QuestionFilterIn loads `filters`."""
    found = current_campaign(tx, campaign_id)
    total = tx.store.count_matching(found.id, filters)
    questions = tx.store.questions_matching(found.id, filters, filters["limit"],
                                            filters["offset"])
    stats = tx.store.question_stats(q.id for q in questions)
    thresholds = limits(knobs)
    return {"total": total, "items": [
        dict(as_row(q), statistics=statistics.describe(stats[q.id], **thresholds)
             if q.id in stats else None, retired_at=q.retired_at, voided_at=q.voided_at)
        for q in questions]}


def update_question(tx, actor, question_id, changes) -> dict:
    """Edit a question (any sheet column but `id`); validated as an import row is. Papers
    already drawn keep their own copy."""
    question = _question(tx, question_id)
    if not isinstance(changes, dict) or not changes:
        raise BadInput("send the fields to change", fields={"changes": ["empty"]},
                       reason="nothing_to_change")
    unknown = set(changes) - (set(EXPORT_HEADERS) - {"id", "status"})
    if unknown:
        raise BadInput("unknown fields", fields={k: ["unknown field"] for k in unknown},
                       reason="unknown_fields")
    found = campaign(tx, question.campaign_id)
    row = dict(as_row(question), **changes)
    try:
        parsed = parse_row(row, tx.store.level_numbers(found.id))
    except RowError as err:
        raise BadInput(err.message, fields={err.column: [err.message]},
                       reason=err.reason) from None
    parsed.pop("demo")
    before = as_row(question)
    for key, value in parsed.items():
        if getattr(question, key) != value:
            setattr(question, key, value)
    after = as_row(question)
    diff = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if diff:
        question.updated_at = tx.now
        _bump(tx, found.id, {before["level"], after["level"]})
        tx.store.audit("question_updated", actor=actor, target=question.id,
                       scope_id=found.organisation_id, detail=diff)
    return as_row(question)


def retire_question(tx, actor, question_id) -> dict:
    """Never drawn again; papers already drawn keep their copy, statistics stay."""
    question = _question(tx, question_id)
    if question.status == "retired":
        raise Conflict("the question is already retired", reason="question_retired")
    found = campaign(tx, question.campaign_id)
    question.status, question.retired_at = "retired", tx.now
    _bump(tx, found.id, {question.level})
    tx.store.audit("question_retired", actor=actor, target=question.id,
                   scope_id=found.organisation_id, detail={"level": question.level})
    return as_row(question)


def void_question(tx, actor, question_id) -> dict:
    """R12: a question that cannot be answered right (wrongly worded, no right option) is
    voided: retired (never drawn again) and, once attempts regrades the papers that drew it,
    counted as right on each of them (docs/decisions.md, "Issue 18 — regrade")."""
    question = _question(tx, question_id)
    if question.voided_at is not None:
        raise Conflict("the question is already voided", reason="question_voided")
    found = campaign(tx, question.campaign_id)
    if question.status != "retired":
        question.status, question.retired_at = "retired", tx.now
        _bump(tx, found.id, {question.level})
    question.voided_at = tx.now
    tx.store.audit("question_voided", actor=actor, target=question.id,
                   scope_id=found.organisation_id, detail={"level": question.level})
    return as_row(question)


def question_key(tx, question_id) -> dict:
    """What attempts regrades a question's papers with: the right options by their text
    (each paper shuffled and relabelled them), every option's text, and whether the
    question is voided (right on every paper)."""
    question = _question(tx, question_id)
    found = campaign(tx, question.campaign_id)
    texts = draw.shown_options({"type": question.type, "options": question.options})
    return {"question_id": question.id, "campaign_id": found.id,
            "organisation_id": found.organisation_id, "level": question.level,
            "type": question.type, "options": texts,
            "right": [texts[i] for i in question.answer if i < len(texts)],
            "voided": question.voided_at is not None}


def export_questions(tx, campaign_id, fmt: str, level_number, status: str) -> dict:
    """The bank in the import's shape (with ids, so edits re-import as updates)."""
    found = current_campaign(tx, campaign_id)
    rows = [as_row(q) for q in tx.store.questions_matching(
        found.id, {"level": level_number, "status": status})]
    data, media_type = sheets.write_rows(rows, EXPORT_HEADERS, fmt)
    suffix = f"-level{level_number}" if level_number else ""
    return {"filename": f"questions{suffix}.{fmt}", "media_type": media_type,
            "content_b64": base64.b64encode(data).decode(), "rows": len(rows)}


def count_questions(tx, campaign_id) -> dict[str, int]:
    """Active questions per level, keyed by the level's number as text."""
    return {str(number): count
            for number, count in tx.store.active_counts(campaign_id).items()}


def _question(tx, question_id) -> Question:
    question = tx.store.question(question_id) if isinstance(question_id, str) else None
    if question is None:
        raise NotFound("no such question", fields={"question_id": [question_id]})
    return question


def _bump(tx, campaign_id: str, numbers) -> None:
    """A level's active questions changed: draws must reload its bank."""
    for number in numbers:
        changed = tx.store.level(campaign_id, number)
        if changed is not None:
            changed.bank_version = (changed.bank_version or 0) + 1


# -- papers ------------------------------------------------------------------------------------

def drawable(tx, campaign_id: str, number: int) -> tuple[dict, list[dict]]:
    """What a draw needs, as plain values, so that the transaction can end before the
    shuffle: the level's draw settings and its bank of active questions."""
    drawn = tx.store.level(campaign_id, number)
    if drawn is None:
        raise NotFound(f"level {number} does not exist")
    settings = {"campaign_id": drawn.campaign_id, "level": drawn.number,
                "time_limit_s": drawn.time_limit_s, "draw_count": drawn.draw_count,
                "mix": drawn.mix}
    cached = _banks.get((drawn.campaign_id, drawn.number))
    if cached is not None and cached[0] == drawn.bank_version:
        return settings, cached[1]
    bank = tx.store.active_bank(drawn.campaign_id, drawn.number)
    _banks[(drawn.campaign_id, drawn.number)] = (drawn.bank_version, bank)
    return settings, bank


def draw_paper(settings: dict, bank: list[dict], rng) -> dict:
    """A random paper for the attempts service; its `key` must never reach a member."""
    try:
        chosen = draw.pick(bank, settings["level"], settings["draw_count"], settings["mix"],
                           rng)
    except draw.BankTooSmall as short:
        raise Conflict(str(short), fields={"level": [str(short)]},
                       reason="bank_short") from None
    questions, key = draw.paper(chosen, rng)
    return {"campaign_id": settings["campaign_id"], "level": settings["level"],
            "time_limit_s": settings["time_limit_s"], "questions": questions, "key": key,
            "bank_size": len(bank)}
