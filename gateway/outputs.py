"""What organisers hand on (issue 23 items 1, 2, 5): the live-contest shortlist (R6/R17), the
unit reports (R19) and the winners' lists. Routes of the gateway, mixed into GatewayService:
they use its proxies and checks (``self.ranking``, ``self._actor`` ...)."""
from __future__ import annotations


class OutputRoutes:
    """Mixed into gateway.service.GatewayService."""
