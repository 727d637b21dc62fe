"""Members' full phone numbers, for system administrators only (issue 23 item 1: the live
contest's shortlist is phoned by the working committee; every other reader sees the masked
phone the boards show)."""
from __future__ import annotations

from .authority import require_system_admin


def contact_phones(store, actor, member_ids) -> dict[str, str]:
    """{member id: full phone} of these members; Forbidden unless `actor` is a system
    administrator."""
    require_system_admin(store, actor)
    ids = [str(m) for m in (member_ids or [])][:1000]
    return {m.id: m.phone for m in store.members_with_ids(ids)} if ids else {}
