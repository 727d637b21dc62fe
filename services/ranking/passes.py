"""Passes in (R8, R13): attempts' `attempt_passed` events applied in batches (kernel/batching.py).

Each event's pass becomes one record per (run, levels passed) (a duplicate or a replay adds
nothing) and raises the member's standing when it is ahead of it: the standing is the best
of the member's records, as boards.restate computes it, in one statement per batch on
PostgreSQL (store.record_passes)."""
from __future__ import annotations


# the fields of attempt_passed a pass record is made of
FIELDS = ("attempt_id", "member_id", "campaign_id", "run_id", "run_levels_passed",
          "run_total_ms", "submitted_at")


def apply_passes(tx, envelopes, consumer) -> int:
    """The batch's events claimed for `consumer` and applied; how many records were new."""
    return tx.store.record_passes([_row(e["event_id"], e["data"]) for e in envelopes],
                                  consumer, tx.now)


def _row(event_id, data) -> dict:
    return {"event_id": event_id, "run_id": data["run_id"],
            "levels": data["run_levels_passed"], "member_id": data["member_id"],
            "campaign_id": data["campaign_id"], "total_ms": data["run_total_ms"],
            "at": data["submitted_at"], "attempt_id": data["attempt_id"]}
