"""A fake OpenStack cloud on 127.0.0.1 for the OpenStack provider's contract tests: Keystone v3,
Nova (compute v2.1), Cinder (block storage v3) and the version documents the SDK discovers, for
exactly the calls `cirrus_openstack` makes, in the shapes of the public API references:

- Identity v3: https://docs.openstack.org/api-ref/identity/v3/
  (POST /v3/auth/tokens with the password method and a project scope -> 201, the token in the
  `X-Subject-Token` header and `token.catalog` in the body; GET/POST /v3/projects (filters
  domain_id, name, tags), GET/PATCH/DELETE /v3/projects/{project_id}; errors as
  `{"error": {"code", "message", "title"}}`), and its version discovery
  https://docs.openstack.org/api-ref/identity/v3/#list-versions
- Compute: https://docs.openstack.org/api-ref/compute/
  (GET / and GET /v2.1 version documents; POST /servers -> 202 `{"server": {"id", "links",
  "adminPass", ...}}`; GET /servers/detail, GET /servers/{id} with `status`, `flavor`, `image`,
  `metadata`, `addresses`, `fault` when ERROR; DELETE /servers/{id} -> 204; POST
  /servers/{id}/action `resize` / `confirmResize` -> 202; GET /flavors/{id}, GET /flavors/detail;
  GET/PUT /os-quota-sets/{tenant_id}; errors as `{"itemNotFound": {"code": 404, "message"}}`,
  `{"badRequest": ...}`, `{"conflictingRequest": ...}`, `{"computeFault": ...}`)
- Block Storage v3: https://docs.openstack.org/api-ref/block-storage/v3/
  (GET / and GET /v3 version documents; POST /v3/{project_id}/volumes -> 202 `{"volume": ...}`
  status `creating` -> `available`; GET /volumes/detail, GET /volumes/{id}; DELETE -> 202, status
  `deleting` then gone; POST /volumes/{id}/action `os-extend` -> 202, `extending` -> `available`;
  GET/PUT /os-quota-sets/{project_id}; same error shape as Nova)
- The microversion rules: https://docs.openstack.org/api-guide/compute/microversions.html (this
  compute advertises `compute_max_version`, 2.1 by default; the SDK negotiates and sends
  `OpenStack-API-Version: compute X.Y`; lists paginate with `limit`/`marker` and `servers_links`
  (https://docs.openstack.org/api-guide/compute/paginated_collections.html), as Cinder's do with
  `volumes_links`; from 2.37 `networks` is required on create, from 2.47 a
  server's `flavor` is embedded as `{"original_name", "vcpus", "ram", ...}` without its id; a
  version above the maximum answers 406).
- Networking v2: https://docs.openstack.org/api-ref/network/v2/
  (GET / versions; POST/GET /v2.0/networks, POST/GET /v2.0/subnets, POST/GET /v2.0/routers with
  `external_gateway_info`, PUT /v2.0/routers/{id}/add_router_interface and
  /remove_router_interface, GET /v2.0/ports (device_id, network_id: the router's interface ports),
  DELETE /v2.0/routers/{id} (409 RouterInUse while it has interfaces),
  DELETE /v2.0/networks/{id} (409 NetworkInUse while a router port is on it; its subnets go with
  it); filters project_id, name, network_id; errors as `{"NeutronError": {"type", "message",
  "detail"}}`)

Every call but the version documents and POST /auth/tokens must carry a token the fake issued in
`X-Auth-Token` (401 otherwise, as the services answer). Work takes a number of polls to finish
(`polls_to_finish`), so the plugin's waiting loops are exercised without any clock. `fail(...)`
makes the next matching request answer an error (a 5xx, a 4xx), `requests` records what was sent
(bodies included, for the secret checks).
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ADMIN_PROJECT = "admin"
DEFAULT_DOMAIN = "default"
REGION = "RegionOne"
JSON = "application/json"

# Nova's and Cinder's error keys per status (api-ref "Response Codes" and the faults they render).
_FAULT_KEYS = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    409: "conflictingRequest",
    413: "overLimit",
    500: "computeFault",
    503: "serviceUnavailable",
}
_TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict"}


class Answer(Exception):
    """An HTTP answer raised from deep in a handler (errors, mostly)."""

    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def _fault(status: int, message: str) -> Answer:
    return Answer(status, {_FAULT_KEYS.get(status, "computeFault"): {"code": status, "message": message}})


def _keystone_error(status: int, message: str) -> Answer:
    return Answer(status, {"error": {"code": status, "message": message, "title": _TITLES.get(status, "")}})


@dataclass
class Failure:
    method: str
    path: str  # a regular expression searched in the request path
    status: int
    message: str
    times: int = 1


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    headers: dict[str, str]


@dataclass
class OpenStackFake:
    """The cloud's state and its HTTP face. `start()` it, point `auth_url` at it, `stop()` it."""

    username: str = "cirrus-admin"
    password: str = "s3cret-Passw0rd-for-tests"
    user_domain_name: str = "Default"
    project_name: str = ADMIN_PROJECT
    project_domain_name: str = "Default"
    polls_to_finish: int = 1  # GETs of a resource in a transitional status before it settles
    # The highest compute microversion this Nova advertises (2.1: none beyond the base). From 2.37
    # POST /servers requires `networks`; from 2.47 a server embeds its flavor (no id).
    compute_max_version: str = "2.1"
    # Nova's and Cinder's `max_limit`: lists answer pages this long with a `<collection>_links` next
    # link carrying `marker` (0: one page, as when there are fewer than max_limit items).
    page_size: int = 0
    microversion: tuple[int, int] = (2, 1)  # the one the request being served asked for
    projects: dict[str, dict[str, Any]] = field(default_factory=dict)
    servers: dict[str, dict[str, Any]] = field(default_factory=dict)
    volumes: dict[str, dict[str, Any]] = field(default_factory=dict)
    flavors: dict[str, dict[str, Any]] = field(default_factory=dict)
    images: dict[str, dict[str, Any]] = field(default_factory=dict)
    networks: dict[str, dict[str, Any]] = field(default_factory=dict)
    subnets: dict[str, dict[str, Any]] = field(default_factory=dict)
    routers: dict[str, dict[str, Any]] = field(default_factory=dict)
    ports: dict[str, dict[str, Any]] = field(default_factory=dict)
    compute_quotas: dict[str, dict[str, int]] = field(default_factory=dict)
    volume_quotas: dict[str, dict[str, int]] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    requests: list[Recorded] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    broken_images: set[str] = field(default_factory=set)  # a server from one of these goes ERROR
    # Catalog URLs to answer instead of the fake's own, by service type (the URL guard's tests).
    endpoint_overrides: dict[str, str] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _server: ThreadingHTTPServer | None = None

    def __post_init__(self) -> None:
        self.admin_project_id = uuid.uuid4().hex
        self.projects[self.admin_project_id] = self._project(self.project_name, DEFAULT_DOMAIN, "", [])
        self.projects[self.admin_project_id]["id"] = self.admin_project_id
        for flavor_id, name, vcpus, ram, disk in (
            ("1", "m1.small", 1, 2048, 20),
            ("2", "m1.medium", 2, 4096, 40),
        ):
            self.flavors[flavor_id] = {
                "id": flavor_id,
                "name": name,
                "vcpus": vcpus,
                "ram": ram,
                "disk": disk,
            }
        self.image_id = str(uuid.uuid4())
        self.images[self.image_id] = {"id": self.image_id, "name": "debian-12"}
        self.broken_image_id = str(uuid.uuid4())
        self.images[self.broken_image_id] = {"id": self.broken_image_id, "name": "broken"}
        self.broken_images.add(self.broken_image_id)
        self.network_id = str(uuid.uuid4())
        self.networks[self.network_id] = self._network("private", self.admin_project_id)
        self.networks[self.network_id]["id"] = self.network_id
        self.external_network_id = str(uuid.uuid4())
        self.networks[self.external_network_id] = self._network(
            "public", self.admin_project_id, external=True
        )
        self.networks[self.external_network_id]["id"] = self.external_network_id

    # --- life ----------------------------------------------------------------------------------
    def start(self) -> OpenStackFake:
        fake = self

        class Handler(_Handler):
            cloud = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def auth_url(self) -> str:
        return f"{self.base}/identity/v3"

    def fail(self, method: str, path: str, status: int, message: str = "", times: int = 1) -> None:
        """The next `times` requests of `method` whose path matches `path` answer `status`."""
        with self._lock:
            self.failures.append(
                Failure(method, path, status, message or f"Injected failure {status}", times)
            )

    def sent(self, method: str, pattern: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and re.search(pattern, r.path)]

    # --- shapes ----------------------------------------------------------------------------------
    def _project(self, name: str, domain_id: str, description: str, tags: list[str]) -> dict[str, Any]:
        project_id = uuid.uuid4().hex
        return {
            "id": project_id,
            "name": name,
            "domain_id": domain_id,
            "description": description,
            "enabled": True,
            "is_domain": False,
            "parent_id": domain_id,
            "tags": tags,
            "options": {},
            "links": {"self": f"{self.base_or_blank}/identity/v3/projects/{project_id}"},
        }

    def _network(self, name: str, project_id: str, external: bool = False) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid4()),
            "name": name,
            "project_id": project_id,
            "tenant_id": project_id,
            "admin_state_up": True,
            "status": "ACTIVE",
            "subnets": [],
            "shared": False,
            "router:external": external,
            "mtu": 1450,
            "description": "",
            "tags": [],
        }

    @property
    def base_or_blank(self) -> str:
        return self.base if self._server is not None else ""

    def catalog(self) -> list[dict[str, Any]]:
        def service(kind: str, name: str, url: str) -> dict[str, Any]:
            url = self.endpoint_overrides.get(kind, url)
            return {
                "type": kind,
                "name": name,
                "id": uuid.uuid4().hex,
                "endpoints": [
                    {
                        "id": uuid.uuid4().hex,
                        "interface": "public",
                        "region": REGION,
                        "region_id": REGION,
                        "url": url,
                    }
                ],
            }

        return [
            service("identity", "keystone", f"{self.base}/identity"),
            service("compute", "nova", f"{self.base}/compute/v2.1"),
            service("volumev3", "cinderv3", f"{self.base}/volume/v3/{self.admin_project_id}"),
            service("block-storage", "cinder", f"{self.base}/volume/v3/{self.admin_project_id}"),
            service("network", "neutron", f"{self.base}/network"),
            service("image", "glance", f"{self.base}/image"),
        ]

    def server_view(self, server: dict[str, Any]) -> dict[str, Any]:
        view = {k: v for k, v in server.items() if not k.startswith("_")}
        if self.microversion >= (2, 47):
            flavor = self.flavors[server["_flavor"]]
            view["flavor"] = {
                "original_name": flavor["name"],
                "vcpus": flavor["vcpus"],
                "ram": flavor["ram"],
                "disk": flavor["disk"],
                "ephemeral": 0,
                "swap": 0,
                "extra_specs": {},
            }
            view["image"] = {"id": server["_image"], "links": []} if server["_image"] else ""
            return view
        view["flavor"] = {
            "id": server["_flavor"],
            "links": [{"rel": "bookmark", "href": f"/flavors/{server['_flavor']}"}],
        }
        view["image"] = {"id": server["_image"], "links": []} if server["_image"] else ""
        return view


class _Handler(BaseHTTPRequestHandler):
    cloud: OpenStackFake
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    # --- plumbing --------------------------------------------------------------------------------
    def _serve(self, method: str) -> None:
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        query = parse_qs(parts.query)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        cloud = self.cloud
        with cloud._lock:
            cloud.requests.append(Recorded(method, path, query, body, dict(self.headers.items())))
            try:
                if isinstance(body, str):
                    raise _fault(400, "Malformed request body")
                self._inject(method, path)
                cloud.microversion = self._microversion(path)
                status, answer, headers = self._route(method, path, query, body)
            except Answer as exc:
                status, answer, headers = exc.status, exc.body, exc.headers
        data = b"" if answer is None else json.dumps(answer).encode()
        self.send_response(status)
        if data:
            self.send_header("Content-Type", JSON)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-openstack-request-id", f"req-{uuid.uuid4()}")
        self.end_headers()
        self.wfile.write(data)

    def _microversion(self, path: str) -> tuple[int, int]:
        """The compute microversion asked for (api-guide/compute/microversions): 406 above the max."""
        if not path.startswith("/compute"):
            return (2, 1)
        asked = self.headers.get("X-OpenStack-Nova-API-Version") or ""
        header = self.headers.get("OpenStack-API-Version") or ""
        if header.startswith("compute "):
            asked = header.removeprefix("compute ").strip()
        if not asked:
            return (2, 1)
        highest = _parse_version(self.cloud.compute_max_version)
        wanted = highest if asked == "latest" else _parse_version(asked)
        if not (2, 1) <= wanted <= highest:
            raise Answer(
                406,
                {
                    "computeFault": {
                        "code": 406,
                        "message": f"Version {asked} is not supported by the API. Minimum is 2.1 and maximum "
                        f"is {self.cloud.compute_max_version}.",
                    }
                },
            )
        return wanted

    def _inject(self, method: str, path: str) -> None:
        for failure in list(self.cloud.failures):
            if failure.method == method and re.search(failure.path, path):
                failure.times -= 1
                if failure.times <= 0:
                    self.cloud.failures.remove(failure)
                if path.startswith("/identity"):
                    raise _keystone_error(failure.status, failure.message)
                if path.startswith("/network"):
                    raise _neutron_error(failure.status, "Injected", failure.message)
                raise _fault(failure.status, failure.message)

    def _authorized(self, path: str) -> None:
        if self.headers.get("X-Auth-Token") not in self.cloud.tokens:
            if path.startswith("/identity"):
                raise _keystone_error(401, "The request you have made requires authentication.")
            raise Answer(
                401,
                {
                    "error": {
                        "code": 401,
                        "title": "Unauthorized",
                        "message": "The request you have made requires authentication.",
                    }
                },
            )

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        for pattern, handler in ROUTES:
            match = re.fullmatch(pattern, f"{method} {path}")
            if match:
                if not getattr(handler, "public", False):
                    self._authorized(path)
                return handler(self.cloud, query, body, *match.groups())
        if path.startswith("/identity"):
            raise _keystone_error(404, f"Could not find {path}.")
        if path.startswith("/network"):
            raise _neutron_error(404, "HTTPNotFound", "The resource could not be found.")
        raise _fault(404, "The resource could not be found.")


Handler = Callable[..., tuple[int, Any, dict[str, str]]]


def _page(
    cloud: OpenStackFake, items: list[dict[str, Any]], query: dict[str, list[str]], collection: str, path: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One page after `marker` (an id; 400 if unknown), at most `limit` or the fake's `page_size`
    long, and the next link when the page is full (Nova's and Cinder's pagination)."""
    if "marker" in query:
        ids = [i["id"] for i in items]
        if query["marker"][0] not in ids:
            raise _fault(400, f"marker [{query['marker'][0]}] not found")
        items = items[ids.index(query["marker"][0]) + 1 :]
    sizes = [n for n in (int(query.get("limit", ["0"])[0] or 0), cloud.page_size) if n > 0]
    if not sizes or len(items) < min(sizes):
        return items, {}
    page = items[: min(sizes)]
    href = f"{cloud.base}{path}?limit={min(sizes)}&marker={page[-1]['id']}"
    return page, {f"{collection}_links": [{"rel": "next", "href": href}]}


def _parse_version(text: str) -> tuple[int, int]:
    try:
        major, minor = text.split(".")
        return (int(major), int(minor))
    except ValueError:
        raise _fault(400, f"Invalid API version request string {text}") from None


def public(fn: Handler) -> Handler:
    fn.public = True  # type: ignore[attr-defined]
    return fn


def ok(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> tuple[int, Any, dict[str, str]]:
    return status, body, headers or {}


# --- version documents ---------------------------------------------------------------------------
def _version(
    cloud: OpenStackFake, version_id: str, href: str, version: str = "", min_version: str = ""
) -> dict[str, Any]:
    return {
        "id": version_id,
        "status": "CURRENT",
        "version": version,
        "min_version": min_version,
        "updated": "2013-07-23T11:33:21Z",
        "links": [{"rel": "self", "href": f"{cloud.base}{href}/"}],
        "media-types": [{"base": JSON, "type": "application/vnd.openstack.compute+json;version=2.1"}],
    }


@public
def identity_versions(cloud: OpenStackFake, query: Any, body: Any) -> tuple[int, Any, dict[str, str]]:
    version = {**_version(cloud, "v3.14", "/identity/v3"), "status": "stable"}
    return ok({"versions": {"values": [version]}}, 300)


@public
def identity_version(cloud: OpenStackFake, query: Any, body: Any) -> tuple[int, Any, dict[str, str]]:
    return ok({"version": {**_version(cloud, "v3.14", "/identity/v3"), "status": "stable"}})


@public
def compute_versions(cloud: OpenStackFake, query: Any, body: Any) -> tuple[int, Any, dict[str, str]]:
    return ok({"versions": [_version(cloud, "v2.1", "/compute/v2.1", cloud.compute_max_version, "2.1")]})


@public
def compute_version(cloud: OpenStackFake, query: Any, body: Any) -> tuple[int, Any, dict[str, str]]:
    return ok({"version": _version(cloud, "v2.1", "/compute/v2.1", cloud.compute_max_version, "2.1")})


@public
def volume_versions(cloud: OpenStackFake, query: Any, body: Any, *_: str) -> tuple[int, Any, dict[str, str]]:
    return ok({"versions": [_version(cloud, "v3.0", "/volume/v3", "3.0", "3.0")]}, 300)


@public
def volume_version(cloud: OpenStackFake, query: Any, body: Any, *_: str) -> tuple[int, Any, dict[str, str]]:
    return ok({"version": _version(cloud, "v3.0", "/volume/v3", "3.0", "3.0")})


@public
def network_versions(cloud: OpenStackFake, query: Any, body: Any) -> tuple[int, Any, dict[str, str]]:
    return ok(
        {
            "versions": [
                {
                    "id": "v2.0",
                    "status": "CURRENT",
                    "links": [{"rel": "self", "href": f"{cloud.base}/network/v2.0/"}],
                }
            ]
        }
    )


@public
def network_root(cloud: OpenStackFake, query: Any, body: Any) -> tuple[int, Any, dict[str, str]]:
    names = ("network", "subnet", "router", "quota")
    resources = [
        {
            "name": n,
            "collection": f"{n}s",
            "links": [{"rel": "self", "href": f"{cloud.base}/network/v2.0/{n}s"}],
        }
        for n in names
    ]
    return ok({"resources": resources})


# --- Keystone --------------------------------------------------------------------------------------
def _required(mapping: Any, *keys: str) -> Any:
    value = mapping
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            raise _keystone_error(
                400, f"Invalid input for field '{'.'.join(keys)}': a required property is missing."
            )
        value = value[key]
    return value


@public
def issue_token(cloud: OpenStackFake, query: Any, body: Any) -> tuple[int, Any, dict[str, str]]:
    identity = _required(body, "auth", "identity")
    if _required(identity, "methods") != ["password"]:
        raise _keystone_error(400, "Only the password method is served here.")
    user = _required(identity, "password", "user")
    domain = user.get("domain") or {}
    scope = _required(body, "auth", "scope", "project")
    scope_domain = scope.get("domain") or {}
    if (
        user.get("name") != cloud.username
        or user.get("password") != cloud.password
        or domain.get("name", domain.get("id")) not in (cloud.user_domain_name, DEFAULT_DOMAIN)
    ):
        raise _keystone_error(401, "The request you have made requires authentication.")
    if scope.get("name") != cloud.project_name or scope_domain.get("name", scope_domain.get("id")) not in (
        cloud.project_domain_name,
        DEFAULT_DOMAIN,
    ):
        raise _keystone_error(401, "The request you have made requires authentication.")
    token = uuid.uuid4().hex
    cloud.tokens.add(token)
    answer = {
        "token": {
            "methods": ["password"],
            "expires_at": "2099-01-01T00:00:00.000000Z",
            "issued_at": "2026-01-01T00:00:00.000000Z",
            "audit_ids": [uuid.uuid4().hex[:22]],
            "user": {
                "id": uuid.uuid4().hex,
                "name": cloud.username,
                "domain": {"id": DEFAULT_DOMAIN, "name": "Default"},
            },
            "project": {
                "id": cloud.admin_project_id,
                "name": cloud.project_name,
                "domain": {"id": DEFAULT_DOMAIN, "name": "Default"},
            },
            "roles": [{"id": uuid.uuid4().hex, "name": "admin"}],
            "is_domain": False,
            "catalog": cloud.catalog(),
        }
    }
    return ok(answer, 201, {"X-Subject-Token": token})


def _project_or_404(cloud: OpenStackFake, project_id: str) -> dict[str, Any]:
    project = cloud.projects.get(project_id)
    if project is None:
        raise _keystone_error(404, f"Could not find project: {project_id}.")
    return project


def list_projects(
    cloud: OpenStackFake, query: dict[str, list[str]], body: Any
) -> tuple[int, Any, dict[str, str]]:
    found = list(cloud.projects.values())
    for key in ("domain_id", "name"):
        if key in query:
            found = [p for p in found if p[key] == query[key][0]]
    if "tags" in query:  # every tag named (comma-separated) must be on the project
        wanted = set(query["tags"][0].split(","))
        found = [p for p in found if wanted <= set(p["tags"])]
    return ok(
        {
            "projects": found,
            "links": {"self": f"{cloud.base}/identity/v3/projects", "next": None, "previous": None},
        }
    )


def create_project(cloud: OpenStackFake, query: Any, body: Any) -> tuple[int, Any, dict[str, str]]:
    data = _required(body, "project")
    name = _required(data, "name")
    if not isinstance(name, str) or not 1 <= len(name) <= 64:
        raise _keystone_error(400, "Invalid input for field 'name': length must be between 1 and 64.")
    domain_id = data.get("domain_id") or DEFAULT_DOMAIN
    tags = data.get("tags") or []
    if any(not isinstance(t, str) or len(t) > 255 or "/" in t or "," in t for t in tags):
        raise _keystone_error(400, "Invalid input for field 'tags'.")
    if any(p["name"] == name and p["domain_id"] == domain_id for p in cloud.projects.values()):
        raise _keystone_error(
            409,
            "Conflict occurred attempting to store project - it is not permitted to have two projects "
            f"with the same name in the same domain : {name}.",
        )
    project = cloud._project(name, domain_id, str(data.get("description") or ""), list(tags))
    project["enabled"] = bool(data.get("enabled", True))
    cloud.projects[project["id"]] = project
    return ok({"project": project}, 201)


def show_project(
    cloud: OpenStackFake, query: Any, body: Any, project_id: str
) -> tuple[int, Any, dict[str, str]]:
    return ok({"project": _project_or_404(cloud, project_id)})


def update_project(
    cloud: OpenStackFake, query: Any, body: Any, project_id: str
) -> tuple[int, Any, dict[str, str]]:
    project = _project_or_404(cloud, project_id)
    project.update(
        {
            k: v
            for k, v in _required(body, "project").items()
            if k in ("name", "description", "enabled", "tags")
        }
    )
    return ok({"project": project})


def delete_project(
    cloud: OpenStackFake, query: Any, body: Any, project_id: str
) -> tuple[int, Any, dict[str, str]]:
    _project_or_404(cloud, project_id)
    del cloud.projects[project_id]
    cloud.compute_quotas.pop(project_id, None)
    cloud.volume_quotas.pop(project_id, None)
    return ok(None, 204)


# --- Nova ------------------------------------------------------------------------------------------
def _advance(item: dict[str, Any], transitions: dict[str, str]) -> None:
    """A read of a resource in a transitional status moves it on after `polls_to_finish` reads."""
    if item["status"] in transitions:
        item["_polls"] = item.get("_polls", 0) + 1
        if item["_polls"] >= item["_finish_after"]:
            item["status"] = transitions[item["status"]]
            item["_polls"] = 0


def _server_or_404(cloud: OpenStackFake, server_id: str) -> dict[str, Any]:
    server = cloud.servers.get(server_id)
    if server is None:
        raise _fault(404, f"Instance {server_id} could not be found.")
    return server


def _settle_server(cloud: OpenStackFake, server: dict[str, Any]) -> None:
    if server["status"] == "BUILD" and server["_image"] in cloud.broken_images:
        server["_polls"] = server.get("_polls", 0) + 1
        if server["_polls"] >= server["_finish_after"]:
            server["status"] = "ERROR"
            server["fault"] = {
                "code": 500,
                "message": "No valid host was found. There are not enough hosts available.",
                "created": "2026-01-01T00:00:00Z",
            }
        return
    _advance(server, {"BUILD": "ACTIVE", "RESIZE": "VERIFY_RESIZE"})


def create_server(cloud: OpenStackFake, query: Any, body: Any) -> tuple[int, Any, dict[str, str]]:
    data = body.get("server") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise _fault(400, "Invalid input for field/attribute server.")
    name = data.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= 255:
        raise _fault(400, "Invalid input for field/attribute name.")
    flavor = data.get("flavorRef")
    if flavor not in cloud.flavors:
        raise _fault(400, f"Flavor {flavor} could not be found.")
    image = data.get("imageRef") or ""
    mappings = data.get("block_device_mapping_v2") or []
    if not image and not mappings:
        raise _fault(
            400,
            "Block Device Mapping is Invalid: Boot sequence for the instance and image/block device "
            "mapping combination is not valid.",
        )
    for mapping in mappings:
        if mapping.get("source_type") == "image":
            image = mapping.get("uuid") or ""
    if image not in cloud.images:
        raise _fault(400, f"Image {image} could not be found.")
    if cloud.microversion >= (2, 37) and "networks" not in data:
        raise _fault(
            400, "Invalid input for field/attribute server. Value: ... 'networks' is a required property"
        )
    for network in data.get("networks") or []:
        if network.get("uuid") not in cloud.networks:
            raise _fault(400, f"Network {network.get('uuid')} could not be found.")
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict) or any(
        len(str(k)) > 255 or len(str(v)) > 255 for k, v in metadata.items()
    ):
        raise _fault(400, "Invalid input for field/attribute metadata.")
    server_id = str(uuid.uuid4())
    cloud.servers[server_id] = {
        "id": server_id,
        "name": name,
        "status": "BUILD",
        "tenant_id": cloud.admin_project_id,
        "user_id": uuid.uuid4().hex,
        "metadata": metadata,
        "addresses": {
            cloud.networks[n["uuid"]]["name"]: [
                {"version": 4, "addr": "10.0.0.5", "OS-EXT-IPS:type": "fixed"}
            ]
            for n in data.get("networks") or []
        },
        "OS-EXT-AZ:availability_zone": data.get("availability_zone") or "nova",
        "created": "2026-01-01T00:00:00Z",
        "updated": "2026-01-01T00:00:00Z",
        "links": [{"rel": "self", "href": f"{cloud.base}/compute/v2.1/servers/{server_id}"}],
        "_flavor": flavor,
        "_image": "" if mappings else image,
        "_finish_after": cloud.polls_to_finish,
        "_block_device_mapping_v2": mappings,
    }
    answer = {
        "server": {
            "id": server_id,
            "links": cloud.servers[server_id]["links"],
            "adminPass": "fake-admin-pass",
            "OS-DCF:diskConfig": "MANUAL",
            "security_groups": [{"name": "default"}],
        }
    }
    return ok(answer, 202, {"Location": f"{cloud.base}/compute/v2.1/servers/{server_id}"})


def list_servers(
    cloud: OpenStackFake, query: dict[str, list[str]], body: Any
) -> tuple[int, Any, dict[str, str]]:
    found = list(cloud.servers.values())
    if "project_id" in query or "tenant_id" in query:
        if query.get("all_tenants", ["0"])[0] not in ("1", "True", "true"):
            raise _fault(
                403, "Policy doesn't allow os_compute_api:servers:index:get_all_tenants to be performed."
            )
        wanted = (query.get("project_id") or query.get("tenant_id") or [""])[0]
        found = [s for s in found if s["tenant_id"] == wanted]
    else:  # the token's project only
        found = [s for s in found if s["tenant_id"] == cloud.admin_project_id]
    page, links = _page(cloud, found, query, "servers", "/compute/v2.1/servers/detail")
    for server in page:
        _settle_server(cloud, server)
    return ok({"servers": [cloud.server_view(s) for s in page], **links})


def show_server(
    cloud: OpenStackFake, query: Any, body: Any, server_id: str
) -> tuple[int, Any, dict[str, str]]:
    server = _server_or_404(cloud, server_id)
    _settle_server(cloud, server)
    return ok({"server": cloud.server_view(server)})


def delete_server(
    cloud: OpenStackFake, query: Any, body: Any, server_id: str
) -> tuple[int, Any, dict[str, str]]:
    _server_or_404(cloud, server_id)
    del cloud.servers[server_id]
    return ok(None, 204)


def server_action(
    cloud: OpenStackFake, query: Any, body: Any, server_id: str
) -> tuple[int, Any, dict[str, str]]:
    server = _server_or_404(cloud, server_id)
    if not isinstance(body, dict) or len(body) != 1:
        raise _fault(400, "There is no such action.")
    ((action, args),) = body.items()
    if action == "resize":
        flavor = (args or {}).get("flavorRef")
        if flavor not in cloud.flavors:
            raise _fault(400, f"Flavor {flavor} could not be found.")
        if server["status"] not in ("ACTIVE", "SHUTOFF"):
            raise _fault(
                409,
                f"Cannot 'resize' instance {server_id} while it is in vm_state {server['status'].lower()}",
            )
        if flavor == server["_flavor"]:
            raise _fault(400, "When resizing, instances must change flavor!")
        server.update(status="RESIZE", _new_flavor=flavor, _polls=0)
        return ok(None, 202)
    if action == "confirmResize":
        if server["status"] != "VERIFY_RESIZE":
            raise _fault(
                409,
                f"Cannot 'confirmResize' instance {server_id} while it is in vm_state "
                f"{server['status'].lower()}",
            )
        server.update(status="ACTIVE", _flavor=server.pop("_new_flavor"))
        return ok(None, 204)
    raise _fault(400, f"There is no such action: {action}")


def _flavor_view(cloud: OpenStackFake, flavor: dict[str, Any]) -> dict[str, Any]:
    return {
        **flavor,
        "links": [{"rel": "self", "href": f"{cloud.base}/compute/v2.1/flavors/{flavor['id']}"}],
        "os-flavor-access:is_public": True,
        "OS-FLV-EXT-DATA:ephemeral": 0,
        "swap": "",
        "rxtx_factor": 1.0,
        "OS-FLV-DISABLED:disabled": False,
    }


def show_flavor(
    cloud: OpenStackFake, query: Any, body: Any, flavor_id: str
) -> tuple[int, Any, dict[str, str]]:
    flavor = cloud.flavors.get(flavor_id)
    if flavor is None:
        raise _fault(404, f"Flavor {flavor_id} could not be found.")
    return ok({"flavor": _flavor_view(cloud, flavor)})


def list_flavors(cloud: OpenStackFake, query: Any, body: Any) -> tuple[int, Any, dict[str, str]]:
    return ok({"flavors": [_flavor_view(cloud, f) for f in cloud.flavors.values()]})


_COMPUTE_QUOTA_DEFAULTS = {
    "cores": 20,
    "ram": 51200,
    "instances": 10,
    "key_pairs": 100,
    "metadata_items": 128,
    "server_groups": 10,
    "server_group_members": 10,
}
_VOLUME_QUOTA_DEFAULTS = {
    "gigabytes": 1000,
    "volumes": 10,
    "snapshots": 10,
    "backups": 10,
    "backup_gigabytes": 1000,
    "per_volume_gigabytes": -1,
    "groups": 10,
}


def _quota_body(
    kind: str, quotas: dict[str, dict[str, int]], defaults: dict[str, int], project_id: str, body: Any
) -> dict[str, Any]:
    data = body.get("quota_set") if isinstance(body, dict) else None
    if not isinstance(data, dict) or not data:
        raise _fault(400, "Invalid input for field/attribute quota_set.")
    current = quotas.setdefault(project_id, dict(defaults))
    for key, value in data.items():
        if key in ("id", "project_id", "force"):
            continue
        if key not in defaults:
            raise _fault(400, f"Bad key(s) {key} in quota_set")
        if isinstance(value, bool) or not isinstance(value, int) or value < -1:
            raise _fault(
                400, f"Invalid input for field/attribute {key}. Value: {value}. must be an integer >= -1"
            )
        current[key] = value
    return {"quota_set": dict(current)}


def show_compute_quotas(
    cloud: OpenStackFake, query: Any, body: Any, project_id: str
) -> tuple[int, Any, dict[str, str]]:
    return ok(
        {"quota_set": {"id": project_id, **cloud.compute_quotas.get(project_id, _COMPUTE_QUOTA_DEFAULTS)}}
    )


def update_compute_quotas(
    cloud: OpenStackFake, query: Any, body: Any, project_id: str
) -> tuple[int, Any, dict[str, str]]:
    if project_id not in cloud.projects:
        raise _fault(400, f"Project ID {project_id} is not a valid project.")
    return ok(_quota_body("compute", cloud.compute_quotas, _COMPUTE_QUOTA_DEFAULTS, project_id, body))


# --- Cinder ----------------------------------------------------------------------------------------
def _volume_or_404(cloud: OpenStackFake, volume_id: str) -> dict[str, Any]:
    volume = cloud.volumes.get(volume_id)
    if volume is None:
        raise _fault(404, f"Volume {volume_id} could not be found.")
    return volume


def _settle_volume(cloud: OpenStackFake, volume: dict[str, Any]) -> bool:
    """False once a deleting volume is gone."""
    if volume["status"] == "deleting":
        volume["_polls"] = volume.get("_polls", 0) + 1
        if volume["_polls"] >= volume["_finish_after"]:
            del cloud.volumes[volume["id"]]
            return False
        return True
    _advance(volume, {"creating": "available", "extending": "available"})
    if volume["status"] == "available" and "_new_size" in volume:
        volume["size"] = volume.pop("_new_size")
    return True


def _volume_view(volume: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in volume.items() if not k.startswith("_")}


def _check_volume_project(cloud: OpenStackFake, project_id: str) -> None:
    if project_id != cloud.admin_project_id:  # the URL's project must be the token's
        raise _fault(403, "Policy doesn't allow this operation for another project.")


def create_volume(
    cloud: OpenStackFake, query: Any, body: Any, project_id: str
) -> tuple[int, Any, dict[str, str]]:
    _check_volume_project(cloud, project_id)
    data = body.get("volume") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise _fault(400, "Missing required element 'volume' in request body.")
    size = data.get("size")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise _fault(400, f"Invalid input for field/attribute size. Value: {size}. must be an integer >= 1")
    used = sum(v["size"] for v in cloud.volumes.values())
    limit = cloud.volume_quotas.get(project_id, _VOLUME_QUOTA_DEFAULTS)["gigabytes"]
    if limit != -1 and used + size > limit:
        raise _fault(
            413,
            "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes "
            f"quota. Requested {size}G, quota is {limit}G and {used}G has been consumed.",
        )
    volume_id = str(uuid.uuid4())
    cloud.volumes[volume_id] = {
        "id": volume_id,
        "name": data.get("name"),
        "description": data.get("description"),
        "size": size,
        "status": "creating",
        "availability_zone": data.get("availability_zone") or "nova",
        "volume_type": data.get("volume_type") or "__DEFAULT__",
        "metadata": data.get("metadata") or {},
        "bootable": "false",
        "attachments": [],
        "os-vol-tenant-attr:tenant_id": project_id,
        "created_at": "2026-01-01T00:00:00.000000",
        "links": [{"rel": "self", "href": f"{cloud.base}/volume/v3/{project_id}/volumes/{volume_id}"}],
        "_finish_after": cloud.polls_to_finish,
    }
    return ok({"volume": _volume_view(cloud.volumes[volume_id])}, 202)


def list_volumes(
    cloud: OpenStackFake, query: dict[str, list[str]], body: Any, project_id: str
) -> tuple[int, Any, dict[str, str]]:
    _check_volume_project(cloud, project_id)
    found = list(cloud.volumes.values())
    if "project_id" in query:
        if query.get("all_tenants", ["0"])[0] not in ("1", "True", "true"):
            found = []
        else:
            found = [v for v in found if v["os-vol-tenant-attr:tenant_id"] == query["project_id"][0]]
    else:  # the token's project only
        found = [v for v in found if v["os-vol-tenant-attr:tenant_id"] == cloud.admin_project_id]
    page, links = _page(cloud, found, query, "volumes", f"/volume/v3/{project_id}/volumes/detail")
    page = [v for v in page if _settle_volume(cloud, v)]
    return ok({"volumes": [_volume_view(v) for v in page], **links})


def show_volume(
    cloud: OpenStackFake, query: Any, body: Any, project_id: str, volume_id: str
) -> tuple[int, Any, dict[str, str]]:
    _check_volume_project(cloud, project_id)
    volume = _volume_or_404(cloud, volume_id)
    if not _settle_volume(cloud, volume):
        raise _fault(404, f"Volume {volume_id} could not be found.")
    return ok({"volume": _volume_view(volume)})


def delete_volume(
    cloud: OpenStackFake, query: Any, body: Any, project_id: str, volume_id: str
) -> tuple[int, Any, dict[str, str]]:
    _check_volume_project(cloud, project_id)
    volume = _volume_or_404(cloud, volume_id)
    if volume["status"] not in ("available", "error", "error_restoring", "error_extending", "error_managing"):
        raise _fault(
            400,
            "Invalid volume: Volume status must be available or error or error_restoring or "
            "error_extending or error_managing and must not be migrating, attached, belong to a group, "
            "have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.",
        )
    volume.update(status="deleting", _polls=0)
    return ok(None, 202)


def volume_action(
    cloud: OpenStackFake, query: Any, body: Any, project_id: str, volume_id: str
) -> tuple[int, Any, dict[str, str]]:
    _check_volume_project(cloud, project_id)
    volume = _volume_or_404(cloud, volume_id)
    extend = body.get("os-extend") if isinstance(body, dict) else None
    if not isinstance(extend, dict):
        raise _fault(400, "There is no such action.")
    new_size = extend.get("new_size")
    if isinstance(new_size, bool) or not isinstance(new_size, int):
        raise _fault(400, f"Invalid input for field/attribute new_size. Value: {new_size}.")
    if volume["status"] != "available":
        raise _fault(
            400,
            f"Invalid volume: Volume {volume_id} status must be available or in-use, but current "
            f"status is: {volume['status']}.",
        )
    if new_size <= volume["size"]:
        raise _fault(
            400,
            "Invalid input received: New size for extend must be greater than current size. "
            f"(current: {volume['size']}, extended: {new_size}).",
        )
    volume.update(status="extending", _new_size=new_size, _polls=0)
    return ok(None, 202)


def show_volume_quotas(
    cloud: OpenStackFake, query: Any, body: Any, admin_id: str, project_id: str
) -> tuple[int, Any, dict[str, str]]:
    _check_volume_project(cloud, admin_id)
    return ok(
        {"quota_set": {"id": project_id, **cloud.volume_quotas.get(project_id, _VOLUME_QUOTA_DEFAULTS)}}
    )


def update_volume_quotas(
    cloud: OpenStackFake, query: Any, body: Any, admin_id: str, project_id: str
) -> tuple[int, Any, dict[str, str]]:
    _check_volume_project(cloud, admin_id)
    if project_id not in cloud.projects:
        raise _fault(400, f"Project ID {project_id} is not a valid project.")
    return ok(_quota_body("volume", cloud.volume_quotas, _VOLUME_QUOTA_DEFAULTS, project_id, body))


# --- Neutron ---------------------------------------------------------------------------------------
def _neutron_error(status: int, kind: str, message: str) -> Answer:
    return Answer(status, {"NeutronError": {"type": kind, "message": message, "detail": ""}})


def _neutron_body(body: Any, key: str) -> dict[str, Any]:
    data = body.get(key) if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise _neutron_error(400, "BadRequest", f"Bad {key}s request: Resource body required.")
    return data


def _filtered(
    items: list[dict[str, Any]], query: dict[str, list[str]], keys: tuple[str, ...]
) -> list[dict[str, Any]]:
    for key in keys:
        if key in query:
            items = [i for i in items if i.get(key) == query[key][0]]
    return items


def _owner(cloud: OpenStackFake, data: dict[str, Any]) -> str:
    project_id = data.get("project_id") or data.get("tenant_id") or cloud.admin_project_id
    if project_id not in cloud.projects:
        raise _neutron_error(400, "BadRequest", f"Project {project_id} could not be found.")
    return str(project_id)


def create_network(cloud: OpenStackFake, query: Any, body: Any) -> tuple[int, Any, dict[str, str]]:
    data = _neutron_body(body, "network")
    network = cloud._network(str(data.get("name") or ""), _owner(cloud, data))
    cloud.networks[network["id"]] = network
    return ok({"network": network}, 201)


def list_networks(
    cloud: OpenStackFake, query: dict[str, list[str]], body: Any
) -> tuple[int, Any, dict[str, str]]:
    return ok({"networks": _filtered(list(cloud.networks.values()), query, ("project_id", "name", "id"))})


def delete_network(
    cloud: OpenStackFake, query: Any, body: Any, network_id: str
) -> tuple[int, Any, dict[str, str]]:
    network = cloud.networks.get(network_id)
    if network is None:
        raise _neutron_error(404, "NetworkNotFound", f"Network {network_id} could not be found.")
    if any(set(r["_interfaces"]) & set(network["subnets"]) for r in cloud.routers.values()):
        raise _neutron_error(
            409,
            "NetworkInUse",
            f"Unable to complete operation on network {network_id}. "
            "There are one or more ports still in use on the network.",
        )
    for subnet_id in network["subnets"]:
        cloud.subnets.pop(subnet_id, None)
    del cloud.networks[network_id]
    return ok(None, 204)


def create_subnet(cloud: OpenStackFake, query: Any, body: Any) -> tuple[int, Any, dict[str, str]]:
    import ipaddress

    data = _neutron_body(body, "subnet")
    network = cloud.networks.get(str(data.get("network_id")))
    if network is None:
        raise _neutron_error(404, "NetworkNotFound", f"Network {data.get('network_id')} could not be found.")
    try:
        cidr = ipaddress.ip_network(str(data.get("cidr")))
    except ValueError:
        raise _neutron_error(
            400,
            "BadRequest",
            f"Invalid input for cidr. Reason: '{data.get('cidr')}' is not a valid IP subnet.",
        ) from None
    if data.get("ip_version") != cidr.version:
        raise _neutron_error(400, "BadRequest", "Invalid input for ip_version.")
    hosts = list(cidr.hosts())
    subnet = {
        "id": str(uuid.uuid4()),
        "name": str(data.get("name") or ""),
        "network_id": network["id"],
        "project_id": _owner(cloud, data),
        "cidr": str(cidr),
        "ip_version": cidr.version,
        "gateway_ip": str(hosts[0]),
        "allocation_pools": [{"start": str(hosts[1]), "end": str(hosts[-1])}],
        "enable_dhcp": bool(data.get("enable_dhcp", True)),
        "dns_nameservers": list(data.get("dns_nameservers") or []),
        "host_routes": [],
    }
    subnet["tenant_id"] = subnet["project_id"]
    cloud.subnets[subnet["id"]] = subnet
    network["subnets"].append(subnet["id"])
    return ok({"subnet": subnet}, 201)


def list_subnets(
    cloud: OpenStackFake, query: dict[str, list[str]], body: Any
) -> tuple[int, Any, dict[str, str]]:
    return ok(
        {"subnets": _filtered(list(cloud.subnets.values()), query, ("project_id", "name", "network_id"))}
    )


def _router_view(router: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in router.items() if not k.startswith("_")}


def create_router(cloud: OpenStackFake, query: Any, body: Any) -> tuple[int, Any, dict[str, str]]:
    data = _neutron_body(body, "router")
    gateway = data.get("external_gateway_info")
    if gateway is not None:
        external = cloud.networks.get(str((gateway or {}).get("network_id")))
        if external is None or not external["router:external"]:
            raise _neutron_error(
                400,
                "BadRequest",
                f"Bad router request: Network {(gateway or {}).get('network_id')} "
                "is not a valid external network.",
            )
    project_id = _owner(cloud, data)
    router: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "name": str(data.get("name") or ""),
        "project_id": project_id,
        "tenant_id": project_id,
        "admin_state_up": True,
        "status": "ACTIVE",
        "external_gateway_info": gateway,
        "routes": [],
        "_interfaces": [],
    }
    cloud.routers[router["id"]] = router
    return ok({"router": _router_view(router)}, 201)


def list_routers(
    cloud: OpenStackFake, query: dict[str, list[str]], body: Any
) -> tuple[int, Any, dict[str, str]]:
    return ok(
        {
            "routers": [
                _router_view(r)
                for r in _filtered(list(cloud.routers.values()), query, ("project_id", "name"))
            ]
        }
    )


def _router_or_404(cloud: OpenStackFake, router_id: str) -> dict[str, Any]:
    router = cloud.routers.get(router_id)
    if router is None:
        raise _neutron_error(404, "RouterNotFound", f"Router {router_id} could not be found")
    return router


def router_interface(
    cloud: OpenStackFake, query: Any, body: Any, router_id: str, action: str
) -> tuple[int, Any, dict[str, str]]:
    router = _router_or_404(cloud, router_id)
    subnet_id = body.get("subnet_id") if isinstance(body, dict) else None
    subnet = cloud.subnets.get(str(subnet_id))
    if subnet is None:
        raise _neutron_error(404, "SubnetNotFound", f"Subnet {subnet_id} could not be found.")
    if action == "add_router_interface":
        if subnet_id in router["_interfaces"]:
            raise _neutron_error(400, "BadRequest", f"Router already has a port on subnet {subnet_id}.")
        router["_interfaces"].append(subnet_id)
    else:
        if subnet_id not in router["_interfaces"]:
            raise _neutron_error(
                404,
                "RouterInterfaceNotFoundForSubnet",
                f"Router {router_id} has no interface on subnet {subnet_id}",
            )
        router["_interfaces"].remove(subnet_id)
    port = str(uuid.uuid5(uuid.NAMESPACE_OID, router_id + str(subnet_id)))
    if action == "add_router_interface":
        cloud.ports[port] = {
            "id": port,
            "device_id": router_id,
            "device_owner": "network:router_interface",
            "network_id": subnet["network_id"],
            "project_id": router["project_id"],
            "tenant_id": router["project_id"],
            "fixed_ips": [{"subnet_id": subnet_id, "ip_address": subnet["gateway_ip"]}],
            "status": "ACTIVE",
            "admin_state_up": True,
        }
    else:
        cloud.ports.pop(port, None)
    answer = {
        "id": router_id,
        "subnet_id": subnet_id,
        "subnet_ids": [subnet_id],
        "port_id": port,
        "network_id": subnet["network_id"],
        "project_id": router["project_id"],
        "tenant_id": router["project_id"],
    }
    return ok(answer)


def list_ports(
    cloud: OpenStackFake, query: dict[str, list[str]], body: Any
) -> tuple[int, Any, dict[str, str]]:
    return ok(
        {"ports": _filtered(list(cloud.ports.values()), query, ("project_id", "device_id", "network_id"))}
    )


def delete_router(
    cloud: OpenStackFake, query: Any, body: Any, router_id: str
) -> tuple[int, Any, dict[str, str]]:
    router = _router_or_404(cloud, router_id)
    if router["_interfaces"]:
        raise _neutron_error(409, "RouterInUse", f"Router {router_id} still has ports")
    del cloud.routers[router_id]
    return ok(None, 204)


_ID = "([^/]+)"
ROUTES: list[tuple[str, Handler]] = [
    ("GET /identity", identity_versions),
    ("GET /identity/v3", identity_version),
    ("POST /identity/v3/auth/tokens", issue_token),
    ("GET /identity/v3/projects", list_projects),
    ("POST /identity/v3/projects", create_project),
    (f"GET /identity/v3/projects/{_ID}", show_project),
    (f"PATCH /identity/v3/projects/{_ID}", update_project),
    (f"DELETE /identity/v3/projects/{_ID}", delete_project),
    ("GET /compute", compute_versions),
    ("GET /compute/v2.1", compute_version),
    ("POST /compute/v2.1/servers", create_server),
    ("GET /compute/v2.1/servers/detail", list_servers),
    (f"GET /compute/v2.1/servers/{_ID}", show_server),
    (f"DELETE /compute/v2.1/servers/{_ID}", delete_server),
    (f"POST /compute/v2.1/servers/{_ID}/action", server_action),
    ("GET /compute/v2.1/flavors/detail", list_flavors),
    (f"GET /compute/v2.1/flavors/{_ID}", show_flavor),
    (f"GET /compute/v2.1/os-quota-sets/{_ID}", show_compute_quotas),
    (f"PUT /compute/v2.1/os-quota-sets/{_ID}", update_compute_quotas),
    ("GET /volume", volume_versions),
    ("GET /volume/v3", volume_version),
    (f"GET /volume/v3/{_ID}", volume_version),
    (f"POST /volume/v3/{_ID}/volumes", create_volume),
    (f"GET /volume/v3/{_ID}/volumes/detail", list_volumes),
    (f"GET /volume/v3/{_ID}/volumes/{_ID}", show_volume),
    (f"DELETE /volume/v3/{_ID}/volumes/{_ID}", delete_volume),
    (f"POST /volume/v3/{_ID}/volumes/{_ID}/action", volume_action),
    (f"GET /volume/v3/{_ID}/os-quota-sets/{_ID}", show_volume_quotas),
    (f"PUT /volume/v3/{_ID}/os-quota-sets/{_ID}", update_volume_quotas),
    ("GET /network", network_versions),
    ("GET /network/v2.0", network_root),
    ("POST /network/v2.0/networks", create_network),
    ("GET /network/v2.0/networks", list_networks),
    (f"DELETE /network/v2.0/networks/{_ID}", delete_network),
    ("POST /network/v2.0/subnets", create_subnet),
    ("GET /network/v2.0/subnets", list_subnets),
    ("POST /network/v2.0/routers", create_router),
    ("GET /network/v2.0/routers", list_routers),
    (f"PUT /network/v2.0/routers/{_ID}/(add_router_interface|remove_router_interface)", router_interface),
    (f"DELETE /network/v2.0/routers/{_ID}", delete_router),
    ("GET /network/v2.0/ports", list_ports),
]
