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

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

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
        )
        config.node.add_dependency(files)
