"""The pure rules behind staff-only fields, locked customers and the token lifetime bound."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from chalicelib.domain import rbac
from chalicelib.domain.context import Principal
from chalicelib.domain.customers import STAFF_ONLY_FIELDS, Customer
from chalicelib.domain.errors import PermissionDenied, ValidationError
from chalicelib.domain.users import check_token_lifetime

OWNER = Principal(user_id="u1", username="owner")
STAFF = Principal(user_id="u2", username="staff", is_staff=True)
ACME = Customer(
    id="c1", name="Acme", created=datetime(2026, 1, 1, tzinfo=UTC), default_tax_percent=Decimal(20)
)


def test_waldurs_staff_only_customer_fields_that_cirrus_has():
    # `slug`: Waldur's SlugSerializerMixin makes it read-only for everyone but staff.
    staff_only = {"default_tax_percent", "accounting_start_date", "blocked", "archived", "domain", "slug"}
    assert frozenset(staff_only) == STAFF_ONLY_FIELDS


def test_a_change_of_a_staff_only_field_is_refused_naming_every_one():
    with pytest.raises(PermissionDenied) as refused:
        rbac.refuse_staff_only(OWNER, STAFF_ONLY_FIELDS, ACME, {"domain": "x", "blocked": True, "name": "A"})
    assert refused.value.detail == "Only staff can change blocked, domain."


def test_the_current_value_is_no_change_and_staff_change_anything():
    rbac.refuse_staff_only(OWNER, STAFF_ONLY_FIELDS, ACME, {"default_tax_percent": Decimal("20.00")})
    rbac.refuse_staff_only(STAFF, STAFF_ONLY_FIELDS, ACME, {"default_tax_percent": Decimal(0)})


def test_a_civil_number_is_not_the_users_own_claim():
    assert {"civil_number", "email", "is_staff"} <= rbac.STAFF_ONLY_USER_FIELDS


@pytest.mark.parametrize(("fields", "message"), [
    ({"blocked": True}, "Blocked organization is not available."),
    ({"archived": True}, "Archived organization is not available."),
    ({"blocked": True, "archived": True}, "Blocked organization is not available."),
])  # fmt: skip
def test_a_locked_customer_is_not_available_in_waldurs_words(fields, message):
    from dataclasses import replace

    ACME.require_available()
    with pytest.raises(ValidationError) as refused:
        replace(ACME, **fields).require_available()
    assert refused.value.errors == [message]


def test_token_lifetime_bound():
    check_token_lifetime(None, None)  # no bound: tokens may never expire, as in Waldur
    check_token_lifetime(10**9, None)
    check_token_lifetime(7200, 7200)
    for too_much in (None, 7201):
        with pytest.raises(ValidationError) as refused:
            check_token_lifetime(too_much, 7200)
        assert list(refused.value.errors) == ["token_lifetime"]
