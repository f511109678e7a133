"""Cloud offerings' commands for the outbox table (tests/outbox_commands.py merges PROVIDER_COMMANDS
into COMMANDS): a resource imported from the in-memory fake cloud (tests/fakes/cloud.py), which a
provider customer (Cloud) sells, into Acme's project Apollo."""

from __future__ import annotations

from typing import Any

from tests.outbox_commands import SLUG_NUMBER, Case, Fields, S, World, emits
from tests.outbox_marketplace import INVOICE_MADE


def _cloud_offering(w: World) -> tuple[Any, Any]:
    from chalicelib.services import customers
    from tests.fakes.cloud import TYPE, FakeCloud, registered
    from tests.marketplace_helpers import make_offering

    cloud = FakeCloud()
    cloud.add("i-1", "vm-1")
    provider = customers.create_customer(w.ctx, {"name": "Cloud"})
    with registered(cloud):
        offering = make_offering(w.staff, provider.id, TYPE, name="Cloud")
    return cloud, offering


def _import(w: World, prepared: tuple[Any, Any], plan: str | None = None) -> Fields:
    from chalicelib.services import provider_imports
    from chalicelib.workflows.cloud_driver import backend_for
    from tests.fakes.cloud import registered

    cloud, offering = prepared
    with registered(cloud):
        made = provider_imports.import_resource(w.ctx, offering.id, backend_for, "i-1", w.project.id, plan)
    fields = {"resource_uuid": made.id, "resource_name": "vm-1", "project_uuid": w.project.id}
    return {"resource_import_succeeded": {**fields, "customer_uuid": w.customer.id}}


def import_resource(w: World, prepared: tuple[Any, Any]) -> Fields:
    return _import(w, prepared)


def import_on_a_plan(w: World, prepared: tuple[Any, Any]) -> Fields:
    return _import(w, prepared, prepared[1].plans[0].id)


PROVIDER_COMMANDS = {
    f"{S}provider_imports.import_resource": emits(
        Case(import_resource, ("resource_import_succeeded",), setup=_cloud_offering, outside=SLUG_NUMBER),
        Case(
            import_on_a_plan,
            ("resource_import_succeeded",),
            setup=_cloud_offering,
            outside={**SLUG_NUMBER, **INVOICE_MADE},
            label="billed on its plan",
        ),
    ),
}
