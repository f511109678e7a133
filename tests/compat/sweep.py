"""A sweep of Waldur's two Python clients against a served Cirrus: every function of waldur-api-client's
22 core tags and every core method of python-waldur-client, called with placeholder arguments built
from their signatures, every HTTP exchange they make recorded.

Nothing here knows which routes Cirrus serves: `Exchange.unserved` comes from the app's own route
table (what the served app would route to its catch-all, or to a path without that verb), and the
checks hold whatever it says. Used by tests/compat/test_client_sweep.py and bench/unserved_routes.py.
"""

from __future__ import annotations

import datetime
import enum
import importlib
import inspect
import io
import json
import pkgutil
import re
import typing
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

# waldur-api-client's core tags (the list).
CORE_TAGS = (
    "customers", "projects", "users", "roles", "user_permissions", "user_invitations", "keys", "events",
    "hooks", "hooks_web", "hooks_email", "invoices", "invoice_items", "marketplace_categories",
    "marketplace_service_providers", "marketplace_provider_offerings", "marketplace_public_offerings",
    "marketplace_plans", "marketplace_orders", "marketplace_resources", "marketplace_provider_resources",
    "marketplace_component_usages",
)  # fmt: skip
NOT_FOUND = {"detail": "Not found."}
# What API Gateway's signature errors say (the leak this sweep guards against).
# A header every api-client request carries, with a value no answer may contain: no request header is
# ever echoed (the Authorization value is checked the same way, as the token).
CANARY_HEADER = "X-Cirrus-Canary"
CANARY = "canary-5b1e0c4d9a7f"
SIGNATURE_WORDS = ("Signature", "Credential", "Missing Authentication Token", "Authorization=")
CATCH_ALL_ROUTES = frozenset({"/", "/{proxy+}"})


@dataclass(frozen=True)
class Exchange:
    """One request a client made and the answer it got."""

    client: str  # "waldur-api-client" or "python-waldur-client"
    caller: str  # the function or method that made it
    method: str
    path: str  # as sent, placeholders substituted
    template: str  # the path with the placeholder values named again (`{uuid}`)
    status: int
    body: bytes
    headers: dict[str, str]
    unserved: str | None  # "path" or "method" when the app has no route for it, else None

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


# --- placeholders ------------------------------------------------------------------------------
def placeholder_uuid(name: str) -> uuid.UUID:
    """A stable uuid per parameter name, so a sent path can be read back as its template."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"cirrus-sweep:{name}")


def _value(annotation: Any, name: str, depth: int = 0) -> Any:
    """A minimal value of `annotation` (waldur-api-client's generated types)."""
    from waldur_api_client.types import File, Unset

    origin = typing.get_origin(annotation)
    if origin is typing.Union or str(origin) == "types.UnionType":
        options = [a for a in typing.get_args(annotation) if a not in (type(None), Unset)]
        return _value(options[0], name, depth) if options else None
    if origin in (list, typing.List):  # noqa: UP006
        return []
    if origin in (dict, typing.Dict):  # noqa: UP006
        return {}
    simple: dict[Any, Any] = {
        uuid.UUID: placeholder_uuid(name),
        str: placeholder_uuid(name).hex if "uuid" in name else "x",
        int: 1,
        float: 1.0,
        bool: False,
        datetime.datetime: datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC),
        datetime.date: datetime.date(2030, 1, 1),
    }
    if annotation in simple:
        return simple[annotation]
    if annotation is File:
        return File(payload=io.BytesIO(b"x"), file_name="x.txt")
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return next(iter(annotation))
    if isinstance(annotation, type) and hasattr(annotation, "__attrs_attrs__"):
        return _model(annotation, depth)
    return "x"


def _model(cls: type, depth: int) -> Any:
    """The model with its required attributes filled (recursively, a few levels deep); past that, or
    if it will not build, an instance that serialises to an empty object."""
    if depth < 3:
        try:
            hints = typing.get_type_hints(cls.__init__)
            params = inspect.signature(cls.__init__).parameters.values()
            required = {p.name: _value(hints[p.name], p.name, depth + 1) for p in params if _required(p)}
            instance = cls(**required)
            json.dumps(instance.to_dict())  # a file field makes a multipart-only model: sent empty
            return instance
        except Exception:
            pass
    empty = type(
        f"Empty{cls.__name__}", (cls,), {"to_dict": lambda self: {}, "to_multipart": lambda self: {}}
    )
    return object.__new__(empty)


def _required(parameter: inspect.Parameter) -> bool:
    return (
        parameter.name != "self"
        and parameter.default is inspect.Parameter.empty
        and parameter.kind
        in (
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            inspect.Parameter.KEYWORD_ONLY,
        )
    )


def api_client_arguments(function: Callable[..., Any]) -> dict[str, Any]:
    """Placeholders for a generated function's required parameters (path parameters, body)."""
    hints = typing.get_type_hints(function)
    params = inspect.signature(function).parameters.values()
    return {p.name: _value(hints[p.name], p.name) for p in params if _required(p) and p.name != "client"}


# python-waldur-client's parameters by name: lists, mappings and numbers; the rest are identifiers.
_LISTS = {"offering_uuids", "observable_objects", "rules", "networks", "floating_ips", "security_groups",
          "dns_nameservers", "allocation_pools", "report", "usages", "components"}  # fmt: skip
_DICTS = {"attributes", "backend_metadata", "limits", "options", "payload", "params", "component"}
_NUMBERS = {"month": 1, "year": 2030, "limit": 1, "size": 1, "usage": 1, "value": 1, "system_volume_size": 1}
_TEXT = {
    "expiration_time": "2030-01-01T00:00:00Z",
    "email": "sweep@example.org",
    "caller_url": "http://x.test/",
}


def waldur_client_argument(name: str) -> Any:
    if name in _LISTS:
        return []
    if name in _DICTS:
        return {}
    if name in _NUMBERS:
        return _NUMBERS[name]
    if name in _TEXT:
        return _TEXT[name]
    return placeholder_uuid(name).hex


# --- the clients' functions --------------------------------------------------------------------
def api_client_functions() -> Iterator[tuple[str, Callable[..., Any]]]:
    """(`<tag>.<operation>`, its `sync_detailed`) for every operation of the core tags."""
    import waldur_api_client.api as api

    for tag in CORE_TAGS:
        package = importlib.import_module(f"{api.__name__}.{tag}")
        for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            module = importlib.import_module(f"{package.__name__}.{module_info.name}")
            yield f"{tag}.{module_info.name}", module.sync_detailed


def waldur_client_methods() -> tuple[list[str], list[str]]:
    """python-waldur-client's public methods: (core, OpenStack). A method is OpenStack's when its
    source names an OpenStack endpoint or resource type, or calls a method that does."""
    from waldur_client import WaldurClient

    sources = {n: inspect.getsource(f) for n, f in inspect.getmembers(WaldurClient, inspect.isfunction)}
    openstack = {n for n, s in sources.items() if "OpenStack" in s or "openstack" in s}
    grown = True
    while grown:
        callers = {
            n for n, s in sources.items() if n not in openstack and any(f"self.{o}(" in s for o in openstack)
        }
        openstack |= callers
        grown = bool(callers)
    public = sorted(n for n in sources if not n.startswith("_"))
    return [n for n in public if n not in openstack], [n for n in public if n in openstack]


# --- recording ---------------------------------------------------------------------------------
class Recorder:
    """Collects exchanges; `unserved` classifies a request by the app's route table."""

    def __init__(self, app: Any) -> None:
        from chalicelib.local.server import GreedyRouteMatcher

        self._routes: dict[str, Any] = app.routes
        self._matcher = GreedyRouteMatcher(list(app.routes))
        self.exchanges: list[Exchange] = []
        self.names: dict[str, str] = {}  # placeholder value -> `{name}`

    def unserved(self, method: str, path: str) -> str | None:
        try:
            route = self._matcher.match_route(path).route
        except ValueError:
            return "path"
        if route in CATCH_ALL_ROUTES:
            return "path"
        return None if method.upper() in self._routes[route] else "method"

    def template(self, path: str) -> str:
        for value, name in self.names.items():
            path = path.replace(value, name)
        return path

    def add(self, client: str, caller: str, method: str, url: str, status: int, body: bytes,
            headers: dict[str, str]) -> None:  # fmt: skip
        path = urlsplit(url).path
        exchange = Exchange(client, caller, method.upper(), path, self.template(path), status, body,
                            headers, self.unserved(method, path))  # fmt: skip
        self.exchanges.append(exchange)

    def name_placeholders(self, arguments: dict[str, Any]) -> None:
        for name, value in arguments.items():
            if isinstance(value, uuid.UUID):
                self.names[str(value)] = f"{{{name}}}"
                self.names[value.hex] = f"{{{name}}}"
            elif isinstance(value, str) and len(value) == 32:
                self.names[value] = f"{{{name}}}"


def sweep_api_client(recorder: Recorder, base_url: str, token: str) -> int:
    """Call every function of the core tags; returns how many were called."""
    from waldur_api_client import AuthenticatedClient

    caller = {"name": ""}

    def record(response: Any) -> None:
        response.read()
        request = response.request
        recorder.add("waldur-api-client", caller["name"], request.method, str(request.url),
                     response.status_code, response.content, dict(response.headers))  # fmt: skip

    count = 0
    hooks = {"event_hooks": {"response": [record]}}
    with AuthenticatedClient(
        base_url=base_url, token=token, timeout=10.0, httpx_args=hooks, headers={CANARY_HEADER: CANARY}
    ) as client:
        for name, function in api_client_functions():
            caller["name"] = name
            arguments = api_client_arguments(function)
            recorder.name_placeholders(arguments)
            with suppress(Exception):  # a strict parser refusing an answer: the answer is recorded
                function(client=client, **arguments)
            count += 1
    return count


@contextmanager
def _recording_requests(recorder: Recorder, caller: dict[str, str]) -> Iterator[None]:
    import requests

    send = requests.adapters.HTTPAdapter.send

    def recording_send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        response = send(self, request, *args, **kwargs)
        recorder.add("python-waldur-client", caller["name"], request.method, request.url,
                     response.status_code, response.content, dict(response.headers))  # fmt: skip
        return response

    with (
        mock.patch.object(requests.adapters.HTTPAdapter, "send", recording_send),
        mock.patch("waldur_client.time.sleep"),  # its 409 retries and polling wait seconds
    ):
        yield


def sweep_waldur_client(recorder: Recorder, api_url: str, token: str) -> int:
    """Call every core method of WaldurClient; returns how many were called."""
    from waldur_client import WaldurClient

    client = WaldurClient(api_url, token)
    caller = {"name": ""}
    core, _ = waldur_client_methods()
    with _recording_requests(recorder, caller):
        for name in core:
            method = getattr(client, name)
            params = inspect.signature(method).parameters.values()
            arguments = {p.name: waldur_client_argument(p.name) for p in params if _required(p)}
            for option, value in (("wait", False), ("interval", 0), ("timeout", 0)):
                if option in inspect.signature(method).parameters:
                    arguments[option] = value
            recorder.name_placeholders(arguments)
            caller["name"] = name
            with suppress(Exception):  # the client's exceptions: the answers are recorded
                method(**arguments)
    return len(core)


# --- checks and report -------------------------------------------------------------------------
def problems(exchange: Exchange, secret: str) -> list[str]:
    """What is wrong with an answer, whatever route it is (empty: nothing)."""
    found = []
    text = exchange.body.decode("utf-8", "replace") + json.dumps(exchange.headers)
    if secret in _without_own_token(exchange, secret):
        found.append("echoes the caller's token")
    if CANARY in text:
        found.append(f"echoes the {CANARY_HEADER} request header")
    if exchange.status == 403 and any(word in text for word in SIGNATURE_WORDS):
        found.append("a 403 with an AWS signature message")
    if exchange.status >= 500:
        found.append(f"a {exchange.status}")
    if exchange.method == "HEAD" and exchange.body:
        found.append("a body on HEAD")
    body = exchange.json() if exchange.method != "HEAD" else None
    if (
        exchange.status == 404
        and exchange.method != "HEAD"
        and not (isinstance(body, dict) and "detail" in body)
    ):
        found.append("a 404 not in DRF's shape")
    expected = {
        "path": (404, NOT_FOUND),
        "method": (405, {"detail": f'Method "{exchange.method}" not allowed.'}),
    }.get(exchange.unserved or "")
    if expected and (exchange.status != expected[0] or (body is not None and body != expected[1])):
        found.append(f"an unserved {exchange.unserved} not answered {expected[0]} {expected[1]}")
    return found


def _without_own_token(exchange: Exchange, secret: str) -> str:
    """The answer's text, less the `token` field of the caller's own user, where Waldur shows a user
    her own token (HomePort reads it after a password sign-in); anywhere else it is a leak."""
    body = exchange.json() if exchange.method != "HEAD" and exchange.body else None
    if isinstance(body, dict) and body.get("token") == secret and exchange.path.startswith("/api/users/"):
        body = {k: v for k, v in body.items() if k != "token"}
        return json.dumps(body) + json.dumps(exchange.headers)
    return exchange.body.decode("utf-8", "replace") + json.dumps(exchange.headers)


def feature(template: str) -> str:
    """The collection a path belongs to (`marketplace-offering-users`)."""
    parts = [p for p in template.strip("/").split("/") if p]
    if parts[:1] == ["api"]:
        parts = parts[1:]
    return parts[0] if parts else "/"


def _normalised(template: str) -> str:
    """`{service_provider_uuid}`, `{offering_user}`… are all one object's uuid: `{uuid}`."""
    return re.sub(r"\{[^}]*uuid[^}]*\}", "{uuid}", template)


def unserved_by_feature(exchanges: list[Exchange]) -> dict[str, dict[str, set[str]]]:
    """{feature: {"METHOD /template/": {callers}}} for every exchange the app has no route for; HEAD
    is left out where GET of the same path is listed (each list's `*_count` function)."""
    out: dict[str, dict[str, set[str]]] = {}
    for e in exchanges:
        if e.unserved:
            route = f"{e.method} {_normalised(e.template)}"
            out.setdefault(feature(e.template), {}).setdefault(route, set()).add(e.caller)
    for routes in out.values():
        for route in [r for r in routes if r.startswith("HEAD ")]:
            if "GET " + route.removeprefix("HEAD ") in routes:
                routes["GET " + route.removeprefix("HEAD ")] |= routes.pop(route)
    return out


def markdown(exchanges: list[Exchange]) -> str:
    """The README's list of what is still unserved, by feature (collection), each route once."""
    lines = []
    grouped = unserved_by_feature(exchanges)
    for name in sorted(grouped):
        routes = sorted(grouped[name], key=lambda r: (r.split()[1], r))
        short = [r.replace(f"/api/{name}/", "…/", 1) for r in routes]
        lines.append(f"- `{name}/`: " + ", ".join(f"`{r}`" for r in short))
    return "\n".join(lines)
