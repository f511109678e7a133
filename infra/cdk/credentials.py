"""Fail fast, saying what to do, when there are no AWS credentials or no region (`make diff|deploy|
destroy|bootstrap` run this before the CDK CLI, which would otherwise fail late or obscurely).

Prints `account region` of the caller on success.
"""

from __future__ import annotations

import sys

HELP = (
    "Configure credentials for the target account (`aws configure`, `aws sso login --profile X` with "
    "AWS_PROFILE=X, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY[/AWS_SESSION_TOKEN]) and a region "
    "(AWS_REGION or the profile's region). `make synth` needs none."
)


def main() -> int:
    import boto3
    import botocore.exceptions

    session = boto3.Session()
    if session.get_credentials() is None:
        print(f"error: no AWS credentials found. {HELP}", file=sys.stderr)
        return 1
    if not session.region_name:
        print(f"error: no AWS region configured. {HELP}", file=sys.stderr)
        return 1
    try:
        identity = session.client("sts").get_caller_identity()
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        print(f"error: the AWS credentials do not work ({exc}). {HELP}", file=sys.stderr)
        return 1
    print(identity["Account"], session.region_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
