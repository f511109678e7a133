"""HomePort (Waldur's web UI) hosted on AWS, optional (`-c homeport_dir=<a HomePort build>`): a private
S3 bucket read only by a CloudFront distribution (origin access control), HTTPS only, with the
single-page app's fallback (a path that is no file, 403 or 404 from S3, is answered with
`/index.html` and 200, so HomePort routes in the browser), and the build's
`scripts/configs/config.json` deployed with `apiEndpoint` set to the API's URL.

The stack gives the API the distribution's URL as the web UI's (CIRRUS_HOMEPORT_URL) and as the one
origin allowed by CORS (CIRRUS_CORS_ALLOWED_ORIGINS), and registers HomePort's sign-in page on the
Cognito app client (auth.py). Checked by tests/infra/test_synth_webui.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from cdk_nag import RegexAppliesTo
from constructs import Construct

from cirrus_infra.nag import suppress

# The settings HomePort reads at run time, relative to its page (its README).
CONFIG_KEY = "scripts/configs/config.json"
# HomePort's page that finishes an OAuth sign-in, for the provider `cognito` (src/auth/utils.ts).
COGNITO_CALLBACK_PATH = "/oauth_login_completed/cognito/"


def cognito_callback_url(homeport_url: str) -> str:
    """Where the hosted UI sends the browser back to after HomePort's login button."""
    return f"{homeport_url.rstrip('/')}{COGNITO_CALLBACK_PATH}"


def build_settings(build_dir: Path) -> dict[str, Any]:
    """The build's own config.json (its theme, its title...), empty when it has none or a broken one."""
    source = build_dir / CONFIG_KEY
    try:
        loaded = json.loads(source.read_text(encoding="utf-8")) if source.is_file() else {}
    except (ValueError, UnicodeDecodeError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def check_build(build_dir: Path) -> Path:
    """The build directory, resolved; ValueError when it holds no HomePort (no index.html)."""
    resolved = build_dir.expanduser().resolve()
    if not (resolved / "index.html").is_file():
        raise ValueError(
            f"homeport_dir={build_dir}: no index.html there; give a HomePort build "
            "(`yarn install && yarn build` in waldur-homeport writes build/)"
        )
    return resolved


class HomePortHosting(Construct):
    """The bucket and the distribution (at construction, so that the API and the user pool can be
    given the UI's URL), then the files (`deploy`, once the API's URL is known)."""

    def __init__(self, scope: Construct, construct_id: str, *, build_dir: Path, prefix: str) -> None:
        super().__init__(scope, construct_id)
        self.build_dir = check_build(build_dir)
        self.bucket = s3.Bucket(
            self,
            "Files",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            # The build is rebuilt from its sources; the bucket holds nothing else.
            removal_policy=RemovalPolicy.DESTROY,
        )
        # A path that is no file: S3 answers 403 to a reader without ListBucket (404 with it).
        spa = [
            cloudfront.ErrorResponse(
                http_status=status,
                response_http_status=200,
                response_page_path="/index.html",
                ttl=Duration.seconds(0),
            )
            for status in (403, 404)
        ]
        self.distribution = cloudfront.Distribution(
            self,
            "Cdn",
            comment=f"{prefix} HomePort",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
                compress=True,
            ),
            error_responses=spa,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
        )
        suppress(
            self.bucket,
            "AwsSolutions-S1",
            "The bucket holds only HomePort's public build, written by the stack's deployments and read "
            "only by the distribution (origin access control): access logs would record CloudFront",
        )
        for rule, reason in {
            "AwsSolutions-CFR1": "HomePort's files are public and Cirrus's users are wherever they are",
            "AwsSolutions-CFR2": "Public static files only; the API they call enforces its own limits. A "
            "web ACL costs $5/month plus $0.60 per 1M requests, for nothing to protect here",
            "AwsSolutions-CFR3": "Public static files only: what users do is in the API's logs",
            "AwsSolutions-CFR4": "The distribution's own *.cloudfront.net name: its default certificate "
            "accepts TLSv1 and allows no other security policy (a custom domain with its certificate would)",
        }.items():
            suppress(self.distribution, rule, reason)

    @property
    def url(self) -> str:
        """The UI's URL (a token until deployment), without a trailing slash."""
        return f"https://{self.distribution.distribution_domain_name}"

    def deploy(self, api_endpoint: str) -> None:
        """Upload the build, and its settings with `apiEndpoint` (the API's base URL ending in `/`:
        HomePort appends `api/...`). The page and its settings are never cached stale: both are
        invalidated at each deployment, and the settings object says no-cache."""
        files = s3deploy.BucketDeployment(
            self,
            "Build",
            sources=[s3deploy.Source.asset(str(self.build_dir), exclude=[CONFIG_KEY])],
            destination_bucket=self.bucket,
            exclude=[CONFIG_KEY],  # deployed below; an excluded key is not pruned either
            distribution=self.distribution,
            distribution_paths=["/*"],
            memory_limit=512,
            # The bucket goes with the stack (it holds only the public build): its objects must go
            # first, or CloudFormation cannot delete it.
            retain_on_delete=False,
        )
        settings = {**build_settings(self.build_dir), "apiEndpoint": api_endpoint}
        config = s3deploy.BucketDeployment(
            self,
            "Settings",
            sources=[s3deploy.Source.json_data(CONFIG_KEY, settings)],
            destination_bucket=self.bucket,
            prune=False,
            cache_control=[s3deploy.CacheControl.no_cache()],
            distribution=self.distribution,
            distribution_paths=[f"/{CONFIG_KEY}"],
            retain_on_delete=False,
        )
        config.node.add_dependency(files)
        self._accept_cdk_deployment_provider()

    def _accept_cdk_deployment_provider(self) -> None:
        """CDK's own function behind BucketDeployment (a singleton per memory size, on the stack): its
        runtime, role and grants are CDK's, run only by CloudFormation during a deployment."""
        stack = Stack.of(self)
        providers = [c for c in stack.node.children if c.node.id.startswith("Custom::CDKBucketDeployment")]
        provider = "CDK's BucketDeployment provider"
        reasons = {
            "AwsSolutions-IAM4": f"{provider}: AWSLambdaBasicExecutionRole, to write its logs",
            "AwsSolutions-IAM5": f"{provider}: copies the build from CDK's asset bucket to HomePort's (s3 "
            "object actions on both buckets' keys) and invalidates the distribution "
            "(cloudfront:CreateInvalidation is authorised on * only)",
            "AwsSolutions-L1": f"{provider}: its runtime is CDK's, updated with aws-cdk-lib",
            "Serverless-LambdaLatestVersion": f"{provider}: its runtime is CDK's, updated with aws-cdk-lib",
            "Serverless-LambdaDLQ": f"{provider}: CloudFormation invokes it during a deployment and waits "
            "for its answer; a failure fails the deployment, nothing is lost",
            "Serverless-LambdaTracing": f"{provider} runs only during deployments: nothing to trace (and "
            "Cirrus uses no X-Ray)",
        }
        wildcards: list[str | RegexAppliesTo] = [
            *(
                f"Action::s3:{action}*"
                for action in ("Abort", "DeleteObject", "GetBucket", "GetObject", "List")
            ),
            "Resource::*",
            RegexAppliesTo(regex=r"/^Resource::<HomePortFiles[A-Za-z0-9]+\.Arn>\/\*$/"),
            RegexAppliesTo(regex=r"/^Resource::arn:<AWS::Partition>:s3:::cdk-[a-z0-9]+-assets-.*\/\*$/"),
        ]
        applies_to: dict[str, list[str | RegexAppliesTo]] = {
            "AwsSolutions-IAM4": [
                "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
            ],
            "AwsSolutions-IAM5": wildcards,
        }
        for construct in providers:
            for rule, reason in reasons.items():
                suppress(construct, rule, reason, applies_to=applies_to.get(rule, []), children=True)
