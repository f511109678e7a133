"""Contract tests of the DigitalOcean plugin (plugins/cirrus-digitalocean): the real backend and pydo,
built through the installed `cirrus.providers` entry point, against the fake DigitalOcean API
(tests/providers/fakes/digitalocean_server.py) over https on 127.0.0.1 (pydo's bearer-token policy
refuses plain http, and the certificate is verified: the tests trust it through REQUESTS_CA_BUNDLE)."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.providers.cloud import Job, ProviderError, RemoteState, Settings, TransientError
from chalicelib.providers.registry import Registry
from tests.providers.fakes.digitalocean_server import FakeDigitalOcean, problem, rate_limited
from tests.providers.fakes.https_fake import serving
from tests.providers.fakes.tls import FAKE_HOST_NAME, Certificate, self_signed

TYPE = "DigitalOcean.Droplet"
TOKEN = "dop_v1_0123456789abcdef0123456789abcdef"
RESOURCE = "0192f0c1d2e34a5b8c7d9e0f1a2b3c4d"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return self_signed(tmp_path_factory.mktemp("do-tls"))


@pytest.fixture
def api(certificate: Certificate, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDigitalOcean]:
    monkeypatch.setenv("CIRRUS_PROVIDER_ALLOW_LOOPBACK", "1")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate.cert_path))
    with serving(FakeDigitalOcean(token=TOKEN), certificate) as fake:
        yield fake  # type: ignore[misc]


def backend(api: FakeDigitalOcean, token: str = TOKEN, **options: Any) -> Any:
    found = Registry().get(TYPE)
    assert found is not None and found.cloud is not None
    given = {"api_url": api.url, "poll_interval": 0.01, "sizes": ["s-1vcpu-1gb", "s-2vcpu-2gb"], **options}
    settings = Settings(
        offering_uuid="off1",
        offering_name="Droplets",
        options=found.plugin_options(given),
        secrets={"token": token},
    )
    return found.cloud.factory(settings)


def job(**overrides: Any) -> Job:
    fields: dict[str, Any] = {
        "resource_uuid": RESOURCE,
        "resource_name": "web server #1",
        "project_uuid": "p1",
        "customer_uuid": "c1",
        "plan_code": "s-1vcpu-1gb",
    }
    return Job(**{**fields, **overrides})


def beats() -> tuple[list[int], Any]:
    count: list[int] = []
    return count, lambda: count.append(1)


def posted_actions(api: FakeDigitalOcean) -> list[str]:
    return [r.body["type"] for r in api.requests if r.method == "POST" and r.path.endswith("/actions")]


# --- discovery ------------------------------------------------------------------------------------
def test_the_entry_point_registers_the_droplet_type_priced_by_plan() -> None:
    found = Registry().get(TYPE)

    assert found is not None and found.automatic and found.cloud is not None
    assert [(c.type, c.billing_type.value) for c in found.components] == [("droplet", "fixed")]
    assert found.secret_attributes == frozenset({"token"})


# --- lifecycle ------------------------------------------------------------------------------------
def test_create_makes_a_tagged_droplet_of_the_plans_size_and_waits_until_it_is_active(
    api: FakeDigitalOcean,
) -> None:
    count, heartbeat = beats()

    made = backend(api, ssh_keys=[512189]).create(job(), heartbeat)

    droplet = api.droplets[int(made.backend_id)]
    assert (droplet["name"], droplet["size_slug"], droplet["status"]) == (
        "web-server-1",
        "s-1vcpu-1gb",
        "active",
    )
    assert droplet["tags"] == [f"cirrus-{RESOURCE}"]
    assert made.state is RemoteState.OK
    assert made.metadata["public_ipv4"] == "192.241.165.154"
    assert made.metadata["region"] == "nyc3"
    sent = next(r.body for r in api.requests if r.method == "POST" and r.path == "/v2/droplets")
    assert sent["ssh_keys"] == [512189] and sent["image"] == "ubuntu-24-04-x64"
    assert any(r.path.startswith("/v2/actions/") for r in api.requests)  # the create action was polled
    assert len(count) >= 3


def test_a_retried_create_finds_the_tagged_droplet_instead_of_making_a_second(api: FakeDigitalOcean) -> None:
    first = backend(api).create(job(), lambda: None)
    again = backend(api).create(job(), lambda: None)

    assert again.backend_id == first.backend_id
    assert len(api.droplets) == 1
    assert any(r.query.get("tag_name") == [f"cirrus-{RESOURCE}"] for r in api.requests)


def test_update_powers_off_resizes_and_powers_on_again(api: FakeDigitalOcean) -> None:
    cloud = backend(api)
    droplet_id = cloud.create(job(), lambda: None).backend_id

    changed = cloud.update(job(backend_id=droplet_id, plan_code="s-2vcpu-2gb"), lambda: None)

    droplet = api.droplets[int(droplet_id)]
    assert (droplet["size_slug"], droplet["vcpus"], droplet["status"]) == ("s-2vcpu-2gb", 2, "active")
    assert changed.metadata["size"] == "s-2vcpu-2gb"
    assert posted_actions(api) == ["power_off", "resize", "power_on"]
    resize = next(r.body for r in api.requests if r.method == "POST" and r.body.get("type") == "resize")
    assert resize == {"type": "resize", "size": "s-2vcpu-2gb", "disk": False}


def test_update_of_a_droplet_that_is_off_resizes_it_and_leaves_it_off(api: FakeDigitalOcean) -> None:
    droplet_id = api.add_droplet("off", status="off")

    changed = backend(api).update(job(backend_id=str(droplet_id), plan_code="s-2vcpu-2gb"), lambda: None)

    assert posted_actions(api) == ["resize"]
    assert (changed.metadata["size"], changed.metadata["runtime_state"]) == ("s-2vcpu-2gb", "off")


def test_update_to_the_same_size_touches_nothing(api: FakeDigitalOcean) -> None:
    droplet_id = api.add_droplet("same")

    backend(api).update(job(backend_id=str(droplet_id), plan_code="s-1vcpu-1gb"), lambda: None)

    assert posted_actions(api) == []


def test_a_size_the_offering_does_not_list_is_refused(api: FakeDigitalOcean) -> None:
    with pytest.raises(ProviderError, match="not one this offering provides"):
        backend(api).create(job(plan_code="s-4vcpu-8gb"), lambda: None)

    assert api.droplets == {}


def test_an_order_picks_a_size_by_attribute_only_among_the_offerings_sizes(api: FakeDigitalOcean) -> None:
    picked = backend(api).create(job(plan_code="", attributes={"size": "s-2vcpu-2gb"}), lambda: None)
    with pytest.raises(ProviderError, match="not one this offering provides"):
        backend(api, sizes=[]).create(
            job(resource_uuid="e" * 32, plan_code="", attributes={"size": "s-4vcpu-8gb"}), lambda: None
        )

    assert api.droplets[int(picked.backend_id)]["size_slug"] == "s-2vcpu-2gb"
    assert len(api.droplets) == 1


def test_terminate_deletes_and_a_droplet_already_gone_is_success(api: FakeDigitalOcean) -> None:
    cloud = backend(api)
    droplet_id = cloud.create(job(), lambda: None).backend_id

    cloud.terminate(job(backend_id=droplet_id), lambda: None)

    assert api.droplets == {}
    assert cloud.get(droplet_id) is None
    cloud.terminate(job(backend_id=droplet_id), lambda: None)  # 404: nothing left to do


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("new", RemoteState.CREATING),
        ("active", RemoteState.OK),
        ("off", RemoteState.OK),
        ("archive", RemoteState.TERMINATED),
    ],
)
def test_get_maps_the_droplet_status(api: FakeDigitalOcean, status: str, state: RemoteState) -> None:
    droplet_id = api.add_droplet("d", status=status)

    seen = backend(api).get(str(droplet_id))

    assert seen is not None
    assert (seen.state, seen.metadata["runtime_state"]) == (state, status)


def test_list_pages_through_every_droplet_for_import(
    api: FakeDigitalOcean, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("cirrus_digitalocean.backend.PAGE_SIZE", 2)
    ids = [api.add_droplet(f"d{i}") for i in range(5)]

    listed = list(backend(api).list())

    assert [r.backend_id for r in listed] == [str(i) for i in ids]
    assert {r.type for r in listed} == {"droplet"}
    assert [r.query.get("page") for r in api.requests] == [["1"], ["2"], ["3"]]
    assert backend(api).usage(str(ids[0]), datetime.date(2026, 12, 1)) == {}


# --- failures -------------------------------------------------------------------------------------
def test_a_wrong_token_is_a_clear_refusal_that_never_shows_the_token(api: FakeDigitalOcean) -> None:
    with pytest.raises(ProviderError) as caught:
        backend(api, token="dop_v1_wrong0token").create(job(), lambda: None)

    assert not isinstance(caught.value, TransientError)
    assert "token" in str(caught.value) and "dop_v1_wrong0token" not in str(caught.value)


def test_an_unprocessable_request_carries_digitaloceans_words(api: FakeDigitalOcean) -> None:
    with pytest.raises(ProviderError) as caught:
        backend(api, region="sfo9").create(job(), lambda: None)

    assert not isinstance(caught.value, TransientError)
    assert "invalid region" in str(caught.value) and "unprocessable_entity" in str(caught.value)


def test_the_rate_limit_is_transient_and_says_when_it_resets(api: FakeDigitalOcean) -> None:
    api.fail_next(rate_limited())

    with pytest.raises(TransientError, match=r"rate limit.*1767225600"):
        backend(api).create(job(), lambda: None)


def test_a_5xx_is_transient(api: FakeDigitalOcean) -> None:
    api.fail_next(problem(500, "server_error", "Server was unable to give you a response."))

    with pytest.raises(TransientError, match="HTTP 500"):
        backend(api).get("3164444")


def test_an_unreachable_api_is_transient(api: FakeDigitalOcean) -> None:
    with pytest.raises(TransientError, match="could not be reached"):
        backend(api, api_url=api.url.rsplit(":", 1)[0] + ":9").get("3164444")


def test_an_errored_resize_fails_the_order_and_the_droplet_is_powered_on_again(api: FakeDigitalOcean) -> None:
    droplet_id = api.add_droplet("x")
    api.erring.add("resize")

    with pytest.raises(ProviderError, match="errored"):
        backend(api).update(job(backend_id=str(droplet_id), plan_code="s-2vcpu-2gb"), lambda: None)

    assert posted_actions(api) == ["power_off", "resize", "power_on"]
    assert api.droplets[droplet_id]["status"] == "active"
    assert api.droplets[droplet_id]["size_slug"] == "s-1vcpu-1gb"


def test_an_action_that_never_finishes_is_given_up_as_transient(api: FakeDigitalOcean) -> None:
    api.action_polls = 10**6
    cloud = backend(api, poll_timeout=0.05)

    with pytest.raises(TransientError, match="did not finish"):
        cloud.create(job(), lambda: None)


def test_connections_go_to_the_vetted_address_and_tls_checks_the_host_name(
    api: FakeDigitalOcean, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    monkeypatch.setattr("chalicelib.providers.outbound.resolve", resolve)
    port = api.url.rsplit(":", 1)[1]
    droplet_id = api.add_droplet("a")

    cloud = backend(api, api_url=f"https://{FAKE_HOST_NAME}:{port}")
    assert cloud.get(str(droplet_id)) is not None
    assert cloud.get(str(droplet_id)) is not None

    assert asked == [FAKE_HOST_NAME]  # resolved once, when the backend was built; then pinned
    assert {r.headers["host"] for r in api.requests} == {f"{FAKE_HOST_NAME}:{port}"}


def test_a_name_resolving_inside_is_refused(api: FakeDigitalOcean, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "chalicelib.providers.outbound.resolve", lambda host, port: ["203.0.113.9", "10.0.0.7"]
    )

    with pytest.raises(ProviderError, match="private"):
        backend(api, api_url="https://api.example.com")
    assert api.requests == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"region": "NYC 3"}, "region"),
        ({"sizes": ["ok", "Not A Slug"]}, "sizes"),
        ({"ssh_keys": ["not-a-fingerprint"]}, "ssh_keys"),
        ({"poll_interval": 0}, "poll_interval"),
        ({"api_url": "http://api.digitalocean.com"}, "api_url"),
        ({"api_url": "https://169.254.169.254"}, "api_url"),
        ({"api_url": "https://10.1.2.3/v2"}, "api_url"),
    ],
)
def test_plugin_options_are_validated(options: dict[str, Any], message: str) -> None:
    found = Registry().get(TYPE)
    assert found is not None and found.validate_plugin_options is not None

    with pytest.raises(ValueError, match=message):
        found.validate_plugin_options(found.plugin_options(options))


def test_loopback_is_refused_without_the_test_opt_in(
    api: FakeDigitalOcean, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CIRRUS_PROVIDER_ALLOW_LOOPBACK")

    with pytest.raises(ProviderError, match="loopback"):
        backend(api)


def test_secrets_never_reach_messages_metadata_or_logs(
    api: FakeDigitalOcean, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cloud = backend(api)
    made = cloud.create(job(), lambda: None)
    seen = [repr(made), repr(cloud.get(made.backend_id)), repr(list(cloud.list()))]
    api.fail_next(problem(500, "server_error", "Server was unable to give you a response."))
    with pytest.raises(TransientError) as caught:
        cloud.get(made.backend_id)
    seen.append(str(caught.value))

    assert TOKEN not in " ".join(seen) + caplog.text
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in api.requests)  # sent, only there


# --- through the order workflow's processor -------------------------------------------------------
def test_the_create_processor_provisions_the_plans_size_with_the_token_from_secrets_manager(
    api: FakeDigitalOcean, aws: None
) -> None:
    from chalicelib.domain.orders import Order
    from chalicelib.domain.vocabulary import Offering, OrderState, OrderType, Plan
    from chalicelib.providers.types import ProcessorKind
    from chalicelib.workflows import cloud_driver as driver
    from chalicelib.workflows import steps
    from chalicelib.workflows.aws import client

    arn = client("secretsmanager").create_secret(Name="cirrus/providers/do-token", SecretString=TOKEN)["ARN"]
    plan = Plan(id="pl1", offering_id="of1", name="Medium", article_code="s-2vcpu-2gb")
    offering = Offering(
        id="of1",
        customer_id="prov1",
        name="Droplets",
        type=TYPE,
        plugin_options={"api_url": api.url, "poll_interval": 0.01},
        secret_options={"token": arn},
        plans=(plan,),
    )
    now = datetime.datetime(2026, 12, 6, tzinfo=datetime.UTC)
    order = Order(
        id="or1",
        type=OrderType.CREATE,
        state=OrderState.EXECUTING,
        customer_id="c1",
        project_id="p1",
        offering_id="of1",
        provider_id="prov1",
        resource_id=RESOURCE,
        created=now,
        modified=now,
        plan_id="pl1",
        resource_name="db",
    )

    done = driver.processor(ProcessorKind.CREATE)(order, offering, lambda: None)
    api.fail_next(rate_limited())
    with pytest.raises(steps.TransientStepError):
        driver.processor(ProcessorKind.CREATE)(order, offering, lambda: None)

    droplet = api.droplets[int(done["backend_id"])]
    assert droplet["size_slug"] == "s-2vcpu-2gb"
    assert done["backend_metadata"]["size"] == "s-2vcpu-2gb"


def test_the_fake_checks_what_it_is_sent(api: FakeDigitalOcean) -> None:
    """The fake refuses a call without the bearer token and a resize of a droplet that is on, and
    every answer carries the rate-limit headers."""
    import os

    import requests

    verify = os.environ["REQUESTS_CA_BUNDLE"]
    droplet_id = api.add_droplet("on")
    anonymous = requests.get(f"{api.url}/v2/droplets", timeout=5, verify=verify)
    resize = requests.post(
        f"{api.url}/v2/droplets/{droplet_id}/actions",
        json={"type": "resize", "size": "s-2vcpu-2gb"},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=5,
        verify=verify,
    )

    assert (anonymous.status_code, anonymous.json()["id"]) == (401, "Unauthorized")
    assert (resize.status_code, resize.json()["id"]) == (422, "unprocessable_entity")
    assert {"ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"} <= {
        k.lower() for k in resize.headers
    }
