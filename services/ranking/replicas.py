"""What ranking keeps of other services: question_bank's campaigns (time zone, months) and
roster's members (names on the boards, the scopes they count in, active, disqualified,
participation) and their administrator roles (who is a bank administrator)."""
from __future__ import annotations

from .models import CampaignReplica, Member, MemberRole

SYSTEM = "system"  # the scope of the whole tree
# roles that can read the answer keys: their holders are the campaign's bank administrators
BANK_ADMIN_ROLES = ("system_admin", "organisation_admin")


def replicate_campaign(tx, data) -> None:
    campaign = tx.store.campaign(data["campaign_id"])
    if campaign is None:
        campaign = CampaignReplica(campaign_id=data["campaign_id"])
        tx.store.add(campaign)
    campaign.time_zone = data["time_zone"]
    campaign.starts_at, campaign.ends_at = data["starts_at"], data["ends_at"]
    if data.get("organisation_id"):  # optional in v1: an older event leaves it as it was
        campaign.organisation_id = data["organisation_id"]


def replicate_member(tx, data) -> None:
    member = tx.store.member(data["member_id"])
    if member is None:
        member = Member(member_id=data["member_id"], disqualified=False)
        tx.store.add(member)
    member.name = data["name"]
    member.unit_name = data.get("unit_name")
    member.phone_masked = data.get("phone_masked")
    member.org_path = list(data["org_path"])
    member.active = data["status"] == "active"  # a reactivation puts them back
    member.participation = data.get("participation", member.participation)
    scopes = {SYSTEM, *data["org_path"]}
    have = tx.store.scopes_of(member.member_id)
    for scope in have - scopes:
        tx.store.leave_scope(scope, member.member_id)
    for scope in scopes - have:
        tx.store.join_scope(scope, member.member_id)


def deactivate(tx, member_id) -> None:
    """Off the boards until a member_updated says active again."""
    member = tx.store.member(member_id)
    if member is not None:
        member.active = False


def grant_role(tx, data) -> None:
    """roster's role_granted (a redelivery, or a role already known, changes nothing)."""
    if tx.store.role(data["member_id"], data["role"], data["org_unit_id"]) is None:
        tx.store.add(MemberRole(member_id=data["member_id"], role=data["role"],
                                org_unit_id=data["org_unit_id"]))


def revoke_role(tx, data) -> None:
    role = tx.store.role(data["member_id"], data["role"], data["org_unit_id"])
    if role is not None:
        tx.store.delete(role)


def set_disqualified(tx, member_id, flag: bool) -> None:
    member = tx.store.member(member_id)
    if member is not None:
        member.disqualified = flag


def scopes(member) -> list[str]:
    """The scopes a member counts in, the whole tree first (a member not replicated yet
    counts in the whole tree only)."""
    return list(dict.fromkeys([SYSTEM, *(member.org_path if member else [])]))
