"""What organisers decide and tell (issue 23 items 3, 4, 6): the R20 notice, the review of a
member's attempts, notices and SMS reminders to members. Routes of the gateway, mixed into
GatewayService: they use its proxies and checks (``self.attempts``, ``self._actor`` ...)."""
from __future__ import annotations


class ReviewRoutes:
    """Mixed into gateway.service.GatewayService."""
