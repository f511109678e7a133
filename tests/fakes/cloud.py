"""An in-memory cloud behind the `CloudBackend` contract (`chalicelib/providers/cloud.py`), for the
platform's side of provider plugins: the order processors, the pull, usage and imports.

`FakeCloud` holds what "exists at the provider" (a dict of `RemoteResource`s by backend id) and
what each backend call was; a test changes it behind Cirrus's back (`vanish`, `set_state`, ...)
and queues failures (`fail_next`). `registered(cloud)` adds the offering type `Test.Cloud` (a
`cloud_type` with a `limit` and a `usage` component, collecting usage) to the global registry for
the duration of a `with` block, so orders, the pull and the API reach this cloud.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from chalicelib.domain.offerings import ComponentTemplate
from chalicelib.domain.vocabulary import BillingType
from chalicelib.providers.cloud import (
    Heartbeat,
    Job,
    ProviderError,
    RemoteResource,
    RemoteState,
    Settings,
    cloud_type,
)

TYPE = "Test.Cloud"
COMPONENTS = (
    ComponentTemplate("cores", "Cores", "cores", BillingType.LIMIT),
    ComponentTemplate("traffic", "Traffic", "GB", BillingType.USAGE),
)


@dataclass
class FakeCloud:
    """The provider's side: its resources, the usage it reports, the calls it got."""

    resources: dict[str, RemoteResource] = field(default_factory=dict)
    usages: dict[tuple[str, date], dict[str, Decimal]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    failures: list[Exception] = field(default_factory=list)
    can_list: bool = True
    settings: list[Settings] = field(default_factory=list)
    # Called with each call's name before it is answered: what happens meanwhile in Cirrus.
    meanwhile: Callable[[str], None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- what a test does behind Cirrus's back ---------------------------------------------------
    def add(self, backend_id: str, name: str = "", **fields: Any) -> RemoteResource:
        remote = RemoteResource(backend_id=backend_id, name=name or backend_id, **fields)
        self.resources[backend_id] = remote
        return remote

    def vanish(self, backend_id: str) -> None:
        self.resources.pop(backend_id, None)

    def set_state(self, backend_id: str, state: RemoteState, error: str = "") -> None:
        self.resources[backend_id] = replace(self.resources[backend_id], state=state, error=error)

    def set_metadata(self, backend_id: str, metadata: Mapping[str, object]) -> None:
        self.resources[backend_id] = replace(self.resources[backend_id], metadata=dict(metadata))

    def fail_next(self, *errors: Exception) -> None:
        self.failures.extend(errors)

    # --- what the backend does ------------------------------------------------------------------
    def _call(self, name: str) -> None:
        with self._lock:
            self.calls.append(name)
            if self.failures:
                raise self.failures.pop(0)
        if self.meanwhile is not None:
            self.meanwhile(name)

    def backend(self, settings: Settings) -> FakeBackend:
        self.settings.append(settings)
        return FakeBackend(self)


class FakeBackend:
    """One offering's backend over the fake cloud (what `cloud_type`'s factory returns)."""

    def __init__(self, cloud: FakeCloud) -> None:
        self.cloud = cloud

    def create(self, job: Job, heartbeat: Heartbeat) -> RemoteResource:
        self.cloud._call("create")
        heartbeat()
        backend_id = f"vm-{job.resource_uuid[:12]}"
        if backend_id in self.cloud.resources:  # idempotent: a retried create finds its machine
            return self.cloud.resources[backend_id]
        metadata = {"type": "instance", "size": job.plan_code or "small", "ip": "192.0.2.10"}
        return self.cloud.add(backend_id, job.resource_name, metadata=metadata, limits=dict(job.limits))

    def update(self, job: Job, heartbeat: Heartbeat) -> RemoteResource:
        self.cloud._call("update")
        current = self.cloud.resources.get(job.backend_id)
        if current is None:
            raise ProviderError(f"The instance {job.backend_id} does not exist.")
        metadata = {**current.metadata, "size": job.plan_code or current.metadata.get("size", "")}
        changed = replace(current, metadata=metadata, limits=dict(job.limits) or current.limits)
        self.cloud.resources[job.backend_id] = changed
        return changed

    def terminate(self, job: Job, heartbeat: Heartbeat) -> None:
        self.cloud._call("terminate")
        self.cloud.vanish(job.backend_id)

    def get(self, backend_id: str) -> RemoteResource | None:
        self.cloud._call("get")
        return self.cloud.resources.get(backend_id)

    def list(self) -> Iterable[RemoteResource]:
        self.cloud._call("list")
        if not self.cloud.can_list:
            raise NotImplementedError
        return list(self.cloud.resources.values())

    def usage(self, backend_id: str, month: date) -> Mapping[str, Decimal]:
        self.cloud._call("usage")
        return dict(self.cloud.usages.get((backend_id, month), {}))


@contextmanager
def registered(cloud: FakeCloud, name: str = TYPE, *, collects_usage: bool = True) -> Iterator[FakeCloud]:
    """`name` registered as a cloud type over `cloud` in the global registry, removed after."""
    from chalicelib.providers import registry

    register = cloud_type(
        name, "Test cloud", cloud.backend, components=COMPONENTS, collects_usage=collects_usage
    )
    previous = registry.REGISTRY.get(name)
    registry.REGISTRY.add(register)
    try:
        yield cloud
    finally:
        with registry.REGISTRY._lock:
            registry.REGISTRY._types.pop(name, None)
            for kind in registry.ProcessorKind:
                registry.REGISTRY._processors.pop((name, kind), None)
            if previous is not None:
                registry.REGISTRY._types[name] = previous
