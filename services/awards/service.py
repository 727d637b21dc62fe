"""awards: award policies per campaign and the awards granted under them (R16–R18)."""
from kernel import entrypoints
from kernel.entrypoints import event_handler, rpc
from sqlalchemy import delete, select

from kernel.clock import Clock
from kernel.db import Database
from kernel.errors import load
from kernel.inbox import handles_once
from kernel.outbox import Outbox

from .models import Award, AwardPolicy, Base
from .policy import default_policy
from .schemas import AwardOut, PeriodQuery, PolicyLine


class AwardsService(entrypoints.Answers):
    name = "awards"

    db = Database("awards", Base)
    events = Outbox()
    clock = Clock()

    @event_handler("question_bank", "campaign_published")
    @handles_once
    def on_campaign_published(self, event):
        """A new campaign gets the seed's default policy, unless it already has one."""
        data = event["data"]
        campaign_id = data["campaign_id"]
        exists = self.db.scalar(
            select(AwardPolicy.id).where(AwardPolicy.campaign_id == campaign_id).limit(1)
        )
        if exists is None:
            organisation_id = data.get("organisation_id") or "federation"
            for line in default_policy(campaign_id, organisation_id):
                self.db.add(AwardPolicy(**line))

    @rpc
    def policies(self, campaign_id):
        rows = self.db.scalars(
            select(AwardPolicy)
            .where(AwardPolicy.campaign_id == campaign_id)
            .order_by(AwardPolicy.period, AwardPolicy.scope, AwardPolicy.place_from)
        ).all()
        return PolicyLine(many=True).dump(rows)

    @rpc
    def set_policies(self, campaign_id, lines):
        """Replace a campaign's policy (months already closed keep the awards they got)."""
        lines = [load(PolicyLine(), dict(line, campaign_id=campaign_id), "policy line")
                 for line in lines]
        self.db.execute(delete(AwardPolicy).where(AwardPolicy.campaign_id == campaign_id))
        for line in lines:
            self.db.add(AwardPolicy(**line))
        self.db.commit()
        return self.policies(campaign_id)

    @rpc
    def awards_of_period(self, campaign_id, period):
        query = load(PeriodQuery(), {"campaign_id": campaign_id, "period": period})
        rows = self.db.scalars(
            select(Award)
            .where(Award.campaign_id == query["campaign_id"],
                   Award.period == query["period"])
            .order_by(Award.kind, Award.rank)
        ).all()
        return AwardOut(many=True).dump(rows)
