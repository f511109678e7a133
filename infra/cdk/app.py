"""CDK entry point: `cdk synth` / `cdk deploy` run this (see cdk.json; `make synth|diff|deploy|destroy`
run the pinned CDK CLI with STAGE=dev|prod, README "Deploying to AWS").

Stages: `-c stage=dev` (the default) or `-c stage=prod` (any name: stack `cirrus-<stage>`, resources
`cirrus-<stage>-*`). Context is read from the command line first, then from `stages/<stage>.json`
(a JSON object of the same names, if the file exists), then the defaults. The table's deletion
protection is on by default for every stage but `dev`. `-c bundle_bytecode=false` deploys a code
bundle without `.pyc` (slower cold starts) when no Python 3.12 is at hand (cirrus_infra/bundle.py).

Context (all optional): `-c public_url=https://cirrus.example.org`,
`-c domain_name=cirrus.example.org -c certificate_arn=arn:aws:acm:...`, `-c queue_max_receives=5`,
`-c worker_timeout=150` (seconds), `-c alarm_email=ops@example.org` (subscribed to the stack's alarms
topic) or `-c alarm_topic_arn=arn:aws:sns:...` (an existing topic instead of the stack's),
`-c worker_concurrency='{"heavy": 10}'` (queue consumers' MaximumConcurrency, over the defaults),
`-c deletion_protection=false` (the table's DeletionProtectionEnabled; on by default but in `dev`),
`-c email_from=cirrus@example.org` (an SES-verified identity invitations are mailed from),
`-c event_retention_days=365` (events expire from the table by TTL after this many days),
`-c event_archive_days=365` (the event bus's archive keeps them this long; 0: indefinitely).
Front door (cirrus_infra/frontdoor.py): `-c api_type=http` (default: an HTTP API, no stage prefix) or
`-c api_type=rest` (Chalice's REST API, stage `api`); `-c api_throttle_rate=500` (requests per second)
and `-c api_throttle_burst=1000` limit the HTTP API's default route. `-c log_level=INFO` (default
WARNING) logs a line per API request and task; `-c lambda_memory_size=1024` (default 512 MB).
Federated sign-in (cirrus_infra/auth.py; README "Authentication"): `-c identity_providers='[{...}]'`
(SAML and OIDC providers, a JSON list), `-c staff_groups=...`, `-c support_groups=...`,
`-c cognito_domain_prefix=...`, `-c cognito_callback_urls=...`, `-c cognito_logout_urls=...`,
`-c cognito_native_users=false`.
Provider plugins (README "Providers"): `-c provider_plugins=cirrus-openstack,cirrus-waldur-remote`
installs those `plugins/<name>/` distributions, with their SDKs, into the Lambda bundle.
Web UI (cirrus_infra/webui.py; README "Web UI"): `-c homeport_dir=path/to/homeport/build` hosts a
HomePort build on S3 + CloudFront pointing at the API (off by default), or
`-c homeport_url=https://portal.example.org` names one hosted elsewhere; either way the API allows it
by CORS and the hosted UI may return to its sign-in page. `-c cors_allowed_origins=https://a,https://b`
allows more origins.
Providers (cirrus_infra/providers.py; docs/providers/aws.md): `-c aws_platform_account_providers=<uuid>,...`
(or `*`) lets those providers' AWS.Instance offerings run in the platform's own account (EC2 granted).
`-c nag=false` skips cdk-nag (cirrus_infra/nag.py), which otherwise fails the synth on a finding.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

# The stack imports the table schema from chalicelib (repository root) and cirrus_infra (beside us).
HERE = Path(__file__).resolve().parent
for path in (HERE, HERE.parents[1]):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import aws_cdk as cdk  # noqa: E402

from cirrus_infra import CirrusStack, StackSettings  # noqa: E402
from cirrus_infra.auth import AuthSettings  # noqa: E402
from cirrus_infra.bundle import BundleSpec  # noqa: E402
from cirrus_infra.frontdoor import Throttle  # noqa: E402
from cirrus_infra.nag import packs  # noqa: E402

DEFAULT_STAGE = "dev"
STAGES_DIR = HERE / "stages"
REPO_ROOT = HERE.parents[1]
# Stages whose table has no deletion protection by default (`-c deletion_protection=` overrides).
UNPROTECTED_STAGES = ("dev",)


def _names(raw: str | None) -> tuple[str, ...]:
    """A comma-separated context value (blanks dropped)."""
    return tuple(part.strip() for part in (raw or "").split(",") if part.strip())


def _flag(raw: str | None, *, default: bool) -> bool:
    """A boolean context value (`true`/`false`, as `-c` passes it, or a JSON boolean in cdk.json)."""
    if raw is None:
        return default
    if raw.lower() not in ("true", "false"):
        raise ValueError(f"expected true or false, got {raw!r}")
    return raw.lower() == "true"


def provider_plugins(raw: str | None) -> tuple[Path, ...]:
    """`provider_plugins`: comma-separated names of the repository's `plugins/<name>/` distributions
    to install into the Lambda bundle (none by default: their SDKs are large)."""
    names = [name.strip() for name in (raw or "").split(",") if name.strip()]
    found = []
    for name in names:
        path = REPO_ROOT / "plugins" / name
        if "/" in name or not (path / "pyproject.toml").is_file():
            known = sorted(p.parent.name for p in (REPO_ROOT / "plugins").glob("*/pyproject.toml"))
            raise ValueError(f"provider_plugins: no plugin {name!r} in plugins/ (known: {', '.join(known)})")
        found.append(path)
    return tuple(found)


def _concurrency(raw: object) -> dict[str, int]:
    """`worker_concurrency`: a JSON object of queue → cap (a string from `-c`, an object from cdk.json)."""
    if raw in (None, ""):
        return {}
    value = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(value, dict):
        raise ValueError(f"worker_concurrency must be a JSON object of queue to cap, got {raw!r}")
    return {str(queue): int(cap) for queue, cap in value.items()}


def stage_file(stage: str) -> dict[str, Any]:
    """`stages/<stage>.json`: the stage's context values (none if the file does not exist)."""
    path = STAGES_DIR / f"{stage}.json"
    if not path.exists():
        return {}
    values = json.loads(path.read_text())
    if not isinstance(values, dict):
        raise ValueError(f"{path} must hold a JSON object of context values")
    return values


def stack_settings(try_get_context: Callable[[str], Any]) -> StackSettings:
    """The stack's settings from CDK context (`try_get_context`: `-c` values and cdk.json's), then
    the stage's file, then the defaults."""
    stage = str(try_get_context("stage") or DEFAULT_STAGE)
    from_file = stage_file(stage)

    def lookup(name: str) -> Any:
        """A context value: `-c` (or cdk.json) first, then the stage's file."""
        value = try_get_context(name)
        return from_file.get(name) if value is None else value

    def context(name: str) -> str | None:
        value = lookup(name)
        if isinstance(value, (list, dict)):
            return json.dumps(value)
        if isinstance(value, bool):
            return str(value).lower()
        return str(value) if value not in (None, "") else None

    defaults = StackSettings()
    max_receives, worker_timeout = context("queue_max_receives"), context("worker_timeout")
    retention_days, archive_days = context("event_retention_days"), context("event_archive_days")
    homeport_dir = context("homeport_dir")
    throttle_rate, throttle_burst = context("api_throttle_rate"), context("api_throttle_burst")
    memory = context("lambda_memory_size")
    return StackSettings(
        stage=stage,
        bundle=BundleSpec(
            compile=_flag(context("bundle_bytecode"), default=True),
            plugins=provider_plugins(context("provider_plugins")),
        ),
        public_url=context("public_url"),
        domain_name=context("domain_name"),
        certificate_arn=context("certificate_arn"),
        queue_max_receives=int(max_receives) if max_receives else defaults.queue_max_receives,
        worker_timeout=int(worker_timeout) if worker_timeout else defaults.worker_timeout,
        alarm_topic_arn=context("alarm_topic_arn"),
        alarm_email=context("alarm_email"),
        worker_concurrency=_concurrency(lookup("worker_concurrency")),
        deletion_protection=_flag(context("deletion_protection"), default=stage not in UNPROTECTED_STAGES),
        email_from=context("email_from"),
        event_retention_days=int(retention_days) if retention_days else defaults.event_retention_days,
        event_archive_days=int(archive_days) if archive_days else defaults.event_archive_days,
        auth=AuthSettings.from_context(lookup, base_dir=Path.cwd()),
        homeport_dir=Path.cwd() / homeport_dir if homeport_dir else None,
        homeport_url=context("homeport_url"),
        cors_allowed_origins=_names(context("cors_allowed_origins")),
        api_type=context("api_type") or defaults.api_type,
        log_level=(context("log_level") or defaults.log_level).upper(),
        lambda_memory_size=int(memory) if memory else defaults.lambda_memory_size,
        support_backend=(context("support_backend") or defaults.support_backend).lower(),
        support_backend_secret_arn=context("support_backend_secret_arn"),
        aws_platform_account_providers=_names(context("aws_platform_account_providers")),
        throttle=Throttle(
            rate=float(throttle_rate) if throttle_rate else defaults.throttle.rate,
            burst=int(throttle_burst) if throttle_burst else defaults.throttle.burst,
        ),
    )


def main() -> None:
    app = cdk.App()
    region = os.environ.get("CDK_DEFAULT_REGION")
    # `chalice package` (run by the Chalice construct during synth) needs a region.
    os.environ.setdefault("AWS_DEFAULT_REGION", region or "us-east-1")
    settings = stack_settings(app.node.try_get_context)
    nag = app.node.try_get_context("nag")
    CirrusStack(
        app,
        f"cirrus-{settings.stage}",
        settings=settings,
        env=cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=region),
        description="Cirrus: Waldur-compatible cloud marketplace API (Chalice on Lambda, DynamoDB, SQS, "
        "Step Functions, EventBridge)",
    )
    # cdk-nag's AwsSolutions and Serverless packs: an unsuppressed finding fails `cdk synth` and
    # `cdk deploy` (cirrus_infra/nag.py; `-c nag=false` skips them).
    if str(nag).lower() != "false":
        for pack in packs(log_ignores=False):
            cdk.Aspects.of(app).add(pack)
    app.synth()


if __name__ == "__main__":
    main()
