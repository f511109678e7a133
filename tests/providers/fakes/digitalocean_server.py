"""A fake DigitalOcean API v2 for the calls the DigitalOcean backend makes, in the shapes of the
public reference (https://docs.digitalocean.com/reference/api/digitalocean/, the OpenAPI document
pydo is generated from; pydo's docstrings carry the same request and answer schemas):

- Authentication: `Authorization: Bearer <token>` on every call; a missing or wrong token is
  401 `{"id": "Unauthorized", "message": "Unable to authenticate you"}`
  (https://docs.digitalocean.com/reference/api/digitalocean/#section/Authentication).
- Rate limiting: every answer carries `ratelimit-limit`, `ratelimit-remaining` and
  `ratelimit-reset`; over the limit, 429 `{"id": "too_many_requests", "message": "API Rate limit
  exceeded."}` (#section/Introduction/Rate-Limit).
- Errors: `{"id": "...", "message": "...", "request_id": "..."}` (#section/Introduction/Responses):
  404 not_found, 422 unprocessable_entity, 500 server_error.
- Droplets (#tag/Droplets): `POST /v2/droplets` (name, size, image required; region, ssh_keys,
  tags) -> 202 `{"droplet": {..., "status": "new"}, "links": {"actions": [{"id", "rel": "create",
  "href"}]}}`; `GET /v2/droplets` (`tag_name`, `page`, `per_page` up to 200) -> 200 `{"droplets",
  "links": {"pages": {"next"?}}, "meta": {"total"}}`; `GET /v2/droplets/{id}` -> `{"droplet"}`;
  `DELETE /v2/droplets/{id}` -> 204.
- Droplet actions (#tag/Droplet-Actions): `POST /v2/droplets/{id}/actions` with `type` power_off,
  power_on or resize (`size`, `disk`) -> 201 `{"action": {id, status: "in-progress", type,
  started_at, completed_at, resource_id, resource_type, region_slug}}`; a resize of a droplet that
  is on, or any action while another is pending, is 422.
- Actions (#tag/Actions): `GET /v2/actions/{id}` -> `{"action"}`, status in-progress -> completed.

An action completes after `action_polls` reads of it (no clock), and only then does the droplet
change (active after create, off, on, the new size).
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from tests.providers.fakes.https_fake import FakeApi, Reply, Request

SIZES: dict[str, tuple[int, int, int, float]] = {  # slug: vcpus, memory MB, disk GB, price monthly
    "s-1vcpu-1gb": (1, 1024, 25, 6.0),
    "s-2vcpu-2gb": (2, 2048, 60, 18.0),
    "s-4vcpu-8gb": (4, 8192, 160, 48.0),
}
IMAGES = {"ubuntu-24-04-x64": 161910093, "debian-12-x64": 160883455}
REGIONS = ("nyc3", "fra1", "ams3")
TAG = re.compile(r"[A-Za-z0-9:_-]{1,255}")
HOST_NAME = re.compile(r"[A-Za-z0-9.-]{1,255}")
LIMIT = 5000


def problem(status: int, error_id: str, message: str) -> Reply:
    return Reply(status, {"id": error_id, "message": message, "request_id": "fake-request"})


def not_found() -> Reply:
    return problem(404, "not_found", "The resource you were accessing could not be found.")


def rate_limited() -> Reply:
    headers = {"ratelimit-limit": str(LIMIT), "ratelimit-remaining": "0", "ratelimit-reset": "1767225600"}
    return Reply(429, {"id": "too_many_requests", "message": "API Rate limit exceeded."}, headers)


class FakeDigitalOcean(FakeApi):
    def __init__(self, token: str = "dop_v1_fake0token0value", action_polls: int = 2) -> None:
        super().__init__()
        self.token = token
        self.action_polls = action_polls
        self.droplets: dict[int, dict[str, Any]] = {}
        self.actions: dict[int, dict[str, Any]] = {}
        self._pending: dict[int, tuple[int, Any]] = {}  # action id -> (reads left, what it does)
        self._ids = itertools.count(3164444)
        self._action_ids = itertools.count(36804807)
        self.remaining = LIMIT
        self.erring: set[str] = set()  # action types that end `errored` (DigitalOcean could not do it)

    # --- test helpers -------------------------------------------------------------------------
    def add_droplet(
        self, name: str, size: str = "s-1vcpu-1gb", status: str = "active", tags: Any = ()
    ) -> int:
        droplet = self._droplet(name, size, "nyc3", "ubuntu-24-04-x64", list(tags))
        droplet["status"] = status
        return int(droplet["id"])

    # --- dispatch -------------------------------------------------------------------------------
    def handle(self, request: Request) -> Reply:
        reply = self._route(request)
        self.remaining = max(self.remaining - 1, 0)
        headers = {
            "ratelimit-limit": str(LIMIT),
            "ratelimit-remaining": str(self.remaining),
            "ratelimit-reset": "1767225600",
        }
        return Reply(reply.status, reply.body, {**headers, **reply.headers})

    def _route(self, request: Request) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return problem(401, "Unauthorized", "Unable to authenticate you")
        queued = self.take_queued()
        if queued is not None:
            return queued
        parts = request.path.strip("/").split("/")
        route = (request.method, "/".join(p if not p.isdigit() else "{id}" for p in parts))
        number = next((int(p) for p in parts if p.isdigit()), 0)
        handlers = {
            ("GET", "v2/droplets"): lambda: self._list(request),
            ("POST", "v2/droplets"): lambda: self._create(request.body),
            ("GET", "v2/droplets/{id}"): lambda: self._get(number),
            ("DELETE", "v2/droplets/{id}"): lambda: self._delete(number),
            ("POST", "v2/droplets/{id}/actions"): lambda: self._act(number, request.body),
            ("GET", "v2/actions/{id}"): lambda: self._action(number),
        }
        handler = handlers.get(route)
        return handler() if handler else not_found()

    # --- droplets -------------------------------------------------------------------------------
    def _list(self, request: Request) -> Reply:
        tag = request.query.get("tag_name", [None])[0]
        per_page = int(request.query.get("per_page", ["20"])[0])
        page = int(request.query.get("page", ["1"])[0])
        if not 1 <= per_page <= 200 or page < 1:
            return problem(400, "bad_request", "per_page must be from 1 to 200, page at least 1.")
        found = [d for d in self.droplets.values() if tag is None or tag in d["tags"]]
        window = found[(page - 1) * per_page : page * per_page]
        pages: dict[str, str] = {}
        if page * per_page < len(found):
            pages["next"] = f"{self.url}/v2/droplets?page={page + 1}&per_page={per_page}"
            pages["last"] = f"{self.url}/v2/droplets?page={-(-len(found) // per_page)}&per_page={per_page}"
        return Reply(200, {"droplets": window, "links": {"pages": pages}, "meta": {"total": len(found)}})

    def _create(self, body: Any) -> Reply:
        if not isinstance(body, dict):
            return problem(400, "bad_request", "The request body must be a JSON object.")
        name, size, image = body.get("name"), body.get("size"), body.get("image")
        if not isinstance(name, str) or not HOST_NAME.fullmatch(name):
            return problem(
                422, "unprocessable_entity", "Name is invalid: only a-z, 0-9, . and - are allowed."
            )
        if size not in SIZES:
            return problem(422, "unprocessable_entity", "You specified an invalid size for Droplet creation.")
        if image not in IMAGES:
            return problem(
                422, "unprocessable_entity", "You specified an invalid image for Droplet creation."
            )
        region = body.get("region", "nyc3")
        if region not in REGIONS:
            return problem(
                422, "unprocessable_entity", "You specified an invalid region for Droplet creation."
            )
        tags = body.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(t, str) and TAG.fullmatch(t) for t in tags):
            return problem(422, "unprocessable_entity", "Tag names may contain letters, numbers, : - and _.")
        droplet = self._droplet(name, str(size), str(region), str(image), tags)
        action = self._start(droplet["id"], "create", ("status", "active"))
        href = f"{self.url}/v2/actions/{action['id']}"
        return Reply(
            202,
            {"droplet": droplet, "links": {"actions": [{"id": action["id"], "rel": "create", "href": href}]}},
        )

    def _get(self, droplet_id: int) -> Reply:
        droplet = self.droplets.get(droplet_id)
        return Reply(200, {"droplet": droplet}) if droplet else not_found()

    def _delete(self, droplet_id: int) -> Reply:
        if self.droplets.pop(droplet_id, None) is None:
            return not_found()
        return Reply(204)

    # --- actions --------------------------------------------------------------------------------
    def _act(self, droplet_id: int, body: Any) -> Reply:
        droplet = self.droplets.get(droplet_id)
        if droplet is None:
            return not_found()
        kind = body.get("type") if isinstance(body, dict) else None
        if any(
            a["resource_id"] == droplet_id and a["status"] == "in-progress" for a in self.actions.values()
        ):
            return problem(422, "unprocessable_entity", "Droplet already has a pending event.")
        if kind == "power_off":
            effect: Any = ("status", "off")
        elif kind == "power_on":
            effect = ("status", "active")
        elif kind == "resize":
            if droplet["status"] != "off":
                return problem(
                    422,
                    "unprocessable_entity",
                    "Droplet is currently on. Please power it off to run this event.",
                )
            if body.get("size") not in SIZES:
                return problem(422, "unprocessable_entity", "Size is invalid.")
            effect = ("size", body["size"])
        else:
            return problem(422, "unprocessable_entity", f"Action type {str(kind)[:30]!r} is not supported.")
        return Reply(201, {"action": self._start(droplet_id, kind, effect)})

    def _action(self, action_id: int) -> Reply:
        action = self.actions.get(action_id)
        if action is None:
            return not_found()
        reads, effect = self._pending.get(action_id, (0, None))
        if action["status"] == "in-progress":
            if reads > 1:
                self._pending[action_id] = (reads - 1, effect)
            else:
                self._finish(action, effect)
        return Reply(200, {"action": action})

    def _start(self, droplet_id: int, kind: str, effect: Any) -> dict[str, Any]:
        action_id = next(self._action_ids)
        action = {
            "id": action_id,
            "status": "in-progress",
            "type": kind,
            "started_at": "2026-12-06T10:00:00Z",
            "completed_at": None,
            "resource_id": droplet_id,
            "resource_type": "droplet",
            "region_slug": self.droplets[droplet_id]["region"]["slug"],
        }
        self.actions[action_id] = action
        self._pending[action_id] = (self.action_polls, effect)
        return action

    def _finish(self, action: dict[str, Any], effect: Any) -> None:
        self._pending.pop(action["id"], None)
        if action["type"] in self.erring:
            action.update(status="errored", completed_at="2026-12-06T10:01:00Z")
            return
        action.update(status="completed", completed_at="2026-12-06T10:01:00Z")
        droplet = self.droplets.get(action["resource_id"])
        if droplet is None:
            return
        field, value = effect
        if field == "size":
            self._size(droplet, value)
        else:
            droplet[field] = value

    # --- shapes ---------------------------------------------------------------------------------
    def _droplet(self, name: str, size: str, region: str, image: str, tags: list[str]) -> dict[str, Any]:
        droplet_id = next(self._ids)
        droplet: dict[str, Any] = {
            "id": droplet_id,
            "name": name,
            "locked": False,
            "status": "new",
            "kernel": None,
            "created_at": "2026-12-06T10:00:00Z",
            "features": ["monitoring"],
            "backup_ids": [],
            "next_backup_window": None,
            "snapshot_ids": [],
            "image": {
                "id": IMAGES[image],
                "name": image,
                "distribution": image.split("-")[0].capitalize(),
                "slug": image,
                "public": True,
                "regions": list(REGIONS),
                "type": "base",
            },
            "volume_ids": [],
            "networks": {
                "v4": [
                    {
                        "ip_address": "10.128.192.124",
                        "netmask": "255.255.0.0",
                        "gateway": "nil",
                        "type": "private",
                    },
                    {
                        "ip_address": "192.241.165.154",
                        "netmask": "255.255.255.0",
                        "gateway": "192.241.165.1",
                        "type": "public",
                    },
                ],
                "v6": [],
            },
            "region": {
                "name": region.upper(),
                "slug": region,
                "features": ["backups"],
                "available": True,
                "sizes": list(SIZES),
            },
            "tags": tags,
            "vpc_uuid": "760e09ef-dc84-11e8-981e-3cfdfeaae000",
        }
        self._size(droplet, size)
        self.droplets[droplet_id] = droplet
        return droplet

    @staticmethod
    def _size(droplet: dict[str, Any], slug: str) -> None:
        vcpus, memory, disk, price = SIZES[slug]
        droplet.update(memory=memory, vcpus=vcpus, disk=disk, size_slug=slug)
        droplet["size"] = {
            "slug": slug,
            "memory": memory,
            "vcpus": vcpus,
            "disk": disk,
            "transfer": 1.0,
            "price_monthly": price,
            "price_hourly": round(price / 672, 5),
            "regions": list(REGIONS),
            "available": True,
            "description": "Basic",
        }
