"""R16: the seed's default monthly award policy, as data.

The scope `federation` is resolved to the campaign's organisation when the policy is stored
(the organisation that runs the campaign); `system` is the whole tree.
"""

# (scope, place_from, place_to, kind, amount_cny)
DEFAULT_MONTHLY = (
    ("system", 1, 1, "monthly_champion", None),  # R16(1): named by the working committee
    ("organisation", 1, 5, "monthly_prize", 300),  # R16(2)
    ("organisation", 6, 15, "monthly_prize", 200),  # R16(3)
    ("organisation", 16, 30, "monthly_prize", 100),  # R16(4)
)


def default_policy(campaign_id: str, organisation_id: str) -> list[dict]:
    return [
        {
            "campaign_id": campaign_id,
            "period": "monthly",
            "scope": "system" if scope == "system" else organisation_id,
            "place_from": place_from,
            "place_to": place_to,
            "kind": kind,
            "amount_cny": amount,
        }
        for scope, place_from, place_to, kind, amount in DEFAULT_MONTHLY
    ]


ELIGIBILITY = ("exclude_inactive", "exclude_withdrawn", "exclude_bank_admins",
               "monthly_needs_pass_in_month")


def ineligible(entry: dict, settings: dict | None, disqualified: set = frozenset()) -> str | None:
    """Why a board entry wins no monthly prize (R16, R20; docs/decisions.md, issue 18), or
    None. `settings` are the month's eligibility settings (None: a month granted before
    they existed, where only the disqualified were skipped); a mark the board does not
    carry (None) excludes nobody."""
    if entry.get("disqualified") or entry["member_id"] in disqualified:
        return "disqualified"
    settings = settings or {}
    if settings.get("exclude_inactive") and entry.get("active") is False:
        return "inactive"
    if settings.get("exclude_withdrawn") and entry.get("participation") == "withdrawn":
        return "withdrawn"
    if settings.get("exclude_bank_admins") and entry.get("bank_admin"):
        return "bank_admin"
    if settings.get("monthly_needs_pass_in_month") and entry.get("passed_in_month") is False:
        return "no_pass_in_month"
    return None


def allocate(lines: list[dict], boards: dict, disqualified: set,
             settings: dict | None = None) -> dict:
    """R16 with R20: the awards a closed month's boards earn under `lines`.

    `boards` maps a scope to its entries in board order (dicts with member_id,
    disqualified and the eligibility marks). Places are counted over eligible members only
    (`ineligible`): a member disqualified at the close or since, or excluded by the month's
    settings (inactive, withdrawn, a bank administrator, no pass inside the month), is
    skipped and the next one moves up; the others keep their cumulative order. Returns
    {(kind, scope, member_id): (place, amount_cny)}.
    """
    out = {}
    for line in lines:
        eligible = [e for e in boards.get(line["scope"], [])
                    if ineligible(e, settings, disqualified) is None]
        for place in range(line["place_from"], line["place_to"] + 1):
            if place > len(eligible):
                break
            member = eligible[place - 1]["member_id"]
            out[(line["kind"], line["scope"], member)] = (place, line["amount_cny"])
    return out


def depth(lines: list[dict]) -> int:
    """How far down a board the policy reaches (places), to know how much to keep of it."""
    return max((line["place_to"] for line in lines), default=0)
