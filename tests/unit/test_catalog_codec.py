"""The catalog's items keep every field of their dataclass (store/codec.py): an offering (with its
components and plans), a service provider and a category come back equal after being written to
their item and read from the item's DynamoDB form, whatever their values."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.offerings import Category, ServiceProvider
from chalicelib.domain.vocabulary import (
    BillingType,
    Component,
    LimitPeriod,
    Offering,
    OfferingState,
    Plan,
    PlanUnit,
)
from chalicelib.store import categories, offerings, service_providers

IDS = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
NAMES = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)
WHEN = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
MONEY = st.decimals(min_value=-(10**6), max_value=10**6, places=4, allow_nan=False, allow_infinity=False)
SMALL = st.integers(min_value=-(2**31), max_value=2**31)
JSON: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | SMALL | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)
OBJECTS = st.dictionaries(TEXT, JSON, max_size=3)
COORDINATE = st.none() | st.floats(min_value=-180, max_value=180)
VERSIONS = st.integers(min_value=1, max_value=10**6)

COMPONENTS = st.builds(
    Component,
    id=IDS,
    type=NAMES,
    name=TEXT,
    measured_unit=TEXT,
    billing_type=st.sampled_from(BillingType),
    description=TEXT,
    limit_period=st.none() | st.sampled_from(LimitPeriod),
    limit_amount=st.none() | SMALL,
    min_value=st.none() | SMALL,
    max_value=st.none() | SMALL,
    max_available_limit=st.none() | SMALL,
    default_limit=st.none() | SMALL,
    article_code=TEXT,
    is_boolean=st.booleans(),
)


def _plans(offering_id: str) -> st.SearchStrategy[Plan]:
    return st.builds(
        Plan,
        id=IDS,
        offering_id=st.just(offering_id),
        name=TEXT,
        unit=st.sampled_from(PlanUnit),
        unit_price=MONEY,
        prices=st.dictionaries(NAMES, MONEY, max_size=3),
        quotas=st.dictionaries(NAMES, SMALL, max_size=3),
        description=TEXT,
        article_code=TEXT,
        max_amount=st.none() | SMALL,
        archived=st.booleans(),
        created=st.none() | WHEN,
    )


def _offering_fields(offering_id: str) -> dict[str, st.SearchStrategy[Any]]:
    return {
        "id": st.just(offering_id),
        "customer_id": IDS,
        "name": NAMES,
        "type": NAMES,
        "state": st.sampled_from(OfferingState),
        "category_id": st.none() | IDS,
        "description": TEXT,
        "full_description": TEXT,
        "terms_of_service": TEXT,
        "shared": st.booleans(),
        "billable": st.booleans(),
        "attributes": OBJECTS,
        "options": OBJECTS,
        "plugin_options": OBJECTS,
        "secret_options": OBJECTS,
        "components": st.lists(COMPONENTS, max_size=3).map(tuple),
        "plans": st.lists(_plans(offering_id), max_size=3).map(tuple),
        "backend_id": TEXT,
        "created": WHEN,
        "version": VERSIONS,
        "paused_reason": TEXT,
        "vendor_details": TEXT,
        "getting_started": TEXT,
        "integration_guide": TEXT,
        "access_url": TEXT,
        "privacy_policy_link": TEXT,
        "latitude": COORDINATE,
        "longitude": COORDINATE,
        "country": TEXT,
    }


PROVIDER_FIELDS = {
    "id": IDS,
    "customer_id": IDS,
    "created": WHEN,
    "description": TEXT,
    "enable_notifications": st.booleans(),
    "image": st.none() | TEXT,
    "version": VERSIONS,
}
CATEGORY_FIELDS = {
    "id": IDS,
    "title": NAMES,
    "created": WHEN,
    "description": TEXT,
    "icon": st.none() | TEXT,
    "default_vm_category": st.booleans(),
    "default_volume_category": st.booleans(),
    "default_tenant_category": st.booleans(),
    "group": st.none() | TEXT,
    "version": VERSIONS,
}
OFFERINGS = IDS.flatmap(lambda i: st.fixed_dictionaries(_offering_fields(i))).map(lambda f: Offering(**f))
PROVIDERS = st.fixed_dictionaries(PROVIDER_FIELDS).map(lambda f: ServiceProvider(**f))
CATEGORIES = st.fixed_dictionaries(CATEGORY_FIELDS).map(lambda f: Category(**f))


def _stored(item: Any) -> Any:
    """The item as read back: its DynamoDB form, deserialised by its model."""
    return type(item).from_raw_data(item.serialize())


def test_the_strategies_give_every_field_a_value() -> None:
    # A field added to a dataclass must be drawn here too, or the properties would not cover it.
    assert set(_offering_fields("0" * 32)) == {f.name for f in fields(Offering)}
    assert set(PROVIDER_FIELDS) == {f.name for f in fields(ServiceProvider)}
    assert set(CATEGORY_FIELDS) == {f.name for f in fields(Category)}


@settings(max_examples=25, deadline=None)
@given(OFFERINGS)
def test_an_offering_with_its_components_and_plans_comes_back_whole(offering: Offering) -> None:
    assert offerings._from_item(_stored(offerings._item(offering))) == offering


@settings(max_examples=40, deadline=None)
@given(PROVIDERS)
def test_a_service_provider_comes_back_whole(provider: ServiceProvider) -> None:
    assert service_providers._from_item(_stored(service_providers._item(provider))) == provider


@settings(max_examples=40, deadline=None)
@given(CATEGORIES)
def test_a_category_comes_back_whole(category: Category) -> None:
    assert categories._from_item(_stored(categories._item(category))) == category
