"""What attempts keeps of other services, fed by their events: roster's members (may they
play? where in the tree?) and question_bank's campaigns (levels, opening instants, end).

A member who may play no more has their open attempt voided in the same transaction."""
from __future__ import annotations

from .models import CampaignReplica, MemberReplica
from .play import void_open


def member_changed(tx, member_id: str, status: str, org_path: list | None = None) -> None:
    member = _member(tx, member_id)
    member.status = status
    if org_path is not None:
        member.org_path = org_path
    if status != "active":  # member_updated may say so before member_deactivated does
        void_open(tx, member_id, "member_inactive")


def member_disqualified(tx, member_id: str) -> None:
    _member(tx, member_id).disqualified = True
    void_open(tx, member_id, "member_disqualified")


def member_reinstated(tx, member_id: str) -> None:
    _member(tx, member_id).disqualified = False


def _member(tx, member_id: str) -> MemberReplica:
    member = tx.store.member(member_id)
    if member is None:  # a decision may overtake the registration: unknown until then
        member = MemberReplica(member_id=member_id, status="unknown", disqualified=False)
        tx.store.add(member)
    member.updated_at = tx.now
    return member


def campaign_changed(tx, data: dict) -> None:
    """campaign_published and level_updated carry the whole campaign: keep what play needs."""
    campaign = tx.store.campaign(data["campaign_id"])
    if campaign is None:
        campaign = CampaignReplica(campaign_id=data["campaign_id"])
        tx.store.add(campaign)
    campaign.time_zone = data["time_zone"]
    campaign.starts_at = data["starts_at"]
    campaign.ends_at = data["ends_at"]
    campaign.levels = [
        {"number": level["number"], "opens_at": level["opens_at"].isoformat(),
         "time_limit_s": level["time_limit_s"], "draw_count": level["draw_count"]}
        for level in data["levels"]
    ]
    campaign.updated_at = tx.now
