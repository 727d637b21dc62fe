"""question_bank: campaigns and levels (R5, R9, R10), questions (R11), random papers (R7), and
the statistics organisers tune the bank with (R10)."""
from __future__ import annotations

import base64
import random
import uuid
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nameko.dependency_providers import Config
from sqlalchemy import func, select

from kernel import audit, entrypoints, sheets
from kernel.clock import Clock
from kernel.db import Database
from kernel.entrypoints import event_handler, rpc
from kernel.errors import BadInput, Conflict, NotFound, load
from kernel.inbox import handles_once
from kernel.outbox import Outbox
from kernel.settings import setting
from kernel.logs import WorkerContext

from . import draw, schedule, statistics
from .models import Base, Campaign, Level, LevelMemberStat, Question, QuestionStat
from .questions import (
    EXPORT_HEADERS, SHEET_COLUMNS, RowError, as_row, identity, parse_row,
)
from .schemas import (
    CampaignIn, CampaignOut, DrawIn, ExportIn, ImportIn, LevelChangesIn, LevelOut,
    QuestionFilterIn,
)

_random = random.SystemRandom()
# (campaign_id, level) -> (bank_version, questions): a draw reads one row to know the bank
# it holds is current, instead of loading the level's questions every time
_banks: dict[tuple[str, int], tuple[int, list[dict]]] = {}


class QuestionBankService(entrypoints.Answers):
    name = "question_bank"
    logs = WorkerContext()  # the correlation id and service in every log line

    db = Database("question_bank", Base)
    events = Outbox()
    clock = Clock()
    config = Config()

    # -- campaigns and levels ------------------------------------------------------------

    @rpc
    def create_default_campaign(self, organisation_id, time_zone="Asia/Shanghai"):
        """The 2018 schedule of R5/R9, published once; a second call returns it."""
        args = load(CampaignIn(), {"organisation_id": organisation_id, "time_zone": time_zone})
        try:
            ZoneInfo(args["time_zone"])
        except (ZoneInfoNotFoundError, ValueError):
            raise BadInput("unknown time zone", fields={"time_zone": [args["time_zone"]]})
        existing = self.db.scalars(select(Campaign).limit(1)).first()
        if existing is not None:
            return self._campaign_out(existing)
        plan = schedule.campaign_2018(args["time_zone"])
        campaign = Campaign(
            id=str(uuid.uuid4()), name=plan["name"], year=plan["year"],
            time_zone=plan["time_zone"], starts_at=plan["starts_at"], ends_at=plan["ends_at"],
            organisation_id=args["organisation_id"], published_at=self.clock.now(),
        )
        self.db.add(campaign)
        for level in plan["levels"]:
            self.db.add(Level(campaign_id=campaign.id, bank_version=0, **level))
        self.db.flush()
        self.events.emit("campaign_published", self._campaign_event(campaign))
        self.db.commit()
        return self._campaign_out(campaign)

    @rpc
    def get_campaign(self, campaign_id=None):
        """The given campaign, or the latest published one; each level with its count of
        active questions and the warnings an organiser must see before it opens."""
        return self._campaign_out(self._current(campaign_id))

    @rpc
    def update_level(self, actor, campaign_id, number, changes, force=False):
        """Edit a level before it opens. After it has opened the change is refused unless
        `force`, and then it is logged as forced. Emits `level_updated`."""
        changes = load(LevelChangesIn(), changes, "changes")
        campaign = self._campaign(campaign_id)
        level = self.db.get(Level, (campaign.id, number))
        if level is None:
            raise NotFound(f"level {number} does not exist", fields={"level": [number]})
        now = self.clock.now()
        before = {k: getattr(level, k) for k in changes}
        if before == changes:
            return self._campaign_out(campaign)
        opened = level.opens_at <= now
        if opened and not force:
            raise Conflict(f"level {number} opened at {level.opens_at.isoformat()}; members "
                           "are playing it. Send force=true to change it anyway (logged).",
                           fields={"force": ["required after the level has opened"]})
        for key, value in changes.items():
            setattr(level, key, value)
        self._check_level(campaign, level)
        audit.record(self.db, "level_updated", actor=actor, target=f"{campaign.id}/{number}",
                     scope_id=campaign.organisation_id,
                     detail={"forced": opened,
                             "changes": {k: [before[k], changes[k]] for k in changes
                                         if before[k] != changes[k]}})
        self.db.flush()
        self.events.emit("level_updated", self._campaign_event(campaign))
        self.db.commit()
        return self._campaign_out(campaign)

    def _check_level(self, campaign, level):
        if not 300 <= level.time_limit_s <= 1200:
            raise BadInput("R10: a level's time limit is 5 to 20 minutes",
                           fields={"time_limit_s": ["between 300 and 1200 seconds"]})
        if level.mix:
            unknown = set(level.mix) - {"easy", "medium", "hard"}
            if unknown or any(not isinstance(v, int) or v < 0 for v in level.mix.values()):
                raise BadInput("the mix counts questions per difficulty: easy, medium, hard",
                               fields={"mix": ["whole numbers per easy/medium/hard"]})
            if sum(level.mix.values()) != level.draw_count:
                raise BadInput(f"the mix adds up to {sum(level.mix.values())} but the draw is "
                               f"{level.draw_count}", fields={"mix": ["must add up to the draw"]})
        if not campaign.starts_at <= level.opens_at <= campaign.ends_at:
            raise BadInput("a level opens within its campaign",
                           fields={"opens_at": ["outside the campaign"]})
        others = {lv.number: lv.opens_at for lv in self._levels(campaign)}
        others[level.number] = level.opens_at
        ordered = [others[n] for n in sorted(others)]
        if ordered != sorted(ordered):
            raise BadInput("levels open in order: a level cannot open before the one below it",
                           fields={"opens_at": ["out of order"]})

    # -- questions -------------------------------------------------------------------------

    @rpc
    def import_sheet(self, campaign_id, content_b64, filename, dry_run=False, actor=None):
        """A question sheet as uploaded (CSV in UTF-8/GBK, XLSX or JSON): a file that is
        not a sheet is one clear error and changes nothing; otherwise `import_questions`."""
        rows = sheets.read_upload(content_b64, filename, SHEET_COLUMNS)
        return self.import_questions(campaign_id, rows, dry_run, actor=actor, source=filename)

    @rpc
    def import_questions(self, campaign_id, rows, dry_run=False, actor=None, source=None):
        """Apply the good rows, report the bad ones by row and column; dry run changes nothing.

        A row with an `id` (from an export) updates that question; a row without one updates
        the active question with the same level, type, stem and options (its answer,
        explanation, difficulty or topic may change), so re-importing a sheet never
        duplicates. Row numbers are a sheet's: data row i is reported as i + 1.
        """
        args = load(ImportIn(), {"campaign_id": campaign_id, "rows": rows, "dry_run": dry_run})
        campaign = self._campaign(args["campaign_id"])
        levels = set(self.db.scalars(select(Level.number)
                                     .where(Level.campaign_id == campaign.id)))
        existing = self.db.scalars(select(Question).where(
            Question.campaign_id == campaign.id)).all()
        by_id = {q.id: q for q in existing}
        by_identity = {identity(q.level, q.type, q.stem, q.options): q
                       for q in existing if q.status == "active"}
        report = {"total": len(args["rows"]), "created": 0, "updated": 0, "unchanged": 0,
                  "errors": [], "dry_run": args["dry_run"]}
        seen, touched = {}, set()
        now = self.clock.now()
        for index, row in enumerate(args["rows"], start=2):
            try:
                question = parse_row(row, levels)
                ref = str(row.get("id") or "").strip()
                if ref and ref not in by_id:
                    raise RowError("id", f"no question {ref} in this campaign (leave id empty "
                                         "for a new question)")
                same = identity(question["level"], question["type"], question["stem"],
                                question["options"])
                if same in seen:
                    raise RowError("stem", f"the same question is already on row "
                                           f"{seen[same]}")
            except RowError as err:
                report["errors"].append({"row": index, "column": err.column,
                                         "message": err.message})
                continue
            seen[same] = index
            target = by_id.get(ref) if ref else by_identity.get(same)
            if target is None:
                target = Question(id=str(uuid.uuid4()), campaign_id=campaign.id,
                                  status="active", created_at=now, **question)
                self.db.add(target)
                by_identity[same] = target
                report["created"] += 1
                touched.add(question["level"])
            elif any(getattr(target, k) != v for k, v in question.items() if k != "demo"):
                touched.update({target.level, question["level"]})
                for key, value in question.items():
                    setattr(target, key, value)
                target.updated_at = now
                report["updated"] += 1
            else:
                report["unchanged"] += 1
        if args["dry_run"]:
            self.db.rollback()
            return report
        self._bump(campaign.id, touched)
        audit.record(self.db, "questions_imported", actor=actor, target=source,
                     scope_id=campaign.organisation_id,
                     detail={k: report[k] for k in ("total", "created", "updated", "unchanged")}
                     | {"errors": len(report["errors"])})
        self.db.commit()
        return report

    @rpc
    def list_questions(self, campaign_id, **filters):
        """Questions with their answers (administrators only), paged and filtered."""
        args = load(QuestionFilterIn(), filters, "query")
        campaign = self._current(campaign_id)
        stmt = self._question_query(campaign.id, args)
        total = self.db.scalar(select(func.count()).select_from(stmt.subquery()))
        questions = self.db.scalars(stmt.order_by(Question.level, Question.created_at,
                                                  Question.id)
                                    .limit(args["limit"]).offset(args["offset"])).all()
        stats = {s.question_id: s for s in self.db.scalars(select(QuestionStat).where(
            QuestionStat.question_id.in_([q.id for q in questions])))}
        return {"total": total, "items": [
            dict(as_row(q), statistics=statistics.describe(stats[q.id], **self._limits())
                 if q.id in stats else None,
                 retired_at=q.retired_at.isoformat() if q.retired_at else None)
            for q in questions]}

    @rpc
    def update_question(self, actor, question_id, changes):
        """Edit a question (any sheet column but `id`); validated as an import row is.
        Papers already drawn keep their own copy."""
        question = self._question(question_id)
        if not isinstance(changes, dict) or not changes:
            raise BadInput("send the fields to change", fields={"changes": ["empty"]})
        unknown = set(changes) - (set(EXPORT_HEADERS) - {"id", "status"})
        if unknown:
            raise BadInput("unknown fields", fields={k: ["unknown field"] for k in unknown})
        campaign = self._campaign(question.campaign_id)
        levels = set(self.db.scalars(select(Level.number)
                                     .where(Level.campaign_id == campaign.id)))
        row = dict(as_row(question), **changes)
        try:
            parsed = parse_row(row, levels)
        except RowError as err:
            raise BadInput(err.message, fields={err.column: [err.message]}) from None
        parsed.pop("demo")
        before = as_row(question)
        for key, value in parsed.items():
            if getattr(question, key) != value:
                setattr(question, key, value)
        after = as_row(question)
        diff = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        if diff:
            question.updated_at = self.clock.now()
            self._bump(campaign.id, {before["level"], after["level"]})
            audit.record(self.db, "question_updated", actor=actor, target=question.id,
                         scope_id=campaign.organisation_id, detail=diff)
        self.db.commit()
        return as_row(question)

    @rpc
    def retire_question(self, actor, question_id):
        """Never drawn again; papers already drawn keep their copy, statistics stay."""
        question = self._question(question_id)
        if question.status == "retired":
            raise Conflict("the question is already retired")
        campaign = self._campaign(question.campaign_id)
        question.status, question.retired_at = "retired", self.clock.now()
        self._bump(campaign.id, {question.level})
        audit.record(self.db, "question_retired", actor=actor, target=question.id,
                     scope_id=campaign.organisation_id, detail={"level": question.level})
        self.db.commit()
        return as_row(question)

    @rpc
    def export_questions(self, campaign_id=None, fmt="xlsx", level=None, status="active"):
        """The bank in the import's shape (with ids, so edits re-import as updates)."""
        args = load(ExportIn(), {"fmt": fmt, "level": level, "status": status})
        campaign = self._current(campaign_id)
        stmt = self._question_query(campaign.id, {"level": args["level"],
                                                  "status": args["status"]})
        rows = [as_row(q) for q in self.db.scalars(
            stmt.order_by(Question.level, Question.created_at, Question.id))]
        data, media_type = sheets.write_rows(rows, EXPORT_HEADERS, args["fmt"])
        suffix = f"-level{args['level']}" if args["level"] else ""
        return {"filename": f"questions{suffix}.{args['fmt']}", "media_type": media_type,
                "content_b64": base64.b64encode(data).decode(), "rows": len(rows)}

    @rpc
    def count_questions(self, campaign_id):
        rows = self.db.execute(
            select(Question.level, func.count())
            .where(Question.campaign_id == campaign_id, Question.status == "active")
            .group_by(Question.level)
        ).all()
        return {str(level): count for level, count in rows}

    # -- papers ----------------------------------------------------------------------------

    @rpc
    def draw_paper(self, campaign_id, level):
        """A random paper for the attempts service; its `key` must never reach a member."""
        args = load(DrawIn(), {"campaign_id": campaign_id, "level": level})
        lv = self.db.get(Level, (args["campaign_id"], args["level"]))
        if lv is None:
            raise NotFound(f"level {args['level']} does not exist")
        bank = self._bank(lv)
        self.db.rollback()  # end the read transaction: nothing is held while we shuffle
        try:
            chosen = draw.pick(bank, lv.number, lv.draw_count, lv.mix, _random)
        except draw.BankTooSmall as short:
            raise Conflict(str(short), fields={"level": [str(short)]}) from None
        questions, key = draw.paper(chosen, _random)
        return {"campaign_id": lv.campaign_id, "level": lv.number,
                "time_limit_s": lv.time_limit_s, "questions": questions, "key": key,
                "bank_size": len(bank)}

    def _bank(self, lv) -> list[dict]:
        cached = _banks.get((lv.campaign_id, lv.number))
        if cached is not None and cached[0] == lv.bank_version:
            return cached[1]
        rows = self.db.execute(
            select(Question.id, Question.type, Question.stem, Question.options,
                   Question.answer, Question.difficulty)
            .where(Question.campaign_id == lv.campaign_id, Question.level == lv.number,
                   Question.status == "active")).all()
        bank = [{"id": r.id, "type": r.type, "stem": r.stem, "options": r.options,
                 "answer": r.answer, "difficulty": r.difficulty} for r in rows]
        _banks[(lv.campaign_id, lv.number)] = (lv.bank_version, bank)
        return bank

    def _bump(self, campaign_id, levels):
        for number in levels:
            level = self.db.get(Level, (campaign_id, number))
            if level is not None:
                level.bank_version = (level.bank_version or 0) + 1

    # -- statistics (R10), fed by attempts' events ----------------------------------------

    @event_handler("attempts", "attempt_passed")
    @handles_once
    def on_attempt_passed(self, event):
        self._count_attempt(event["data"], passed=True)

    @event_handler("attempts", "attempt_failed")
    @handles_once
    def on_attempt_failed(self, event):
        self._count_attempt(event["data"], passed=False)

    def _count_attempt(self, data, passed):
        key = (data["campaign_id"], data["level"], data["member_id"])
        member = self.db.get(LevelMemberStat, key)
        if member is None:
            member = LevelMemberStat(campaign_id=key[0], level=key[1], member_id=key[2],
                                     attempts=0, passes=0, expired=0)
            self.db.add(member)
        member.attempts += 1
        expired = not passed and data.get("reason") == "expired"
        member.expired += 1 if expired else 0
        if passed:
            member.passes += 1
            if member.attempts_to_first_pass is None:
                member.attempts_to_first_pass = member.attempts
        ids = data.get("question_ids") or []
        wrong = set(data.get("wrong_question_ids") or [])
        right_total = len(ids) - len(wrong & set(ids))
        stats = {s.question_id: s for s in self.db.scalars(
            select(QuestionStat).where(QuestionStat.question_id.in_(ids)))}
        for question_id in ids:
            stat = stats.get(question_id)
            if stat is None:
                stat = QuestionStat(question_id=question_id, campaign_id=data["campaign_id"],
                                    level=data["level"], shown=0, graded=0, right=0,
                                    sum_rest=0, sum_rest_sq=0, sum_right_rest=0)
                self.db.add(stat)
            if expired:  # never answered: shown, but says nothing about the question
                stat.shown += 1
                continue
            right = question_id not in wrong
            statistics.add(stat, right, right_total - (1 if right else 0))

    @rpc
    def level_statistics(self, campaign_id, number, limit=10, per_question=True):
        """Pass rate, attempts to pass, and every question's facility and discrimination,
        the flagged ones and those most often wrong first. Without `per_question`, the
        level's figures only: a question's counters, read before and after one's own failed
        attempt, tell which of its questions were wrong (an answer oracle), so they are for
        the bank's administrators, who see the answers anyway."""
        campaign = self._current(campaign_id)
        level = self.db.get(Level, (campaign.id, number))
        if level is None:
            raise NotFound(f"level {number} does not exist", fields={"level": [number]})
        members = self.db.scalars(select(LevelMemberStat).where(
            LevelMemberStat.campaign_id == campaign.id, LevelMemberStat.level == number)).all()
        attempts = sum(m.attempts for m in members)
        passes = sum(m.passes for m in members)
        to_pass = [m.attempts_to_first_pass for m in members if m.attempts_to_first_pass]
        summary = {
            "campaign_id": campaign.id, "level": number,
            "attempts": attempts, "passes": passes,
            "pass_rate": round(passes / attempts, 4) if attempts else None,
            "members_tried": len(members),
            "members_passed": len(to_pass),
            "mean_attempts_to_pass": round(sum(to_pass) / len(to_pass), 2) if to_pass else None,
            "expired": sum(m.expired for m in members),
        }
        if not per_question:
            return summary
        questions = {q.id: q for q in self.db.scalars(select(Question).where(
            Question.campaign_id == campaign.id, Question.level == number))}
        rows = []
        for stat in self.db.scalars(select(QuestionStat).where(
                QuestionStat.campaign_id == campaign.id, QuestionStat.level == number)):
            question = questions.get(stat.question_id)
            rows.append(dict(statistics.describe(stat, **self._limits()),
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
            "limits": self._limits(),
        }

    def _limits(self) -> dict:
        config = self.config or {}
        return {
            "min_graded": setting(config, "STATS_MIN_GRADED", statistics.MIN_GRADED, int),
            "facility_floor": setting(config, "STATS_FACILITY_FLOOR",
                                      statistics.FACILITY_FLOOR, float),
            "discrimination_floor": setting(config, "STATS_DISCRIMINATION_FLOOR",
                                            statistics.DISCRIMINATION_FLOOR, float),
        }

    @rpc
    def audit_log(self, visible=None, limit=50, offset=0):
        """Entries inside `visible` org units (None: all), newest first."""
        return audit.read(self.db, scopes=visible, service=self.name, limit=limit,
                          offset=offset)

    # -- internals -------------------------------------------------------------------------

    def _current(self, campaign_id=None) -> Campaign:
        if campaign_id:
            return self._campaign(campaign_id)
        campaign = self.db.scalars(
            select(Campaign).where(Campaign.published_at.is_not(None))
            .order_by(Campaign.starts_at.desc()).limit(1)
        ).first()
        if campaign is None:
            raise NotFound("no campaign has been published")
        return campaign

    def _campaign(self, campaign_id) -> Campaign:
        campaign = self.db.get(Campaign, campaign_id) if isinstance(campaign_id, str) else None
        if campaign is None:
            raise NotFound("no such campaign", fields={"campaign_id": [campaign_id]})
        return campaign

    def _question(self, question_id) -> Question:
        question = self.db.get(Question, question_id) if isinstance(question_id, str) else None
        if question is None:
            raise NotFound("no such question", fields={"question_id": [question_id]})
        return question

    def _question_query(self, campaign_id, args):
        stmt = select(Question).where(Question.campaign_id == campaign_id)
        if args.get("level"):
            stmt = stmt.where(Question.level == args["level"])
        if args.get("status") and args["status"] != "all":
            stmt = stmt.where(Question.status == args["status"])
        if args.get("topic"):
            stmt = stmt.where(Question.topic == args["topic"])
        if args.get("difficulty"):
            stmt = stmt.where(Question.difficulty == args["difficulty"])
        if args.get("query"):
            stmt = stmt.where(Question.stem.like(f"%{args['query']}%"))
        return stmt

    def _levels(self, campaign):
        return self.db.scalars(
            select(Level).where(Level.campaign_id == campaign.id).order_by(Level.number)
        ).all()

    def _campaign_out(self, campaign):
        out = CampaignOut().dump(campaign)
        by_bucket = {}
        for level, difficulty, count in self.db.execute(
                select(Question.level, Question.difficulty, func.count())
                .where(Question.campaign_id == campaign.id, Question.status == "active")
                .group_by(Question.level, Question.difficulty)):
            by_bucket.setdefault(level, {})[difficulty] = count
        out["levels"] = []
        for lv in self._levels(campaign):
            buckets = by_bucket.get(lv.number, {})
            out["levels"].append(dict(LevelOut().dump(lv),
                                      active_questions=sum(buckets.values()),
                                      warnings=draw.shortfalls(lv.number, lv.draw_count,
                                                               lv.mix, buckets)))
        return out

    def _campaign_event(self, campaign):
        return {
            "campaign_id": campaign.id, "name": campaign.name, "time_zone": campaign.time_zone,
            "starts_at": campaign.starts_at, "ends_at": campaign.ends_at,
            "organisation_id": campaign.organisation_id,
            "levels": [{"number": lv.number, "title": lv.title, "theme": lv.theme,
                        "opens_at": lv.opens_at, "time_limit_s": lv.time_limit_s,
                        "draw_count": lv.draw_count} for lv in self._levels(campaign)],
        }
