"""Typed settings, read lazily from the environment in this one place.

Defaults suit the local stack; a deployment sets the environment (CDK passes the table name, region
and public URL to every function).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

VERSION = "0.1.0"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


def _names(raw: str | None) -> tuple[str, ...]:
    """A comma-separated list (blanks dropped)."""
    return tuple(part.strip() for part in (raw or "").split(",") if part.strip())


def _networks(name: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """A comma-separated list of CIDRs (a bare address is its own /32 or /128); a bad one stops
    the settings from loading, naming the variable, rather than being skipped."""
    networks = []
    for part in _names(os.environ.get(name)):
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"{name}: {part!r} is not an IP network") from None
    return tuple(networks)


@dataclass(frozen=True)
class CognitoSettings:
    """Federated sign-in through a Cognito user pool (CDK sets these; `make run` points them at moto).

    Bearer JWTs are accepted once the pool and an app client are known; the hosted UI's login,
    callback and logout need its domain as well.
    """

    user_pool_id: str = ""
    # App clients whose tokens are accepted (an access token's `client_id`, an ID token's `aud`); the
    # first one is the hosted UI's.
    client_ids: tuple[str, ...] = ()
    region: str = "us-east-1"
    # The hosted UI's base URL, e.g. https://<prefix>.auth.<region>.amazoncognito.com (no slash).
    domain: str = ""
    # The tokens' `iss` and the key set's URL; empty: derived from the region and the pool.
    issuer: str = ""
    jwks_url: str = ""
    # Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
    leeway_seconds: int = 30
    # An unknown key id refetches the key set at most this often (a garbage `kid` causes no storm).
    jwks_refresh_seconds: int = 60
    # The identity providers offered at sign-in (`/api/configuration/`, `?identity_provider=`).
    identity_providers: tuple[str, ...] = ()
    # Group claims read for staff and support; with no groups configured, sign-in leaves both flags
    # to staff (the API) instead.
    groups_claims: tuple[str, ...] = ("cognito:groups", "custom:groups")
    staff_groups: tuple[str, ...] = ()
    support_groups: tuple[str, ...] = ()
    # Where Cognito's logout sends the browser afterwards; empty: the API's public root.
    logout_redirect_url: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.user_pool_id and self.client_ids)

    @property
    def hosted_ui(self) -> bool:
        return self.enabled and bool(self.domain)

    @property
    def expected_issuer(self) -> str:
        return self.issuer or f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    @property
    def key_set_url(self) -> str:
        return self.jwks_url or f"{self.expected_issuer}/.well-known/jwks.json"


def _cognito(env: Mapping[str, str], region: str) -> CognitoSettings:
    return CognitoSettings(
        user_pool_id=env.get("CIRRUS_COGNITO_USER_POOL_ID", "").strip(),
        client_ids=_names(env.get("CIRRUS_COGNITO_CLIENT_ID")),
        region=env.get("CIRRUS_COGNITO_REGION") or region,
        domain=(env.get("CIRRUS_COGNITO_DOMAIN") or "").rstrip("/"),
        issuer=(env.get("CIRRUS_COGNITO_ISSUER") or "").rstrip("/"),
        jwks_url=env.get("CIRRUS_COGNITO_JWKS_URL", "").strip(),
        leeway_seconds=_int("CIRRUS_COGNITO_LEEWAY_SECONDS", 30),
        jwks_refresh_seconds=_int("CIRRUS_COGNITO_JWKS_REFRESH_SECONDS", 60),
        identity_providers=_names(env.get("CIRRUS_COGNITO_IDENTITY_PROVIDERS")),
        groups_claims=_names(env.get("CIRRUS_COGNITO_GROUPS_CLAIMS")) or CognitoSettings.groups_claims,
        staff_groups=_names(env.get("CIRRUS_COGNITO_STAFF_GROUPS")),
        support_groups=_names(env.get("CIRRUS_COGNITO_SUPPORT_GROUPS")),
        logout_redirect_url=env.get("CIRRUS_COGNITO_LOGOUT_REDIRECT_URL", "").strip(),
    )


# Loopback names only: a deployment names its own hosts (CDK does), or sets a public URL.
DEFAULT_ALLOWED_HOSTS = ("localhost", "127.0.0.1", "[::1]")


@dataclass(frozen=True)
class Settings:
    table_name: str = "cirrus"
    region: str = "us-east-1"
    # Where boto3/pynamodb send requests; None means the real AWS endpoints.
    aws_endpoint_url: str | None = None
    # Base of every absolute URL Cirrus emits, and of the links in invitation mails; None: response
    # URLs are taken from the request's Host header (mails then carry paths only).
    public_url: str | None = None
    # Where the web UI (HomePort) is, when it is not on the API's own origin (S3 + CloudFront, say):
    # the configuration's HOMEPORT_URL, and where a hosted UI sign-in returns to. None: the API's origin.
    homeport_url: str | None = None
    # Origins a browser may call the API from (CORS): HomePort hosted on another origin. Empty: none,
    # the API answers no CORS headers (same-origin use only). `*` allows any origin, without cookies.
    cors_allowed_origins: tuple[str, ...] = ()
    # Host headers a request may carry (Django's ALLOWED_HOSTS: `*`, `.example.org` for the domain and
    # its subdomains, or an exact name); the public URL's host is always allowed as well. Another Host
    # is refused with 400.
    allowed_hosts: tuple[str, ...] = DEFAULT_ALLOWED_HOSTS
    password_iterations: int = 600_000
    lockout_limit: int = 5
    lockout_cooloff_seconds: int = 600
    # The longest token_lifetime (seconds) a user may give themselves; None: no bound, and a user
    # may choose tokens that never expire (null), as in Waldur. Staff are not bound by it.
    max_token_lifetime: int | None = None
    default_page_size: int = 10
    max_page_size: int = 300
    # A list whose filter or ordering no key serves reads its partition and filters in memory; it
    # stops after this many items with a 400 asking to narrow the request (a bound on any request).
    filter_read_limit: int = 5000
    stage: str = "local"
    version: str = VERSION
    # Queues and state machines are named `<resource_prefix>-<name>`; their URLs/ARNs may also be
    # given one by one (CDK does): CIRRUS_QUEUE_URL_<QUEUE>, CIRRUS_STATE_MACHINE_ARN_<NAME>.
    resource_prefix: str = "cirrus"
    queue_max_receives: int = 5
    # Email: "ses" (Amazon SES v2) or "local" (kept in memory and printed); unset: local when
    # CIRRUS_AWS_ENDPOINT_URL points at a local endpoint, else SES. The sender must be verified in SES.
    email_backend: str = ""
    email_from: str = "noreply@cirrus.localhost"
    # Events (their feed copies, their monthly counts) expire by DynamoDB TTL this many days after the
    # end of the month they happen in, so a month's events and its counts go together.
    event_retention_days: int = 365
    # Web hook deliveries: tries in all, and the delay before the first retry (doubling each time,
    # at most SQS's 900 s); the last failure goes to the background queue's dead-letter queue.
    hook_max_attempts: int = 5
    hook_retry_base_seconds: int = 30
    hook_timeout_seconds: int = 10
    # Networks web hooks may reach although they are not public (loopback, private, link-local, ...);
    # empty: public addresses only. `make run` and the tests allow loopback (127.0.0.0/8, ::1).
    hook_allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    # The EventBridge bus events are published to (CDK sets it; else `<resource_prefix>-events`).
    event_bus_name: str = ""
    # Every AWS call (DynamoDB through pynamodb, SQS, Step Functions, SES, EventBridge): connect and
    # read timeouts, and botocore's standard retry mode with this many attempts in all (the first
    # included). One call's worst case, attempts x (connect + read) plus the backoffs between them,
    # must end well inside API Gateway's 29 s (tests/unit/test_aws_clients.py checks the defaults).
    aws_connect_timeout_seconds: float = 2.0
    aws_read_timeout_seconds: float = 5.0
    aws_max_attempts: int = 3
    # An API request's deadline: a unit of work about to commit after it writes nothing and the
    # request answers 503 (domain/deadline.py), so a request API Gateway gave up on (29 s) does
    # not create what the client's retry creates again. 0: no deadline.
    request_deadline_seconds: float = 20.0
    # Support attachments: the S3 bucket (empty: `<resource_prefix>-attachments`), the largest file
    # accepted (a multipart upload travels base64-encoded through API Gateway into a Lambda request,
    # whose limit is 6 MB), and how long a download URL lives.
    attachments_bucket: str = ""
    attachment_max_bytes: int = 4 * 1024 * 1024
    attachment_url_seconds: int = 300
    # The BI export's bucket (chalicelib/exports.py; empty: `<resource_prefix>-analytics-export`).
    export_bucket: str = ""
    # An external service desk the support desk keeps its issues in step with
    # (chalicelib/support_backends, chalicelib/workflows/support_sync.py): "basic" (none: the built-in
    # desk alone), "jira" or "zammad". The adapter's settings (a JSON object of strings) come from the
    # Secrets Manager secret `support_backend_secret_arn` (read once per container, never logged) or,
    # locally and in tests, inline from CIRRUS_SUPPORT_BACKEND_SETTINGS. Checked when first used, so
    # a bad value fails the sync's tasks and webhooks with a clear message, never unrelated requests.
    support_backend: str = "basic"
    support_backend_secret_arn: str = ""
    support_backend_settings: str = field(default="", repr=False)
    # Providers (customer uuids, hex) whose AWS.Instance offerings may run in the platform's own AWS
    # account, with the functions' credentials, when they name no role to assume; "*": every
    # provider. Empty (the default): every AWS offering must name a role in its own account, so no
    # provider launches machines on the platform's bill (chalicelib/providers/aws).
    aws_platform_account_providers: tuple[str, ...] = ()
    cognito: CognitoSettings = field(default_factory=CognitoSettings)

    @property
    def attachments_bucket_name(self) -> str:
        return self.attachments_bucket or f"{self.resource_prefix}-attachments"

    @property
    def export_bucket_name(self) -> str:
        return self.export_bucket or f"{self.resource_prefix}-analytics-export"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    env = os.environ
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
    return Settings(
        table_name=env.get("CIRRUS_TABLE_NAME", "cirrus"),
        region=region,
        aws_endpoint_url=env.get("CIRRUS_AWS_ENDPOINT_URL") or None,
        public_url=(env.get("CIRRUS_PUBLIC_URL") or "").rstrip("/") or None,
        homeport_url=(env.get("CIRRUS_HOMEPORT_URL") or "").strip().rstrip("/") or None,
        cors_allowed_origins=_names(env.get("CIRRUS_CORS_ALLOWED_ORIGINS")),
        allowed_hosts=_names(env.get("CIRRUS_ALLOWED_HOSTS")) or DEFAULT_ALLOWED_HOSTS,
        password_iterations=_int("CIRRUS_PASSWORD_ITERATIONS", 600_000),
        lockout_limit=_int("CIRRUS_LOCKOUT_LIMIT", 5),
        lockout_cooloff_seconds=_int("CIRRUS_LOCKOUT_COOLOFF_SECONDS", 600),
        max_token_lifetime=_int("CIRRUS_MAX_TOKEN_LIFETIME", 0) or None,
        filter_read_limit=_int("CIRRUS_FILTER_READ_LIMIT", 5000),
        stage=env.get("CIRRUS_STAGE", "local"),
        resource_prefix=env.get("CIRRUS_RESOURCE_PREFIX", "cirrus"),
        queue_max_receives=_int("CIRRUS_QUEUE_MAX_RECEIVES", 5),
        email_backend=env.get("CIRRUS_EMAIL_BACKEND", "").strip().lower(),
        email_from=env.get("CIRRUS_EMAIL_FROM") or "noreply@cirrus.localhost",
        event_retention_days=_int("CIRRUS_EVENT_RETENTION_DAYS", 365),
        hook_max_attempts=_int("CIRRUS_HOOK_MAX_ATTEMPTS", 5),
        hook_retry_base_seconds=_int("CIRRUS_HOOK_RETRY_BASE_SECONDS", 30),
        hook_timeout_seconds=_int("CIRRUS_HOOK_TIMEOUT_SECONDS", 10),
        hook_allowed_networks=_networks("CIRRUS_HOOK_ALLOWED_NETWORKS"),
        event_bus_name=env.get("CIRRUS_EVENT_BUS_NAME")
        or f"{env.get('CIRRUS_RESOURCE_PREFIX', 'cirrus')}-events",
        aws_connect_timeout_seconds=_float("CIRRUS_AWS_CONNECT_TIMEOUT_SECONDS", 2.0),
        aws_read_timeout_seconds=_float("CIRRUS_AWS_READ_TIMEOUT_SECONDS", 5.0),
        aws_max_attempts=max(1, _int("CIRRUS_AWS_MAX_ATTEMPTS", 3)),
        request_deadline_seconds=_float("CIRRUS_REQUEST_DEADLINE_SECONDS", 20.0),
        aws_platform_account_providers=tuple(
            n.replace("-", "").lower() for n in _names(env.get("CIRRUS_AWS_PLATFORM_ACCOUNT_PROVIDERS"))
        ),
        attachments_bucket=env.get("CIRRUS_ATTACHMENTS_BUCKET", "").strip(),
        attachment_max_bytes=min(_int("CIRRUS_ATTACHMENT_MAX_BYTES", 4 * 1024 * 1024), 4 * 1024 * 1024),
        attachment_url_seconds=max(1, min(_int("CIRRUS_ATTACHMENT_URL_SECONDS", 300), 3600)),
        export_bucket=env.get("CIRRUS_EXPORT_BUCKET", "").strip(),
        support_backend=(env.get("CIRRUS_SUPPORT_BACKEND") or "basic").strip().lower(),
        support_backend_secret_arn=env.get("CIRRUS_SUPPORT_BACKEND_SECRET_ARN", "").strip(),
        support_backend_settings=env.get("CIRRUS_SUPPORT_BACKEND_SETTINGS", ""),
        cognito=_cognito(env, region),
    )


def reset_settings() -> None:
    """Forget cached settings (tests and the local stack change the environment)."""
    get_settings.cache_clear()
