"""A fake Rancher server on 127.0.0.1 speaking what `cirrus_rancher` calls: the Rancher v3 REST API's
projects and, behind Rancher's cluster proxy `/k8s/clusters/{clusterId}` (or directly at `/`, as a
kube API URL), the Kubernetes core/v1 namespaces and resource quotas.

Shapes follow the public references (facts, not code):
- Rancher v3 API: https://ranchermanager.docs.rancher.com/reference-guides/about-the-api (bearer
  `token-xxxxx:secret`), the generic API spec it implements
  https://github.com/rancher/api-spec/blob/master/specification.md (resources carry `type`, `id`,
  `links`, `actions`; collections `{"type": "collection", "resourceType", "data", "pagination"}`
  with `pagination.next` for the following page; errors `{"type": "error", "status", "code",
  "message"}`), Norman's error codes (`NotFound` 404, `MissingRequired`/`InvalidBodyContent`/
  `InvalidReference` 422, `Unauthorized` 401) and the project fields of Rancher's generated v3
  client (`clusterId`, `resourceQuota.limit.requestsCpu`, `namespaceDefaultResourceQuota`, `state`,
  `transitioning`, `transitioningMessage`, `labels`, `annotations`). A project's id is
  `<clusterId>:p-xxxxx`; quota rules from Rancher's project webhook ("field
  namespaceDefaultResourceQuota is required when resourceQuota is set", "resource quota and
  namespace default quota do not have the same resources defined").
- Kubernetes: https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/namespace-v1/,
  https://kubernetes.io/docs/reference/kubernetes-api/policy-resources/resource-quota-v1/, errors as
  `Status` objects https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/status/
  (`reason` AlreadyExists 409, NotFound 404, Invalid 422, Conflict 409, Unauthorized 401), and the
  project annotation `field.cattle.io/projectId: <clusterId>:<projectId>` Rancher reads on a namespace.

Every request must carry `Authorization: Bearer <token>`. Tests steer failures with `fail_next`,
slow answers with `delay`, and a project's start-up with `initializing_reads`; `calls` records what
was asked. What the fake simplifies: a deleted namespace is gone at once (a real one is `Terminating`
until its finalizers run), a deleted project lingers `removing` for `removing_reads` reads, and no
quota is enforced on workloads.
"""

from __future__ import annotations

import json
import re
import secrets
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
QUANTITY = re.compile(r"[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?")
PROJECT_QUOTA_KEYS = frozenset(
    {
        "configMaps",
        "limitsCpu",
        "limitsMemory",
        "persistentVolumeClaims",
        "pods",
        "replicationControllers",
        "requestsCpu",
        "requestsMemory",
        "requestsStorage",
        "secrets",
        "services",
        "servicesLoadBalancers",
        "servicesNodePorts",
    }
)
PROJECT_UPDATABLE = (
    "name",
    "description",
    "labels",
    "annotations",
    "resourceQuota",
    "namespaceDefaultResourceQuota",
)


@dataclass
class Failure:
    method: str
    path_prefix: str
    status: int
    body: Any = None  # None: the API's own error shape for the status
    drop: bool = False  # close the connection without an answer
    headers: Mapping[str, str] = field(default_factory=dict)  # e.g. a redirect's Location


@dataclass
class State:
    token: str
    clusters: tuple[str, ...] = ("c-m-test1234",)
    projects: dict[str, dict[str, Any]] = field(default_factory=dict)
    namespaces: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # cluster -> name -> ns
    quotas: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)  # (cluster, ns, name)
    calls: list[tuple[str, str]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    page_size: int = 1000
    initializing_reads: int = 0  # GETs a new project answers "initializing" before "active"
    removing_reads: int = 0  # GETs a deleted project answers "removing" before 404
    delay: float = 0.0
    version: int = 1
    base: str = ""  # the fake's own URL, for links
    lock: threading.RLock = field(default_factory=threading.RLock)


class FakeRancher:
    """Start with `with FakeRancher(token) as fake:`; `fake.url` is the Rancher URL."""

    def __init__(
        self,
        token: str = "token-abcde:s3cr3tv4lu3",
        clusters: tuple[str, ...] = ("c-m-test1234",),
        tls: ssl.SSLContext | None = None,
    ):
        self.state = State(token=token, clusters=clusters)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self._tls = tls
        if tls is not None:  # https, with a certificate from `self_signed` (clients must trust it)
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._server.daemon_threads = True
        self.state.base = self.url
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{'https' if self._tls else 'http'}://{host!s}:{port}"

    def __enter__(self) -> FakeRancher:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- steering ---------------------------------------------------------------------------------
    def fail_next(
        self,
        method: str,
        path_prefix: str,
        status: int,
        body: Any = None,
        drop: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        with self.state.lock:
            self.state.failures.append(Failure(method, path_prefix, status, body, drop, dict(headers or {})))

    def add_project(self, cluster_id: str, name: str, **fields: Any) -> dict[str, Any]:
        """A project made outside Cirrus (an importable one)."""
        with self.state.lock:
            project = _new_project(self.state, {"name": name, "clusterId": cluster_id, **fields}, self.url)
            project["_reads"] = 0
            return _public(project)

    def set_project(self, project_id: str, **fields: Any) -> None:
        with self.state.lock:
            self.state.projects[project_id].update(fields)

    def remove_project(self, project_id: str) -> None:
        with self.state.lock:
            self.state.projects.pop(project_id, None)

    @property
    def calls(self) -> list[tuple[str, str]]:
        with self.state.lock:
            return list(self.state.calls)

    def projects(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [_public(p) for p in self.state.projects.values()]

    def namespaces(self, cluster_id: str) -> dict[str, dict[str, Any]]:
        with self.state.lock:
            copied: dict[str, dict[str, Any]] = json.loads(
                json.dumps(self.state.namespaces.get(cluster_id, {}))
            )
            return copied

    def quota(self, cluster_id: str, namespace: str, name: str) -> dict[str, Any] | None:
        with self.state.lock:
            found = self.state.quotas.get((cluster_id, namespace, name))
            return json.loads(json.dumps(found)) if found else None


# --- the HTTP side -----------------------------------------------------------------------------------
class Answer(Exception):
    def __init__(self, status: int, body: Any = None, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, dict(headers or {})


def _handler(state: State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: Any) -> None:  # quiet
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

        def _serve(self, method: str) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            kube = not url.path.startswith("/v3")
            with state.lock:
                state.calls.append((method, url.path))
                failure = _take_failure(state, method, url.path)
                delay = state.delay
            if delay:
                time.sleep(delay)
            try:
                if failure is not None:
                    if failure.drop:
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return
                    body = failure.body
                    if body is None:
                        body = (
                            _kube_status(failure.status, "injected failure")
                            if kube
                            else _error(failure.status, "injected failure")
                        )
                    raise Answer(failure.status, body, failure.headers)
                if self.headers.get("Authorization") != f"Bearer {state.token}":
                    # Rancher (its API and its cluster proxy) refuses before any cluster sees the call;
                    # a kube API reached directly answers a Status.
                    direct = url.path.startswith("/api/")
                    raise Answer(
                        401,
                        _kube_status(401, "Unauthorized")
                        if direct
                        else _error(401, "must authenticate", "Unauthorized"),
                    )
                with state.lock:
                    status, body = _route(
                        state, method, url.path, parse_qs(url.query), raw, self.headers, state.base
                    )
                self._send(status, body)
            except Answer as answer:
                self._send(answer.status, answer.body, answer.headers)
            except Exception as exc:  # a bug of the fake answers 500, loudly, instead of a dropped line
                body = _kube_status(500, repr(exc)) if kube else _error(500, repr(exc))
                self._send(500, body)

        def _send(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _take_failure(state: State, method: str, path: str) -> Failure | None:
    for index, failure in enumerate(state.failures):
        if failure.method == method and path.startswith(failure.path_prefix):
            return state.failures.pop(index)
    return None


def _route(
    state: State, method: str, path: str, query: dict[str, list[str]], raw: bytes, headers: Any, base: str
) -> tuple[int, Any]:
    if path.startswith("/v3/"):
        return _rancher(state, method, path[len("/v3/") :], query, raw, headers, base)
    match = re.fullmatch(r"/k8s/clusters/([^/]+)(/.*)", path)
    if match:
        cluster = match.group(1)
        if cluster not in state.clusters:
            raise Answer(404, _error(404, f"cluster not found: {cluster}"))
        return _kube(state, cluster, method, match.group(2), query, raw, headers)
    if path.startswith("/api/v1/"):
        return _kube(state, state.clusters[0], method, path, query, raw, headers)  # a direct kube API URL
    raise Answer(404, _error(404, "not found"))


# --- Rancher v3 ----------------------------------------------------------------------------------------
def _error(status: int, message: str, code: str | None = None, field_name: str = "") -> dict[str, Any]:
    codes = {
        401: "Unauthorized",
        403: "PermissionDenied",
        404: "NotFound",
        405: "MethodNotAllow",
        409: "Conflict",
    }
    body = {
        "type": "error",
        "baseType": "error",
        "status": status,
        "code": code or codes.get(status, "ServerError" if status >= 500 else "InvalidBodyContent"),
        "message": message,
    }
    if field_name:
        body["fieldName"] = field_name
    return body


def _json_body(raw: bytes, headers: Any) -> dict[str, Any]:
    if not (headers.get("Content-Type") or "").startswith("application/json"):
        raise Answer(415, _error(415, "Content-Type must be application/json", "InvalidBodyContent"))
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        raise Answer(422, _error(422, "Failed to parse body", "InvalidBodyContent")) from None
    if not isinstance(body, dict):
        raise Answer(422, _error(422, "Failed to parse body", "InvalidBodyContent"))
    return body


def _rancher(
    state: State, method: str, path: str, query: dict[str, list[str]], raw: bytes, headers: Any, base: str
) -> tuple[int, Any]:
    if path == "projects" and method == "GET":
        return 200, _project_collection(state, query, base)
    if path == "projects" and method == "POST":
        body = _json_body(raw, headers)
        _check_project(state, body, creating=True)
        return 201, _public(_new_project(state, body, base))
    match = re.fullmatch(r"projects/([^/]+)", path)
    if not match:
        raise Answer(404, _error(404, "not found"))
    project_id = match.group(1)
    found = state.projects.get(project_id)
    if found is None:
        short = project_id.split(":")[-1]
        raise Answer(404, _error(404, f'projects.management.cattle.io "{short}" not found'))
    project = found
    if method == "GET":
        _advance(state, project)
        if project_id not in state.projects:
            raise Answer(
                404, _error(404, f'projects.management.cattle.io "{project_id.split(":")[-1]}" not found')
            )
        return 200, _public(project)
    if method == "PUT":
        body = _json_body(raw, headers)
        if body.get("id") not in (None, project_id):
            raise Answer(422, _error(422, "id does not match the resource", "InvalidBodyContent", "id"))
        merged = {**project, **{k: body[k] for k in PROJECT_UPDATABLE if k in body}}
        _check_project(state, merged, creating=False)
        project.update({k: body[k] for k in PROJECT_UPDATABLE if k in body})
        if "resourceQuota" in body and isinstance(project.get("resourceQuota"), dict):
            project["resourceQuota"].setdefault("usedLimit", {})
        return 200, _public(project)
    if method == "DELETE":
        project["state"], project["transitioning"] = "removing", "yes"
        project["_removing"] = state.removing_reads
        for cluster_namespaces in state.namespaces.values():  # Rancher deletes the project's namespaces
            for name in [
                n
                for n, ns in cluster_namespaces.items()
                if ns["metadata"].get("annotations", {}).get("field.cattle.io/projectId") == project_id
            ]:
                cluster_namespaces.pop(name)
        answer = _public(project)
        if state.removing_reads == 0:
            state.projects.pop(project_id)
        return 200, answer
    raise Answer(405, _error(405, f"Method {method} not supported"))


def _check_project(state: State, body: Mapping[str, Any], creating: bool) -> None:
    for name in ("name", "clusterId"):
        if not isinstance(body.get(name), str) or not body[name]:
            raise Answer(422, _error(422, f"{name} is required", "MissingRequired", name))
    if creating and body["clusterId"] not in state.clusters:
        raise Answer(
            422,
            _error(422, f"invalid reference: cluster {body['clusterId']}", "InvalidReference", "clusterId"),
        )
    for name in ("labels", "annotations"):
        if body.get(name) is not None and not (
            isinstance(body[name], dict) and all(isinstance(v, str) for v in body[name].values())
        ):
            raise Answer(422, _error(422, f"{name} must be a map of strings", "InvalidFormat", name))
    project_quota, namespace_quota = body.get("resourceQuota"), body.get("namespaceDefaultResourceQuota")
    if project_quota is None and namespace_quota is None:
        return
    if project_quota is None:
        raise Answer(
            422,
            _error(
                422,
                "field resourceQuota is required when namespaceDefaultResourceQuota is set",
                "MissingRequired",
            ),
        )
    if namespace_quota is None:
        raise Answer(
            422,
            _error(
                422,
                "field namespaceDefaultResourceQuota is required when resourceQuota is set",
                "MissingRequired",
            ),
        )
    limits = []
    for quota in (project_quota, namespace_quota):
        limit = quota.get("limit") if isinstance(quota, dict) else None
        if not isinstance(limit, dict) or not set(limit) <= PROJECT_QUOTA_KEYS:
            raise Answer(422, _error(422, "invalid resource quota limit", "InvalidFormat"))
        for value in limit.values():
            if not isinstance(value, str) or not QUANTITY.fullmatch(value):
                raise Answer(
                    422,
                    _error(422, f"quantities must match the regular expression: {value!r}", "InvalidFormat"),
                )
        limits.append(limit)
    if set(limits[0]) != set(limits[1]):
        raise Answer(
            422,
            _error(
                422,
                "resource quota and namespace default quota do not have the same resources defined",
                "InvalidBodyContent",
            ),
        )


def _new_project(state: State, body: Mapping[str, Any], base: str) -> dict[str, Any]:
    cluster = str(body["clusterId"])
    project_id = f"{cluster}:p-{secrets.token_hex(3)[:5]}"
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    project: dict[str, Any] = {
        "type": "project",
        "baseType": "project",
        "id": project_id,
        "uuid": secrets.token_hex(16),
        "created": now,
        "creatorId": "user-abcde",
        "name": body["name"],
        "description": body.get("description") or "",
        "clusterId": cluster,
        "labels": dict(body.get("labels") or {}),
        "annotations": dict(body.get("annotations") or {}),
        "state": "initializing" if state.initializing_reads else "active",
        "transitioning": "yes" if state.initializing_reads else "no",
        "transitioningMessage": "",
        "_reads": state.initializing_reads,
        "_base": base,
    }
    for name in ("resourceQuota", "namespaceDefaultResourceQuota"):
        if body.get(name) is not None:
            project[name] = json.loads(json.dumps(body[name]))
    if isinstance(project.get("resourceQuota"), dict):
        project["resourceQuota"].setdefault("usedLimit", {})
    state.projects[project_id] = project
    return project


def _advance(state: State, project: dict[str, Any]) -> None:
    """What a GET sees move: initializing -> active, removing -> gone."""
    if project["state"] == "initializing":
        project["_reads"] -= 1
        if project["_reads"] <= 0:
            project["state"], project["transitioning"] = "active", "no"
    elif project["state"] == "removing" and "_removing" in project:  # deleted through the API
        project["_removing"] -= 1
        if project["_removing"] < 0:
            state.projects.pop(project["id"], None)


def _public(project: Mapping[str, Any]) -> dict[str, Any]:
    base = project.get("_base", "")
    self_link = f"{base}/v3/projects/{project['id']}"
    shown = {k: json.loads(json.dumps(v)) for k, v in project.items() if not k.startswith("_")}
    shown["links"] = {
        "self": self_link,
        "update": self_link,
        "remove": self_link,
        "namespaces": f"{base}/v3/cluster/{project['clusterId']}/namespaces?projectId={project['id']}",
    }
    shown["actions"] = {"exportYaml": f"{self_link}?action=exportYaml"}
    return shown


def _project_collection(state: State, query: dict[str, list[str]], base: str) -> dict[str, Any]:
    cluster = (query.get("clusterId") or [""])[0]
    limit = min(int((query.get("limit") or ["1000"])[0] or 1000), state.page_size)
    marker = (query.get("marker") or [""])[0]
    found = sorted(
        (p for p in state.projects.values() if not cluster or p["clusterId"] == cluster),
        key=lambda p: p["id"],
    )
    total = len(found)
    if marker:
        found = [p for p in found if p["id"] > marker]
    page, rest = found[:limit], found[limit:]
    collection: dict[str, Any] = {
        "type": "collection",
        "resourceType": "project",
        "links": {"self": f"{base}/v3/projects"},
        "createTypes": {"project": f"{base}/v3/projects"},
        "actions": {},
        "pagination": {"limit": limit, "total": total},
        "sort": {"order": "asc", "reverse": f"{base}/v3/projects?order=desc"},
        "filters": {"clusterId": [{"modifier": "eq", "value": cluster}] if cluster else None},
        "data": [_public(p) for p in page],
    }
    if rest:
        collection["pagination"]["partial"] = True
        collection["pagination"]["next"] = (
            f"{base}/v3/projects?clusterId={cluster}&limit={limit}&marker={page[-1]['id']}"
        )
    return collection


# --- Kubernetes core/v1 ----------------------------------------------------------------------------------
REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "AlreadyExists",
    415: "UnsupportedMediaType",
    422: "Invalid",
}


def _kube_status(
    code: int, message: str, reason: str | None = None, details: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason or REASONS.get(code, "InternalError" if code >= 500 else "BadRequest"),
        "code": code,
    }
    if details:
        body["details"] = dict(details)
    return body


def _kube_body(raw: bytes, headers: Any, patch: bool = False) -> dict[str, Any]:
    # No Content-Type is read as the first media type the API server supports, application/json.
    kind = (headers.get("Content-Type") or "application/json").split(";")[0].strip()
    allowed = (
        ("application/merge-patch+json", "application/strategic-merge-patch+json")
        if patch
        else ("application/json",)
    )
    if kind not in allowed:
        raise Answer(
            415,
            _kube_status(
                415,
                "the body of the request was in an unknown format - accepted media types include: "
                + ", ".join(allowed),
            ),
        )
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        raise Answer(
            400, _kube_status(400, "the object provided is unrecognized (must be of type JSON)")
        ) from None
    if not isinstance(body, dict):
        raise Answer(400, _kube_status(400, "the object provided is unrecognized"))
    return body


def _stamp(meta: dict[str, Any], state: State) -> None:
    state.version += 1
    meta["resourceVersion"] = str(state.version)
    meta.setdefault(
        "uid",
        f"{secrets.token_hex(4)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}-{secrets.token_hex(6)}",
    )
    meta.setdefault("creationTimestamp", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


def _check_name(kind: str, name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise Answer(
            422,
            _kube_status(
                422, f'{kind} "" is invalid: metadata.name: Required value: name or generateName is required'
            ),
        )
    if len(name) > 63 or not NAME.fullmatch(name):
        raise Answer(
            422,
            _kube_status(
                422,
                f'{kind} "{name}" is invalid: metadata.name: Invalid value: "{name}": a lowercase RFC 1123 '
                "label must consist of lower case alphanumeric characters or '-', and must start and end "
                "with an alphanumeric character",
                details={"name": name, "kind": kind.lower() + "s"},
            ),
        )
    return name


def _kube(
    state: State, cluster: str, method: str, path: str, query: dict[str, list[str]], raw: bytes, headers: Any
) -> tuple[int, Any]:
    namespaces = state.namespaces.setdefault(cluster, {})
    if path == "/api/v1/namespaces" and method == "POST":
        return _create_namespace(state, cluster, namespaces, _kube_body(raw, headers))
    match = re.fullmatch(r"/api/v1/namespaces/([^/]+)", path)
    if match:
        return _namespace(state, cluster, namespaces, method, match.group(1), raw, headers)
    match = re.fullmatch(r"/api/v1/namespaces/([^/]+)/resourcequotas(?:/([^/]+))?", path)
    if match:
        return _quota(state, cluster, namespaces, method, match.group(1), match.group(2), raw, headers)
    raise Answer(404, _kube_status(404, "the server could not find the requested resource"))


def _create_namespace(
    state: State, cluster: str, namespaces: dict[str, dict[str, Any]], body: dict[str, Any]
) -> tuple[int, Any]:
    if body.get("kind") not in (None, "Namespace") or body.get("apiVersion") not in (None, "v1"):
        raise Answer(
            400,
            _kube_status(
                400,
                f"the API version in the data ({body.get('apiVersion')}) does not match the expected API "
                "version (v1)",
            ),
        )
    meta: dict[str, Any] = body["metadata"] if isinstance(body.get("metadata"), dict) else {}
    name = _check_name("Namespace", meta.get("name"))
    if name in namespaces:
        raise Answer(
            409,
            _kube_status(
                409,
                f'namespaces "{name}" already exists',
                "AlreadyExists",
                {"name": name, "kind": "namespaces"},
            ),
        )
    project_id = (meta.get("annotations") or {}).get("field.cattle.io/projectId")
    if project_id is not None and (
        project_id not in state.projects or not project_id.startswith(f"{cluster}:")
    ):
        raise Answer(
            400,
            _kube_status(
                400,
                f"admission webhook denied the request: project {project_id} not found in cluster {cluster}",
            ),
        )
    namespace: dict[str, Any] = {
        "kind": "Namespace",
        "apiVersion": "v1",
        "metadata": {k: v for k, v in meta.items() if k in ("name", "labels", "annotations")},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }
    namespace["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
    _stamp(namespace["metadata"], state)
    namespaces[name] = namespace
    return 201, namespace


def _namespace(
    state: State,
    cluster: str,
    namespaces: dict[str, dict[str, Any]],
    method: str,
    name: str,
    raw: bytes,
    headers: Any,
) -> tuple[int, Any]:
    namespace = namespaces.get(name)
    if namespace is None:
        raise Answer(
            404,
            _kube_status(
                404, f'namespaces "{name}" not found', "NotFound", {"name": name, "kind": "namespaces"}
            ),
        )
    if method == "GET":
        return 200, namespace
    if method == "PATCH":
        patch = _kube_body(raw, headers, patch=True)
        meta = patch.get("metadata") or {}
        for key in ("labels", "annotations"):
            for k, v in (meta.get(key) or {}).items():
                if v is None:
                    namespace["metadata"].setdefault(key, {}).pop(k, None)
                elif isinstance(v, str):
                    namespace["metadata"].setdefault(key, {})[k] = v
                else:
                    raise Answer(
                        422,
                        _kube_status(
                            422, f'Namespace "{name}" is invalid: metadata.{key}: values must be strings'
                        ),
                    )
        _stamp(namespace["metadata"], state)
        return 200, namespace
    if method == "DELETE":
        namespaces.pop(name)
        for held in [k for k in state.quotas if k[0] == cluster and k[1] == name]:
            state.quotas.pop(held)
        return 200, {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {"name": name, "kind": "namespaces", "uid": namespace["metadata"]["uid"]},
        }
    raise Answer(
        405,
        _kube_status(
            405, "the server does not allow this method on the requested resource", "MethodNotAllowed"
        ),
    )


def _quota(
    state: State,
    cluster: str,
    namespaces: Mapping[str, Any],
    method: str,
    namespace: str,
    name: str | None,
    raw: bytes,
    headers: Any,
) -> tuple[int, Any]:
    if namespace not in namespaces:
        raise Answer(
            404,
            _kube_status(
                404,
                f'namespaces "{namespace}" not found',
                "NotFound",
                {"name": namespace, "kind": "namespaces"},
            ),
        )
    if name is None:
        if method != "POST":
            raise Answer(405, _kube_status(405, "method not allowed", "MethodNotAllowed"))
        body = _quota_body(_kube_body(raw, headers), namespace)
        quota_name = body["metadata"]["name"]
        if (cluster, namespace, quota_name) in state.quotas:
            raise Answer(
                409,
                _kube_status(
                    409,
                    f'resourcequotas "{quota_name}" already exists',
                    "AlreadyExists",
                    {"name": quota_name, "kind": "resourcequotas"},
                ),
            )
        _stamp(body["metadata"], state)
        state.quotas[(cluster, namespace, quota_name)] = body
        return 201, body
    existing = state.quotas.get((cluster, namespace, name))
    if existing is None:
        raise Answer(
            404,
            _kube_status(
                404,
                f'resourcequotas "{name}" not found',
                "NotFound",
                {"name": name, "kind": "resourcequotas"},
            ),
        )
    if method == "GET":
        return 200, existing
    if method == "PUT":
        body = _quota_body(_kube_body(raw, headers), namespace)
        if body["metadata"]["name"] != name:
            raise Answer(400, _kube_status(400, "the name of the object does not match the name on the URL"))
        version = body["metadata"].get("resourceVersion")
        if not version:
            raise Answer(
                422,
                _kube_status(
                    422,
                    f'ResourceQuota "{name}" is invalid: metadata.resourceVersion: Invalid value: 0x0: '
                    "must be specified for an update",
                ),
            )
        if version != existing["metadata"]["resourceVersion"]:
            raise Answer(
                409,
                _kube_status(
                    409,
                    f'Operation cannot be fulfilled on resourcequotas "{name}": the object has been '
                    "modified; please apply your changes to the latest version and try again",
                    "Conflict",
                ),
            )
        body["metadata"]["uid"] = existing["metadata"]["uid"]
        body["metadata"]["creationTimestamp"] = existing["metadata"]["creationTimestamp"]
        _stamp(body["metadata"], state)
        state.quotas[(cluster, namespace, name)] = body
        return 200, body
    raise Answer(405, _kube_status(405, "method not allowed", "MethodNotAllowed"))


def _quota_body(body: dict[str, Any], namespace: str) -> dict[str, Any]:
    if body.get("kind") not in (None, "ResourceQuota"):
        raise Answer(400, _kube_status(400, f"wrong kind {body.get('kind')}"))
    meta = dict(body.get("metadata") or {})
    name = _check_name("ResourceQuota", meta.get("name"))
    if meta.get("namespace") not in (None, namespace):
        raise Answer(
            400,
            _kube_status(
                400, "the namespace of the provided object does not match the namespace sent on the request"
            ),
        )
    hard = (body.get("spec") or {}).get("hard") or {}
    for key, value in hard.items():
        if not isinstance(value, str) or not QUANTITY.fullmatch(value):
            raise Answer(
                422,
                _kube_status(
                    422,
                    f'ResourceQuota "{name}" is invalid: spec.hard[{key}]: Invalid value: {value!r}: '
                    "quantities must match the regular expression",
                ),
            )
    meta["namespace"] = namespace
    return {
        "kind": "ResourceQuota",
        "apiVersion": "v1",
        "metadata": {
            k: v
            for k, v in meta.items()
            if k in ("name", "namespace", "labels", "annotations", "resourceVersion")
        },
        "spec": {"hard": dict(hard)},
        "status": {"hard": dict(hard), "used": {k: "0" for k in hard}},
    }


# --- TLS -------------------------------------------------------------------------------------------------
def self_signed(directory: Path) -> tuple[str, ssl.SSLContext]:
    """A fresh certificate for 127.0.0.1 (PEM, what a client is told to trust) and the server's TLS
    context serving it (tests/providers/fakes/tls.py makes it)."""
    from tests.providers.fakes import tls

    made = tls.self_signed(directory)
    return made.cert_path.read_text(), made.server_context()
