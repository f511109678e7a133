"""What every Azure backend of the plugin shares: checked settings, the SDK clients (one
ClientSecretCredential, made on first use: no SDK import before), ARM errors translated, long-running
operations waited for with heartbeats, and the resource group Cirrus makes per resource."""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from chalicelib.providers.cloud import Heartbeat, Job, ProviderError, Settings, TransientError
from cirrus_azure import options as opts
from cirrus_azure.errors import translated

T = TypeVar("T")

TAG_RESOURCE = "cirrus-resource"
TAG_OFFERING = "cirrus-offering"
TAG_NAME = "cirrus-name"
MAX_WAIT_SECONDS = 3600.0

# The management clients by kind: (module, class).
CLIENTS = {
    "compute": ("azure.mgmt.compute", "ComputeManagementClient"),
    "network": ("azure.mgmt.network", "NetworkManagementClient"),
    "resources": ("azure.mgmt.resource.resources", "ResourceManagementClient"),
    "sql": ("azure.mgmt.sql", "SqlManagementClient"),
}


# The SDK logs each request's URL (with the subscription id, a secret option) at INFO and
# azure-identity a failed token request (with the client id) at WARNING; the failure itself reaches
# the order scrubbed (errors.py). Unless the operator set these loggers' levels, they are quieted.
_QUIET_LOGGERS = {"azure": logging.WARNING, "azure.identity": logging.ERROR, "msal": logging.WARNING}


def quiet_sdk_logs() -> None:
    for name, level in _QUIET_LOGGERS.items():
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(level)


# Credentials by (authority, tenant, client, secret digest): a warm worker reuses the token it has
# (azure-identity caches it per credential) instead of asking for one each time a backend is built.
_CREDENTIALS: dict[str, Any] = {}
_CREDENTIALS_LOCK = threading.Lock()
MAX_CREDENTIALS = 32


class _HeartbeatFailed(Exception):
    """Carries the heartbeat's own failure (the workflow's, not Azure's) past the translation of
    SDK errors, to be raised as it was."""

    def __init__(self, original: Exception) -> None:
        super().__init__(str(original))
        self.original = original


class AzureBackend:
    """Built from an offering's Settings; ProviderError (the order errs) if they are unusable."""

    def __init__(
        self,
        settings: Settings,
        defaults: Mapping[str, Any],
        check: Callable[[Mapping[str, Any]], None],
        *,
        retry_total: int | None = None,
        connection_timeout: float = 10.0,
        read_timeout: float = 60.0,
    ) -> None:
        self.options: dict[str, Any] = {**defaults, **settings.options}
        self.offering_uuid = settings.offering_uuid
        try:
            check(self.options)
            self.credentials = opts.check_secrets(settings.secrets)
            self.authority = opts.check_endpoint(
                self.options["authority_host"] or opts.PUBLIC_AUTHORITY, "authority_host"
            )
            self.arm_url = opts.check_endpoint(
                self.options["resource_manager_url"] or opts.PUBLIC_RESOURCE_MANAGER, "resource_manager_url"
            )
        except opts.EndpointUnresolved as exc:
            raise TransientError(f"Azure cannot be reached now: {exc}") from None
        except ValueError as exc:
            raise ProviderError(f"The Azure offering is misconfigured: {exc}") from None
        self.subscription = self.credentials["subscription_id"]
        self.interval = max(float(self.options["polling_interval"]), 0.01)
        self._sdk_options: dict[str, Any] = {
            "retry_total": self.options["sdk_retries"] if retry_total is None else retry_total,
            "connection_timeout": connection_timeout,
            "read_timeout": read_timeout,
        }
        self._credential: Any = None
        self._clients: dict[str, Any] = {}
        quiet_sdk_logs()

    # --- SDK plumbing --------------------------------------------------------------------------
    def client(self, kind: str) -> Any:
        if kind in self._clients:
            return self._clients[kind]
        import importlib

        if self._credential is None:
            self._credential = self._shared_credential()
        module, name = CLIENTS[kind]
        made = getattr(importlib.import_module(module), name)(
            self._credential,
            self.subscription,
            base_url=self.arm_url,
            credential_scopes=[f"{self.arm_url}/.default"],
            polling_interval=self.interval,
            **self._sdk_options,
        )
        self._clients[kind] = made
        return made

    def _shared_credential(self) -> Any:
        from azure.identity import ClientSecretCredential

        c = self.credentials
        material = "\0".join(
            (self.authority, c["tenant_id"], c["client_id"], c["client_secret"], repr(self._sdk_options))
        )
        key = hashlib.sha256(material.encode()).hexdigest()
        with _CREDENTIALS_LOCK:
            found = _CREDENTIALS.get(key)
            if found is None:
                if len(_CREDENTIALS) >= MAX_CREDENTIALS:
                    _CREDENTIALS.pop(next(iter(_CREDENTIALS)))
                found = _CREDENTIALS[key] = ClientSecretCredential(
                    c["tenant_id"],
                    c["client_id"],
                    c["client_secret"],
                    authority=self.authority,
                    disable_instance_discovery=self.authority != opts.PUBLIC_AUTHORITY,
                    **self._sdk_options,
                )
            return found

    @contextmanager
    def calling(self, what: str) -> Iterator[None]:
        try:
            yield
        except _HeartbeatFailed as failed:
            raise failed.original from None
        except Exception as exc:
            raise translated(exc, what, self.credentials.values()) from None

    def call(self, what: str, fn: Callable[[], T]) -> T:
        with self.calling(what):
            return fn()

    def absent(self, what: str, fn: Callable[[], T]) -> T | None:
        """fn()'s answer, or None if ARM says 404 (the resource or its group is not there)."""
        from azure.core.exceptions import ResourceNotFoundError

        with self.calling(what):
            try:
                return fn()
            except ResourceNotFoundError:
                return None

    def wait(self, what: str, start: Callable[[], Any], heartbeat: Heartbeat, gone_ok: bool = False) -> Any:
        """Start a long-running operation and wait for it, heartbeating between polls."""
        from azure.core.exceptions import ResourceNotFoundError

        def beat() -> None:
            try:
                heartbeat()
            except Exception as exc:
                raise _HeartbeatFailed(exc) from exc

        deadline = time.monotonic() + MAX_WAIT_SECONDS
        with self.calling(what):
            try:
                poller = start()
                while not poller.done():
                    beat()
                    if time.monotonic() > deadline:
                        raise ProviderError(f"Azure did not finish {what} within {int(MAX_WAIT_SECONDS)} s.")
                    poller.wait(timeout=self.interval)
                beat()
                return poller.result()
            except ResourceNotFoundError:
                if gone_ok:
                    return None
                raise

    # --- the resource group of a resource ------------------------------------------------------
    @staticmethod
    def uuid_of(resource_uuid: str) -> str:
        uuid = resource_uuid.replace("-", "").lower()
        if not re.fullmatch(r"[0-9a-f]{1,32}", uuid):
            raise ProviderError("The resource's uuid is not a hex id.")
        return uuid

    def group_name(self, resource_uuid: str) -> str:
        return f"{self.options['resource_group_prefix']}{self.uuid_of(resource_uuid)}"

    def tags(self, job: Job) -> dict[str, str]:
        return {
            TAG_RESOURCE: job.resource_uuid,
            TAG_OFFERING: self.offering_uuid,
            TAG_NAME: job.resource_name[:256],
        }

    def make_group(self, group: str, tags: Mapping[str, str]) -> None:
        resources = self.client("resources")
        body = {"location": self.options["location"], "tags": dict(tags)}
        self.call(
            "creating the resource group", lambda: resources.resource_groups.create_or_update(group, body)
        )

    def delete_group_if_ours(self, group: str, job: Job, heartbeat: Heartbeat) -> None:
        """Delete the group (and all in it) if its tag says Cirrus made it for this resource; an
        imported resource's group is left alone."""
        resources = self.client("resources")
        found = self.absent("reading the resource group", lambda: resources.resource_groups.get(group))
        tags = (found.tags or {}) if found is not None else {}
        if found is None or tags.get(TAG_RESOURCE) != job.resource_uuid:
            return
        self.wait(
            "deleting the resource group",
            lambda: resources.resource_groups.begin_delete(group),
            heartbeat,
            gone_ok=True,
        )


def text(value: Any) -> str:
    """An SDK value (a str, a str-valued enum or None) as plain text for metadata."""
    return str(getattr(value, "value", value) or "")


def group_of(arm_id: str) -> str:
    """The resource group named in an ARM id (/subscriptions/s/resourceGroups/g/providers/...)."""
    parts = (arm_id or "").split("/")
    for i, part in enumerate(parts[:-1]):
        if part.lower() == "resourcegroups":
            return parts[i + 1]
    return ""
