"""The contract of a provider plugin that provisions at a cloud: a *cloud backend*.

A plugin that runs real machines (AWS EC2, OpenStack, a remote Waldur, ...) writes one class with
the methods of `CloudBackend` and declares its offering type with `cloud_type(...)`; the platform
does the rest the same way for every cloud:

- the order workflow runs `create` / `update` / `terminate` (workflows/cloud_driver.py) on a
  `heavy` worker (a Step Functions task with retries, a timeout and a heartbeat: a long call passes
  `heartbeat` on and calls it while it waits for the cloud);
- the scheduled pull reads `get` for every resource of the offering (and `list` once) and moves the
  resource: gone at the provider -> Erred with a clear message, a state change reflected;
- usage collection asks `usage` where the cloud reports it;
- importable resources are `list` minus what Cirrus already knows; importing one makes a resource.

A backend never sees the table or the HTTP request: it is built from the offering's `Settings`
(plugin options, secrets resolved) and given `Job`s, and answers `RemoteResource`s. It raises
`TransientError` for what is worth retrying (a timeout, a rate limit, a 5xx) and `ProviderError`
(or anything else) for what is not; the message reaches the order's or resource's error_message,
so it must say what went wrong in words an operator can act on and never carry a secret.

No SDK is imported at module import time (keep Lambda cold starts short): a plugin imports its SDK
inside the backend's methods or its factory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from chalicelib.domain.offerings import ComponentTemplate

Heartbeat = Callable[[], None]
# A secret option whose value starts so is a Secrets Manager reference, read when a backend is built.
SECRETS_MANAGER_PREFIX = "arn:aws:secretsmanager:"
# The only secrets an offering may reference (the deployed functions may read no others): a provider
# must not have the platform read one of its own secrets and send it to an endpoint the provider names.
PROVIDER_SECRETS_PREFIX = "cirrus/providers/"


def secret_reference_problem(name: str, value: Any) -> str | None:
    """Why the secret option `name` may not hold `value` as a Secrets Manager reference (None: it
    is no reference, or an allowed one: `arn:aws:secretsmanager:<region>:<account>:secret:cirrus/
    providers/...`)."""
    if not (isinstance(value, str) and value.startswith(SECRETS_MANAGER_PREFIX)):
        return None
    parts = value.split(":", 6)
    if len(parts) != 7 or parts[5] != "secret" or not parts[6].startswith(PROVIDER_SECRETS_PREFIX):
        return f"{name} may reference only a Secrets Manager secret named {PROVIDER_SECRETS_PREFIX}..."
    return None


class ProviderError(Exception):
    """The cloud refused or failed the work for good (bad input, no capacity, a missing image):
    the order errs with this message."""


class TransientError(ProviderError):
    """Worth retrying (timeout, throttling, 5xx): the workflow retries with backoff."""


class RemoteState(StrEnum):
    """A resource's state at the provider, in the platform's terms."""

    CREATING = "Creating"
    OK = "OK"
    UPDATING = "Updating"
    ERRED = "Erred"
    TERMINATING = "Terminating"
    TERMINATED = "Terminated"  # still listed by the cloud but gone (EC2's `terminated`)


@dataclass(frozen=True)
class Settings:
    """What a backend is built from: one offering's integration settings."""

    offering_uuid: str
    offering_name: str
    options: Mapping[str, Any]  # the offering's plugin_options (the type's defaults overlaid)
    secrets: Mapping[str, Any]  # the offering's secret_options, Secrets Manager references resolved
    customer_uuid: str = ""  # the provider's customer


@dataclass(frozen=True)
class Job:
    """What an order asks the cloud to do, as the backend sees it."""

    resource_uuid: str  # Cirrus's id of the resource (hex)
    resource_name: str
    project_uuid: str
    customer_uuid: str  # the consumer's customer
    order_uuid: str = ""
    backend_id: str = ""  # the resource's id at the provider ("" before create)
    attributes: Mapping[str, Any] = field(default_factory=dict)  # the order's attributes
    limits: Mapping[str, int] = field(default_factory=dict)  # the order's (new) limits
    old_limits: Mapping[str, int] = field(default_factory=dict)
    plan_name: str = ""
    plan_code: str = ""  # the plan's article_code (e.g. an instance size)
    old_plan_code: str = ""
    project_name: str = ""
    customer_name: str = ""


@dataclass(frozen=True)
class RemoteResource:
    """A resource as the provider has it."""

    backend_id: str
    name: str = ""
    state: RemoteState = RemoteState.OK
    error: str = ""  # why it is Erred, in the provider's words
    metadata: Mapping[str, Any] = field(default_factory=dict)  # -> the resource's backend_metadata
    limits: Mapping[str, int] = field(default_factory=dict)  # what the provider says it has
    type: str = ""  # Waldur's ImportableResource.type (e.g. "instance")
    description: str = ""


class CloudBackend(Protocol):
    def create(self, job: Job, heartbeat: Heartbeat) -> RemoteResource:
        """Provision; return once the resource is usable (heartbeating while waiting). Idempotent
        for the same `job.resource_uuid` where the cloud allows it (tag or name the resource with it
        and look for it first): a retried create must not make a second machine."""
        ...

    def update(self, job: Job, heartbeat: Heartbeat) -> RemoteResource:
        """Apply new limits or a new plan (`job.limits`, `job.plan_code`) to `job.backend_id`."""
        ...

    def terminate(self, job: Job, heartbeat: Heartbeat) -> None:
        """Delete `job.backend_id`; a resource already gone is success."""
        ...

    def get(self, backend_id: str) -> RemoteResource | None:
        """The resource as the provider has it now; None if the provider does not know it."""
        ...

    def list(self) -> Iterable[RemoteResource]:
        """Every resource of this offering's kind that exists at the provider (importable ones)."""
        ...

    def usage(self, backend_id: str, month: date) -> Mapping[str, Decimal]:
        """Usage per component type in `month` so far, where the cloud reports it ({} if not)."""
        ...


BackendFactory = Callable[[Settings], CloudBackend]


@dataclass(frozen=True)
class CloudPlugin:
    """What `cloud_type` adds to an offering type: how to build its backend."""

    factory: BackendFactory
    importable: bool = True
    collects_usage: bool = False


def cloud_type(
    name: str,
    label: str,
    factory: BackendFactory,
    *,
    components: tuple[ComponentTemplate, ...] = (),
    secret_options: frozenset[str] = frozenset(),
    plugin_option_defaults: Mapping[str, Any] | None = None,
    validate_plugin_options: Callable[[Mapping[str, Any]], None] | None = None,
    validate_secret_options: Callable[[Mapping[str, Any]], None] | None = None,
    needs_provider_review: bool = False,
    importable: bool = True,
    collects_usage: bool = False,
) -> Callable[[Any], None]:
    """An entry point's registration function for an automatic offering type run by a cloud backend:
    `registry.add(cloud_type(...))` registers the type; the order workflow runs its backend through
    the platform's driver (`workflows/cloud_driver.py`), the same for every cloud."""
    from chalicelib.providers.types import OfferingType, ProcessorKind

    plugin = CloudPlugin(factory=factory, importable=importable, collects_usage=collects_usage)

    def register(registry: Any) -> None:
        registry.register(
            OfferingType(
                name=name,
                label=label,
                components=components,
                secret_attributes=secret_options,
                needs_provider_review=needs_provider_review,
                automatic=True,
                plugin_option_defaults=dict(plugin_option_defaults or {}),
                validate_plugin_options=validate_plugin_options,
                validate_secret_options=validate_secret_options,
                processor_kinds=frozenset(ProcessorKind),
                cloud=plugin,
            )
        )

    return register
