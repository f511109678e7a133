"""`/api/marketplace-provider-offerings/` (the provider's offerings: list, create, retrieve, state and
`update_*` actions, components, OFFERING roles) and `/api/marketplace-public-offerings/` (the
catalog, anonymous allowed, with `plans/`). No PUT or PATCH: offerings change through actions
(405 otherwise, as Waldur); DELETE removes one nobody ordered. Offering roles are also served under
`/api/offerings/<uuid>/` (the path python-waldur-client uses for them).
"""

from __future__ import annotations

from typing import Annotated, Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, field_validator, model_validator

from chalicelib.api import marketplace_catalog as wire
from chalicelib.api.fields import (
    Attributes,
    BoundedJson,
    UuidFilter,
    changes,
    each_of,
    free_text,
    name_text,
    omitted,
    one_of,
    text,
)
from chalicelib.api.marketplace_catalog import (
    PROVIDER_OFFERINGS,
    PUBLIC_OFFERINGS,
    TAG,
    ComponentIn,
    ComponentUpdateIn,
    OfferingOut,
    PlanIn,
    PlanOut,
    ProviderOfferingOut,
)
from chalicelib.api.rest import (
    BodyModel,
    Call,
    Created,
    Empty,
    FieldsQuery,
    ListQuery,
    NoContent,
    ResponseModel,
    endpoint,
    listed,
    object_id,
    render,
)
from chalicelib.api.teams import team_endpoints
from chalicelib.domain import bounds
from chalicelib.domain import offerings as domain
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.ids import id_from_url, parse_id
from chalicelib.domain.roles import ScopeType
from chalicelib.domain.vocabulary import OfferingState
from chalicelib.providers import registry
from chalicelib.services import catalog
from chalicelib.services import offerings as service
from chalicelib.services.catalog import OfferingFilters, OfferingView

bp = Blueprint(__name__)
MODEL = domain.MODEL
BASE = f"/api/{PROVIDER_OFFERINGS}"
PUBLIC = f"/api/{PUBLIC_OFFERINGS}"

Options = Annotated[dict[str, Any], BoundedJson(bounds.OPTIONS)]
PluginOptions = Annotated[dict[str, Any], BoundedJson(bounds.PLUGIN_OPTIONS)]
SecretOptions = Annotated[dict[str, Any], BoundedJson(bounds.SECRET_OPTIONS)]
# Waldur's TextFields (unbounded there); here within the offering item's budget.
LongText = free_text(bounds.LONG_TEXT_BYTES, bounds.LONG_TEXT_BYTES)
# Components and plans given at creation (more plans come one by one, each bounded).
MAX_COMPONENTS = MAX_PLANS = 100


def _registered(name: str) -> str:
    if registry.get_type(name) is None:
        raise ValueError(registry.UNKNOWN_TYPE.format(name))
    return name


# One of the registered offering types: checked and listed from the same registry.
OfferingTypeName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100),
    AfterValidator(_registered),
    Field(json_schema_extra=one_of(registry.offering_types)),
]


# --- input ---------------------------------------------------------------------------------------
class OfferingIn(BodyModel):
    """Waldur's OfferingCreateSerializer (the part Cirrus keeps; other fields are ignored)."""

    name: name_text(150)  # type: ignore[valid-type]
    category: str = Field(min_length=1)
    customer: str = Field(min_length=1)
    type: OfferingTypeName
    description: free_text(2000) = ""  # type: ignore[valid-type]
    full_description: LongText = ""  # type: ignore[valid-type]
    terms_of_service: LongText = ""  # type: ignore[valid-type]
    privacy_policy_link: text(200) = ""  # type: ignore[valid-type]
    access_url: text(200) = ""  # type: ignore[valid-type]
    getting_started: LongText = ""  # type: ignore[valid-type]
    integration_guide: LongText = ""  # type: ignore[valid-type]
    vendor_details: LongText = ""  # type: ignore[valid-type]
    shared: bool = True
    billable: bool = True
    backend_id: text(255) = ""  # type: ignore[valid-type]
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    country: text(2) = ""  # type: ignore[valid-type]
    attributes: Attributes = Field(default_factory=dict)
    options: Options = Field(default_factory=dict)
    plugin_options: PluginOptions = Field(default_factory=dict)
    secret_options: SecretOptions = Field(default_factory=dict)
    components: list[ComponentIn] = Field(default_factory=list, max_length=MAX_COMPONENTS)
    plans: list[PlanIn] = Field(default_factory=list, max_length=MAX_PLANS)


class PauseIn(BodyModel):
    paused_reason: free_text(2000) = ""  # type: ignore[valid-type]


class OverviewIn(BodyModel):
    """Each field may be left out; none may be null (Waldur's serializer allows no null here)."""

    name: name_text(150) = omitted()  # type: ignore[valid-type]
    description: free_text(2000) = omitted()  # type: ignore[valid-type]
    full_description: LongText = omitted()  # type: ignore[valid-type]
    terms_of_service: LongText = omitted()  # type: ignore[valid-type]
    privacy_policy_link: text(200) = omitted()  # type: ignore[valid-type]
    access_url: text(200) = omitted()  # type: ignore[valid-type]
    getting_started: LongText = omitted()  # type: ignore[valid-type]
    integration_guide: LongText = omitted()  # type: ignore[valid-type]
    vendor_details: LongText = omitted()  # type: ignore[valid-type]


class DescriptionIn(BodyModel):
    category: str = Field(min_length=1)


class LocationIn(BodyModel):
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    country: text(2) = omitted()  # type: ignore[valid-type]


class OptionsIn(BodyModel):
    options: Options


class IntegrationIn(BodyModel):
    plugin_options: PluginOptions = omitted()
    secret_options: SecretOptions = omitted()
    backend_id: text(255) = omitted()  # type: ignore[valid-type]


class AttributesIn(BodyModel):
    """`update_attributes/`: the body is the attributes object itself."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    @model_validator(mode="before")
    @classmethod
    def _bounded(cls, data: Any) -> Any:
        message = bounds.problem(data, bounds.ATTRIBUTES)
        if message:
            raise ValueError(message)
        return data


class ComponentRefIn(BodyModel):
    uuid: str | None = None


class DetailStateOut(ResponseModel):
    detail: str
    state: str


class OfferingQuery(ListQuery):
    name: str | None = None
    name_exact: str | None = None
    customer: str | None = None
    customer_uuid: UuidFilter | None = None
    state: list[str] = Field(default_factory=list, json_schema_extra=each_of(s.value for s in OfferingState))
    type: list[str] = Field(default_factory=list)
    category_uuid: UuidFilter | None = None
    shared: bool | None = None
    billable: bool | None = None
    keyword: str | None = None
    description: str | None = None
    uuid_list: str | None = None
    project_uuid: UuidFilter | None = None  # python-waldur-client sends it when it looks an offering up
    allowed_customer_uuid: UuidFilter | None = None  # HomePort: what this customer may order

    ordering_fields = tuple(catalog.ORDERING)

    @field_validator("state")
    @classmethod
    def _states(cls, values: list[str]) -> list[str]:
        allowed = {s.value for s in OfferingState}
        for value in values:
            if value not in allowed:
                raise ValueError(f"Select a valid choice. {value} is not one of the available choices.")
        return values

    def filters(self) -> OfferingFilters:
        customer = self.customer_uuid or (id_from_url(self.customer) if self.customer else None)
        if self.customer is not None and customer is None:
            customer = "-"  # a customer that matches nothing
        return OfferingFilters(
            name=self.name,
            name_exact=self.name_exact,
            customer_id=parse_id(customer) if customer and customer != "-" else customer,
            states=tuple(self.state),
            types=tuple(self.type),
            category_id=parse_id(self.category_uuid) if self.category_uuid else None,
            shared=self.shared,
            billable=self.billable,
            keyword=self.keyword,
            description=self.description,
            uuids=tuple(u for u in (self.uuid_list or "").split(",") if u),
            allowed_customer_id=parse_id(self.allowed_customer_uuid) if self.allowed_customer_uuid else None,
        )


# --- output --------------------------------------------------------------------------------------
def _builtin(offering_type: str) -> frozenset[str]:
    found = registry.get_type(offering_type)
    return frozenset(t.type for t in found.components) if found else frozenset()


def provider_data(call: Call, view: OfferingView) -> dict[str, Any]:
    rights = service.rights_on(call.user, view.offering)
    return wire.offering_data(call, view, public=False, builtin=_builtin(view.offering.type), rights=rights)


def public_data(call: Call, view: OfferingView) -> dict[str, Any]:
    return wire.offering_data(call, view, public=True, builtin=_builtin(view.offering.type))


def _provider_one(call: Call, offering_id: str) -> dict[str, Any]:
    view = catalog.retrieve_provider_offering(call.user, offering_id)
    return render(ProviderOfferingOut, provider_data(call, view), getattr(call.query, "field", ()))


def _category_id(reference: str) -> str:
    category_id = id_from_url(reference)
    if category_id is None:
        raise ValidationError.field("category", service.INVALID_HYPERLINK)
    return category_id


# --- provider offerings --------------------------------------------------------------------------
@endpoint(bp, BASE, "GET", name="marketplace_provider_offerings_list", tag=TAG, query=OfferingQuery,
          response=ProviderOfferingOut, many=True,
          summary="Offerings the caller manages (staff and support: all), newest first")  # fmt: skip
def list_provider_offerings(call: Call) -> Any:
    q: OfferingQuery = call.query
    page = catalog.list_provider_offerings(call.user, q.filters(), q.ordering(), q.page_request())
    return listed(call, page, ProviderOfferingOut, lambda v: provider_data(call, v))


@endpoint(bp, BASE, "POST", name="marketplace_provider_offerings_create", tag=TAG, body=OfferingIn,
          response=ProviderOfferingOut, status=201, retry_key=True,
          summary="Create a Draft offering with its components and plans")  # fmt: skip
def create_offering(call: Call) -> Any:
    body: OfferingIn = call.body
    data: dict[str, Any] = {
        k: getattr(body, k) for k in body.model_fields_set if k not in ("category", "customer", "plans")
    }
    data.update(
        type=body.type,
        category_id=_category_id(body.category),
        components=[c.model_dump() for c in body.components],
        plans=wire.plan_specs(body.plans),
        plugin_options=body.plugin_options,
    )
    offering = service.create_offering(call.ctx, id_from_url(body.customer), data)
    return Created(_provider_one(call, offering.id))


@endpoint(bp, f"{BASE}/{{uuid}}", "GET", name="marketplace_provider_offerings_retrieve", tag=TAG,
          query=FieldsQuery, response=ProviderOfferingOut)  # fmt: skip
def retrieve_offering(call: Call, uuid: str) -> Any:
    return _provider_one(call, object_id(uuid, MODEL))


@endpoint(bp, f"{BASE}/{{uuid}}", "DELETE", name="marketplace_provider_offerings_destroy", tag=TAG,
          status=204, summary="Delete an offering nobody ordered (a Draft one; staff: any)")  # fmt: skip
def delete_offering(call: Call, uuid: str) -> Any:
    service.delete_offering(call.ctx, object_id(uuid, MODEL))
    return NoContent()


def _state_action(action: str, body: type[BodyModel] | None, summary: str) -> None:
    @endpoint(bp, f"{BASE}/{{uuid}}/{action}", "POST", name=f"marketplace_provider_offerings_{action}",
              tag=TAG, body=body, response=DetailStateOut, summary=summary)  # fmt: skip
    def change_state(call: Call, uuid: str) -> Any:
        reason = getattr(call.body, "paused_reason", "") if call.body is not None else ""
        offering = service.set_state(call.ctx, object_id(uuid, MODEL), action, reason)
        return {"detail": "Offering state updated.", "state": offering.state.value}


_state_action("activate", None, "Draft or Paused → Active (staff; the offering needs a plan)")
_state_action("pause", PauseIn, "Active → Paused, with a reason")
_state_action("unpause", None, "Paused → Active")
_state_action("archive", None, "Draft, Active or Paused → Archived")
_state_action("draft", None, "Active, Paused or Archived → Draft")


def _update_action(action: str, body: type[BodyModel], summary: str) -> None:
    @endpoint(bp, f"{BASE}/{{uuid}}/{action}", "POST", name=f"marketplace_provider_offerings_{action}",
              tag=TAG, body=body, summary=summary)  # fmt: skip
    def update(call: Call, uuid: str) -> Any:
        service.update_offering(call.ctx, object_id(uuid, MODEL), action, _changes(action, call.body))
        return Empty()


def _changes(action: str, body: BodyModel) -> dict[str, Any]:
    if isinstance(body, AttributesIn):
        return {"attributes": dict(body.model_extra or {})}
    if isinstance(body, DescriptionIn):
        return {"category_id": _category_id(body.category)}
    return changes(body)  # null was refused by the body model where it may not be null


_update_action("update_overview", OverviewIn, "Change the offering's name and texts")
_update_action("update_description", DescriptionIn, "Move the offering to another category")
_update_action("update_location", LocationIn, "Change the offering's location")
_update_action("update_options", OptionsIn, "Change the order form options")
_update_action("update_integration", IntegrationIn, "Change plugin_options (an object), secret_options")
_update_action("update_attributes", AttributesIn, "Replace the offering's attributes (the body)")


@endpoint(bp, f"{BASE}/{{uuid}}/create_offering_component", "POST",
          name="marketplace_provider_offerings_create_offering_component", tag=TAG, body=ComponentIn,
          response=wire.OfferingComponentOut, status=201, summary="Add a component")  # fmt: skip
def create_component(call: Call, uuid: str) -> Any:
    body: ComponentIn = call.body
    component = service.create_component(call.ctx, object_id(uuid, MODEL), body.model_dump())
    return Created(render(wire.OfferingComponentOut, wire.component_data(component)))


@endpoint(bp, f"{BASE}/{{uuid}}/update_offering_component", "POST",
          name="marketplace_provider_offerings_update_offering_component", tag=TAG, body=ComponentUpdateIn,
          summary="Change a component (named by its uuid); its type stays")  # fmt: skip
def update_component(call: Call, uuid: str) -> Any:
    body: ComponentUpdateIn = call.body
    sent = {k: getattr(body, k) for k in body.model_fields_set if k not in ("uuid", "type")}
    service.update_component(call.ctx, object_id(uuid, MODEL), _component_id(body.uuid), sent)
    return Empty()


@endpoint(bp, f"{BASE}/{{uuid}}/remove_offering_component", "POST",
          name="marketplace_provider_offerings_remove_offering_component", tag=TAG, body=ComponentRefIn,
          summary="Remove a component that is not built into the offering's type")  # fmt: skip
def remove_component(call: Call, uuid: str) -> Any:
    body: ComponentRefIn = call.body
    service.remove_component(call.ctx, object_id(uuid, MODEL), _component_id(body.uuid))
    return Empty()


def _component_id(value: str | None) -> str | None:
    return None if not value else (parse_id(value) or "-")


team_endpoints(bp, PROVIDER_OFFERINGS, ScopeType.OFFERING, TAG)
team_endpoints(bp, "offerings", ScopeType.OFFERING, TAG)


# --- the public catalog --------------------------------------------------------------------------
@endpoint(bp, PUBLIC, "GET", name="marketplace_public_offerings_list", tag=TAG, query=OfferingQuery,
          response=OfferingOut, many=True, anonymous=True,
          summary="Shared Active and Paused offerings (anonymous allowed)")  # fmt: skip
def list_public_offerings(call: Call) -> Any:
    q: OfferingQuery = call.query
    page = catalog.list_public_offerings(call.principal, q.filters(), q.ordering(), q.page_request())
    return listed(call, page, OfferingOut, lambda v: public_data(call, v))


@endpoint(bp, f"{PUBLIC}/{{uuid}}", "GET", name="marketplace_public_offerings_retrieve", tag=TAG,
          query=FieldsQuery, response=OfferingOut, anonymous=True)  # fmt: skip
def retrieve_public_offering(call: Call, uuid: str) -> Any:
    view = catalog.get_public(call.principal, object_id(uuid, MODEL))
    return render(OfferingOut, public_data(call, view), call.query.field)


@endpoint(bp, f"{PUBLIC}/{{uuid}}/plans", "GET", name="marketplace_public_offerings_plans_list", tag=TAG,
          response=PlanOut, many=True, anonymous=True,
          summary="The offering's plans that are not archived (not paginated, as Waldur)")  # fmt: skip
def list_public_plans(call: Call, uuid: str) -> Any:
    plans = catalog.public_plans(call.principal, object_id(uuid, MODEL))
    return [render(PlanOut, wire.plan_data(call, p.offering, p.plan, public=True)) for p in plans]


@endpoint(bp, f"{PUBLIC}/{{uuid}}/plans/{{plan_uuid}}", "GET",
          name="marketplace_public_offerings_plans_retrieve", tag=TAG, response=PlanOut, anonymous=True,
          summary="One plan: the URL orders name")  # fmt: skip
def retrieve_public_plan(call: Call, uuid: str, plan_uuid: str) -> Any:
    found = catalog.public_plan(
        call.principal, object_id(uuid, MODEL), object_id(plan_uuid, domain.PLAN_MODEL)
    )
    return render(PlanOut, wire.plan_data(call, found.offering, found.plan, public=True))
