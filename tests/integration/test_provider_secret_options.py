"""A cloud offering type checks its secret options when a provider sets them (create and
`update_integration`): a 400 on `secret_options` in Waldur's shape, never repeating the secret, and
nothing stored; a Secrets Manager reference is taken as it is (read and checked when the backend is
built)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from chalicelib.providers import registry as registry_module
from chalicelib.providers.cloud import cloud_type
from chalicelib.providers.registry import Registry
from tests.conftest import Account, make_account
from tests.helpers import call, create_customer
from tests.integration.test_marketplace_catalog_api import OFFERINGS, create, offering_body

pytestmark = pytest.mark.fakes
TYPE = "Test.Secrets"


def _check(secrets: Mapping[str, Any]) -> None:
    if not str(secrets.get("token", "")).startswith("tok-"):
        raise ValueError("token must be an API token (tok-...).")


@pytest.fixture
def world(client: Any, staff: Account) -> dict[str, Any]:
    """A provider customer with an owner and a category."""
    provider = create_customer(client, staff, "Cloud Provider")
    owner = make_account("owner")
    added = call(client, "POST", f"/api/customers/{provider['uuid']}/add_user/", staff,
                 {"user": owner.id, "role": "CUSTOMER.OWNER"})  # fmt: skip
    assert added.status == 201, added.json
    category = call(client, "POST", "/api/marketplace-categories/", staff, {"title": "Compute"}).json
    return {"provider": provider, "owner": owner, "category": category, "staff": staff}


@pytest.fixture(autouse=True)
def secret_checked_type(monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = Registry(entry_points=list)
    fresh.add(cloud_type(TYPE, "Test", lambda settings: None, validate_secret_options=_check))  # type: ignore[arg-type,return-value]
    monkeypatch.setattr(registry_module, "REGISTRY", fresh)


def test_bad_secret_options_are_refused_without_repeating_them(client: Any, world: dict[str, Any]) -> None:
    body = offering_body(world, type=TYPE, secret_options={"token": "hunter2"}, components=[], plans=[])
    reply = call(client, "POST", OFFERINGS, world["owner"], body)
    assert (reply.status, reply.json) == (400, {"secret_options": ["token must be an API token (tok-...)."]})
    assert "hunter2" not in str(reply.json)
    assert call(client, "GET", OFFERINGS, world["staff"]).json == []


def test_good_and_referenced_secret_options_are_kept(client: Any, world: dict[str, Any]) -> None:
    made = create(client, world, type=TYPE, secret_options={"token": "tok-1"}, components=[], plans=[])
    action = f"{OFFERINGS}{made['uuid']}/update_integration/"
    refused = call(client, "POST", action, world["owner"], {"secret_options": {"token": "nope"}})
    assert refused.status == 400 and "secret_options" in refused.json
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cirrus/providers/cloud-AbCdEf"
    assert call(client, "POST", action, world["owner"], {"secret_options": {"secret_arn": arn}}).status == 200
    mine = call(client, "GET", f"{OFFERINGS}{made['uuid']}/", world["owner"]).json
    assert mine["secret_options"] == {"secret_arn": arn}


def test_a_reference_to_a_secret_not_named_cirrus_providers_is_refused(
    client: Any, world: dict[str, Any]
) -> None:
    own = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cirrus-prod-support-backend-AbCdEf"
    body = offering_body(world, type=TYPE, secret_options={"token": own}, components=[], plans=[])
    reply = call(client, "POST", OFFERINGS, world["owner"], body)
    assert (reply.status, reply.json) == (
        400,
        {"secret_options": ["token may reference only a Secrets Manager secret named cirrus/providers/..."]},
    )
