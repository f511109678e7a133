"""The CDK app's federated sign-in (cirrus_infra/auth.py), synthesised offline with a SAML and an
OIDC identity provider configured: the user pool (no self sign-up, the groups attribute), the API's
app client (PKCE code flow only, the providers, callback URLs), the providers with their metadata,
secret reference and attribute mappings, the hosted UI domain, and the API's environment.

One synth for the module (test_synth.py's helper, with the providers set); the context parsing is
checked without synthesising.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.infra.test_synth import CDK_DIR, Synth, _assert_lint_clean, _functions, _synth

pytestmark = pytest.mark.infra

PUBLIC_URL = "https://cirrus.example.org"
METADATA_URL = "https://idp.example.edu/idp/shibboleth"
SECRET_NAME = "cirrus/oidc/partner"
SAML_XML = '<EntityDescriptor entityID="https://partner.example.com/saml"/>'
STAFF_GROUP = "cirrus-staff"
SUPPORT_GROUP = "cirrus-support"
HOMEPORT_URL = "https://ui.example.org"  # HomePort hosted elsewhere (`-c homeport_url=...`)


def _providers(tmp: Path) -> list[dict[str, Any]]:
    (tmp / "partner.xml").write_text(SAML_XML)
    return [
        {
            "type": "saml",
            "name": "Campus",
            "metadata_url": METADATA_URL,
            "attributes": {"username": "urn:oid:0.9.2342.19200300.100.1.1", "groups": "memberOf"},
        },
        {"type": "saml", "name": "PartnerSAML", "metadata_file": "partner.xml"},
        {
            "type": "oidc",
            "name": "PartnerOIDC",
            "issuer": "https://login.partner.example.com",
            "client_id": "cirrus-at-partner",
            "client_secret_name": SECRET_NAME,
            "client_secret_field": "client_secret",
            "attributes": {"groups": "groups"},
        },
    ]


def _auth_module() -> Any:
    """cirrus_infra.auth, imported the way _synth imports the stack (the repository's `app` first)."""
    importlib.import_module("app")
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(CDK_DIR))
        return importlib.import_module("cirrus_infra.auth")


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    AuthSettings = _auth_module().AuthSettings

    tmp = tmp_path_factory.mktemp("synth-auth")
    context = {
        "identity_providers": json.dumps(_providers(tmp)),  # as `-c identity_providers='[...]'` gives it
        "staff_groups": STAFF_GROUP,
        "support_groups": SUPPORT_GROUP,
        "cognito_callback_urls": "https://portal.example.org/login/complete/",
    }
    auth = AuthSettings.from_context(context.get, base_dir=tmp)
    workdir = tmp / "work"
    workdir.mkdir()
    return _synth(workdir, public_url=PUBLIC_URL, auth=auth, homeport_url=HOMEPORT_URL)


def _resource(synth: Synth, type_: str, name_property: str, name: str) -> dict[str, Any]:
    return synth.named(type_, name_property, name)[1]["Properties"]


def test_the_user_pool_admits_nobody_on_their_own_and_keeps_the_groups_attribute(synth: Synth) -> None:
    _, pool = synth.one("AWS::Cognito::UserPool")
    props = pool["Properties"]
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True  # no self sign-up
    groups = [a for a in props["Schema"] if a["Name"] == "groups"]
    assert groups and groups[0]["Mutable"] is True and groups[0]["AttributeDataType"] == "String"
    assert pool["DeletionPolicy"] == "Retain"
    assert props["DeletionProtection"] == "ACTIVE"


def test_the_app_client_is_a_public_pkce_client_of_the_code_flow_only(synth: Synth) -> None:
    pool_id, _ = synth.one("AWS::Cognito::UserPool")
    _, client = synth.one("AWS::Cognito::UserPoolClient")
    props = client["Properties"]
    assert props["UserPoolId"] == {"Ref": pool_id}
    assert props["GenerateSecret"] is False
    assert props["AllowedOAuthFlows"] == ["code"]
    # No password or SRP sign-in and no admin scope: a user's token cannot rewrite custom:groups.
    assert props["ExplicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]
    assert sorted(props["AllowedOAuthScopes"]) == ["email", "openid", "profile"]
    assert props["CallbackURLs"] == [
        f"{PUBLIC_URL}/api-auth/cognito/callback/",
        "https://portal.example.org/login/complete/",
        f"{HOMEPORT_URL}/oauth_login_completed/cognito/",  # HomePort's login button comes back here
    ]
    assert props["LogoutURLs"] == [f"{PUBLIC_URL}/", f"{HOMEPORT_URL}/"]
    assert props["SupportedIdentityProviders"] == ["COGNITO", "Campus", "PartnerSAML", "PartnerOIDC"]
    # Mapped attributes are written through the client at each federated sign-in, and read into tokens.
    assert {"custom:groups", "email", "name", "preferred_username"} <= set(props["WriteAttributes"])
    assert {"custom:groups", "email", "name", "preferred_username"} <= set(props["ReadAttributes"])
    # The client names providers that exist when it is created.
    providers = synth.resources("AWS::Cognito::UserPoolIdentityProvider")
    assert set(client["DependsOn"]) == set(providers)


def test_saml_providers_come_from_a_metadata_url_or_document_with_their_mappings(synth: Synth) -> None:
    campus = _resource(synth, "AWS::Cognito::UserPoolIdentityProvider", "ProviderName", "Campus")
    assert campus["ProviderType"] == "SAML"
    assert campus["ProviderDetails"]["MetadataURL"] == METADATA_URL
    assert campus["AttributeMapping"] == {
        "preferred_username": "urn:oid:0.9.2342.19200300.100.1.1",
        "email": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
        "name": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
        "custom:groups": "memberOf",
    }
    partner = _resource(synth, "AWS::Cognito::UserPoolIdentityProvider", "ProviderName", "PartnerSAML")
    assert partner["ProviderType"] == "SAML"
    assert partner["ProviderDetails"]["MetadataFile"] == SAML_XML
    assert "custom:groups" not in partner["AttributeMapping"]  # no group claim configured


def test_an_oidc_providers_secret_stays_in_secrets_manager(synth: Synth) -> None:
    oidc = _resource(synth, "AWS::Cognito::UserPoolIdentityProvider", "ProviderName", "PartnerOIDC")
    details = oidc["ProviderDetails"]
    assert oidc["ProviderType"] == "OIDC"
    assert details["oidc_issuer"] == "https://login.partner.example.com"
    assert details["client_id"] == "cirrus-at-partner"
    # A dynamic reference CloudFormation resolves at deploy time, never the secret itself.
    reference = f"resolve:secretsmanager:{SECRET_NAME}:SecretString:client_secret::"
    assert details["client_secret"] == "{{" + reference + "}}"
    assert details["authorize_scopes"] == "openid email profile"
    assert oidc["AttributeMapping"] == {
        "preferred_username": "preferred_username",
        "email": "email",
        "name": "name",
        "custom:groups": "groups",
    }


def test_the_hosted_ui_has_a_domain(synth: Synth) -> None:
    pool_id, _ = synth.one("AWS::Cognito::UserPool")
    _, domain = synth.one("AWS::Cognito::UserPoolDomain")
    assert domain["Properties"]["UserPoolId"] == {"Ref": pool_id}
    assert domain["Properties"]["Domain"] == {"Fn::Join": ["-", ["cirrus-test", {"Ref": "AWS::AccountId"}]]}


def test_every_function_gets_the_pool_client_domain_providers_and_groups(synth: Synth) -> None:
    from tests.infra.test_synth import cognito_environment

    expected = {
        **cognito_environment(synth),
        "CIRRUS_COGNITO_IDENTITY_PROVIDERS": "Campus,PartnerSAML,PartnerOIDC",
        "CIRRUS_COGNITO_STAFF_GROUPS": STAFF_GROUP,
        "CIRRUS_COGNITO_SUPPORT_GROUPS": SUPPORT_GROUP,
    }
    for function_id, function in _functions(synth).items():
        variables = function["Properties"]["Environment"]["Variables"]
        cognito = {k: v for k, v in variables.items() if k.startswith("CIRRUS_COGNITO_")}
        assert cognito == expected, function_id


def test_a_homeport_hosted_elsewhere_is_the_apis_web_ui_and_its_one_cors_origin(synth: Synth) -> None:
    for function_id, function in _functions(synth).items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["CIRRUS_HOMEPORT_URL"] == HOMEPORT_URL, function_id
        assert variables["CIRRUS_CORS_ALLOWED_ORIGINS"] == HOMEPORT_URL, function_id
    assert not synth.resources("AWS::CloudFront::Distribution")  # not hosted by this stack


def test_the_outputs_name_the_pool_client_and_hosted_ui(synth: Synth) -> None:
    outputs = synth.template["Outputs"]
    assert outputs["UserPoolId"]["Value"] == {"Ref": synth.one("AWS::Cognito::UserPool")[0]}
    assert outputs["UserPoolClientId"]["Value"] == {"Ref": synth.one("AWS::Cognito::UserPoolClient")[0]}
    assert "HostedUiUrl" in outputs


def test_the_template_with_providers_passes_cfn_lint(synth: Synth) -> None:
    _assert_lint_clean(synth.path)


# The context, parsed without synthesising ------------------------------------------------------------


def test_a_literal_oidc_secret_in_the_context_is_refused() -> None:
    auth = _auth_module()
    raw = {"type": "oidc", "name": "X", "issuer": "https://x", "client_id": "c", "client_secret": "s3cret"}
    with pytest.raises(ValueError, match="Secrets Manager"):
        auth.IdentityProviderConfig.parse(raw)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"type": "ldap", "name": "X"}, "type must be"),
        ({"type": "saml", "name": "X"}, "metadata_url or metadata_file"),
        ({"type": "saml", "name": "X", "metadata_url": "u", "metadata_file": "f"}, "one of them"),
        ({"type": "oidc", "name": "X", "issuer": "https://x"}, "missing client_id, client_secret_name"),
        ({"type": "saml", "name": "COGNITO", "metadata_url": "u"}, "other than COGNITO"),
        ({"type": "saml", "name": "X", "metadata_url": "u", "attributes": {"phone": "p"}}, "unknown"),
    ],
)
def test_a_provider_missing_what_its_kind_needs_is_refused(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _auth_module().IdentityProviderConfig.parse(raw)


def test_cdk_json_may_give_the_providers_and_groups_as_json_values() -> None:
    auth = _auth_module()
    context = {
        "identity_providers": [{"type": "saml", "name": "Campus", "metadata_url": METADATA_URL}],
        "staff_groups": ["a", "b"],
        "cognito_native_users": False,
    }
    settings = auth.AuthSettings.from_context(context.get)
    assert [p.name for p in settings.identity_providers] == ["Campus"]
    assert settings.staff_groups == ("a", "b")
    assert settings.native_users is False
