"""The `DigitalOcean.Droplet` cloud backend: a droplet per resource, through pydo (DigitalOcean's
official client) against the API v2.

- create: a droplet tagged `cirrus-<resource uuid>`; a retried create finds the tagged droplet
  (`GET /v2/droplets?tag_name=...`) instead of making a second. The create action from the answer's
  `links.actions` is polled until it completes, then the droplet until it is `active` (heartbeating).
- update: a new size (the new plan's article_code, or the `size` attribute): power off, resize, power
  on, each action polled to completion (DigitalOcean resizes only a droplet that is off). The disk is
  grown only if the offering says so (`resize_disk`: it cannot be shrunk back).
- terminate: `DELETE /v2/droplets/{id}`; 204, and 404 (already gone) are success.
- get / list: the droplet's status as a state (new -> Creating, active and off -> OK with
  `runtime_state`, archive -> Terminated); list pages through every droplet of the account.

pydo answers 404 of get/delete/actions as a body instead of raising: the status is read through the
SDK's `cls` hook. Its own retries are off (`retry_total=0`): the order workflow retries
`TransientError`s (429, 5xx, network trouble) with backoff, and it follows no redirect.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from chalicelib.providers.cloud import (
    Heartbeat,
    Job,
    ProviderError,
    RemoteResource,
    RemoteState,
    Settings,
    TransientError,
)

MESSAGE_MAX = 300
NAME_MAX = 255
PAGE_SIZE = 200  # the API's largest page
PAGES_MAX = 50
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9.-]+")
SLUG = re.compile(r"[a-z0-9][a-z0-9.-]{0,63}")
STATES: Mapping[str, RemoteState] = {
    "new": RemoteState.CREATING,
    "active": RemoteState.OK,
    "off": RemoteState.OK,
    "archive": RemoteState.TERMINATED,
}


def tag_of(job: Job) -> str:
    return f"cirrus-{job.resource_uuid}"


def droplet_name(job: Job) -> str:
    """A host name from the resource's name (DigitalOcean's droplet names are host names)."""
    return (_UNSAFE_NAME.sub("-", job.resource_name).strip("-.") or "droplet")[:NAME_MAX]


class DigitalOceanBackend:
    def __init__(
        self,
        settings: Settings,
        client: Any,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.options = settings.options
        self.client = client
        self.sleep, self.clock = sleep, clock

    # --- create -----------------------------------------------------------------------------------
    def create(self, job: Job, heartbeat: Heartbeat) -> RemoteResource:
        heartbeat()
        existing = self._tagged(tag_of(job))
        if existing is not None:
            droplet_id = int(existing["id"])
        else:
            _, answer = self._call("creating the droplet", self.client.droplets.create, body=self._spec(job))
            droplet_id = int(answer["droplet"]["id"])
            links = (answer.get("links") or {}).get("actions") or []
            if links:
                self._wait_action(int(links[0]["id"]), "creating the droplet", heartbeat)
        droplet = self._wait_status(droplet_id, "active", heartbeat)
        return resource_of(droplet)

    def _tagged(self, tag: str) -> dict[str, Any] | None:
        _, answer = self._call("looking for the droplet", self.client.droplets.list, tag_name=tag, per_page=2)
        found = [d for d in answer.get("droplets") or [] if d.get("status") != "archive"]
        return found[0] if found else None

    def _spec(self, job: Job) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "name": droplet_name(job),
            "region": self.options["region"],
            "size": self._size(job),
            "image": self._image(job),
            "tags": [tag_of(job)],
        }
        if self.options.get("ssh_keys"):
            spec["ssh_keys"] = list(self.options["ssh_keys"])
        return spec

    def _size(self, job: Job) -> str:
        """The plan's article_code (the provider's), else the order's `size` attribute if the
        offering lists it among `sizes` (a consumer picks only what the provider offers: the price
        is the plan's), else the offering's size."""
        allowed = self.options.get("sizes") or []
        asked = job.attributes.get("size")
        if job.plan_code:
            size = job.plan_code
        elif asked is not None:
            if asked not in allowed:
                raise ProviderError(f"The size {str(asked)[:64]!r} is not one this offering provides.")
            size = str(asked)
        else:
            size = str(self.options["size"])
        if not SLUG.fullmatch(size) or (allowed and size not in allowed):
            raise ProviderError(f"The size {size[:64]!r} is not one this offering provides.")
        return size

    def _image(self, job: Job) -> str:
        image = str(job.attributes.get("image") or self.options["image"])
        if image != self.options["image"] and image not in (self.options.get("images") or []):
            raise ProviderError(f"The image {image[:64]!r} is not one this offering provides.")
        return image

    # --- update -----------------------------------------------------------------------------------
    def update(self, job: Job, heartbeat: Heartbeat) -> RemoteResource:
        droplet_id = droplet_id_of(job.backend_id)
        droplet = self._droplet(droplet_id)
        if droplet is None:
            raise ProviderError(f"The droplet {droplet_id} is gone from DigitalOcean.")
        if not (job.plan_code or job.attributes.get("size")):
            return resource_of(droplet)  # no new size asked for: nothing a droplet can change
        size = self._size(job)
        if size != droplet.get("size_slug"):
            self._resize(droplet_id, size, droplet.get("status") == "active", heartbeat)
        return resource_of(self._wait_status(droplet_id, None, heartbeat))

    def _resize(self, droplet_id: int, size: str, was_on: bool, heartbeat: Heartbeat) -> None:
        if was_on:
            self._act(droplet_id, {"type": "power_off"}, "powering the droplet off", heartbeat)
        try:
            resize = {"type": "resize", "size": size, "disk": bool(self.options.get("resize_disk"))}
            self._act(droplet_id, resize, f"resizing the droplet to {size}", heartbeat)
        finally:
            if was_on:
                self._act(droplet_id, {"type": "power_on"}, "powering the droplet on", heartbeat)

    def _act(self, droplet_id: int, action: Mapping[str, Any], what: str, heartbeat: Heartbeat) -> None:
        heartbeat()
        status, answer = self._call(what, self.client.droplet_actions.post, droplet_id, body=dict(action))
        if status == 404:
            raise ProviderError(f"The droplet {droplet_id} is gone from DigitalOcean.")
        self._wait_action(int(answer["action"]["id"]), what, heartbeat)

    # --- terminate --------------------------------------------------------------------------------
    def terminate(self, job: Job, heartbeat: Heartbeat) -> None:
        heartbeat()
        self._call("deleting the droplet", self.client.droplets.destroy, droplet_id_of(job.backend_id))

    # --- reads ------------------------------------------------------------------------------------
    def get(self, backend_id: str) -> RemoteResource | None:
        try:
            droplet_id = droplet_id_of(backend_id)
        except ProviderError:
            return None
        droplet = self._droplet(droplet_id)
        return resource_of(droplet) if droplet is not None else None

    def list(self) -> Iterable[RemoteResource]:
        for page in range(1, PAGES_MAX + 1):
            _, answer = self._call(
                "listing droplets", self.client.droplets.list, per_page=PAGE_SIZE, page=page
            )
            droplets = answer.get("droplets") or []
            yield from (resource_of(d) for d in droplets)
            if len(droplets) < PAGE_SIZE or not ((answer.get("links") or {}).get("pages") or {}).get("next"):
                return

    def usage(self, backend_id: str, month: date) -> Mapping[str, Decimal]:
        return {}  # a droplet is billed by its plan; the API reports no per-droplet usage

    # --- helpers ----------------------------------------------------------------------------------
    def _droplet(self, droplet_id: int) -> dict[str, Any] | None:
        status, answer = self._call("reading the droplet", self.client.droplets.get, droplet_id)
        return None if status == 404 else dict(answer["droplet"])

    def _wait_action(self, action_id: int, what: str, heartbeat: Heartbeat) -> None:
        def done() -> bool:
            _, answer = self._call(what, self.client.actions.get, action_id)
            status = (answer.get("action") or {}).get("status")
            if status == "errored":
                raise ProviderError(f"DigitalOcean's action {action_id} ({what}) errored.")
            return bool(status == "completed")

        self._poll(done, what, heartbeat)

    def _wait_status(self, droplet_id: int, wanted: str | None, heartbeat: Heartbeat) -> dict[str, Any]:
        """The droplet once its status is `wanted` (None: once it is not `new`)."""
        seen: dict[str, Any] = {}

        def done() -> bool:
            droplet = self._droplet(droplet_id)
            if droplet is None:
                raise ProviderError(f"The droplet {droplet_id} disappeared while Cirrus waited for it.")
            seen.update(droplet)
            return droplet.get("status") == wanted if wanted else droplet.get("status") != "new"

        self._poll(done, f"waiting for droplet {droplet_id}", heartbeat)
        return seen

    def _poll(self, done: Callable[[], bool], what: str, heartbeat: Heartbeat) -> None:
        interval = float(self.options["poll_interval"])
        deadline = self.clock() + float(self.options["poll_timeout"])
        while True:
            heartbeat()
            if done():
                return
            if self.clock() >= deadline:
                limit = self.options["poll_timeout"]
                raise TransientError(f"DigitalOcean did not finish {what} in {limit} s.")
            self.sleep(interval)

    def _call(self, what: str, operation: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[int, Any]:
        """`operation`'s status and body; failures as the contract's exceptions."""
        from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

        def keep_status(pipeline: Any, body: Any, headers: Any) -> tuple[int, Any]:
            return int(pipeline.http_response.status_code), body

        try:
            status, body = operation(*args, cls=keep_status, **kwargs)
        except HttpResponseError as exc:
            raise failure(exc, what) from None
        except (ServiceRequestError, ServiceResponseError) as exc:
            raise TransientError(
                f"DigitalOcean could not be reached while {what} ({type(exc).__name__})."
            ) from None
        return status, body if isinstance(body, dict) else {}


def droplet_id_of(backend_id: str) -> int:
    if not backend_id.isdigit() or len(backend_id) > 20:
        raise ProviderError(f"{backend_id[:40]!r} is not a droplet id.")
    return int(backend_id)


def resource_of(droplet: Mapping[str, Any]) -> RemoteResource:
    status = str(droplet.get("status") or "")
    public = [
        n.get("ip_address")
        for n in ((droplet.get("networks") or {}).get("v4") or [])
        if isinstance(n, dict) and n.get("type") == "public"
    ]
    metadata = {
        "runtime_state": status,
        "size": str(droplet.get("size_slug") or ""),
        "region": str((droplet.get("region") or {}).get("slug") or ""),
        "image": str(
            (droplet.get("image") or {}).get("slug") or (droplet.get("image") or {}).get("id") or ""
        ),
        "vcpus": droplet.get("vcpus"),
        "memory_mb": droplet.get("memory"),
        "disk_gb": droplet.get("disk"),
        "public_ipv4": public[0] if public else "",
    }
    return RemoteResource(
        backend_id=str(droplet["id"]),
        name=str(droplet.get("name") or ""),
        state=STATES.get(status, RemoteState.ERRED),
        error="" if status in STATES else f"DigitalOcean reports the unknown status {status[:40]!r}.",
        metadata=metadata,
        type="droplet",
    )


def failure(exc: Any, what: str) -> ProviderError:
    """A pydo HttpResponseError as the contract's exception, with DigitalOcean's own words."""
    status = int(getattr(exc, "status_code", 0) or 0)
    body: Any = None
    try:
        body = exc.response.json()
    except Exception:  # no JSON body: the status alone speaks
        body = None
    said = ""
    if isinstance(body, dict):
        said = f"{body.get('message') or ''} ({body.get('id') or status})"[:MESSAGE_MAX]
    detail = f": {said}" if said else ""
    if status == 429:
        reset = exc.response.headers.get("ratelimit-reset", "") if exc.response is not None else ""
        when = f" (it resets at {reset[:20]})" if reset else ""
        return TransientError(f"DigitalOcean's rate limit was reached while {what}{when}.")
    if status >= 500 or status == 0:
        return TransientError(f"DigitalOcean answered HTTP {status} while {what}{detail}.")
    if status == 401:
        return ProviderError(
            "DigitalOcean refused the offering's API token (401 unauthorized): check the secret option token."
        )
    return ProviderError(f"DigitalOcean refused {what} (HTTP {status}){detail}.")
