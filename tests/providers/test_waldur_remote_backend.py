"""`Waldur.RemoteOffering`'s backend (plugins/cirrus-waldur-remote) driven directly against a second
Cirrus on loopback (tests/providers/waldur_remote_world.py), through waldur-api-client: create (the
remote project and order, waited on until done), idempotent create, update, terminate, get, list,
usage, a refusal and an erred remote order as ProviderError with the remote's words, an order left
pending at the remote and an unreachable remote as TransientError, the options' checks, the entry
point, and the invoices reconciled."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.providers.cloud import Job, ProviderError, RemoteState, Settings, TransientError
from tests.providers.waldur_remote_world import (
    Remote,
    remote_cirrus,
    remote_orders,
    set_usage,
    unreachable_api,
)

TYPE = "Waldur.RemoteOffering"


@pytest.fixture(scope="module")
def remote(request: pytest.FixtureRequest) -> Remote:
    return remote_cirrus(request.config)


@pytest.fixture(autouse=True)
def loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIRRUS_PROVIDER_ALLOW_LOOPBACK", "1")


def backend_of(remote: Remote, offering: dict[str, Any] | None = None, secrets: dict[str, str] | None = None,
               **options: Any) -> Any:  # fmt: skip
    from cirrus_waldur_remote.backend import build

    settings = Settings(
        offering_uuid="f" * 32,
        offering_name="Mirror",
        options={"remote_offering_uuid": (offering or remote.demo)["uuid"], "poll_interval_seconds": 0.05,
                 "wait_seconds": 60, **options},
        secrets=secrets or remote.secrets(),
    )  # fmt: skip
    return build(settings)


def job(name: str, project: str = "1" * 32, **fields: Any) -> Job:
    values: dict[str, Any] = {
        "resource_uuid": name.encode().hex().ljust(32, "0")[:32],
        "resource_name": name,
        "project_uuid": project,
        "customer_uuid": "2" * 32,
        "project_name": "Apollo",
        "customer_name": "Acme",
        "attributes": {"name": name},
        "limits": {"cpu": 2},
        "plan_name": "Standard",
        **fields,
    }
    return Job(**values)


class Beats:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def test_create_makes_the_remote_project_and_resource_then_update_usage_terminate(remote):
    backend = backend_of(remote)
    beats = Beats()

    made = backend.create(job("vm-1"), beats)

    assert made.state is RemoteState.OK and beats.count >= 2
    resource = remote.federation.get(f"marketplace-resources/{made.backend_id}/")
    assert (resource["state"], resource["name"], resource["limits"]) == ("OK", "vm-1", {"cpu": 2})
    assert resource["offering_uuid"] == remote.demo["uuid"] and resource["plan_name"] == "Standard"
    project = remote.federation.get(f"projects/{resource['project_uuid']}/")
    assert project["name"] == "Acme / Apollo" and project["backend_id"] == f"{'2' * 32}_{'1' * 32}"
    assert project["customer_uuid"] == remote.customer
    assert made.metadata["remote_resource_uuid"] == made.backend_id
    (order,) = remote_orders(remote, resource_uuid=made.backend_id, type="Create")
    assert made.metadata["remote_order_uuid"] == order["uuid"] and order["state"] == "done"
    assert made.metadata["remote_project_uuid"] == project["uuid"]

    # get and list
    got = backend.get(made.backend_id)
    assert got is not None and got.state is RemoteState.OK and got.limits == {"cpu": 2}
    assert made.backend_id in {r.backend_id for r in backend.list()}

    # update: new limits, through a remote Update order
    bigger = job("vm-1", backend_id=made.backend_id, limits={"cpu": 4}, old_limits={"cpu": 2})
    changed = backend.update(bigger, beats)
    assert changed.limits == {"cpu": 4}
    assert remote.federation.get(f"marketplace-resources/{made.backend_id}/")["limits"] == {"cpu": 4}

    # switch plan: the plan of the same name at the remote
    larger = job("vm-1", backend_id=made.backend_id, plan_name="Large", limits={})
    backend.update(larger, beats)
    assert remote.federation.get(f"marketplace-resources/{made.backend_id}/")["plan_name"] == "Large"

    # usage: what the remote provider reported, summed per component in the month
    set_usage(remote, made.backend_id, {"gpu": "3.5"})
    today = datetime.now(UTC).date()
    assert backend.usage(made.backend_id, today) == {"gpu": Decimal("3.5")}
    assert backend.usage(made.backend_id, today.replace(year=today.year - 1)) == {}

    # terminate, then again (already terminated = success)
    backend.terminate(job("vm-1", backend_id=made.backend_id), beats)
    gone = backend.get(made.backend_id)
    assert gone is not None and gone.state is RemoteState.TERMINATED
    backend.terminate(job("vm-1", backend_id=made.backend_id), beats)
    terminations = remote_orders(remote, resource_uuid=made.backend_id, type="Terminate")
    assert len(terminations) == 1


def test_a_retried_create_finds_the_remote_order_it_placed(remote):
    backend = backend_of(remote)
    first = backend.create(job("vm-retry", project="3" * 32), Beats())

    again = backend.create(job("vm-retry", project="3" * 32), Beats())

    assert again.backend_id == first.backend_id
    project = first.metadata["remote_project_uuid"]
    assert len(remote_orders(remote, project_uuid=project, type="Create")) == 1


def test_a_pending_remote_order_is_waited_on_then_retried_without_a_second_order(remote):
    backend = backend_of(remote, remote.manual, wait_seconds=1)
    the_job = job("vm-manual", project="4" * 32)

    with pytest.raises(TransientError, match="still pending-provider"):
        backend.create(the_job, Beats())
    placed = remote_orders(remote, offering_uuid=remote.manual["uuid"], state="pending-provider")
    assert len(placed) == 1
    remote.staff.post(f"marketplace-orders/{placed[0]['uuid']}/approve_by_provider/", {}, 200)

    made = backend.create(the_job, Beats())

    assert made.backend_id == placed[0]["marketplace_resource_uuid"] and made.state is RemoteState.OK
    assert len(remote_orders(remote, offering_uuid=remote.manual["uuid"])) == 1


def test_a_remote_refusal_is_a_provider_error_in_the_remotes_words(remote):
    backend = backend_of(remote)

    with pytest.raises(ProviderError) as refused:
        backend.create(job("vm-huge", project="5" * 32, limits={"cpu": 100}), Beats())

    assert not isinstance(refused.value, TransientError)
    assert "HTTP 400" in str(refused.value) and "above its maximum 64" in str(refused.value)


def test_an_erred_remote_order_errs_with_its_message(remote):
    backend = backend_of(remote, remote.failing)

    with pytest.raises(ProviderError) as erred:
        backend.create(job("vm-doomed", project="6" * 32), Beats())

    assert not isinstance(erred.value, TransientError)
    order = remote_orders(remote, offering_uuid=remote.failing["uuid"])[0]
    assert order["state"] == "erred" and order["error_message"]
    assert f"is erred: {order['error_message']}" in str(erred.value)


def test_an_unreachable_remote_is_transient(remote):
    backend = backend_of(remote, secrets=remote.secrets(api_url=unreachable_api()))

    with pytest.raises(TransientError, match="could not be reached"):
        backend.create(job("vm-nowhere"), Beats())
    with pytest.raises(TransientError):
        backend.get("a" * 32)


def test_a_wrong_token_is_a_provider_error_that_never_shows_it(remote):
    token = "0" * 40
    backend = backend_of(remote, secrets=remote.secrets(token=token))

    with pytest.raises(ProviderError) as refused:
        backend.create(job("vm-token"), Beats())

    assert "HTTP 401" in str(refused.value) and token not in str(refused.value)


def test_a_resource_unknown_at_the_remote_is_none(remote):
    assert backend_of(remote).get("a" * 32) is None
    assert backend_of(remote).get("not-a-uuid") is None


def test_an_unmapped_plan_is_refused_before_ordering(remote):
    backend = backend_of(remote)

    with pytest.raises(ProviderError, match="plan_mapping"):
        backend.create(job("vm-plan", project="7" * 32, plan_name="Gold"), Beats())

    mapped = backend_of(remote, plan_mapping={"gold": remote.demo["plans"][1]["uuid"]})
    made = mapped.create(job("vm-plan", project="7" * 32, plan_name="Gold", plan_code="gold"), Beats())
    assert remote.federation.get(f"marketplace-resources/{made.backend_id}/")["plan_name"] == "Large"


def test_secrets_never_reach_metadata_messages_or_logs(remote, caplog):
    caplog.set_level(logging.DEBUG)  # httpx and httpcore log every request at DEBUG
    backend = backend_of(remote)
    made = backend.create(job("vm-secret", project="8" * 32), Beats())

    assert remote.token not in repr(made) and remote.token not in repr(backend.remote)
    with pytest.raises(ProviderError) as refused:
        backend.update(job("vm-secret", backend_id=made.backend_id, limits={"cpu": 1000}), Beats())
    assert remote.token not in str(refused.value)
    assert "HTTP Request" in caplog.text and remote.token not in caplog.text


# --- settings -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "remote_offering_uuid is required"),
        ({"remote_offering_uuid": "nope"}, "remote_offering_uuid must be a UUID"),
        ({"remote_offering_uuid": "a" * 32, "poll_interval_seconds": 0}, "poll_interval_seconds"),
        ({"remote_offering_uuid": "a" * 32, "wait_seconds": 3600}, "wait_seconds"),
        ({"remote_offering_uuid": "a" * 32, "plan_mapping": {"x": "y"}}, "plan_mapping"),
        ({"remote_offering_uuid": "a" * 32, "api_url": "https://x"}, "Unknown option"),
    ],
)
def test_plugin_options_are_checked(options, message):
    from cirrus_waldur_remote.options import check_plugin_options

    with pytest.raises(ValueError, match=message):
        check_plugin_options(options)


@pytest.mark.parametrize(
    "url",
    [
        "http://remote.example.org/api/",  # not https
        "https://10.0.0.5/api/",  # private
        "https://169.254.169.254/api/",  # link-local (instance metadata)
        "https://user:pw@remote.example.org/api/",  # credentials
        "https://remote.example.org/api/?x=1",
        "ftp://remote.example.org/",
    ],
)
def test_api_url_must_be_https_and_public(url):
    from cirrus_waldur_remote.options import check_api_url

    with pytest.raises(ValueError):
        check_api_url(url)


def test_loopback_needs_the_opt_in(monkeypatch):
    from cirrus_waldur_remote.options import check_api_url

    assert check_api_url("http://127.0.0.1:8000/api/")[0] == "http://127.0.0.1:8000"
    monkeypatch.delenv("CIRRUS_PROVIDER_ALLOW_LOOPBACK")
    for url in ("http://127.0.0.1:8000/api/", "https://127.0.0.1/api/", "https://localhost/api/"):
        with pytest.raises(ValueError):
            check_api_url(url)
    assert check_api_url("https://waldur.example.org/api/")[0] == "https://waldur.example.org"


def test_a_host_that_resolves_inside_is_refused_at_every_connection(monkeypatch):
    """The name passed the check when the offering was saved; DNS now answers with loopback (as
    a rebinding attacker's would): the connection is refused for good, nothing is sent."""
    from cirrus_waldur_remote.backend import build

    from chalicelib import webhooks

    monkeypatch.delenv("CIRRUS_PROVIDER_ALLOW_LOOPBACK")
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: ["93.184.216.34", "127.0.0.1"])
    secrets = {"api_url": "https://remote.example.org/api/", "token": "t" * 40, "customer_uuid": "c" * 32}
    backend = build(Settings("f" * 32, "Mirror", {"remote_offering_uuid": "a" * 32}, secrets))

    with pytest.raises(ProviderError, match="resolves to an internal address") as refused:
        backend.get("a" * 32)
    assert not isinstance(refused.value, TransientError)


def test_a_backend_with_missing_secrets_errs_clearly():
    from cirrus_waldur_remote.backend import build

    settings = Settings(
        "f" * 32, "Mirror", {"remote_offering_uuid": "a" * 32}, {"api_url": "https://x.example.org"}
    )
    with pytest.raises(ProviderError, match="lack customer_uuid, token"):
        build(settings)


def test_the_entry_point_is_discovered():
    from chalicelib.providers.registry import Registry

    found = Registry().get(TYPE)

    assert found is not None and found.automatic and not found.needs_provider_review
    assert found.cloud is not None and found.cloud.collects_usage
    assert found.secret_attributes == {"api_url", "token", "customer_uuid"}
    assert found.components == ()  # the remote offering's own, defined on the local offering


# --- invoices -----------------------------------------------------------------------------------------
def test_remote_invoice_items_are_reconciled_with_local_costs(remote):
    from cirrus_waldur_remote.reconcile import reconcile, remote_costs

    backend = backend_of(remote)
    made = backend.create(job("vm-billed", project="9" * 32, limits={"cpu": 3}), Beats())
    today = datetime.now(UTC).date()

    remote_side = remote_costs(backend, today.year, today.month)

    month = {"year": today.year, "month": today.month}
    items = remote.federation.get("invoice-items/", resource_uuid=made.backend_id, **month)
    billed = sum(Decimal(str(i["price"])) for i in items)
    assert billed > 0 and remote_side[made.backend_id] == billed
    local = dict(remote_side)
    local[made.backend_id] = billed + Decimal("1.50")
    local["e" * 32] = Decimal("4")  # billed here, unknown there
    result = reconcile(local, remote_side, today.year, today.month)
    by_id = {d.backend_id: d for d in result.differences}
    assert set(by_id) == {made.backend_id, "e" * 32}
    assert by_id[made.backend_id].amount == Decimal("1.50")
    assert by_id["e" * 32].remote is None
    assert reconcile(remote_side, remote_side, today.year, today.month).balanced
