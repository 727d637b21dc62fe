"""question_bank: campaigns and levels (R5, R9, R10), questions (R11), random papers (R7)."""
from __future__ import annotations

import random
import uuid
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select

from kernel.clock import Clock
from kernel.db import Database
from kernel import entrypoints
from kernel.entrypoints import rpc
from kernel.errors import BadInput, Conflict, NotFound, load
from kernel.outbox import Outbox

from . import draw, schedule
from .models import Base, Campaign, Level, Question
from .questions import RowError, parse_row
from .schemas import CampaignIn, CampaignOut, DrawIn, ImportIn, LevelOut

_random = random.SystemRandom()


class QuestionBankService(entrypoints.Answers):
    name = "question_bank"

    db = Database("question_bank", Base)
    events = Outbox()
    clock = Clock()

    # -- campaigns -------------------------------------------------------------------------

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
            self.db.add(Level(campaign_id=campaign.id, **level))
        self.db.flush()
        self.events.emit("campaign_published", self._campaign_event(campaign))
        self.db.commit()
        return self._campaign_out(campaign)

    @rpc
    def get_campaign(self, campaign_id=None):
        """The given campaign, or the latest published one."""
        if campaign_id:
            campaign = self.db.get(Campaign, campaign_id)
        else:
            campaign = self.db.scalars(
                select(Campaign).where(Campaign.published_at.is_not(None))
                .order_by(Campaign.starts_at.desc()).limit(1)
            ).first()
        if campaign is None:
            raise NotFound("no campaign has been published")
        return self._campaign_out(campaign)

    # -- questions -------------------------------------------------------------------------

    @rpc
    def import_questions(self, campaign_id, rows, dry_run=False):
        """Apply the good rows, report the bad ones by row and column; dry run changes nothing.

        Row numbers are a sheet's: the header is row 1, so data row i is reported as i + 1.
        """
        args = load(ImportIn(), {"campaign_id": campaign_id, "rows": rows, "dry_run": dry_run})
        campaign = self._campaign(args["campaign_id"])
        levels = set(self.db.scalars(select(Level.number)
                                     .where(Level.campaign_id == campaign.id)))
        created, errors = 0, []
        now = self.clock.now()
        for index, row in enumerate(args["rows"], start=2):
            try:
                question = parse_row(row, levels)
            except RowError as err:
                errors.append({"row": index, "column": err.column, "message": err.message})
                continue
            created += 1
            if not args["dry_run"]:
                self.db.add(Question(id=str(uuid.uuid4()), campaign_id=campaign.id,
                                     status="active", created_at=now, **question))
        if args["dry_run"]:
            self.db.rollback()
        else:
            self.db.commit()
        return {"total": len(args["rows"]), "created": created, "errors": errors,
                "dry_run": args["dry_run"]}

    @rpc
    def count_questions(self, campaign_id):
        rows = self.db.execute(
            select(Question.level, func.count())
            .where(Question.campaign_id == campaign_id, Question.status == "active")
            .group_by(Question.level)
        ).all()
        return {str(level): count for level, count in rows}

    @rpc
    def draw_paper(self, campaign_id, level):
        """A random paper for the attempts service; its `key` must never reach a member."""
        args = load(DrawIn(), {"campaign_id": campaign_id, "level": level})
        lv = self.db.get(Level, (args["campaign_id"], args["level"]))
        if lv is None:
            raise NotFound(f"level {args['level']} does not exist")
        bank = [
            {"id": q.id, "type": q.type, "stem": q.stem, "options": q.options,
             "answer": q.answer, "difficulty": q.difficulty}
            for q in self.db.scalars(
                select(Question).where(Question.campaign_id == lv.campaign_id,
                                       Question.level == lv.number,
                                       Question.status == "active"))
        ]
        try:
            chosen = draw.pick(bank, lv.number, lv.draw_count, lv.mix, _random)
        except draw.BankTooSmall as short:
            raise Conflict(str(short), fields={"level": [str(short)]}) from None
        questions, key = draw.paper(chosen, _random)
        return {"campaign_id": lv.campaign_id, "level": lv.number,
                "time_limit_s": lv.time_limit_s, "questions": questions, "key": key}

    # -- internals -------------------------------------------------------------------------

    def _campaign(self, campaign_id) -> Campaign:
        campaign = self.db.get(Campaign, campaign_id)
        if campaign is None:
            raise NotFound("no such campaign", fields={"campaign_id": [campaign_id]})
        return campaign

    def _levels(self, campaign):
        return self.db.scalars(
            select(Level).where(Level.campaign_id == campaign.id).order_by(Level.number)
        ).all()

    def _campaign_out(self, campaign):
        out = CampaignOut().dump(campaign)
        counts = self.count_questions(campaign.id)
        out["levels"] = [dict(LevelOut().dump(lv), active_questions=counts.get(str(lv.number), 0))
                         for lv in self._levels(campaign)]
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
