"""Federated sign-in: a Cognito user pool with a hosted UI domain, an app client for the API, and the
SAML and OIDC identity providers an operator configures (`-c identity_providers='[...]'`).

Security choices, each checked by tests/infra/test_synth_auth.py:
- nobody signs up on their own (an account in the pool is an account in Cirrus);
- the app client is public (no secret; PKCE on the API's own login, none from HomePort's button: see
  chalicelib/api/cognito.py's trade-off) and offers the authorization-code flow only: no password
  or SRP flow and no `aws.cognito.signin.user.admin` scope, so a user's token cannot rewrite their
  own attributes (mapped attributes must be writable by the client, `custom:groups` among them, and
  that attribute may make its holder staff);
- an OIDC provider's client secret stays in Secrets Manager: the template holds a dynamic reference,
  resolved by CloudFormation at deploy time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_cdk import Aws, Duration, Fn, RemovalPolicy, SecretValue
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from cirrus_infra.nag import suppress
from cirrus_infra.webui import cognito_callback_url

CALLBACK_PATH = "/api-auth/cognito/callback/"
# Without a public URL the hosted UI can only return to a local API (`make run`'s port).
LOCAL_URL = "http://localhost:8000"
# The custom attribute an identity provider's group claim is mapped to (`custom:groups` in tokens).
GROUPS_ATTRIBUTE = "groups"
NATIVE = "COGNITO"

# What each kind of provider sends by default (overridden per provider by `attributes`).
SAML_DEFAULTS = {
    "email": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    "full_name": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
}
OIDC_DEFAULTS = {"username": "preferred_username", "email": "email", "full_name": "name"}
ATTRIBUTE_KEYS = frozenset({"username", "email", "full_name", "groups"})


@dataclass(frozen=True)
class IdentityProviderConfig:
    """One federated identity provider, as given in the `identity_providers` context (a JSON list)."""

    type: str  # "saml" or "oidc"
    name: str
    attributes: Mapping[str, str] = field(default_factory=dict)  # username, email, full_name, groups
    # SAML: the metadata document's URL, or its XML (read from `metadata_file` by `parse`).
    metadata_url: str | None = None
    metadata_document: str | None = None
    # OIDC: the issuer, the client Cognito signs in as, and where its secret is kept.
    issuer: str | None = None
    client_id: str | None = None
    client_secret_name: str | None = None  # a Secrets Manager secret's name or ARN
    client_secret_field: str | None = None  # a JSON key in that secret (none: the whole SecretString)
    scopes: tuple[str, ...] = ("openid", "email", "profile")

    @classmethod
    def parse(cls, raw: Mapping[str, Any], base_dir: Path = Path(".")) -> IdentityProviderConfig:
        kind, name = str(raw.get("type", "")).lower(), str(raw.get("name", ""))
        if kind not in ("saml", "oidc"):
            raise ValueError(f"identity provider {name or raw!r}: type must be 'saml' or 'oidc'")
        if not name or name.upper() == NATIVE:
            raise ValueError(f"identity provider {raw!r}: give it a name (other than {NATIVE})")
        attributes = {str(k): str(v) for k, v in dict(raw.get("attributes") or {}).items()}
        unknown = set(attributes) - ATTRIBUTE_KEYS
        if unknown:
            raise ValueError(f"identity provider {name}: unknown attributes {sorted(unknown)}")
        if kind == "saml":
            return cls._saml(raw, name, attributes, base_dir)
        return cls._oidc(raw, name, attributes)

    @classmethod
    def _saml(
        cls, raw: Mapping[str, Any], name: str, attributes: dict[str, str], base_dir: Path
    ) -> IdentityProviderConfig:
        url, path = raw.get("metadata_url"), raw.get("metadata_file")
        if bool(url) == bool(path):
            raise ValueError(f"SAML provider {name}: give metadata_url or metadata_file (one of them)")
        document = (base_dir / str(path)).read_text() if path else None
        return cls(
            "saml", name, attributes, metadata_url=str(url) if url else None, metadata_document=document
        )

    @classmethod
    def _oidc(cls, raw: Mapping[str, Any], name: str, attributes: dict[str, str]) -> IdentityProviderConfig:
        missing = [k for k in ("issuer", "client_id", "client_secret_name") if not raw.get(k)]
        if "client_secret" in raw:
            raise ValueError(
                f"OIDC provider {name}: never put a client secret in the context; store it in Secrets "
                "Manager and give its name as client_secret_name"
            )
        if missing:
            raise ValueError(f"OIDC provider {name}: missing {', '.join(missing)}")
        scopes = tuple(str(s) for s in raw.get("scopes") or cls.scopes)
        return cls(
            "oidc",
            name,
            attributes,
            issuer=str(raw["issuer"]),
            client_id=str(raw["client_id"]),
            client_secret_name=str(raw["client_secret_name"]),
            client_secret_field=str(raw["client_secret_field"]) if raw.get("client_secret_field") else None,
            scopes=scopes,
        )

    @property
    def mapped(self) -> dict[str, str]:
        """IdP attribute per Cirrus field: the kind's defaults, overridden by the configuration."""
        return {**(SAML_DEFAULTS if self.type == "saml" else OIDC_DEFAULTS), **self.attributes}


def _names(value: Any) -> tuple[str, ...]:
    """A comma-separated string, or a list (as cdk.json may give it)."""
    items = value if isinstance(value, list) else str(value or "").split(",")
    return tuple(str(part).strip() for part in items if str(part).strip())


def _flag(value: Any, *, default: bool) -> bool:
    if value is None or value == "":
        return default
    return str(value).lower() not in ("false", "0", "no")


@dataclass(frozen=True)
class AuthSettings:
    """The sign-in part of a deployment's settings (from CDK context, see `from_context`)."""

    identity_providers: tuple[IdentityProviderConfig, ...] = ()
    # The hosted UI's domain prefix (`<prefix>.auth.<region>.amazoncognito.com`, unique per region);
    # none: `<resource prefix>-<account id>`.
    domain_prefix: str | None = None
    # Where the hosted UI may send the browser besides the API's own callback and root.
    callback_urls: tuple[str, ...] = ()
    logout_urls: tuple[str, ...] = ()
    # Members of these IdP or pool groups sign in as staff or support.
    staff_groups: tuple[str, ...] = ()
    support_groups: tuple[str, ...] = ()
    # Offer the pool's own users (created by an administrator) at the hosted UI too.
    native_users: bool = True

    @classmethod
    def from_context(cls, context: Callable[[str], Any], base_dir: Path = Path(".")) -> AuthSettings:
        """Read `-c name=value` (strings) or cdk.json's `context` (JSON values)."""
        raw = context("identity_providers")
        try:
            providers = json.loads(raw) if isinstance(raw, str) else (raw or [])
        except ValueError as exc:
            raise ValueError(f"identity_providers must be a JSON list: {exc}") from exc
        if not isinstance(providers, list):
            raise ValueError("identity_providers must be a JSON list of providers")
        return cls(
            identity_providers=tuple(IdentityProviderConfig.parse(p, base_dir) for p in providers),
            domain_prefix=context("cognito_domain_prefix") or None,
            callback_urls=_names(context("cognito_callback_urls")),
            logout_urls=_names(context("cognito_logout_urls")),
            staff_groups=_names(context("staff_groups")),
            support_groups=_names(context("support_groups")),
            native_users=_flag(context("cognito_native_users"), default=True),
        )


class CognitoAuth(Construct):
    """The user pool, its identity providers, the API's app client and the hosted UI domain."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        settings: AuthSettings,
        public_url: str | None,
        homeport_url: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.settings = settings
        self.user_pool = cognito.UserPool(
            self,
            "Users",
            user_pool_name=f"{prefix}-users",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(username=True, email=True),
            sign_in_case_sensitive=False,
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=False, mutable=True),
                fullname=cognito.StandardAttribute(required=False, mutable=True),
                preferred_username=cognito.StandardAttribute(required=False, mutable=True),
            ),
            custom_attributes={GROUPS_ATTRIBUTE: cognito.StringAttribute(mutable=True, max_len=2048)},
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            # Explicit: CloudFormation leaves out what CDK does not write, and Cognito's default is
            # then no composition rule at all (cdk-nag AwsSolutions-COG1).
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            deletion_protection=True,
            # The pool is every federated user's identity: never delete it with the stack.
            removal_policy=RemovalPolicy.RETAIN,
        )
        suppress(
            self.user_pool,
            "AwsSolutions-COG2",
            "MFA is the identity provider's: Cognito's MFA does not apply to federated users, who sign "
            "in at their IdP; the pool's own users (created by an administrator, no self sign-up) may "
            "enrol TOTP, optional so the operator decides (`-c cognito_native_users=false` removes them)",
        )
        suppress(
            self.user_pool,
            "AwsSolutions-COG8",
            "Essentials tier: the Plus tier's threat protection costs per monthly active user and guards "
            "password sign-in, which only administrator-created users have (no self sign-up; federated "
            "users sign in at their IdP)",
        )
        self.providers: dict[str, cognito.UserPoolIdentityProviderBase] = {
            p.name: self._provider(p) for p in settings.identity_providers
        }
        base = (public_url or "").rstrip("/")
        # HomePort's login button returns to its own page (webui.py), on its own origin when it is
        # hosted apart from the API (CloudFront, or elsewhere).
        homeport = [homeport_url] if homeport_url else []
        self.client = self.user_pool.add_client(
            "ApiClient",
            user_pool_client_name=f"{prefix}-api",
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_srp=False, user_password=False, custom=False),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
                callback_urls=[
                    f"{base or LOCAL_URL}{CALLBACK_PATH}",
                    *settings.callback_urls,
                    *(cognito_callback_url(url) for url in homeport),
                ],
                logout_urls=[
                    f"{base or LOCAL_URL}/",
                    *settings.logout_urls,
                    *(f"{url.rstrip('/')}/" for url in homeport),
                ],
            ),
            supported_identity_providers=[
                *([cognito.UserPoolClientIdentityProvider.COGNITO] if settings.native_users else []),
                *(cognito.UserPoolClientIdentityProvider.custom(name) for name in self.providers),
            ],
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
            read_attributes=self._attributes().with_custom_attributes(GROUPS_ATTRIBUTE),
            # Cognito writes mapped attributes through the client at each federated sign-in.
            write_attributes=self._attributes().with_custom_attributes(GROUPS_ATTRIBUTE),
        )
        for provider in self.providers.values():
            self.client.node.add_dependency(provider)  # a client may name only providers that exist
        self.domain = self.user_pool.add_domain(
            "HostedUi",
            cognito_domain=cognito.CognitoDomainOptions(
                domain_prefix=settings.domain_prefix or Fn.join("-", [prefix, Aws.ACCOUNT_ID])
            ),
        )

    @staticmethod
    def _attributes() -> cognito.ClientAttributes:
        return cognito.ClientAttributes().with_standard_attributes(
            email=True, fullname=True, preferred_username=True
        )

    def _provider(self, config: IdentityProviderConfig) -> cognito.UserPoolIdentityProviderBase:
        mapping = self._mapping(config)
        construct_id = f"Idp{''.join(ch for ch in config.name if ch.isalnum())}"
        if config.type == "saml":
            metadata = (
                cognito.UserPoolIdentityProviderSamlMetadata.url(config.metadata_url)
                if config.metadata_url
                else cognito.UserPoolIdentityProviderSamlMetadata.file(config.metadata_document or "")
            )
            return cognito.UserPoolIdentityProviderSaml(
                self,
                construct_id,
                user_pool=self.user_pool,
                name=config.name,
                metadata=metadata,
                attribute_mapping=mapping,
            )
        secret = SecretValue.secrets_manager(
            config.client_secret_name or "", json_field=config.client_secret_field
        )
        return cognito.UserPoolIdentityProviderOidc(
            self,
            construct_id,
            user_pool=self.user_pool,
            name=config.name,
            issuer_url=config.issuer or "",
            client_id=config.client_id or "",
            # A `{{resolve:secretsmanager:...}}` reference: CloudFormation reads the secret at deploy
            # time; the template and the synthesised assembly never hold it.
            client_secret=secret.unsafe_unwrap(),
            scopes=list(config.scopes),
            attribute_request_method=cognito.OidcAttributeRequestMethod.GET,
            attribute_mapping=mapping,
        )

    @staticmethod
    def _mapping(config: IdentityProviderConfig) -> cognito.AttributeMapping:
        mapped = config.mapped

        def attribute(key: str) -> cognito.ProviderAttribute | None:
            return cognito.ProviderAttribute.other(mapped[key]) if mapped.get(key) else None

        groups = attribute("groups")
        return cognito.AttributeMapping(
            preferred_username=attribute("username"),
            email=attribute("email"),
            fullname=attribute("full_name"),
            custom={f"custom:{GROUPS_ATTRIBUTE}": groups} if groups else None,
        )

    def environment(self) -> dict[str, str]:
        """The API's Cognito settings (chalicelib.config.CognitoSettings)."""
        env = {
            "CIRRUS_COGNITO_USER_POOL_ID": self.user_pool.user_pool_id,
            "CIRRUS_COGNITO_CLIENT_ID": self.client.user_pool_client_id,
            "CIRRUS_COGNITO_REGION": Aws.REGION,
            "CIRRUS_COGNITO_DOMAIN": self.domain.base_url(),
        }
        if self.providers:
            env["CIRRUS_COGNITO_IDENTITY_PROVIDERS"] = ",".join(self.providers)
        if self.settings.staff_groups:
            env["CIRRUS_COGNITO_STAFF_GROUPS"] = ",".join(self.settings.staff_groups)
        if self.settings.support_groups:
            env["CIRRUS_COGNITO_SUPPORT_GROUPS"] = ",".join(self.settings.support_groups)
        return env
