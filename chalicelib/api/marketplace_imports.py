"""Importable resources of a cloud offering (Waldur's actions of `marketplace-provider-offerings/`):

- `GET .../{uuid}/importable_resources/`: what exists at the provider that Cirrus does not have for
  this offering, as Waldur's ImportableResource (backend_id, name, type, description), paged.
- `POST .../{uuid}/import_resource/` {backend_id, project, plan?}: a resource made of one of them
  (OK, with the provider's id and metadata, in the project), 201 with the resource as
  `marketplace-resources/` shows it.

Rules and permissions: `services/provider_imports.py`.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint  # type: ignore[attr-defined]

from chalicelib.api import marketplace_resources as resources_api
from chalicelib.api.fields import name_text, required_text
from chalicelib.api.marketplace_catalog import PROVIDER_OFFERINGS, TAG
from chalicelib.api.rest import (
    BodyModel,
    Call,
    Created,
    ListQuery,
    ResponseModel,
    endpoint,
    listed,
    object_id,
    render,
)
from chalicelib.domain import offerings as offering_rules
from chalicelib.services import provider_imports as service
from chalicelib.services import resource_views
from chalicelib.services.paging import paginate
from chalicelib.workflows import cloud_driver as driver

bp = Blueprint(__name__)
BASE = f"/api/{PROVIDER_OFFERINGS}"
MODEL = offering_rules.MODEL
REFERENCE = 255  # a uuid or a URL naming a project or plan


class ImportableResourceOut(ResponseModel):
    """Waldur's ImportableResource."""

    backend_id: str
    name: str
    type: str
    description: str


class ImportResourceIn(BodyModel):
    """Waldur's ImportResourceSerializer: the provider's id of the resource, the project (uuid or
    URL) it goes to, and optionally a plan of the offering."""

    backend_id: name_text(255)  # type: ignore[valid-type]
    project: required_text(REFERENCE)  # type: ignore[valid-type]
    plan: required_text(REFERENCE) | None = None  # type: ignore[valid-type]


@endpoint(bp, f"{BASE}/{{uuid}}/importable_resources", "GET",
          name="marketplace_provider_offerings_importable_resources_list", tag=TAG, query=ListQuery,
          response=ImportableResourceOut, many=True,
          summary="What the offering's provider has that Cirrus does not (cloud types)")  # fmt: skip
def importable_resources(call: Call, uuid: str) -> Any:
    found = service.importable_resources(call.user, object_id(uuid, MODEL), driver.backend_for)
    page = paginate(found, call.query.page_request())
    return listed(call, page, ImportableResourceOut, service.importable_data)


@endpoint(bp, f"{BASE}/{{uuid}}/import_resource", "POST",
          name="marketplace_provider_offerings_import_resource", tag=TAG, body=ImportResourceIn,
          response=resources_api.ResourceOut, status=201,
          summary="Make a resource of one the provider has (cloud types)")  # fmt: skip
def import_resource(call: Call, uuid: str) -> Any:
    body: ImportResourceIn = call.body
    offering_id = object_id(uuid, MODEL)
    resource = service.import_resource(
        call.ctx, offering_id, driver.backend_for, body.backend_id, body.project, body.plan
    )
    view = resource_views.describe_one(resource)
    data = resources_api.to_data(call, view, resources_api.CONSUMER)
    return Created(render(resources_api.ResourceOut, data))
