"""What the three OpenStack backends share: the offering's settings read and checked, the
connection (keystoneauth password session + openstacksdk `Connection`, built on first use), the
outbound URL guard, the SDK's exceptions turned into the contract's errors, and the waiting loop.

No SDK is imported at module level: `openstack` and `keystoneauth1` are imported where a
connection is made or an exception is judged (the registry imports this package on first catalog
use).
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from chalicelib.providers.cloud import Heartbeat, ProviderError, Settings, TransientError

ALLOW_LOOPBACK_ENV = "CIRRUS_PROVIDER_ALLOW_LOOPBACK"
# The metadata key (Nova server, Cinder volume) and the Keystone tag prefix carrying Cirrus's
# resource uuid: how a retried create finds what the first try made.
RESOURCE_KEY = "cirrus_resource_uuid"
TAG_PREFIX = "cirrus-resource-"
MESSAGE_MAX = 500
NAME_MAX = 255
SECRET_OPTIONS = frozenset(
    {
        "auth_url",
        "username",
        "password",
        "user_domain_name",
        "project_name",
        "project_domain_name",
        "region_name",
    }
)
REQUIRED_SECRETS = ("auth_url", "username", "password", "project_name")
PLUGIN_OPTION_DEFAULTS: Mapping[str, Any] = {
    "availability_zone": "",
    "network_id": "",
    "domain_id": "default",
    "external_network_id": "",
    "subnet_cidr": "192.168.42.0/24",
    "poll_interval_seconds": 5,
    "wait_timeout_seconds": 600,
    "api_timeout_seconds": 30,
}
_NUMBERS = {
    "poll_interval_seconds": (0.001, 60.0),
    "wait_timeout_seconds": (1.0, 3600.0),
    "api_timeout_seconds": (1.0, 300.0),
}
_IDENTIFIER = re.compile(r"[A-Za-z0-9_.:-]{0,255}")
# The services this plugin calls (the SDK's proxy name -> the catalog types it may be listed as).
SERVICES = {
    "identity": frozenset({"identity"}),
    "compute": frozenset({"compute"}),
    "block_storage": frozenset({"block-storage", "block-store", "volumev3", "volumev2", "volume"}),
    "network": frozenset({"network"}),
}


# --- options -------------------------------------------------------------------------------------
def check_plugin_options(options: Mapping[str, Any]) -> None:
    """The offering's plugin options (ValueError -> Waldur's 400 on `plugin_options`)."""
    for name, (low, high) in _NUMBERS.items():
        value = options.get(name, PLUGIN_OPTION_DEFAULTS[name])
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise ValueError(f"{name} must be a number from {low:g} to {high:g}.")
    for name in ("availability_zone", "network_id", "domain_id", "external_network_id"):
        value = options.get(name, PLUGIN_OPTION_DEFAULTS[name])
        if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
            raise ValueError(f"{name} must be an OpenStack id or name (letters, digits, '_.:-', up to 255).")
    subnet_cidr(options)


def subnet_cidr(options: Mapping[str, Any]) -> str:
    """The tenant network's subnet: a private IPv4 network from /16 to /29."""
    value = options.get("subnet_cidr", PLUGIN_OPTION_DEFAULTS["subnet_cidr"])
    try:
        network = ipaddress.ip_network(value if isinstance(value, str) else "", strict=True)
    except ValueError:
        network = None
    if network is None or network.version != 4 or not network.is_private or not 16 <= network.prefixlen <= 29:
        raise ValueError("subnet_cidr must be a private IPv4 network from /16 to /29 (e.g. 192.168.42.0/24).")
    return str(network)


def _allow_loopback() -> bool:
    return os.environ.get(ALLOW_LOOPBACK_ENV) == "1"


def check_url(url: Any, what: str, resolve: Callable[[str, int], list[str]] | None = None) -> str:
    """`url` if Cirrus may call it: https to a public address. With CIRRUS_PROVIDER_ALLOW_LOOPBACK=1
    (tests, a local stack) http or https to a loopback address is allowed too, and nothing else more.
    A host name is resolved (`resolve`, the web hooks' resolver by default) and every address it
    gives must pass: the web hooks' rules (`domain.hooks.address_allowed`)."""
    from chalicelib.domain import hooks

    if not isinstance(url, str) or not url or len(url) > 2048:
        raise ProviderError(f"{what} must be a URL.")
    try:
        where = hooks.destination(url)
    except ValueError as exc:
        raise ProviderError(f"{what} is not a valid URL ({exc}).") from None
    if where.literal is not None:
        addresses: tuple[Any, ...] = where.literal
    else:
        from chalicelib import webhooks

        try:
            addresses = tuple(
                ipaddress.ip_address(a) for a in (resolve or webhooks.resolve)(where.host, where.port)
            )
        except (OSError, ValueError):
            raise TransientError(f"{what}: the host {where.host} could not be resolved.") from None
    loopback = bool(addresses) and all(a.is_loopback for a in addresses)
    if loopback and _allow_loopback():
        return url
    if where.scheme != "https":
        raise ProviderError(f"{what} must be an https:// URL.")
    if not addresses or not all(hooks.address_allowed(a) for a in addresses):
        raise ProviderError(
            f"{what} may not point at a loopback, private, link-local, multicast, reserved or "
            "unspecified address."
        )
    return url


def _text(secrets: Mapping[str, Any], name: str, default: str = "") -> str:
    value = secrets.get(name, default)
    if value is None:
        value = default
    if not isinstance(value, str) or len(value) > 1024:
        raise ProviderError(f"The secret option {name} must be a string of up to 1024 characters.")
    return value


@dataclass(frozen=True)
class Credentials:
    auth_url: str
    username: str
    password: str = field(repr=False)
    user_domain_name: str
    project_name: str
    project_domain_name: str
    region_name: str


def credentials(settings: Settings) -> Credentials:
    """The offering's secret options, checked (ProviderError naming the option, never its value)."""
    secrets = settings.secrets
    missing = [name for name in REQUIRED_SECRETS if not secrets.get(name)]
    if missing:
        raise ProviderError(f"The offering's secret options lack {', '.join(missing)}.")
    auth_url = check_url(_text(secrets, "auth_url"), "auth_url")
    if not urlpath_is_v3(auth_url):
        raise ProviderError("auth_url must be Keystone's v3 endpoint (ending in /v3).")
    return Credentials(
        auth_url=auth_url,
        username=_text(secrets, "username"),
        password=_text(secrets, "password"),
        user_domain_name=_text(secrets, "user_domain_name", "Default") or "Default",
        project_name=_text(secrets, "project_name"),
        project_domain_name=_text(secrets, "project_domain_name", "Default") or "Default",
        region_name=_text(secrets, "region_name"),
    )


def urlpath_is_v3(url: str) -> bool:
    from urllib.parse import urlsplit

    return urlsplit(url).path.rstrip("/").endswith("/v3")


# --- errors --------------------------------------------------------------------------------------
def _api_message(response: Any) -> str:
    """The message an OpenStack API put in its error body: Nova/Cinder `{"<fault>": {"message"}}`,
    Keystone `{"error": {"message"}}`, Neutron `{"NeutronError": {"message"}}`."""
    try:
        body = response.json()
    except Exception:
        return ""
    if isinstance(body, dict):
        for value in body.values():
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return str(value["message"])
        if isinstance(body.get("message"), str):
            return str(body["message"])
    return ""


def bounded(message: str, secrets: tuple[str, ...] = ()) -> str:
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    message = " ".join(message.split())
    return message if len(message) <= MESSAGE_MAX else message[: MESSAGE_MAX - 1] + "…"


def _status_error(what: str, status: int, message: str) -> ProviderError:
    text = f"OpenStack refused to {what}: HTTP {status}" + (f": {message}" if message else "")
    if status >= 500 or status in (408, 429):
        return TransientError(
            f"OpenStack could not {what} for now: HTTP {status}" + (f": {message}" if message else "")
        )
    if status == 401:
        return ProviderError(
            f"OpenStack refused the offering's credentials while trying to {what} (HTTP 401)."
        )
    return ProviderError(text)


def translate(exc: BaseException, what: str) -> ProviderError:
    """The contract's error for an SDK or keystoneauth exception raised while doing `what`."""
    from keystoneauth1 import exceptions as ksa
    from openstack import exceptions as sdk

    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, sdk.HttpException) and exc.status_code is not None:
        message = _api_message(exc.response) if exc.response is not None else ""
        return _status_error(what, int(exc.status_code), message or str(exc.details or ""))
    if isinstance(exc, ksa.HttpError):
        message = _api_message(exc.response) if exc.response is not None else ""
        return _status_error(what, int(exc.http_status or 0), message or str(exc.details or ""))
    if isinstance(exc, ksa.SSLError):
        return ProviderError(f"OpenStack's TLS certificate was refused while trying to {what}.")
    if isinstance(exc, ksa.ConnectionError | ksa.RequestTimeout):
        return TransientError(f"OpenStack could not be reached to {what} ({type(exc).__name__}).")
    if isinstance(exc, ksa.EndpointNotFound | sdk.EndpointNotFound):
        return ProviderError(f"OpenStack's service catalog has no public endpoint needed to {what}.")
    if isinstance(exc, ksa.DiscoveryFailure):
        return TransientError(f"OpenStack's API versions could not be discovered to {what}.")
    return ProviderError(f"OpenStack failed to {what} ({type(exc).__name__}).")


# --- connection ----------------------------------------------------------------------------------
class OpenStack:
    """One offering's way into the cloud: a connection made on first use, errors translated,
    every service endpoint from the catalog checked by the same URL guard as `auth_url`."""

    def __init__(self, settings: Settings) -> None:
        check_plugin_options(settings.options)
        self.settings = settings
        self.options = settings.options
        self.credentials = credentials(settings)
        self.poll_interval = float(self.options.get("poll_interval_seconds", 5))
        self.wait_timeout = float(self.options.get("wait_timeout_seconds", 600))
        self.api_timeout = float(self.options.get("api_timeout_seconds", 30))
        self._connection: Any = None
        self._checked: set[str] = set()

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.credentials.password,)

    def connection(self) -> Any:
        if self._connection is None:
            from keystoneauth1 import session as ks_session
            from keystoneauth1.identity import v3
            from openstack import connection

            creds = self.credentials
            auth = v3.Password(
                auth_url=creds.auth_url,
                username=creds.username,
                password=creds.password,
                user_domain_name=creds.user_domain_name,
                project_name=creds.project_name,
                project_domain_name=creds.project_domain_name,
            )
            session = ks_session.Session(auth=auth, timeout=self.api_timeout, verify=True, app_name="cirrus")
            self._connection = connection.Connection(
                session=session,
                region_name=creds.region_name or None,
                interface="public",
                identity_api_version="3",
            )
        return self._connection

    def service(self, name: str) -> Any:
        """The SDK's proxy for a service (`identity`, `compute`, `block_storage`). Before its first
        use every public endpoint the catalog lists for it is checked by the URL guard (read from the
        token's catalog: nothing is sent to an endpoint before it passes)."""
        conn = self.connection()
        if name not in self._checked:
            access = conn.session.auth.get_access(conn.session)
            urls = [
                str(endpoint.get("url") or "")
                for entry in access.service_catalog.catalog or []
                if entry.get("type") in SERVICES[name]
                for endpoint in entry.get("endpoints") or []
                if endpoint.get("interface") == "public"
            ]
            if not urls:
                raise ProviderError(
                    f"OpenStack's service catalog has no public {name.replace('_', ' ')} endpoint."
                )
            for url in urls:
                check_url(url, f"The catalog's {name.replace('_', ' ')} endpoint")
            self._checked.add(name)
        return getattr(conn, name)

    @contextmanager
    def calling(self, what: str) -> Iterator[None]:
        """Run SDK calls; their failures become ProviderError/TransientError saying `what`."""
        try:
            yield
        except ProviderError as exc:
            raise type(exc)(bounded(str(exc), self.secrets)) from None
        except Exception as exc:
            error = translate(exc, what)
            raise type(error)(bounded(str(error), self.secrets)) from None

    def wait(
        self,
        what: str,
        read: Callable[[], Any],
        done: Callable[[Any], bool],
        heartbeat: Heartbeat,
    ) -> Any:
        """Read until `done(read())` (a read answering None means gone); heartbeat between reads.
        `done` raises ProviderError for a failure state. Past `wait_timeout_seconds`: a
        TransientError (the workflow retries; the retried call finds the same resource)."""
        deadline = time.monotonic() + self.wait_timeout
        while True:
            with self.calling(what):
                current = read()
            if done(current):
                return current
            if time.monotonic() >= deadline:
                raise TransientError(
                    f"OpenStack did not finish to {what} within {self.wait_timeout:g} s; will check again."
                )
            heartbeat()
            time.sleep(self.poll_interval)


def name_for(name: str, fallback: str, limit: int = NAME_MAX) -> str:
    """A resource's name at the cloud: printable, stripped, bounded; `fallback` if empty."""
    cleaned = "".join(ch for ch in name if ch.isprintable()).strip()[:limit]
    return cleaned or fallback[:limit]


def gib_of_mib(mib: Any, what: str) -> int:
    """Waldur's MiB (system_volume_size, a volume's size attribute) as whole GiB, rounded up."""
    if isinstance(mib, bool) or not isinstance(mib, int) or mib <= 0:
        raise ProviderError(f"{what} must be a positive whole number of MiB.")
    return max(1, math.ceil(mib / 1024))


def positive_int(value: Any, what: str, high: int = 10**9) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        raise ProviderError(f"{what} must be a whole number from 0 to {high}.")
    return value
