"""Site agent identities, their services and their processors (Waldur's
`marketplace-site-agent-identities/`, `-services/`, `-processors/`).

A site agent (waldur-site-agent) registers one identity per offering it serves (`agent-<offering>`)
at every start, then one service per mode it runs (`order_process`, `report`, ...) and, under it,
one processor per backend class. They are the provider's record of which agents run where and
what they last did; nothing else in the marketplace depends on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.domain import bounds
from chalicelib.domain.errors import ValidationError

IDENTITY_MODEL = "AgentIdentity"
SERVICE_MODEL = "AgentService"
PROCESSOR_MODEL = "AgentProcessor"

# Waldur's AgentService.state values; a service is Active from its (re)registration on.
SERVICE_STATES = ("Active", "Idle", "Error")
ACTIVE = "Active"

# What one identity may hold. Deleting an identity removes its services and processors in one
# transaction (100 writes at most): 1 + 9 services + 9 x 10 processors.
MAX_SERVICES = 9
MAX_PROCESSORS = 10
MAX_DEPENDENCIES = 200  # the agent reports every installed distribution (about 50)
CONFIG_FILE_CONTENT_BYTES = 32 * bounds.KIB
STATISTICS = bounds.Bound(8 * bounds.KIB, max_depth=3, max_keys=200)

TOO_MANY_SERVICES = f"An agent identity has at most {MAX_SERVICES} services."
TOO_MANY_PROCESSORS = f"An agent service has at most {MAX_PROCESSORS} processors."
OFFERING_FIXED = "The offering of an agent identity cannot be changed."


@dataclass(frozen=True)
class Dependency:
    package: str
    version: str


@dataclass(frozen=True)
class AgentIdentity:
    id: str
    offering_id: str
    provider_id: str  # the offering's customer: the identity lives in its partition
    name: str
    created: datetime
    modified: datetime
    created_by_id: str | None = None
    version_text: str | None = None  # the agent's version (`version` is the record's own)
    dependencies: tuple[Dependency, ...] = ()
    config_file_path: str | None = None
    config_file_content: str | None = None
    last_restarted: datetime | None = None
    version: int = 0


@dataclass(frozen=True)
class AgentService:
    id: str
    identity_id: str
    provider_id: str
    offering_id: str
    name: str
    created: datetime
    modified: datetime
    mode: str | None = None
    state: str = ACTIVE
    statistics: Mapping[str, Any] = field(default_factory=dict)
    version: int = 0


@dataclass(frozen=True)
class AgentProcessor:
    id: str
    service_id: str
    identity_id: str
    provider_id: str
    offering_id: str
    name: str
    backend_type: str
    created: datetime
    modified: datetime
    backend_version: str | None = None
    last_run: datetime | None = None
    version: int = 0


def compatibility(identity: AgentIdentity) -> dict[str, str]:
    """Waldur's AgentCompatibility. Cirrus sets no minimum agent version: an agent that says its
    version is compatible, one that does not is unknown."""
    if identity.version_text:
        return {"status": "compatible", "message": "No minimum agent version is required."}
    return {"status": "unknown", "message": "The agent did not report its version."}


def check_statistics(statistics: Mapping[str, Any]) -> None:
    problem = bounds.problem(statistics, STATISTICS)
    if problem:
        raise ValidationError.field("statistics", problem)
