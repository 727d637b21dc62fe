"""Which campaign is the current one, written once for every service's own copy of the
campaigns (question_bank's table, the replicas in attempts and ranking).

The current campaign is the published one that starts last: a new year's campaign takes
over from the last one once it is published, and an old campaign's results stay readable by
its id."""
from __future__ import annotations

from sqlalchemy import Select


def current(query: Select, starts_at) -> Select:
    """`query` (over a service's campaigns, already limited to published ones where the
    table holds drafts too) narrowed to the current campaign."""
    return query.order_by(starts_at.desc()).limit(1)
