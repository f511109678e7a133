"""HomePort hosted on AWS (cirrus_infra/webui.py, `-c homeport_dir=...`), synthesised offline: a private
bucket read only by its CloudFront distribution (origin access control), HTTPS, the single-page app's
fallback to index.html, the build deployed with its config.json pointing at the API, and the API told
the UI's URL (CIRRUS_HOMEPORT_URL, CORS) and the Cognito app client its sign-in page.

One synth for the module (test_synth.py's helper) with a tiny build; the settings checks need none.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.infra.test_synth import CDK_DIR, Synth, _assert_lint_clean, _functions, _synth

pytestmark = pytest.mark.infra

ADMIN_ORIGIN = "https://admin.example.org"
BUILD_SETTINGS = {"buildId": "v4.8.6", "apiEndpoint": "http://localhost:8000/", "theme": "dark"}


def _build(tmp: Path) -> Path:
    build = tmp / "build"
    (build / "scripts" / "configs").mkdir(parents=True)
    (build / "index.html").write_text("<!doctype html><title>HomePort</title>")
    (build / "main.js").write_text("console.log('homeport')")
    (build / "scripts" / "configs" / "config.json").write_text(json.dumps(BUILD_SETTINGS))
    return build


def _webui_module() -> Any:
    importlib.import_module("app")
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(CDK_DIR))
        return importlib.import_module("cirrus_infra.webui")


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    tmp = tmp_path_factory.mktemp("synth-webui")
    workdir = tmp / "work"
    workdir.mkdir()
    return _synth(workdir, homeport_dir=_build(tmp), cors_allowed_origins=(ADMIN_ORIGIN,))


def _homeport(synth: Synth, type_: str) -> tuple[str, dict[str, Any]]:
    """HomePort's one resource of `type_` (the stack also has the support attachments' bucket)."""
    found = [(k, v) for k, v in synth.resources(type_).items() if k.startswith("HomePort")]
    assert len(found) == 1, f"expected one HomePort {type_}, found {found}"
    return found[0]


def _distribution_url(synth: Synth) -> dict[str, Any]:
    distribution_id, _ = synth.one("AWS::CloudFront::Distribution")
    return {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution_id, "DomainName"]}]]}


def test_the_bucket_is_private_and_read_only_by_the_distribution(synth: Synth) -> None:
    bucket_id, bucket = _homeport(synth, "AWS::S3::Bucket")
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert "WebsiteConfiguration" not in props  # served by CloudFront only, not as an S3 website
    distribution_id, _ = synth.one("AWS::CloudFront::Distribution")
    _, policy = _homeport(synth, "AWS::S3::BucketPolicy")
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    reads = [s for s in statements if s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}]
    assert len(reads) == 1 and reads[0]["Effect"] == "Allow" and reads[0]["Action"] == "s3:GetObject"
    source = json.dumps(reads[0]["Condition"]["StringEquals"]["AWS:SourceArn"])
    assert distribution_id in source  # this distribution only
    denies = [s for s in statements if s["Effect"] == "Deny"]
    assert any(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in denies)
    assert bucket_id in json.dumps(policy["Properties"]["Bucket"])


def test_make_destroy_can_delete_the_bucket(synth: Synth) -> None:
    """The bucket is deleted with the stack; CloudFormation deletes only an empty bucket, so both
    deployments delete what they put there when the stack goes."""
    _, bucket = _homeport(synth, "AWS::S3::Bucket")
    assert bucket["DeletionPolicy"] == "Delete"
    deployments = synth.resources("Custom::CDKBucketDeployment")
    assert len(deployments) == 2
    assert all(d["Properties"]["RetainOnDelete"] is False for d in deployments.values())


def test_the_distribution_serves_the_spa_over_https_through_origin_access_control(synth: Synth) -> None:
    oac_id, oac = synth.one("AWS::CloudFront::OriginAccessControl")
    assert oac["Properties"]["OriginAccessControlConfig"]["OriginAccessControlOriginType"] == "s3"
    assert oac["Properties"]["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    _, distribution = synth.one("AWS::CloudFront::Distribution")
    config = distribution["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [oac_id, "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # no legacy OAI
    assert config["DefaultRootObject"] == "index.html"
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    assert "ResponseHeadersPolicyId" in behavior  # the managed security headers
    # A path that is no file (S3 answers 403 without ListBucket, else 404) is the page, with 200:
    # HomePort routes in the browser.
    fallback = {
        (r["ErrorCode"], r["ResponseCode"], r["ResponsePagePath"]) for r in config["CustomErrorResponses"]
    }
    assert fallback == {(403, 200, "/index.html"), (404, 200, "/index.html")}


def _deployments(synth: Synth) -> list[dict[str, Any]]:
    found = synth.resources("Custom::CDKBucketDeployment")
    assert len(found) == 2, sorted(found)
    return [d["Properties"] for d in found.values()]


def test_the_build_and_its_settings_pointing_at_the_api_are_deployed(synth: Synth) -> None:
    bucket_id, _ = _homeport(synth, "AWS::S3::Bucket")
    deployments = _deployments(synth)
    for deployment in deployments:
        assert deployment["DestinationBucketName"] == {"Ref": bucket_id}
    (build,) = [d for d in deployments if d.get("Prune", True) is not False]
    (settings,) = [d for d in deployments if d.get("Prune", True) is False]
    assert build["Exclude"] == ["scripts/configs/config.json"]  # deployed (and never pruned) apart
    assert build["DistributionPaths"] == ["/*"]
    assert settings["DistributionPaths"] == ["/scripts/configs/config.json"]
    assert settings["SystemMetadata"] == {"cache-control": "no-cache"}
    # config.json: the build's own settings, `apiEndpoint` replaced by the HTTP API's URL (no stage).
    (markers,) = settings["SourceMarkers"]
    api_id, _ = synth.one("AWS::ApiGatewayV2::Api")
    (endpoint,) = [v for v in markers.values() if api_id in json.dumps(v)]
    # The value goes in as a JSON string (CDK's json_data quotes a deploy-time value itself).
    assert endpoint == {
        "Fn::Join": [
            "",
            [
                '"https://',
                {"Ref": api_id},
                ".execute-api.",
                {"Ref": "AWS::Region"},
                ".",
                {"Ref": "AWS::URLSuffix"},
                '/"',
            ],
        ]
    }
    (asset,) = synth.path.parent.glob("asset.*/scripts/configs/config.json")
    marker = next(k for k, v in markers.items() if v == endpoint)
    deployed = asset.read_text().replace(marker, json.dumps("https://API.execute-api/"))
    assert json.loads(deployed) == {**BUILD_SETTINGS, "apiEndpoint": "https://API.execute-api/"}
    # The build's own files are deployed without it.
    (index,) = synth.path.parent.glob("asset.*/index.html")
    assert not (index.parent / "scripts" / "configs" / "config.json").exists()


def test_the_api_allows_the_ui_by_cors_and_knows_its_url(synth: Synth) -> None:
    url = _distribution_url(synth)
    for function_id, function in _functions(synth).items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["CIRRUS_HOMEPORT_URL"] == url, function_id
        assert variables["CIRRUS_CORS_ALLOWED_ORIGINS"] == {
            "Fn::Join": ["", [*url["Fn::Join"][1], f",{ADMIN_ORIGIN}"]]
        }


def test_the_hosted_ui_may_return_to_homeports_sign_in_page(synth: Synth) -> None:
    _, client = synth.one("AWS::Cognito::UserPoolClient")
    props = client["Properties"]
    url = _distribution_url(synth)["Fn::Join"][1]
    assert {"Fn::Join": ["", [*url, "/oauth_login_completed/cognito/"]]} in props["CallbackURLs"]
    assert {"Fn::Join": ["", [*url, "/"]]} in props["LogoutURLs"]
    # The API's own callback is still there: the HTTP API's URL, no stage prefix.
    api_id, _ = synth.one("AWS::ApiGatewayV2::Api")
    region, suffix = {"Ref": "AWS::Region"}, {"Ref": "AWS::URLSuffix"}
    api_url = ["https://", {"Ref": api_id}, ".execute-api.", region, ".", suffix]
    assert {"Fn::Join": ["", [*api_url, "/api-auth/cognito/callback/"]]} in props["CallbackURLs"]


def test_the_outputs_name_the_ui(synth: Synth) -> None:
    outputs = synth.template["Outputs"]
    assert outputs["HomePortUrl"]["Value"] == _distribution_url(synth)
    assert outputs["HomePortBucketName"]["Value"] == {"Ref": _homeport(synth, "AWS::S3::Bucket")[0]}


def test_the_template_with_the_ui_passes_cfn_lint(synth: Synth) -> None:
    _assert_lint_clean(synth.path)


# --- settings, without a synth ---------------------------------------------------------------------
def test_a_folder_without_index_html_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"no index\.html"):
        _webui_module().check_build(tmp_path)


def test_the_builds_own_settings_are_kept_and_a_broken_file_is_ignored(tmp_path: Path) -> None:
    webui = _webui_module()
    assert webui.build_settings(_build(tmp_path)) == BUILD_SETTINGS
    (tmp_path / "build" / "scripts" / "configs" / "config.json").write_text("{not json")
    assert webui.build_settings(tmp_path / "build") == {}


def test_hosting_here_and_elsewhere_at_once_is_refused(tmp_path: Path) -> None:
    import aws_cdk as cdk

    _webui_module()
    from cirrus_infra import CirrusStack, StackSettings

    settings = StackSettings(homeport_dir=_build(tmp_path), homeport_url="https://portal.example.org")
    with pytest.raises(ValueError, match="not both"):
        CirrusStack(cdk.App(), "cirrus-refused", settings=settings)
