"""`/api/marketplace-site-agent-identities/`, `-services/` and `-processors/`: what a site agent
(waldur-site-agent) registers at every start of every mode, in Waldur's AgentIdentity,
AgentService and AgentProcessor fields. The provider (and staff) see and manage them;
services/agents.py says who may do what.

Not served: `register_queue/` and `register_event_subscription/` (Cirrus runs no STOMP broker:
404, the agent's `event_process` mode then keeps to its HTTP work), `cleanup_orphaned/`,
`cleanup_stale/` and the services' and processors' DELETE.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import Field, field_validator

from chalicelib.api.fields import (
    DateTimeFilter,
    IsoDateTime,
    ReferenceField,
    UuidFilter,
    each_of,
    free_text,
    name_text,
)
from chalicelib.api.marketplace_orders import uuid_filter
from chalicelib.api.rest import (
    BodyModel,
    Call,
    Created,
    FieldsQuery,
    ListQuery,
    NoContent,
    ResponseModel,
    WithStatus,
    endpoint,
    listed,
    object_id,
    render,
)
from chalicelib.domain import agents as domain
from chalicelib.domain.agents import AgentProcessor, AgentService, Dependency
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.ids import id_from_url
from chalicelib.services import agents as service
from chalicelib.services.agents import IdentityInput, IdentityView, ServiceView
from chalicelib.services.paging import paginate

bp = Blueprint(__name__)
IDENTITIES = "marketplace-site-agent-identities"
SERVICES = "marketplace-site-agent-services"
PROCESSORS = "marketplace-site-agent-processors"
TAG_IDENTITIES = IDENTITIES
TAG_SERVICES = SERVICES
TAG_PROCESSORS = PROCESSORS


# --- bodies -------------------------------------------------------------------------------------------
class DependencyIn(BodyModel):
    package: name_text(255)  # type: ignore[valid-type]
    version: free_text(255)  # type: ignore[valid-type]


class IdentityIn(BodyModel):
    """Waldur's AgentIdentityRequest."""

    offering: ReferenceField
    name: name_text(255)  # type: ignore[valid-type]
    version: free_text(255) | None = None  # type: ignore[valid-type]
    dependencies: list[DependencyIn] = Field([], max_length=domain.MAX_DEPENDENCIES)
    config_file_path: free_text(1000) | None = None  # type: ignore[valid-type]
    config_file_content: free_text(max_bytes=domain.CONFIG_FILE_CONTENT_BYTES) | None = None  # type: ignore[valid-type]
    last_restarted: IsoDateTime | None = None

    def given(self) -> IdentityInput:
        offering_id = id_from_url(self.offering)
        if offering_id is None:
            raise ValidationError.field("offering", "Must be a valid UUID.")
        return IdentityInput(
            offering_id=offering_id,
            name=self.name,
            version_text=self.version,
            dependencies=tuple(Dependency(d.package, d.version) for d in self.dependencies),
            config_file_path=self.config_file_path,
            config_file_content=self.config_file_content,
            last_restarted=self.last_restarted,
        )


class ServiceIn(BodyModel):
    """Waldur's AgentServiceCreateRequest."""

    name: name_text(255)  # type: ignore[valid-type]
    mode: free_text(255) | None = None  # type: ignore[valid-type]


class StatisticsIn(BodyModel):
    """Waldur's AgentServiceStatisticsRequest."""

    statistics: dict[str, Any]


class ProcessorIn(BodyModel):
    """Waldur's AgentProcessorCreateRequest."""

    name: name_text(255)  # type: ignore[valid-type]
    backend_type: name_text(255)  # type: ignore[valid-type]
    backend_version: free_text(255) | None = None  # type: ignore[valid-type]


# --- responses ----------------------------------------------------------------------------------------
class NestedProcessorOut(ResponseModel):
    url: str
    uuid: str
    name: str
    backend_type: str
    created: datetime
    modified: datetime
    last_run: datetime | None = None
    backend_version: str | None = None


class ProcessorOut(NestedProcessorOut):
    service: str  # the service's uuid
    service_name: str


class NestedServiceOut(ResponseModel):
    url: str
    uuid: str
    name: str
    mode: str | None = None
    state: str
    created: datetime
    modified: datetime
    statistics: dict[str, Any]


class ServiceOut(NestedServiceOut):
    identity: str  # the identity's uuid
    identity_name: str
    processors: list[NestedProcessorOut]


class DependencyOut(ResponseModel):
    package: str
    version: str


class CompatibilityOut(ResponseModel):
    status: str
    message: str


class IdentityOut(ResponseModel):
    omit_when_null = frozenset({"last_restarted"})

    url: str
    uuid: str
    offering: str  # the offering's uuid
    name: str
    version: str | None = None
    dependencies: list[DependencyOut]
    created_by: str | None = None
    config_file_path: str | None = None
    config_file_content: str | None = None
    last_restarted: datetime | None = None
    created: datetime
    modified: datetime
    services: list[NestedServiceOut]
    compatibility: CompatibilityOut


# --- queries ------------------------------------------------------------------------------------------
class IdentityQuery(ListQuery):
    name: str | None = Field(None, max_length=255)
    offering_uuid: UuidFilter | None = None
    version: str | None = Field(None, max_length=255)


class ServiceQuery(ListQuery):
    identity_uuid: UuidFilter | None = None
    mode: str | None = Field(None, max_length=255)
    state: list[str] = Field([], json_schema_extra=each_of(domain.SERVICE_STATES))
    modified_after: DateTimeFilter | None = None
    modified_before: DateTimeFilter | None = None

    @field_validator("state")
    @classmethod
    def _known_states(cls, values: list[str]) -> list[str]:
        for value in values:
            if value not in domain.SERVICE_STATES:
                raise ValueError(f"Select a valid choice. {value} is not one of the available choices.")
        return values


class ProcessorQuery(ListQuery):
    service_uuid: UuidFilter | None = None
    backend_type: str | None = Field(None, max_length=255)
    backend_version: str | None = Field(None, max_length=255)


# --- rendering ----------------------------------------------------------------------------------------
def processor_data(call: Call, processor: AgentProcessor, service_name: str | None = None) -> dict[str, Any]:
    data = {
        "url": call.url(PROCESSORS, processor.id),
        "uuid": processor.id,
        "name": processor.name,
        "backend_type": processor.backend_type,
        "backend_version": processor.backend_version,
        "last_run": processor.last_run,
        "created": processor.created,
        "modified": processor.modified,
    }
    if service_name is not None:
        data |= {"service": processor.service_id, "service_name": service_name}
    return data


def _nested_service(call: Call, s: AgentService) -> dict[str, Any]:
    return {
        "url": call.url(SERVICES, s.id),
        "uuid": s.id,
        "name": s.name,
        "mode": s.mode,
        "state": s.state,
        "statistics": dict(s.statistics),
        "created": s.created,
        "modified": s.modified,
    }


def service_data(call: Call, view: ServiceView) -> dict[str, Any]:
    s = view.service
    return _nested_service(call, s) | {
        "identity": s.identity_id,
        "identity_name": view.identity_name,
        "processors": [processor_data(call, p) for p in view.processors],
    }


def identity_data(call: Call, view: IdentityView) -> dict[str, Any]:
    i = view.identity
    return {
        "url": call.url(IDENTITIES, i.id),
        "uuid": i.id,
        "offering": i.offering_id,
        "name": i.name,
        "version": i.version_text,
        "dependencies": [{"package": d.package, "version": d.version} for d in i.dependencies],
        "created_by": i.created_by_id,
        "config_file_path": i.config_file_path,
        "config_file_content": i.config_file_content,
        "last_restarted": i.last_restarted,
        "created": i.created,
        "modified": i.modified,
        "services": [_nested_service(call, s) for s, _ in view.services],
        "compatibility": domain.compatibility(i),
    }


# --- identities ---------------------------------------------------------------------------------------
BASE = f"/api/{IDENTITIES}"


@endpoint(bp, BASE, "GET", name="marketplace_site_agent_identities_list", tag=TAG_IDENTITIES,
          query=IdentityQuery, response=IdentityOut, many=True,
          summary="The agent identities of the offerings the caller provides")  # fmt: skip
def list_identities(call: Call) -> Any:
    q: IdentityQuery = call.query
    offering_id = uuid_filter("offering_uuid", q.offering_uuid)
    rows = service.list_identities(call.user, q.name, offering_id, q.version)
    return listed(call, paginate(rows, q.page_request()), IdentityOut, lambda v: identity_data(call, v))


@endpoint(bp, BASE, "POST", name="marketplace_site_agent_identities_create", tag=TAG_IDENTITIES,
          body=IdentityIn, response=IdentityOut, status=201,
          summary="Register a site agent for an offering the caller manages")  # fmt: skip
def create_identity(call: Call) -> Any:
    view = service.create_identity(call.ctx, call.body.given())
    return Created(render(IdentityOut, identity_data(call, view)))


@endpoint(bp, f"{BASE}/{{uuid}}", "GET", name="marketplace_site_agent_identities_retrieve",
          tag=TAG_IDENTITIES, query=FieldsQuery, response=IdentityOut)  # fmt: skip
def retrieve_identity(call: Call, uuid: str) -> Any:
    view = service.get_identity(call.user, object_id(uuid, domain.IDENTITY_MODEL))
    return render(IdentityOut, identity_data(call, view), call.query.field)


@endpoint(bp, f"{BASE}/{{uuid}}", "PUT", name="marketplace_site_agent_identities_update",
          tag=TAG_IDENTITIES, body=IdentityIn, response=IdentityOut,
          summary="Replace an identity's fields (the agent does at each start)")  # fmt: skip
def update_identity(call: Call, uuid: str) -> Any:
    identity_id = object_id(uuid, domain.IDENTITY_MODEL)
    view = service.update_identity(call.ctx, identity_id, call.body.given())
    return render(IdentityOut, identity_data(call, view))


@endpoint(bp, f"{BASE}/{{uuid}}", "DELETE", name="marketplace_site_agent_identities_destroy", status=204,
          tag=TAG_IDENTITIES, summary="Remove an identity with its services and processors")  # fmt: skip
def delete_identity(call: Call, uuid: str) -> Any:
    service.delete_identity(call.ctx, object_id(uuid, domain.IDENTITY_MODEL))
    return NoContent()


@endpoint(bp, f"{BASE}/{{uuid}}/register_service", "POST",
          name="marketplace_site_agent_identities_register_service", tag=TAG_IDENTITIES, body=ServiceIn,
          response=ServiceOut, status=200, also=(201,),
          summary="Get or create the identity's service by name (201 made, 200 found)")  # fmt: skip
def register_service(call: Call, uuid: str) -> Any:
    body: ServiceIn = call.body
    identity_id = object_id(uuid, domain.IDENTITY_MODEL)
    view, made = service.register_service(call.ctx, identity_id, body.name, body.mode)
    return WithStatus(render(ServiceOut, service_data(call, view)), 201 if made else 200)


# --- services -----------------------------------------------------------------------------------------
SERVICES_BASE = f"/api/{SERVICES}"


@endpoint(bp, SERVICES_BASE, "GET", name="marketplace_site_agent_services_list", tag=TAG_SERVICES,
          query=ServiceQuery, response=ServiceOut, many=True,
          summary="The agent services of the offerings the caller provides")  # fmt: skip
def list_services(call: Call) -> Any:
    q: ServiceQuery = call.query
    filters = service.ServiceFilters(
        identity_id=uuid_filter("identity_uuid", q.identity_uuid),
        mode=q.mode,
        states=tuple(q.state),
        modified_after=q.modified_after,
        modified_before=q.modified_before,
    )
    rows = service.list_services(call.user, filters)
    return listed(call, paginate(rows, q.page_request()), ServiceOut, lambda v: service_data(call, v))


@endpoint(bp, f"{SERVICES_BASE}/{{uuid}}", "GET", name="marketplace_site_agent_services_retrieve",
          tag=TAG_SERVICES, query=FieldsQuery, response=ServiceOut)  # fmt: skip
def retrieve_service(call: Call, uuid: str) -> Any:
    view = service.get_service(call.user, object_id(uuid, domain.SERVICE_MODEL))
    return render(ServiceOut, service_data(call, view), call.query.field)


@endpoint(bp, f"{SERVICES_BASE}/{{uuid}}/register_processor", "POST",
          name="marketplace_site_agent_services_register_processor", tag=TAG_SERVICES, body=ProcessorIn,
          response=ProcessorOut, status=200, also=(201,),
          summary="Get or create the service's processor by name (201 made, 200 found)")  # fmt: skip
def register_processor(call: Call, uuid: str) -> Any:
    body: ProcessorIn = call.body
    service_id = object_id(uuid, domain.SERVICE_MODEL)
    processor, service_name, made = service.register_processor(
        call.ctx, service_id, body.name, body.backend_type, body.backend_version
    )
    rendered = render(ProcessorOut, processor_data(call, processor, service_name))
    return WithStatus(rendered, 201 if made else 200)


@endpoint(bp, f"{SERVICES_BASE}/{{uuid}}/set_statistics", "POST",
          name="marketplace_site_agent_services_set_statistics", tag=TAG_SERVICES, body=StatisticsIn,
          response=ServiceOut, summary="Replace the service's statistics")  # fmt: skip
def set_statistics(call: Call, uuid: str) -> Any:
    body: StatisticsIn = call.body
    view = service.set_statistics(call.ctx, object_id(uuid, domain.SERVICE_MODEL), body.statistics)
    return render(ServiceOut, service_data(call, view))


# --- processors ---------------------------------------------------------------------------------------
PROCESSORS_BASE = f"/api/{PROCESSORS}"


@endpoint(bp, PROCESSORS_BASE, "GET", name="marketplace_site_agent_processors_list", tag=TAG_PROCESSORS,
          query=ProcessorQuery, response=ProcessorOut, many=True,
          summary="The agent processors of the offerings the caller provides")  # fmt: skip
def list_processors(call: Call) -> Any:
    q: ProcessorQuery = call.query
    filters = service.ProcessorFilters(
        service_id=uuid_filter("service_uuid", q.service_uuid),
        backend_type=q.backend_type,
        backend_version=q.backend_version,
    )
    rows = service.list_processors(call.user, filters)
    page = paginate(rows, q.page_request())
    return listed(call, page, ProcessorOut, lambda row: processor_data(call, row[0], row[1]))


@endpoint(bp, f"{PROCESSORS_BASE}/{{uuid}}", "GET", name="marketplace_site_agent_processors_retrieve",
          tag=TAG_PROCESSORS, query=FieldsQuery, response=ProcessorOut)  # fmt: skip
def retrieve_processor(call: Call, uuid: str) -> Any:
    processor, service_name = service.get_processor(call.user, object_id(uuid, domain.PROCESSOR_MODEL))
    return render(ProcessorOut, processor_data(call, processor, service_name), call.query.field)
