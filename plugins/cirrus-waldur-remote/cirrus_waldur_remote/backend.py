"""`RemoteWaldurBackend`: a local offering's orders forwarded to an offering of another Waldur (or
another Cirrus) through waldur-api-client, as Waldur's own marketplace_remote does it:

- the local project is mirrored by one remote project under the remote customer, named
  `<local customer name> / <local project name>` with backend_id `<customer uuid>_<project uuid>`
  (marketplace_remote/utils.py `get_project_backend_id`, `create_remote_project`), found by that
  backend_id or made;
- a Create order is placed at the remote (`marketplace_orders_create`) for the remote offering, the
  mapped plan, the order's attributes and limits; the remote order is then read every
  `poll_interval_seconds` (a heartbeat each time) until it is done (the local resource's backend_id
  is the remote resource's uuid), erred (the remote's error_message), canceled or rejected; still
  pending after `wait_seconds`: TransientError, the workflow retries, and the retry waits on the same
  remote order (below);
- update: `update_limits` (or `switch_plan` when the plan changed), then the same wait; terminate:
  `terminate`, then the same wait (a resource already Terminated or gone is success);
- get / list: `marketplace-resources` (retrieve; list of the remote offering's resources of the
  remote customer); usage: `marketplace-component-usages` of the resource in the month, summed per
  component type.

Idempotent create: Waldur keeps the remote order's uuid on the local order before it waits; a cloud
backend has nowhere to keep anything until create returns, so the remote order carries the local
resource's uuid in its attributes (`cirrus_resource_uuid`) and a retried create first looks among
the remote project's Create orders of the remote offering for one carrying it (a live or done one:
an erred, canceled or rejected one does not count, a new one is placed). A retried update or
terminate finds the resource Updating or Terminating and waits on the remote order already doing it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from chalicelib.providers.cloud import (
    Heartbeat,
    Job,
    ProviderError,
    RemoteResource,
    RemoteState,
    Settings,
    TransientError,
)
from cirrus_waldur_remote.options import RemoteSettings, remote_settings
from cirrus_waldur_remote.pinning import AddressRefused, pinned_transport

MARKER = "cirrus_resource_uuid"  # the local resource's uuid, in the remote order's attributes
PAGE_SIZE = 100
MAX_PAGES = 50
MAX_MESSAGE = 500
DONE, ERRED = "done", "erred"
FAILED = frozenset({"erred", "canceled", "rejected"})
STATES = {state.value: state for state in RemoteState}  # Waldur's resource states are the same words


class NotFoundAtRemote(ProviderError):
    """The remote answered 404."""


def _hex(value: Any) -> str:
    try:
        return UUID(str(value)).hex
    except ValueError:
        return ""


def _message_of(content: bytes) -> str:
    """A Waldur error answer in words: {"detail": ...}, {"field": [...]}, or [...]."""
    try:
        payload = json.loads(content or b"null")
    except ValueError:
        return ""
    parts: list[str] = []

    def walk(value: Any, where: str) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, key if key in ("detail", "non_field_errors") else f"{where}{key}: ")
        elif isinstance(value, list):
            for inner in value:
                walk(inner, where)
        elif value is not None:
            parts.append(f"{where if where not in ('detail', 'non_field_errors') else ''}{value}")

    walk(payload, "")
    return "; ".join(parts)


class RemoteWaldurBackend:
    """The `CloudBackend` of `Waldur.RemoteOffering`."""

    def __init__(self, remote: RemoteSettings, sleep: Callable[[float], None] = time.sleep) -> None:
        from waldur_api_client import AuthenticatedClient

        self.remote = remote
        self._sleep = sleep
        self._client = AuthenticatedClient(
            base_url=remote.root,
            token=remote.token,
            timeout=_timeout(),
            follow_redirects=False,
            httpx_args={"transport": pinned_transport()},
        )

    # --- the calls ------------------------------------------------------------------------------
    def _url(self, *parts: str) -> str:
        return "/".join([self.remote.root, "api", *parts]) + "/"

    def _say(self, message: str) -> str:
        """A message for an operator: bounded, and never the token."""
        return message.replace(self.remote.token, "***")[:MAX_MESSAGE]

    def call(self, what: str, endpoint: Any, *args: Any, **kwargs: Any) -> Any:
        """`endpoint.sync_detailed(...)`'s parsed answer; failures as ProviderError/TransientError."""
        import httpx
        from waldur_api_client import errors

        try:
            return endpoint.sync_detailed(*args, client=self._client, **kwargs).parsed
        except AddressRefused as exc:
            raise ProviderError(f"The remote Waldur cannot be called: {exc}") from None
        except errors.UnexpectedStatus as exc:
            raise self._refusal(what, exc.status_code, exc.content) from None
        except httpx.TimeoutException:
            raise TransientError(f"The remote Waldur did not answer in time to {what}.") from None
        except httpx.HTTPError as exc:
            raise TransientError(
                f"The remote Waldur could not be reached to {what} ({type(exc).__name__})."
            ) from None
        except (KeyError, TypeError, ValueError) as exc:
            raise ProviderError(
                self._say(f"The remote Waldur's answer to {what} could not be read ({exc!r}).")
            ) from None

    def _refusal(self, what: str, status: int, content: bytes) -> ProviderError:
        said = _message_of(content)
        text = f"The remote Waldur refused to {what} (HTTP {status})" + (f": {said}" if said else ".")
        if status in (408, 429) or status >= 500:
            return TransientError(self._say(text))
        if status == 404:
            return NotFoundAtRemote(self._say(text))
        if status in (401, 403):
            text += " Check the offering's token and that its user may order in the remote customer."
        return ProviderError(self._say(text))

    def _all(self, what: str, endpoint: Any, **filters: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for page in range(1, MAX_PAGES + 1):
            got = self.call(what, endpoint, page=page, page_size=PAGE_SIZE, **filters) or []
            found += [item.to_dict() for item in got]
            if len(got) < PAGE_SIZE:
                break
        return found

    # --- the remote project -------------------------------------------------------------------------
    def remote_project(self, job: Job) -> dict[str, Any]:
        from waldur_api_client.api.projects import projects_create, projects_list
        from waldur_api_client.models import ProjectRequest

        backend_id = f"{job.customer_uuid}_{job.project_uuid}"
        listed = self._all(
            "list its projects",
            projects_list,
            customer=[UUID(self.remote.customer_uuid)],
            backend_id=backend_id,
        )
        found = [p for p in listed if p.get("backend_id") == backend_id]  # a remote may ignore the filter
        if len(found) > 1:
            raise ProviderError(
                f"The remote Waldur has {len(found)} projects for this project ({backend_id})."
            )
        if found:
            return found[0]
        name = f"{job.customer_name} / {job.project_name}"[:500]
        body = ProjectRequest(
            name=name, customer=self._url("customers", self.remote.customer_uuid), backend_id=backend_id
        )
        return dict(self.call("create a project", projects_create, body=body).to_dict())

    # --- orders -------------------------------------------------------------------------------------
    def _offering(self) -> dict[str, Any]:
        from waldur_api_client.api.marketplace_public_offerings import marketplace_public_offerings_retrieve

        try:
            got = self.call(
                "read the offering", marketplace_public_offerings_retrieve, UUID(self.remote.offering_uuid)
            )
        except NotFoundAtRemote:
            raise ProviderError(
                f"The remote Waldur has no offering {self.remote.offering_uuid} that its token may order."
            ) from None
        return dict(got.to_dict())

    def plan_url(self, job: Job, offering: Mapping[str, Any]) -> str | None:
        plans = [p for p in offering.get("plans") or [] if isinstance(p, dict)]
        if not plans:
            return None
        wanted = self.remote.plan_mapping.get(job.plan_code) or self.remote.plan_mapping.get(job.plan_name)
        if wanted:
            chosen = [p for p in plans if _hex(p.get("uuid")) == wanted]
        else:
            chosen = [p for p in plans if job.plan_name and p.get("name") == job.plan_name] or (
                plans if len(plans) == 1 else []
            )
        if not chosen:
            raise ProviderError(
                f"The remote offering has no plan for the local plan {job.plan_name or job.plan_code!r}: "
                "map it in the offering's plugin option plan_mapping."
            )
        return str(chosen[0]["url"])

    def _order(self, uuid: str) -> dict[str, Any]:
        from waldur_api_client.api.marketplace_orders import marketplace_orders_retrieve

        return dict(self.call("read the order", marketplace_orders_retrieve, UUID(uuid)).to_dict())

    def _orders(self, kind: str, **filters: Any) -> list[dict[str, Any]]:
        from waldur_api_client.api.marketplace_orders import marketplace_orders_list
        from waldur_api_client.models import RequestTypes

        return self._all("list its orders", marketplace_orders_list, type_=[RequestTypes(kind)], **filters)

    def wait(self, order_uuid: str, heartbeat: Heartbeat) -> dict[str, Any]:
        """The remote order once done; ProviderError if it erred, was canceled or rejected;
        TransientError if still running after `wait_seconds`."""
        deadline = time.monotonic() + self.remote.wait_seconds
        while True:
            heartbeat()
            order = self._order(order_uuid)
            state = str(order.get("state", ""))
            if state == DONE:
                return order
            if state in FAILED:
                why = str(order.get("error_message") or "").strip()
                said = f": {why}" if why else "."
                raise ProviderError(self._say(f"The remote order {_hex(order_uuid)} is {state}{said}"))
            if time.monotonic() >= deadline:
                raise TransientError(
                    f"The remote order {_hex(order_uuid)} is still {state or 'pending'} after "
                    f"{self.remote.wait_seconds:g} s; waiting on it again."
                )
            self._sleep(self.remote.poll_interval)

    def _placed_create(self, project_uuid: str, job: Job) -> dict[str, Any] | None:
        """The live or done Create order a previous attempt placed for this resource, if any."""
        orders = self._orders(
            "Create", project_uuid=UUID(project_uuid), offering_uuid=UUID(self.remote.offering_uuid)
        )
        mine = [
            o
            for o in orders
            if (o.get("attributes") or {}).get(MARKER) == job.resource_uuid and o.get("state") not in FAILED
        ]
        return mine[0] if mine else None

    def _running(self, resource_uuid: str, kind: str) -> dict[str, Any] | None:
        live = [
            o
            for o in self._orders(kind, resource_uuid=UUID(resource_uuid))
            if o.get("state") not in FAILED and o.get("state") != DONE
        ]
        return live[0] if live else None

    # --- CloudBackend -------------------------------------------------------------------------------
    def create(self, job: Job, heartbeat: Heartbeat) -> RemoteResource:
        from waldur_api_client.api.marketplace_orders import marketplace_orders_create

        heartbeat()
        project = self.remote_project(job)
        project_uuid = _hex(project.get("uuid"))
        order = self._placed_create(project_uuid, job)
        if order is None:
            offering = self._offering()
            plan = self.plan_url(job, offering)
            attributes = {**job.attributes, MARKER: job.resource_uuid}
            attributes.setdefault("name", job.resource_name)
            body = _order_request(offering, project, plan, attributes, job.limits)
            order = dict(self.call("place an order", marketplace_orders_create, body=body).to_dict())
        done = self.wait(str(order["uuid"]), heartbeat)
        resource_uuid = _hex(done.get("marketplace_resource_uuid") or order.get("marketplace_resource_uuid"))
        if not resource_uuid:
            raise ProviderError("The remote order is done but names no resource.")
        found = self.get(resource_uuid)
        return RemoteResource(
            backend_id=resource_uuid,
            name=found.name if found else job.resource_name,
            state=found.state if found else RemoteState.OK,
            metadata={
                "remote_order_uuid": _hex(order["uuid"]),
                "remote_resource_uuid": resource_uuid,
                "remote_project_uuid": project_uuid,
                "remote_state": found.state.value if found else "",
            },
            limits=found.limits if found else dict(job.limits),
        )

    def update(self, job: Job, heartbeat: Heartbeat) -> RemoteResource:
        from waldur_api_client.api.marketplace_resources import (
            marketplace_resources_switch_plan,
            marketplace_resources_update_limits,
        )
        from waldur_api_client.models import (
            ResourceSwitchPlanRequest,
            ResourceUpdateLimitsRequest,
            ResourceUpdateLimitsRequestLimits,
        )

        heartbeat()
        uuid = self._backend_uuid(job.backend_id)
        # An Update order carries new limits, or (switch_plan) a new plan and no new limits.
        new_limits = bool(job.limits) and dict(job.limits) != dict(job.old_limits)
        order = self._running(uuid, "Update")
        if order is None:
            if not new_limits:
                plan = self.plan_url(job, self._offering())
                if plan is None:
                    raise ProviderError("The remote offering has no plans to switch to.")
                answer = self.call(
                    "switch the plan", marketplace_resources_switch_plan, UUID(uuid),
                    body=ResourceSwitchPlanRequest(plan=plan),
                )  # fmt: skip
            else:
                limits = ResourceUpdateLimitsRequestLimits.from_dict(dict(job.limits))
                answer = self.call(
                    "update the limits", marketplace_resources_update_limits, UUID(uuid),
                    body=ResourceUpdateLimitsRequest(limits=limits),
                )  # fmt: skip
            order = {"uuid": answer.to_dict()["order_uuid"]}
        done = self.wait(str(order["uuid"]), heartbeat)
        found = self.get(uuid)
        return RemoteResource(
            backend_id=uuid,
            name=found.name if found else job.resource_name,
            state=found.state if found else RemoteState.OK,
            metadata={
                **(dict(found.metadata) if found else {}),
                "remote_order_uuid": _hex(done.get("uuid") or order["uuid"]),
            },
            limits=found.limits if found else dict(job.limits),
        )

    def terminate(self, job: Job, heartbeat: Heartbeat) -> None:
        from waldur_api_client.api.marketplace_resources import marketplace_resources_terminate
        from waldur_api_client.models import ResourceTerminateRequest

        heartbeat()
        uuid = self._backend_uuid(job.backend_id)
        found = self.get(uuid)
        if found is None or found.state is RemoteState.TERMINATED:
            return
        order = self._running(uuid, "Terminate")
        if order is None:
            answer = self.call(
                "terminate the resource",
                marketplace_resources_terminate,
                UUID(uuid),
                body=ResourceTerminateRequest(),
            )
            order = {"uuid": answer.to_dict()["order_uuid"]}
        self.wait(str(order["uuid"]), heartbeat)

    def get(self, backend_id: str) -> RemoteResource | None:
        from waldur_api_client.api.marketplace_resources import marketplace_resources_retrieve

        uuid = _hex(backend_id)
        if not uuid:
            return None
        try:
            found = self.call("read the resource", marketplace_resources_retrieve, UUID(uuid))
        except NotFoundAtRemote:
            return None
        return self._resource(found.to_dict())

    def list(self) -> Iterable[RemoteResource]:
        from waldur_api_client.api.marketplace_resources import marketplace_resources_list

        listed = self._all(
            "list its resources",
            marketplace_resources_list,
            offering_uuid=[UUID(self.remote.offering_uuid)],
            customer_uuid=UUID(self.remote.customer_uuid),
        )
        return [self._resource(item) for item in listed]

    def usage(self, backend_id: str, month: date) -> Mapping[str, Decimal]:
        from waldur_api_client.api.marketplace_component_usages import marketplace_component_usages_list

        first = month.replace(day=1)
        following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
        usages = self._all(
            "list the component usages",
            marketplace_component_usages_list,
            resource_uuid=UUID(self._backend_uuid(backend_id)),
            date_after=first,
            date_before=following,
        )
        totals: dict[str, Decimal] = {}
        for usage in usages:
            period = str(usage.get("billing_period") or usage.get("date") or "")[:7]
            if period != first.isoformat()[:7]:
                continue
            try:
                amount = Decimal(str(usage.get("usage")))
            except InvalidOperation:
                continue
            kind = str(usage.get("type") or "")
            totals[kind] = totals.get(kind, Decimal(0)) + amount
        return totals

    # --- helpers ------------------------------------------------------------------------------------
    def _backend_uuid(self, backend_id: str) -> str:
        uuid = _hex(backend_id)
        if not uuid:
            raise ProviderError(
                f"The resource's backend id {backend_id[:80]!r} is not a remote resource uuid."
            )
        return uuid

    def _resource(self, item: Mapping[str, Any]) -> RemoteResource:
        state = STATES.get(str(item.get("state") or ""), RemoteState.OK)
        limits = item.get("limits") or {}
        return RemoteResource(
            backend_id=_hex(item.get("uuid")),
            name=str(item.get("name") or ""),
            state=state,
            error=str(item.get("error_message") or "")[:MAX_MESSAGE] if state is RemoteState.ERRED else "",
            metadata={
                "remote_resource_uuid": _hex(item.get("uuid")),
                "remote_project_uuid": _hex(item.get("project_uuid")),
                "remote_state": str(item.get("state") or ""),
                "remote_backend_id": str(item.get("backend_id") or "")[:255],
            },
            limits={
                k: int(v) for k, v in limits.items() if isinstance(v, int | float) and not isinstance(v, bool)
            },
            type=str(item.get("offering_type") or ""),
            description=str(item.get("description") or "")[:MAX_MESSAGE],
        )


def _order_request(
    offering: Mapping[str, Any],
    project: Mapping[str, Any],
    plan: str | None,
    attributes: Mapping[str, Any],
    limits: Mapping[str, int],
) -> Any:
    from waldur_api_client.models import GenericOrderAttributes, OrderCreateRequest, OrderCreateRequestLimits

    body = OrderCreateRequest(
        offering=str(offering["url"]),
        project=str(project["url"]),
        attributes=GenericOrderAttributes.from_dict(dict(attributes)),
        limits=OrderCreateRequestLimits.from_dict(dict(limits)),
        accepting_terms_of_service=True,
    )
    if plan is not None:
        body.plan = plan
    return body


def _timeout() -> Any:
    import httpx

    return httpx.Timeout(20.0, connect=5.0)


def build(settings: Settings) -> RemoteWaldurBackend:
    """The type's factory: settings checked (a wrong one errs the order with what is wrong)."""
    try:
        remote = remote_settings(settings.options, settings.secrets)
    except ValueError as exc:
        raise ProviderError(
            f"The offering {settings.offering_name!r} is not set up for its remote Waldur: {exc}"
        ) from None
    return RemoteWaldurBackend(remote)
