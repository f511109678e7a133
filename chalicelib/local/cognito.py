"""The local stack's Cognito: a user pool on moto with an app client and a demo user, and the settings
that make the API accept that pool's bearer tokens.

moto signs its tokens with one fixed RSA key and serves the pool's key set at
`<moto endpoint>/<pool id>/.well-known/jwks.json`; its tokens' `iss` is the real AWS form
(`https://cognito-idp.<region>.amazonaws.com/<pool id>`), so only the key set's URL is pointed at
moto. moto has no hosted UI and cannot federate a SAML or OIDC provider: the demo user is one of the
pool's own users (`registration_method` "cognito"), signing in with a password
(`python -m chalicelib.ops cognito-token`). The hosted UI endpoints stay disabled locally.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import boto3

DEMO_USERNAME = "demo-federated"
DEMO_PASSWORD = "Cirrus-local-federated-1"
DEMO_FULL_NAME = "Demo Federated"
DEMO_EMAIL = "demo-federated@example.org"
# Members of these pool groups are signed in as staff or support (CIRRUS_COGNITO_*_GROUPS).
STAFF_GROUP = "cirrus-staff"
SUPPORT_GROUP = "cirrus-support"
POOL_NAME = "cirrus-local"


@dataclass(frozen=True)
class LocalPool:
    user_pool_id: str
    client_id: str
    jwks_url: str
    region: str
    username: str = DEMO_USERNAME
    password: str = DEMO_PASSWORD

    def environment(self) -> dict[str, str]:
        """The API's Cognito settings for this pool (config.CognitoSettings)."""
        return {
            "CIRRUS_COGNITO_USER_POOL_ID": self.user_pool_id,
            "CIRRUS_COGNITO_CLIENT_ID": self.client_id,
            "CIRRUS_COGNITO_REGION": self.region,
            "CIRRUS_COGNITO_JWKS_URL": self.jwks_url,
            "CIRRUS_COGNITO_STAFF_GROUPS": STAFF_GROUP,
            "CIRRUS_COGNITO_SUPPORT_GROUPS": SUPPORT_GROUP,
        }


def _client(endpoint: str | None, region: str) -> Any:
    from chalicelib.workflows.aws import client_config

    return boto3.client("cognito-idp", endpoint_url=endpoint, region_name=region, config=client_config())


def create_pool(endpoint: str, region: str | None = None) -> LocalPool:
    """A pool like the one CDK deploys (no self sign-up, a public app client, the staff and support
    groups) with the demo user, on the moto server at `endpoint`."""
    region = region or os.environ.get("AWS_REGION", "us-east-1")
    idp = _client(endpoint, region)
    pool_id = idp.create_user_pool(
        PoolName=POOL_NAME,
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        Schema=[{"Name": "groups", "AttributeDataType": "String", "Mutable": True}],
    )["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="cirrus-api",
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        ReadAttributes=["email", "name", "custom:groups"],
    )["UserPoolClient"]["ClientId"]
    for group in (STAFF_GROUP, SUPPORT_GROUP):
        idp.create_group(UserPoolId=pool_id, GroupName=group)
    add_user(idp, pool_id, DEMO_USERNAME, DEMO_PASSWORD, name=DEMO_FULL_NAME, email=DEMO_EMAIL)
    return LocalPool(pool_id, client_id, f"{endpoint}/{pool_id}/.well-known/jwks.json", region)


def add_user(idp: Any, pool_id: str, username: str, password: str, *, name: str, email: str) -> None:
    idp.admin_create_user(
        UserPoolId=pool_id,
        Username=username,
        MessageAction="SUPPRESS",
        UserAttributes=[
            {"Name": "name", "Value": name},
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
        ],
    )
    idp.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=password, Permanent=True)


def use(pool: LocalPool) -> None:
    """Point this process's settings at the pool (call config.reset_settings() afterwards)."""
    os.environ.update(pool.environment())


def token(
    username: str,
    password: str,
    *,
    client_id: str,
    endpoint: str | None,
    region: str,
    token_use: str = "id",
) -> str:
    """Sign in with a password (USER_PASSWORD_AUTH) and return the ID or access token."""
    result = _client(endpoint, region).initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )["AuthenticationResult"]
    return str(result["IdToken" if token_use == "id" else "AccessToken"])


def banner(pool: LocalPool, moto_endpoint: str, api_url: str, python: str) -> str:
    """What `make run` prints about signing in with a bearer token."""
    command = (
        f"CIRRUS_AWS_ENDPOINT_URL={moto_endpoint} CIRRUS_COGNITO_CLIENT_ID={pool.client_id}"
        f" {python} -m chalicelib.ops cognito-token {pool.username} '{pool.password}'"
    )
    return (
        f"  cognito:    pool {pool.user_pool_id}, app client {pool.client_id} (moto; bearer JWTs accepted)\n"
        f"  federated:  {pool.username}  password: {pool.password}"
        " (provisioned on first bearer request; not staff)\n"
        f"  jwt:        {command}\n"
        f'  bearer:     curl -H "Authorization: Bearer $({command})" {api_url}/api/users/me/\n'
    )
