"""waldur-site-agent's own MockBackend, with one change: it has every resource Waldur says it made,
holding what the site's accounting says it holds.

The stock MockBackend keeps the resources it creates in its process's memory, and each agent mode
(`order_process`, `report`, `membership_sync`) is a process of its own, so in `report` and
`membership_sync` a resource `order_process` created would be "missing in backend" and nothing
would be reported or synced. A site's real backend keeps them; so does this one, by recording any
resource pulled by the backend id Waldur holds for it, as the MockBackend records a created one.

What such a resource holds comes from `CIRRUS_AGENT_MOCK_SITE` (JSON; the test plays the site's
accounting): `users`, the accounts already on the allocation, and `usage`, the usage report by
user (`TOTAL_ACCOUNT_USAGE` for the total), as a SLURM cluster's sacct would give them.
"""

from __future__ import annotations

import json
import os
from typing import Any

from waldur_site_agent.backend.structures import BackendResourceInfo
from waldur_site_agent.testing.mock_backend import MockBackend

SITE_VARIABLE = "CIRRUS_AGENT_MOCK_SITE"


def _site() -> dict[str, Any]:
    site: dict[str, Any] = json.loads(os.environ.get(SITE_VARIABLE) or "{}")
    return site


class SiteMockBackend(MockBackend):
    def pull_resource(self, waldur_resource: Any) -> BackendResourceInfo | None:
        found = super().pull_resource(waldur_resource)
        backend_id = waldur_resource.backend_id
        if found is None and isinstance(backend_id, str) and backend_id:
            found = self.create_resource_with_id(waldur_resource, backend_id)
            site = _site()
            found.users = list(site.get("users", []))
            if site.get("usage"):
                found.usage = {user: dict(amounts) for user, amounts in site["usage"].items()}
        return found
