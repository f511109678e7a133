"""What the functions that run cloud backends (chalicelib/providers) may do at the clouds AWS hosts.

The heavy worker (orders), the background worker (pulls, usage) and the API function (importable
resources) share Chalice's one role, DefaultRole, so the grants go to it:

- `sts:AssumeRole` on `arn:<partition>:iam::*:role/cirrus-*`: an AWS.Instance offering works in its
  provider's account through a role the provider names, which must be called `cirrus-…` (checked by
  chalicelib/providers/aws/options.py too). The prefix keeps the functions from assuming any other
  role, in the platform's account or elsewhere (the platform's own roles are named by CloudFormation,
  `<stack>-…`); the provider's trust policy admits the platform's account with the ExternalId the
  offering sends (docs/providers/aws.md).
- The EC2 calls of chalicelib/providers/aws/ec2.py (EC2_ACTIONS), only when the operator lets
  providers use the platform's own account (`-c aws_platform_account_providers=<uuids>|*`, the
  functions' CIRRUS_AWS_PLATFORM_ACCOUNT_PROVIDERS): reads and launches on "*" (RunInstances and
  the Describe calls authorise on resources that do not exist yet or on none), tagging only as part
  of a launch or a security group's creation, and every change (stop, start, resize, terminate, a
  group's rules or deletion) only on what carries Cirrus's `cirrus:offering` tag.
- An explicit Deny of `sts:AssumeRole` on every role of the platform's own account: the stack's
  roles are named `cirrus-<stage>-…` too, and no offering may borrow one, whatever its trust policy.
- `secretsmanager:GetSecretValue` on the secrets named `cirrus/providers/*` of the platform's
  account and region only: an offering's secret options may reference those (and only those, checked
  by the services and the driver), never another secret of the platform's.
"""

from __future__ import annotations

from aws_cdk import Aws
from aws_cdk import aws_iam as iam
from cdk_nag import RegexAppliesTo

from chalicelib.providers.aws.ec2 import EC2_ACTIONS, OFFERING_TAG
from cirrus_infra.nag import suppress

ROLE_PATTERN = "role/cirrus-*"
# chalicelib/providers/cloud.py PROVIDER_SECRETS_PREFIX: the secrets offerings may reference.
SECRETS_PATTERN = "secret:cirrus/providers/*"
# Changes to what exists: allowed only on resources Cirrus tagged.
TAGGED_ONLY = (
    "ec2:StopInstances",
    "ec2:StartInstances",
    "ec2:ModifyInstanceAttribute",
    "ec2:ModifyVolume",
    "ec2:TerminateInstances",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:DeleteSecurityGroup",
)
CREATE_TAGS = "ec2:CreateTags"
TAGGING_ACTIONS = ("RunInstances", "CreateSecurityGroup")


Statement = tuple[list[str], list[str], dict[str, dict[str, object]] | None]


def provider_statements(platform_account: bool) -> list[Statement]:
    """(actions, resources, conditions) of the grants above (`platform_account`: EC2 in the
    platform's account)."""
    statements: list[Statement] = [
        (["sts:AssumeRole"], [f"arn:{Aws.PARTITION}:iam::*:{ROLE_PATTERN}"], None),
    ]
    if not platform_account:
        return statements
    anywhere = sorted(set(EC2_ACTIONS) - set(TAGGED_ONLY) - {CREATE_TAGS})
    return [
        *statements,
        (anywhere, ["*"], None),
        ([CREATE_TAGS], ["*"], {"StringEquals": {"ec2:CreateAction": list(TAGGING_ACTIONS)}}),
        (list(TAGGED_ONLY), ["*"], {"Null": {f"aws:ResourceTag/{OFFERING_TAG}": "false"}}),
    ]


def grant_providers(role: iam.IRole, platform_account: bool) -> list[iam.Grant]:
    grants = [
        iam.Grant.add_to_principal(grantee=role, actions=actions, resource_arns=arns, conditions=conditions)
        for actions, arns, conditions in provider_statements(platform_account)
    ]
    grants.append(
        iam.Grant.add_to_principal(
            grantee=role,
            actions=["secretsmanager:GetSecretValue"],
            resource_arns=[
                f"arn:{Aws.PARTITION}:secretsmanager:{Aws.REGION}:{Aws.ACCOUNT_ID}:{SECRETS_PATTERN}"
            ],
        )
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            effect=iam.Effect.DENY,
            actions=["sts:AssumeRole"],
            resources=[f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role/*"],
        )
    )
    suppress(
        role,
        "AwsSolutions-IAM5",
        "secretsmanager:GetSecretValue on the secrets named cirrus/providers/* of this account and region: "
        "the secrets providers' offerings reference (created after deployment, names unknown here)",
        applies_to=[
            RegexAppliesTo(
                regex=r"/^Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:"
                r"secret:cirrus\/providers\/\*$/"
            )
        ],
        children=True,
    )
    suppress(
        role,
        "AwsSolutions-IAM5",
        "sts:AssumeRole on roles named cirrus-* in any account: an AWS offering's provider names a role "
        "in its own account (unknown at deployment) for the platform to assume (cirrus_infra/providers.py)",
        applies_to=[RegexAppliesTo(regex=r"/^Resource::arn:<AWS::Partition>:iam::\*:role\/cirrus-\*$/")],
        children=True,
    )
    if platform_account:
        suppress(
            role,
            "AwsSolutions-IAM5",
            "EC2 in the platform's account for AWS offerings the operator allows: launches and reads on * "
            "(their resources do not exist yet), changes only on resources tagged cirrus:offering",
            applies_to=["Resource::*"],
            children=True,
        )
    return grants
