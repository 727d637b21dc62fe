"""ranking: live boards for every scope of the tree (R8, R13), fed by attempts' passes;
month cutoffs, closes and immutable snapshots (R15); rebuild from attempts' export.

Entrypoints only: the use cases are boards.py, months.py and replicas.py, the queries
store.py."""
import logging
import time
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from kernel import entrypoints
from kernel.batching import batch_handler, handles_batch
from kernel.entrypoints import event_handler, rpc, timer_from_config
from kernel.errors import Conflict
from kernel.knobs import Knobs
from kernel.logs import WorkerContext
from kernel.metrics import MONTH_CLOSE_SECONDS
from kernel.rpc import TimedRpcProxy
from kernel.uow import UnitOfWork, handles_once

from . import boards, months, passes, replicas, reports
from .models import Base
from .schemas import (
    BoardIn, BoardOut, CampaignIn, CloseIn, MonthOut, RankIn, RankOut, RebuildIn, RebuildOut,
)
from .schemas import MonthLevelsOut
from .store import RankingStore

log = logging.getLogger(__name__)


class RankingService(entrypoints.Answers):
    name = "ranking"
    logs = WorkerContext()  # the correlation id and service in every log line

    uow = UnitOfWork("ranking", Base, store=RankingStore)
    knobs = Knobs()
    attempts = TimedRpcProxy("attempts")

    # -- replicas of question_bank's campaigns and roster's members -------------------------

    @event_handler("question_bank", "campaign_published")
    @handles_once
    def on_campaign_published(self, tx, event):
        replicas.replicate_campaign(tx, event["data"])

    @event_handler("question_bank", "level_updated")
    @handles_once
    def on_level_updated(self, tx, event):
        replicas.replicate_campaign(tx, event["data"])

    @event_handler("roster", "member_registered")
    @handles_once
    def on_member_registered(self, tx, event):
        replicas.replicate_member(tx, event["data"])

    @event_handler("roster", "member_updated")
    @handles_once
    def on_member_updated(self, tx, event):
        replicas.replicate_member(tx, event["data"])

    @event_handler("roster", "member_deactivated")
    @handles_once
    def on_member_deactivated(self, tx, event):
        replicas.deactivate(tx, event["data"]["member_id"])

    @event_handler("roster", "role_granted")
    @handles_once
    def on_role_granted(self, tx, event):
        replicas.grant_role(tx, event["data"])

    @event_handler("roster", "role_revoked")
    @handles_once
    def on_role_revoked(self, tx, event):
        replicas.revoke_role(tx, event["data"])

    @event_handler("roster", "member_disqualified")
    @handles_once
    def on_member_disqualified(self, tx, event):
        replicas.set_disqualified(tx, event["data"]["member_id"], True)

    @event_handler("roster", "member_reinstated")
    @handles_once
    def on_member_reinstated(self, tx, event):
        replicas.set_disqualified(tx, event["data"]["member_id"], False)

    # -- the live boards ---------------------------------------------------------------------

    @batch_handler("attempts", "attempt_passed")
    @handles_batch(data=passes.FIELDS)
    def on_attempt_passed(self, tx, events, consumer):
        passes.apply_passes(tx, events, consumer)

    @event_handler("attempts", "attempt_regraded")
    @handles_once
    def on_attempt_regraded(self, tx, event):
        boards.apply_regrade(tx, event["data"])

    @rpc(args=BoardIn, result=BoardOut)
    def leaderboard(self, scope_id, campaign_id=None, limit=50, offset=0, month=None):
        """The live board of a scope, or a closed month's snapshot, paged, in R13's order."""
        with self.uow as tx:
            return boards.leaderboard(tx, scope_id, campaign_id, limit, offset, month)

    @rpc(args=RankIn, result=RankOut)
    def my_rank(self, member_id, campaign_id=None):
        """My place in every scope above me (None where I have no result yet)."""
        with self.uow as tx:
            return boards.my_rank(tx, member_id, campaign_id)

    @rpc(args=RebuildIn, result=RebuildOut)
    def rebuild(self, campaign_id=None, page=1000):
        """Wipe the live projection of a campaign and replay it from attempts' export of
        passes (closed months' snapshots are immutable and stay)."""
        with self.uow as tx:
            campaign_id = boards.wipe(tx, campaign_id)
        after, passes, members = None, 0, set()
        while True:
            chunk = self.attempts.with_timeout(120).export_passes(campaign_id, after, page)
            with self.uow as tx:
                members |= boards.replay(tx, chunk["passes"])
            passes += len(chunk["passes"])
            after = chunk["next"]
            if not chunk["passes"] or after is None:
                break
        with self.uow as tx:
            boards.restate_all(tx, campaign_id, members)
        return {"campaign_id": campaign_id, "passes": passes, "members": len(members)}

    # -- months (R15) ------------------------------------------------------------------------

    @rpc(args=CampaignIn, result=MonthOut(many=True))
    def months(self, campaign_id=None):
        """The campaign's months: cutoff, and for closed ones when, by whom, the snapshot."""
        with self.uow as tx:
            return months.calendar(tx, campaign_id)

    @rpc(args=CampaignIn, result=MonthLevelsOut(many=True))
    def month_levels(self, campaign_id=None):
        """Each closed month's levels per member at its cutoff (the organisers' R19
        reports, month by month)."""
        with self.uow as tx:
            return reports.month_levels(tx, campaign_id)

    @rpc(args=CloseIn, result=MonthOut)
    def close_month(self, campaign_id, month, actor=None):
        """Close a month now (an administrator): the timer's path, idempotent; refused
        before the month's cutoff, and while ranking lacks passes attempts has."""
        with self.uow as tx:
            done = months.check_close(tx, campaign_id, month)
        return done or self._close(campaign_id, month, actor or "admin")

    @timer_from_config("MONTH_CLOSE_CHECK_SECONDS", 30)
    def close_due_months(self):
        """Close every month whose cutoff plus the settle delay has passed, in order, once
        ranking holds every pass up to the cutoff (it waits, and says so, while it does not)."""
        with self.uow as tx:
            due = months.due(tx, timedelta(seconds=self.knobs.settle_seconds))
        closed = []
        for campaign_id, campaign_months in due:
            for month in campaign_months:
                try:
                    closed.append(self._close(campaign_id, month, "timer"))
                except Conflict as behind:
                    log.error("month %s of campaign %s is due but not closed: %s", month,
                              campaign_id, behind.message)
                    break  # a later month never closes before an earlier one
        return MonthOut(many=True).dump(closed)

    def _close(self, campaign_id, month, by):
        started = time.perf_counter()
        with self.uow as tx:
            cut = months.cutoff(tx, campaign_id, month)
        expected = self.attempts.count_passes(campaign_id, cut.isoformat())
        try:
            with self.uow as tx:
                closed = months.close(tx, campaign_id, month, by, expected,
                                      self.knobs.month_top_depth)
        except IntegrityError:  # another replica (or administrator) closed it first
            with self.uow as tx:
                return months.closed_elsewhere(tx, campaign_id, month)
        log.info("closed %s of campaign %s: %d ranked, snapshot %s", month, campaign_id,
                 closed.ranked_members, closed.snapshot_id)
        MONTH_CLOSE_SECONDS.observe(time.perf_counter() - started)  # closes that did it only
        return closed
