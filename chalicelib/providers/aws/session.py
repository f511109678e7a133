"""Reaching EC2 for one offering: the platform's own account (the functions' credentials, where the
operator allows the provider) or the customer's, through STS AssumeRole; and what AWS's errors
mean for the order (retry, or fail with a message an operator can act on, never a secret)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from chalicelib.providers.aws.options import Options
from chalicelib.providers.cloud import ProviderError, Settings, TransientError

# Worth retrying: AWS's throttles, its capacity running out in a zone for now, its own failures.
TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "TooManyRequestsException",
        "InsufficientInstanceCapacity",
        "InsufficientCapacity",
        "InternalError",
        "InternalFailure",
        "ServiceUnavailable",
        "Unavailable",
        "IncorrectInstanceState",  # a state change still under way
        "DependencyViolation",  # a security group still attached while its instance goes
        "ExpiredToken",  # the assumed role's session ran out: a retry assumes it again
        "RequestExpired",
    }
)
DENIED_CODES = frozenset({"UnauthorizedOperation", "AccessDenied", "AccessDeniedException", "AuthFailure"})
MESSAGE_LIMIT = 300
SESSION_NAME = re.compile(r"[^\w+=,.@-]")


def session_name(settings: Settings) -> str:
    """The AssumeRole session's name: it names the offering (CloudTrail at the customer shows which
    offering acted)."""
    return SESSION_NAME.sub("", f"cirrus-offering-{settings.offering_uuid}")[:64]


def ec2_client(options: Options, settings: Settings) -> Any:
    """An EC2 client in the offering's region, on the configured endpoint (moto locally)."""
    import boto3

    from chalicelib.config import get_settings
    from chalicelib.workflows.aws import client_config

    config = get_settings()
    common: dict[str, Any] = {
        "region_name": options.region,
        "endpoint_url": config.aws_endpoint_url,
        "config": client_config(config),
    }
    if not options.role_arn:
        allowed = config.aws_platform_account_providers
        if "*" not in allowed and settings.customer_uuid.replace("-", "").lower() not in allowed:
            raise ProviderError(
                "This AWS offering names no role to assume (secret option role_arn), and its provider "
                "may not use the platform's own AWS account."
            )
        return boto3.client("ec2", **common)
    sts = boto3.client("sts", **common)
    with mapped("assume the offering's role", settings, options):
        credentials = sts.assume_role(
            RoleArn=options.role_arn,
            RoleSessionName=session_name(settings),
            ExternalId=options.external_id,
        )["Credentials"]
    return boto3.client(
        "ec2",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        **common,
    )


def _scrub(text: str, settings: Settings) -> str:
    """AWS's own words, bounded, with every secret option's value (and any role ARN) taken out."""
    for value in settings.secrets.values():
        if isinstance(value, str) and len(value) >= 2:
            text = text.replace(value, "***")
    text = re.sub(r"arn:aws[\w-]*:(iam|sts)::\d{12}:[^\s,;]+", "***", text)
    return text[:MESSAGE_LIMIT]


def error_of(exc: Exception, doing: str, settings: Settings, options: Options) -> ProviderError:
    """What a botocore failure means: TransientError to retry, ProviderError else."""
    from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "")
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        said = _scrub(str(error.get("Message") or ""), settings)
        if code in TRANSIENT_CODES or status >= 500:
            return TransientError(f"AWS could not {doing} for now ({code or status}); retrying.")
        if code in DENIED_CODES:
            where = "the customer's role" if options.role_arn else "the platform's credentials"
            return ProviderError(
                f"AWS refused to {doing}: {where} may not ({code}). Check the role's permissions"
                " and trust policy (principal and external id) — see docs/providers/aws.md."
            )
        if code.startswith("InvalidAMIID"):
            return ProviderError(f"The image does not exist in {options.region} or may not be used ({code}).")
        return ProviderError(f"AWS refused to {doing} ({code}): {said}".rstrip(": "))
    if isinstance(exc, ConnectionError | HTTPClientError):
        return TransientError(f"AWS could not be reached to {doing} ({type(exc).__name__}); retrying.")
    if isinstance(exc, BotoCoreError):
        return ProviderError(f"Could not {doing}: {type(exc).__name__}.")
    raise exc


@contextmanager
def mapped(doing: str, settings: Settings, options: Options) -> Iterator[None]:
    """Run AWS calls; their failures become ProviderError / TransientError."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise error_of(exc, doing, settings, options) from None


def code_of(exc: BaseException) -> str:
    response: Any = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code") or "")


def ignoring(codes: frozenset[str], call: Callable[[], Any]) -> Any:
    """`call()`, None when AWS answers one of `codes` (already gone, already there)."""
    from botocore.exceptions import ClientError

    try:
        return call()
    except ClientError as exc:
        if code_of(exc) in codes:
            return None
        raise
