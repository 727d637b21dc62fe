"""question_bank's queries, each named for what it answers, over one session (a unit of
work's): campaigns and levels, questions and their statistics, the audit log."""
from __future__ import annotations

from sqlalchemy import func, select

from kernel import campaigns
from kernel.upsert import upsert
from kernel.uow import Store

from .models import Campaign, Level, LevelMemberStat, Question, QuestionStat


# a question's running sums (models.QuestionStat, statistics.add)
_SUMS = ("shown", "graded", "right", "sum_rest", "sum_rest_sq", "sum_right_rest")


class QuestionBankStore(Store):
    service = "question_bank"

    # -- campaigns and levels --------------------------------------------------------------

    def any_campaign(self) -> Campaign | None:
        return self.session.scalars(select(Campaign).limit(1)).first()

    def campaign(self, campaign_id: str) -> Campaign | None:
        return self.session.get(Campaign, campaign_id)

    def campaign_of_year(self, year: int) -> Campaign | None:
        return self.session.scalars(select(Campaign).where(Campaign.year == year)).first()

    def campaigns(self) -> list[Campaign]:
        """Every campaign, drafts included, the latest first."""
        return list(self.session.scalars(
            select(Campaign).order_by(Campaign.starts_at.desc(), Campaign.year.desc())))

    def published_campaigns(self) -> list[Campaign]:
        return list(self.session.scalars(
            select(Campaign).where(Campaign.published_at.is_not(None))))

    def current_campaign(self) -> Campaign | None:
        published = select(Campaign).where(Campaign.published_at.is_not(None))
        return self.session.scalars(campaigns.current(published, Campaign.starts_at)).first()

    def level(self, campaign_id: str, number: int) -> Level | None:
        return self.session.get(Level, (campaign_id, number))

    def levels(self, campaign_id: str) -> list[Level]:
        return list(self.session.scalars(
            select(Level).where(Level.campaign_id == campaign_id).order_by(Level.number)))

    def level_numbers(self, campaign_id: str) -> set[int]:
        return set(self.session.scalars(select(Level.number)
                                        .where(Level.campaign_id == campaign_id)))

    # -- questions -------------------------------------------------------------------------

    def question(self, question_id: str) -> Question | None:
        return self.session.get(Question, question_id)

    def questions(self, campaign_id: str, level: int | None = None) -> list[Question]:
        """Every question of the campaign (or of one level), whatever its status."""
        stmt = select(Question).where(Question.campaign_id == campaign_id)
        if level is not None:
            stmt = stmt.where(Question.level == level)
        return list(self.session.scalars(stmt))

    def questions_matching(self, campaign_id: str, filters: dict, limit: int | None = None,
                           offset: int = 0) -> list[Question]:
        """By level, then as imported; `filters` as QuestionFilterIn loads them."""
        stmt = (_matching(campaign_id, filters)
                .order_by(Question.level, Question.created_at, Question.id))
        if limit is not None:
            stmt = stmt.limit(limit).offset(offset)
        return list(self.session.scalars(stmt))

    def count_matching(self, campaign_id: str, filters: dict) -> int:
        return self.session.scalar(
            select(func.count()).select_from(_matching(campaign_id, filters).subquery()))

    def active_counts(self, campaign_id: str) -> dict[int, int]:
        """Active questions per level."""
        return dict(self.session.execute(
            select(Question.level, func.count())
            .where(Question.campaign_id == campaign_id, Question.status == "active")
            .group_by(Question.level)).all())

    def active_buckets(self, campaign_id: str) -> dict[int, dict[str, int]]:
        """Active questions per level and difficulty."""
        buckets: dict[int, dict[str, int]] = {}
        for level, difficulty, count in self.session.execute(
                select(Question.level, Question.difficulty, func.count())
                .where(Question.campaign_id == campaign_id, Question.status == "active")
                .group_by(Question.level, Question.difficulty)):
            buckets.setdefault(level, {})[difficulty] = count
        return buckets

    def active_bank(self, campaign_id: str, level: int) -> list[dict]:
        """What a draw needs of a level's active questions, as plain values."""
        rows = self.session.execute(
            select(Question.id, Question.type, Question.stem, Question.options,
                   Question.answer, Question.difficulty)
            .where(Question.campaign_id == campaign_id, Question.level == level,
                   Question.status == "active")).all()
        return [{"id": r.id, "type": r.type, "stem": r.stem, "options": r.options,
                 "answer": r.answer, "difficulty": r.difficulty} for r in rows]

    # -- statistics ------------------------------------------------------------------------

    def question_stats(self, question_ids) -> dict[str, QuestionStat]:
        return {s.question_id: s for s in self.session.scalars(
            select(QuestionStat).where(QuestionStat.question_id.in_(list(question_ids))))}

    def level_question_stats(self, campaign_id: str, level: int) -> list[QuestionStat]:
        return list(self.session.scalars(select(QuestionStat).where(
            QuestionStat.campaign_id == campaign_id, QuestionStat.level == level)))

    def add_question_stats(self, rows: list[dict]) -> None:
        """Add each row's sums to its question's (a row made when it has none), in one
        statement; in the questions' order, so two batches never wait for each other in a
        circle."""
        if not rows:
            return
        upsert(self.session, QuestionStat.__table__,
               sorted(rows, key=lambda row: row["question_id"]),
               "(question_id) DO UPDATE SET " + ", ".join(
                   f'"{c}" = question_stats."{c}" + excluded."{c}"' for c in _SUMS))

    def add_member_stats(self, rows: list[dict]) -> None:
        """Add each row's attempts, passes and expired to the member's at the level; a first
        pass (`attempts_to_first_pass`: its place among the row's attempts) counts after
        the attempts held before, unless one was counted already."""
        if not rows:
            return
        held = "level_member_stats"
        upsert(self.session, LevelMemberStat.__table__,
               sorted(rows, key=lambda r: (r["campaign_id"], r["level"], r["member_id"])),
               "(campaign_id, level, member_id) DO UPDATE SET "
               f"attempts = {held}.attempts + excluded.attempts, "
               f"passes = {held}.passes + excluded.passes, "
               f"expired = {held}.expired + excluded.expired, "
               f"attempts_to_first_pass = coalesce({held}.attempts_to_first_pass, "
               f"{held}.attempts + excluded.attempts_to_first_pass)")

    def member_stat(self, campaign_id: str, level: int, member_id: str):
        return self.session.get(LevelMemberStat, (campaign_id, level, member_id))

    def member_stats(self, campaign_id: str, level: int) -> list[LevelMemberStat]:
        return list(self.session.scalars(select(LevelMemberStat).where(
            LevelMemberStat.campaign_id == campaign_id, LevelMemberStat.level == level)))

    # -- the audit log ---------------------------------------------------------------------



def _matching(campaign_id: str, filters: dict):
    stmt = select(Question).where(Question.campaign_id == campaign_id)
    if filters.get("level"):
        stmt = stmt.where(Question.level == filters["level"])
    if filters.get("status") and filters["status"] != "all":
        stmt = stmt.where(Question.status == filters["status"])
    if filters.get("topic"):
        stmt = stmt.where(Question.topic == filters["topic"])
    if filters.get("difficulty"):
        stmt = stmt.where(Question.difficulty == filters["difficulty"])
    if filters.get("query"):
        stmt = stmt.where(Question.stem.like(f"%{filters['query']}%"))
    return stmt
