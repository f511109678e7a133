"""How the catalog looks on the wire: Waldur's ProviderOfferingDetails, PublicOfferingDetails,
OfferingComponent, BaseProviderPlan / ProviderPlanDetails / BasePublicPlan, and the input shapes of
components and plans. Shared by the offering, plan and provider blueprints.

waldur-api-client parses these strictly: uuids are 32 hex, dates ISO, prices strings, and a key
whose value would be null where the model does not allow it is left out.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from chalicelib.api.fields import (
    Integer,
    PositiveInteger,
    free_text,
    line_text,
    name_text,
    one_of,
    per_component,
    required_text,
    text,
)
from chalicelib.api.rest import BodyModel, Call, ResponseModel
from chalicelib.domain import orders
from chalicelib.domain.numbers import MAX_SMALL_INTEGER
from chalicelib.domain.vocabulary import (
    BillingType,
    Component,
    LimitPeriod,
    Offering,
    Plan,
    PlanUnit,
)
from chalicelib.services.catalog import OfferingView
from chalicelib.services.offerings import OfferingRights

PROVIDER_OFFERINGS = "marketplace-provider-offerings"
PUBLIC_OFFERINGS = "marketplace-public-offerings"
PLANS = "marketplace-plans"
CATEGORIES = "marketplace-categories"
TAG = "marketplace"


def choice(enum: type[Enum]) -> Any:
    """A string that must be one of `enum`'s values (DRF's ChoiceField message)."""
    allowed = {str(e.value) for e in enum}

    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f'"{value}" is not a valid choice.')
        return value

    return Annotated[str, AfterValidator(check), Field(json_schema_extra=one_of(allowed))]


# --- input ---------------------------------------------------------------------------------------
# Waldur's price fields: DecimalField(max_digits=22, decimal_places=10), not negative.
Price = Annotated[Decimal, Field(ge=0, max_digits=22, decimal_places=10)]
# A plan's prices and quotas per component type (keys, size: bounds.AMOUNTS).
Prices = per_component(Price)
Quotas = per_component(PositiveInteger)


class ComponentIn(BodyModel):
    """Waldur's OfferingComponent (create)."""

    type: required_text(50)  # type: ignore[valid-type]
    name: name_text(150)  # type: ignore[valid-type]
    billing_type: choice(BillingType)  # type: ignore[valid-type]
    measured_unit: line_text(30) = ""  # type: ignore[valid-type]
    description: free_text(2000) = ""  # type: ignore[valid-type]
    limit_period: choice(LimitPeriod) | None = None  # type: ignore[valid-type]
    limit_amount: Integer | None = None
    article_code: text(30) = ""  # type: ignore[valid-type]
    min_value: Integer | None = None
    max_value: Integer | None = None
    max_available_limit: Integer | None = None
    default_limit: Integer | None = None
    is_boolean: bool = False


class ComponentUpdateIn(BodyModel):
    """`update_offering_component/`: the component's uuid and the fields to change."""

    uuid: str | None = None
    name: name_text(150) | None = None  # type: ignore[valid-type]
    billing_type: choice(BillingType) | None = None  # type: ignore[valid-type]
    measured_unit: line_text(30) | None = None  # type: ignore[valid-type]
    description: free_text(2000) | None = None  # type: ignore[valid-type]
    limit_period: choice(LimitPeriod) | None = None  # type: ignore[valid-type]
    limit_amount: Integer | None = None
    article_code: text(30) | None = None  # type: ignore[valid-type]
    min_value: Integer | None = None
    max_value: Integer | None = None
    max_available_limit: Integer | None = None
    default_limit: Integer | None = None
    is_boolean: bool | None = None


class PlanIn(BodyModel):
    """A plan at offering creation (Waldur's BaseProviderPlan). `prices` are accepted here (Waldur
    ignores them at creation and sets them with `update_prices/` only)."""

    name: name_text(150)  # type: ignore[valid-type]
    unit: choice(PlanUnit) = PlanUnit.MONTH.value  # type: ignore[valid-type]
    unit_price: Price = Decimal("0")
    description: free_text(2000) = ""  # type: ignore[valid-type]
    article_code: text(30) = ""  # type: ignore[valid-type]
    max_amount: int | None = Field(None, ge=1, le=MAX_SMALL_INTEGER)  # a PositiveSmallIntegerField
    archived: bool = False
    prices: Prices = Field(default_factory=dict)  # type: ignore[valid-type]
    quotas: Quotas = Field(default_factory=dict)  # type: ignore[valid-type]


def plan_spec(body: BodyModel) -> dict[str, Any]:
    """The fields sent, as the services take them (prices keep their Decimal)."""
    return {k: getattr(body, k) for k in body.model_fields_set}


def plan_specs(plans: list[PlanIn]) -> list[dict[str, Any]]:
    return [plan_spec(p) for p in plans]


# --- output --------------------------------------------------------------------------------------
class OfferingComponentOut(ResponseModel):
    uuid: str
    billing_type: str
    type: str
    name: str
    description: str
    measured_unit: str
    unit_factor: int
    limit_period: str | None = None
    limit_amount: int | None = None
    limit_decimal_places: int
    article_code: str
    max_value: int | None = None
    min_value: int | None = None
    max_available_limit: int | None = None
    is_boolean: bool
    default_limit: int | None = None
    is_builtin: bool
    is_prepaid: bool


class NestedPlanComponentOut(ResponseModel):
    type: str
    name: str
    measured_unit: str
    billing_type: str
    amount: int
    price: str


class PlanOut(ResponseModel):
    """BaseProviderPlan / BasePublicPlan (a plan inside an offering)."""

    url: str
    uuid: str
    name: str
    description: str
    article_code: str
    max_amount: int | None = None
    archived: bool
    is_active: bool
    unit_price: str
    unit: str
    init_price: float
    switch_price: float
    backend_id: str
    organization_groups: list[Any]
    components: list[NestedPlanComponentOut]
    prices: dict[str, str]
    future_prices: dict[str, str]
    quotas: dict[str, int]
    resources_count: int
    plan_type: str
    minimal_price: str


class ProviderPlanOut(PlanOut):
    """ProviderPlanDetails (`marketplace-plans/`)."""

    offering: str
    offering_uuid: str
    offering_name: str


class OfferingOut(ResponseModel):
    """PublicOfferingDetails; the provider's view adds the provider-only fields."""

    omit_when_null = frozenset({"category", "category_title", "category_uuid"})

    url: str
    uuid: str
    created: datetime
    name: str
    slug: str
    description: str
    full_description: str
    terms_of_service: str
    privacy_policy_link: str
    access_url: str
    getting_started: str
    integration_guide: str
    vendor_details: str
    customer: str
    customer_uuid: str
    customer_name: str
    category: str | None = None
    category_uuid: str | None = None
    category_title: str | None = None
    attributes: dict[str, Any]
    options: dict[str, Any]
    resource_options: dict[str, Any]
    components: list[OfferingComponentOut]
    plugin_options: dict[str, Any]
    state: str
    paused_reason: str
    type: str
    shared: bool
    billable: bool
    plans: list[PlanOut]
    screenshots: list[Any]
    endpoints: list[Any]
    files: list[Any]
    quotas: list[Any]
    organization_groups: list[Any]
    order_count: int
    latitude: float | None = None
    longitude: float | None = None
    country: str
    backend_id: str
    image: str | None = None
    thumbnail: str | None = None


class ProviderOfferingOut(OfferingOut):
    """ProviderOfferingDetails: the provider's own settings too; `secret_options` and
    `service_attributes` only for who may set them (Waldur's can_see_secret_options)."""

    omit_when_null = frozenset(
        {"category", "category_title", "category_uuid", "secret_options", "service_attributes"}
    )

    secret_options: dict[str, Any] | None = None
    service_attributes: dict[str, Any] | None = None
    can_update_integration: bool = False
    can_update_options: bool = False


def _plan_type(offering: Offering) -> str:
    kinds = {c.billing_type for c in offering.components}
    if not kinds or kinds == {BillingType.FIXED}:
        return "fixed"
    if BillingType.USAGE in kinds:
        return "usage"
    return "limit"


def _minimal_price(offering: Offering, plan: Plan) -> Decimal:
    fixed = sum(
        (plan.prices.get(c.type, Decimal(0)) * plan.quotas.get(c.type, 0) for c in offering.components
         if c.billing_type is BillingType.FIXED),
        Decimal(0),
    )  # fmt: skip
    return plan.unit_price + fixed


def plan_data(call: Call, offering: Offering, plan: Plan, public: bool) -> dict[str, Any]:
    """A plan as clients read it; its url is the public one in the catalog (what orders name)."""
    url = f"{call.url(PUBLIC_OFFERINGS, offering.id)}plans/{plan.id}/" if public else call.url(PLANS, plan.id)
    return {
        "url": url,
        "uuid": plan.id,
        "name": plan.name,
        "description": plan.description,
        "article_code": plan.article_code,
        "max_amount": plan.max_amount,
        "archived": plan.archived,
        "is_active": not plan.archived,
        "unit_price": f"{plan.unit_price:f}",
        "unit": plan.unit.value,
        "init_price": float(orders.init_price(plan, offering.components)),
        "switch_price": float(orders.switch_price(plan, offering.components)),
        "backend_id": "",
        "organization_groups": [],
        "components": [
            {
                "type": c.type,
                "name": c.name,
                "measured_unit": c.measured_unit,
                "billing_type": c.billing_type.value,
                "amount": plan.quotas.get(c.type, 0),
                "price": f"{plan.prices.get(c.type, Decimal(0)):f}",
            }
            for c in offering.components
        ],
        "prices": {k: f"{v:f}" for k, v in plan.prices.items()},
        "future_prices": {},
        "quotas": dict(plan.quotas),
        "resources_count": 0,
        "plan_type": _plan_type(offering),
        "minimal_price": f"{_minimal_price(offering, plan):f}",
    }


def provider_plan_data(call: Call, offering: Offering, plan: Plan) -> dict[str, Any]:
    return {
        **plan_data(call, offering, plan, public=False),
        "offering": call.url(PROVIDER_OFFERINGS, offering.id),
        "offering_uuid": offering.id,
        "offering_name": offering.name,
    }


def component_data(component: Component, builtin: bool = False) -> dict[str, Any]:
    return {
        "uuid": component.id,
        "billing_type": component.billing_type.value,
        "type": component.type,
        "name": component.name,
        "description": component.description,
        "measured_unit": component.measured_unit,
        "unit_factor": 1,
        "limit_period": component.limit_period.value if component.limit_period else None,
        "limit_amount": component.limit_amount,
        "limit_decimal_places": 0,
        "article_code": component.article_code,
        "max_value": component.max_value,
        "min_value": component.min_value,
        "max_available_limit": component.max_available_limit,
        "is_boolean": component.is_boolean,
        "default_limit": component.default_limit,
        "is_builtin": builtin,
        "is_prepaid": False,
    }


def offering_data(
    call: Call,
    view: OfferingView,
    public: bool,
    builtin: frozenset[str],
    rights: OfferingRights | None = None,
) -> dict[str, Any]:
    """An offering as clients read it (`builtin`: the component types its plugin brings). The
    provider's view (not `public`) shows what `rights` allow: secrets only to who may set them."""
    o, customer, category = view.offering, view.customer, view.category
    data: dict[str, Any] = {
        "url": call.url(PUBLIC_OFFERINGS if public else PROVIDER_OFFERINGS, o.id),
        "uuid": o.id,
        "created": o.created,
        "name": o.name,
        "slug": offering_slug(o),
        "customer": call.url("customers", o.customer_id),
        "customer_uuid": o.customer_id,
        "customer_name": customer.name if customer else "",
        "attributes": dict(o.attributes),
        "options": dict(o.options),
        "resource_options": {},
        "components": [component_data(c, c.type in builtin) for c in o.components],
        "plugin_options": dict(o.plugin_options),
        "state": o.state.value,
        "type": o.type,
        "shared": o.shared,
        "billable": o.billable,
        "plans": [plan_data(call, o, p, public) for p in o.plans if not (public and p.archived)],
        "screenshots": [],
        "endpoints": [],
        "files": [],
        "quotas": [],
        "organization_groups": [],
        "order_count": 0,
        **{name: getattr(o, name) for name in _TEXT_FIELDS},
        "latitude": o.latitude,
        "longitude": o.longitude,
    }
    if category is not None:
        data.update(
            category=call.url(CATEGORIES, category.id),
            category_uuid=category.id,
            category_title=category.title,
        )
    if not public and rights is not None:
        data.update(can_update_integration=rights.integration, can_update_options=rights.options)
        if rights.integration:
            data.update(secret_options=dict(o.secret_options), service_attributes={})
    return data


def offering_slug(offering: Offering) -> str:
    """The offering's slug as Cirrus renders it (offerings keep no slug of their own yet)."""
    return offering.id[:12]


_TEXT_FIELDS = (
    "description",
    "full_description",
    "terms_of_service",
    "privacy_policy_link",
    "access_url",
    "getting_started",
    "integration_guide",
    "vendor_details",
    "paused_reason",
    "country",
    "backend_id",
)
