"""question_bank: campaigns and levels (R5, R9, R10), questions (R11), random papers (R7), and
the statistics organisers tune the bank with (R10).

Entrypoints only: each declares its arguments and result, opens a unit of work and calls one
use case of levels.py (campaigns, levels, statistics) or bank.py (questions, papers)."""
from __future__ import annotations

import base64
import random

from kernel import entrypoints, sheets
from kernel.batching import batch_handler, handles_batch_once
from kernel.entrypoints import event_handler, rpc
from kernel.knobs import Knobs
from kernel.logs import WorkerContext
from kernel.uow import UnitOfWork, handles_once

from . import bank, campaign_sheet, campaigns, levels
from .models import Base
from .questions import SHEET_COLUMNS
from .schemas import (
    AuditLogIn, BankSetupOut, CampaignExportIn, CampaignImportOut, CampaignListOut,
    CampaignRefIn, CampaignSheetIn, CampaignTemplateIn, CampaignViewOut, CopyBankIn,
    CreateCampaignIn,
    ImportCampaignIn, PublishIn, CountIn, DrawIn, ExportOut,
    ExportQuestionsIn, ImportQuestionsIn, ImportReportOut, ImportSheetIn, LevelStatisticsIn,
    LevelStatisticsOut, ListQuestionsIn, PaperOut, QuestionChangeIn, QuestionIdIn,
    QuestionKeyOut, QuestionPageOut, QuestionRefIn, QuestionRowOut, UpdateLevelIn,
)
from .store import QuestionBankStore

_random = random.SystemRandom()


def _sheet_file(rows: list[dict], stem: str, fmt: str) -> dict:
    data, media_type = sheets.write_rows(rows, list(campaign_sheet.HEADERS.values()), fmt)
    return {"filename": f"{stem}.{fmt}", "media_type": media_type,
            "content_b64": base64.b64encode(data).decode(), "rows": len(rows)}


class QuestionBankService(entrypoints.Answers):
    name = "question_bank"
    logs = WorkerContext()  # the correlation id and service in every log line

    uow = UnitOfWork("question_bank", Base, store=QuestionBankStore)
    knobs = Knobs()  # STATS_* thresholds

    # -- campaigns and levels ------------------------------------------------------------

    @rpc(args=CampaignSheetIn, result=CampaignImportOut)
    def import_campaign_sheet(self, actor, content_b64, filename, organisation_id=None,
                              dry_run=False, force=False):
        """A campaign sheet as uploaded (CSV or XLSX, one row a level): a file that is not
        a sheet is one clear error and changes nothing; otherwise `import_campaign`."""
        rows = sheets.read_upload(content_b64, filename, campaign_sheet.COLUMNS)
        with self.uow as tx:
            return campaigns.import_campaign(tx, actor, organisation_id, rows, dry_run,
                                             force, filename)

    @rpc(args=ImportCampaignIn, result=CampaignImportOut)
    def import_campaign(self, actor, organisation_id, rows, dry_run=False, force=False,
                        source=None):
        """Create a campaign (a draft) or edit one, known by its year, from its sheet's
        rows: applied whole or not at all, each bad row and column reported; a published
        campaign's begun parts change only with `force` (logged)."""
        with self.uow as tx:
            return campaigns.import_campaign(tx, actor, organisation_id, rows, dry_run,
                                             force, source)

    @rpc(args=CreateCampaignIn, result=CampaignImportOut)
    def create_campaign(self, actor, organisation_id, year, time_zone="Asia/Shanghai",
                        name=None, dry_run=False):
        """A new year's campaign from the seed's pattern, as a draft (campaigns.from_pattern)."""
        with self.uow as tx:
            return campaigns.from_pattern(tx, actor, organisation_id, year, time_zone, name,
                                          dry_run)

    @rpc(args=PublishIn, result=CampaignViewOut)
    def publish_campaign(self, actor, campaign_id):
        """The draft becomes the members' campaign once every published one has ended;
        emits `campaign_published`."""
        with self.uow as tx:
            return campaigns.publish(tx, actor, campaign_id)

    @rpc(args=CampaignRefIn, result=CampaignListOut)
    def list_campaigns(self, campaign_id=None):
        """Every campaign (drafts too), newest first, the members' current one marked."""
        with self.uow as tx:
            return {"items": campaigns.listing(tx)}

    @rpc(args=CampaignTemplateIn, result=ExportOut)
    def campaign_template(self, year, time_zone="Asia/Shanghai", fmt="xlsx"):
        """The seed's pattern (R5/R9) for `year` as a campaign sheet to start from."""
        return _sheet_file(campaign_sheet.template_rows(year, time_zone), f"campaign-{year}",
                           fmt)

    @rpc(args=CampaignExportIn, result=ExportOut)
    def export_campaign(self, campaign_id, fmt="xlsx"):
        """A campaign as its sheet: edited and imported again, it is an edit."""
        with self.uow as tx:
            rows = campaigns.sheet(tx, campaign_id)
            year = levels.campaign(tx, campaign_id).year
        return _sheet_file(rows, f"campaign-{year}", fmt)

    @rpc(args=CopyBankIn, result=ImportReportOut)
    def copy_bank(self, actor, from_campaign_id, to_campaign_id, dry_run=False):
        """A past campaign's active questions into the same-numbered levels of another;
        copying twice changes nothing the second time."""
        with self.uow as tx:
            return campaigns.copy_bank(tx, actor, from_campaign_id, to_campaign_id, dry_run)

    @rpc(args=CampaignRefIn, result=BankSetupOut)
    def setup(self, campaign_id=None):
        """question_bank's part of a fresh install's checklist (campaigns.setup)."""
        with self.uow as tx:
            return campaigns.setup(tx)

    @rpc(args=CampaignRefIn, result=CampaignViewOut)
    def get_campaign(self, campaign_id=None):
        """The given campaign, or the latest published one; each level with its count of
        active questions and the warnings an organiser must see before it opens."""
        with self.uow as tx:
            return levels.campaign_view(tx, levels.current_campaign(tx, campaign_id))

    @rpc(args=UpdateLevelIn, result=CampaignViewOut)
    def update_level(self, actor, campaign_id, number, changes, force=False, confirm=False):
        """Edit a level before it opens. After it has opened the change is refused unless
        `force`, and then it is logged as forced; a draw other than R10's 20 needs `confirm`.
        Emits `level_updated`."""
        with self.uow as tx:
            return levels.update_level(tx, actor, campaign_id, number, changes, force,
                                       confirm)

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

    @rpc(args=QuestionRefIn, result=QuestionRowOut)
    def void_question(self, actor, question_id):
        """R12: retired, and right on every paper that drew it once attempts regrades them."""
        with self.uow as tx:
            return bank.void_question(tx, actor, question_id)

    @rpc(args=QuestionIdIn, result=QuestionKeyOut)
    def question_key(self, question_id):
        """A question's key as attempts regrades papers with (never for a member)."""
        with self.uow as tx:
            return bank.question_key(tx, question_id)

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

    @batch_handler("attempts", "attempt_passed")
    @handles_batch_once
    def on_attempt_passed(self, tx, events):
        levels.count_attempts(tx, [event["data"] for event in events], passed=True)

    @batch_handler("attempts", "attempt_failed")
    @handles_batch_once
    def on_attempt_failed(self, tx, events):
        levels.count_attempts(tx, [event["data"] for event in events], passed=False)

    @event_handler("attempts", "attempt_regraded")
    @handles_once
    def on_attempt_regraded(self, tx, event):
        levels.recount_attempt(tx, event["data"])

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
