"""question_bank: campaigns and levels (R5, R9, R10), questions (R11), random papers (R7), and
the statistics organisers tune the bank with (R10).

Entrypoints only: each declares its arguments and result, opens a unit of work and calls one
use case of levels.py (campaigns, levels, statistics) or bank.py (questions, papers)."""
from __future__ import annotations

import random

from kernel import entrypoints, sheets
from kernel.entrypoints import event_handler, rpc
from kernel.knobs import Knobs
from kernel.logs import WorkerContext
from kernel.uow import UnitOfWork, handles_once

from . import bank, levels
from .models import Base
from .questions import SHEET_COLUMNS
from .schemas import (
    AuditLogIn, CampaignIn, CampaignRefIn, CampaignViewOut, CountIn, DrawIn, ExportOut,
    ExportQuestionsIn, ImportQuestionsIn, ImportReportOut, ImportSheetIn, LevelStatisticsIn,
    LevelStatisticsOut, ListQuestionsIn, PaperOut, QuestionChangeIn, QuestionPageOut,
    QuestionRefIn, QuestionRowOut, UpdateLevelIn,
)
from .store import QuestionBankStore

_random = random.SystemRandom()


class QuestionBankService(entrypoints.Answers):
    name = "question_bank"
    logs = WorkerContext()  # the correlation id and service in every log line

    uow = UnitOfWork("question_bank", Base, store=QuestionBankStore)
    knobs = Knobs()  # STATS_* thresholds

    # -- campaigns and levels ------------------------------------------------------------

    @rpc(args=CampaignIn, result=CampaignViewOut)
    def create_default_campaign(self, organisation_id, time_zone="Asia/Shanghai"):
        """The 2018 schedule of R5/R9, published once; a second call returns it."""
        with self.uow as tx:
            return levels.create_default_campaign(tx, organisation_id, time_zone)

    @rpc(args=CampaignRefIn, result=CampaignViewOut)
    def get_campaign(self, campaign_id=None):
        """The given campaign, or the latest published one; each level with its count of
        active questions and the warnings an organiser must see before it opens."""
        with self.uow as tx:
            return levels.campaign_view(tx, levels.current_campaign(tx, campaign_id))

    @rpc(args=UpdateLevelIn, result=CampaignViewOut)
    def update_level(self, actor, campaign_id, number, changes, force=False):
        """Edit a level before it opens. After it has opened the change is refused unless
        `force`, and then it is logged as forced. Emits `level_updated`."""
        with self.uow as tx:
            return levels.update_level(tx, actor, campaign_id, number, changes, force)

    # -- questions -------------------------------------------------------------------------

    @rpc(args=ImportSheetIn, result=ImportReportOut)
    def import_sheet(self, campaign_id, content_b64, filename, dry_run=False, actor=None):
        """A question sheet as uploaded (CSV in UTF-8/GBK, XLSX or JSON): a file that is
        not a sheet is one clear error and changes nothing; otherwise `import_questions`."""
        rows = sheets.read_upload(content_b64, filename, SHEET_COLUMNS)
        return self.import_questions(campaign_id, rows, dry_run, actor=actor, source=filename)

    @rpc(args=ImportQuestionsIn, result=ImportReportOut)
    def import_questions(self, campaign_id, rows, dry_run=False, actor=None, source=None):
        """Apply the good rows, report the bad ones by row and column; dry run changes
        nothing (bank.import_questions)."""
        with self.uow as tx:
            return bank.import_questions(tx, campaign_id, rows, dry_run, actor, source)

    @rpc(args=ListQuestionsIn, result=QuestionPageOut)
    def list_questions(self, campaign_id, **filters):
        """Questions with their answers (administrators only), paged and filtered."""
        with self.uow as tx:
            return bank.list_questions(tx, self.knobs, campaign_id, filters)

    @rpc(args=QuestionChangeIn, result=QuestionRowOut)
    def update_question(self, actor, question_id, changes):
        """Edit a question (any sheet column but `id`); validated as an import row is.
        Papers already drawn keep their own copy."""
        with self.uow as tx:
            return bank.update_question(tx, actor, question_id, changes)

    @rpc(args=QuestionRefIn, result=QuestionRowOut)
    def retire_question(self, actor, question_id):
        """Never drawn again; papers already drawn keep their copy, statistics stay."""
        with self.uow as tx:
            return bank.retire_question(tx, actor, question_id)

    @rpc(args=ExportQuestionsIn, result=ExportOut)
    def export_questions(self, campaign_id=None, fmt="xlsx", level=None, status="active"):
        """The bank in the import's shape (with ids, so edits re-import as updates)."""
        with self.uow as tx:
            return bank.export_questions(tx, campaign_id, fmt, level, status)

    @rpc(args=CountIn)
    def count_questions(self, campaign_id):
        """Active questions per level ({"1": 25, ...}: a mapping, no schema fits it)."""
        with self.uow as tx:
            return bank.count_questions(tx, campaign_id)

    # -- papers ----------------------------------------------------------------------------

    # one schema for every draw (on every start): building PaperOut's nested schemas for
    # each call costs a millisecond, twice the dump itself
    @rpc(args=DrawIn, result=PaperOut())
    def draw_paper(self, campaign_id, level):
        """A random paper for the attempts service; its `key` must never reach a member."""
        with self.uow as tx:
            settings, questions = bank.drawable(tx, campaign_id, level)
        # the transaction has ended: nothing is held while we shuffle
        return bank.draw_paper(settings, questions, _random)

    # -- statistics (R10), fed by attempts' events ----------------------------------------

    @event_handler("attempts", "attempt_passed")
    @handles_once
    def on_attempt_passed(self, tx, event):
        levels.count_attempt(tx, event["data"], passed=True)

    @event_handler("attempts", "attempt_failed")
    @handles_once
    def on_attempt_failed(self, tx, event):
        levels.count_attempt(tx, event["data"], passed=False)

    @rpc(args=LevelStatisticsIn, result=LevelStatisticsOut)
    def level_statistics(self, campaign_id, number, limit=10, per_question=True):
        """Pass rate, attempts to pass, and every question's facility and discrimination;
        without `per_question`, the level's figures only (levels.level_statistics)."""
        with self.uow as tx:
            return levels.level_statistics(tx, self.knobs, campaign_id, number, limit,
                                           per_question)

    @rpc(args=AuditLogIn)
    def audit_log(self, visible=None, limit=50, offset=0):
        """Entries inside `visible` org units (None: all), newest first."""
        with self.uow as tx:
            return tx.store.audit_log(visible, limit, offset)
