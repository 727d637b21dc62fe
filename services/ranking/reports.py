"""What the organisers' reports read of ranking (issue 23, R19): each closed month's levels
per member at its cutoff, from the month's immutable snapshot (the whole tree's board), so
a unit's results can be told month by month."""
from __future__ import annotations

from .replicas import SYSTEM


def month_levels(tx, campaign_id=None) -> list[dict]:
    """Every closed month of the campaign in order: its cutoff, whether it closed the
    campaign, and {member id: levels passed by the cutoff} (R15)."""
    campaign_id = campaign_id or tx.store.current_campaign_id()
    if campaign_id is None:
        return []
    closes = tx.store.month_closes(campaign_id)
    return [{"month": month, "cutoff": close.cutoff, "final": close.final,
             "levels": tx.store.snapshot_levels(close.snapshot_id, SYSTEM)}
            for month, close in sorted(closes.items())]
