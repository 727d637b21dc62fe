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
