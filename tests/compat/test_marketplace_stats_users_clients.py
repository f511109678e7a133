"""Users by registration method (`marketplace-stats/user_auth_method_count/`) through waldur-api-client
8.1.3 over HTTP, parsed strictly (its `UserAuthMethodCount`, nothing it does not know), against
counts made by hand: the staff admin and two local users registered `default`, two `cognito` users,
one of them deactivated (it leaves the count), and a user who came through an identity provider
`eduteams`. The count is kept from the table's stream (store/analytics.py): a rebuild finds
nothing to change."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import make_account


@pytest.fixture
def aws(stack):
    yield


@pytest.fixture
def world(aws, admin, settle) -> dict[str, Any]:
    from chalicelib.services import users
    from tests.marketplace_helpers import ctx_of

    plain = make_account("plain", full_name="Plain User", email="plain@example.org")
    make_account("other")
    make_account("cog-1", registration_method="cognito")
    gone = make_account("cog-2", registration_method="cognito")
    make_account("edu", registration_method="eduteams")
    users.update_user(ctx_of(admin), gone.id, {"is_active": False})
    settle()
    return {"plain": plain}


def _client(server: Any, account: Any) -> Any:
    from waldur_api_client import AuthenticatedClient

    return AuthenticatedClient(base_url=server.url, token=account.token, timeout=10.0)


def test_active_users_per_registration_method_parse_strictly_most_first(server, admin, world):
    from waldur_api_client.api.marketplace_stats import (
        marketplace_stats_user_auth_method_count_count as count,
    )
    from waldur_api_client.api.marketplace_stats import (
        marketplace_stats_user_auth_method_count_list as listed,
    )
    from waldur_api_client.models import UserAuthMethodCount

    client = _client(server, admin)
    rows = listed.sync(client=client)
    assert all(isinstance(r, UserAuthMethodCount) and not r.additional_properties for r in rows)
    assert [(r.method, r.count) for r in rows] == [("default", 3), ("cognito", 1), ("eduteams", 1)]
    assert count.sync(client=client) == 3
    assert [(r.method, r.count) for r in listed.sync(client=client, page=2, page_size=2)] == [("eduteams", 1)]


def test_anybody_but_staff_and_support_is_refused(server, world):
    from waldur_api_client import errors
    from waldur_api_client.api.marketplace_stats import (
        marketplace_stats_user_auth_method_count_list as listed,
    )

    with pytest.raises(errors.UnexpectedStatus) as refused:
        listed.sync(client=_client(server, world["plain"]))
    assert refused.value.status_code == 403


def test_the_count_equals_a_rebuild(world):
    from chalicelib.store import analytics

    report = analytics.rebuild(dry_run=True)
    assert (report.written, report.deleted) == (0, 0)
