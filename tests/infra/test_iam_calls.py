"""Every AWS call each deployed function makes is allowed by the IAM policy that function gets.

moto never checks IAM, so a call the deployed role does not allow passes every other test and fails
only on AWS (the events publisher's `marketplace.ensure_started` on the `tasks` queue did). Here the
stack is synthesized (with a sender address for mail, as a deployment that mails sets), and a
representative scenario runs in-process under moto as the functions would run on AWS:

- each function is invoked through the handler its template names (`Handler`), with the
  environment its template gives it (references resolved to the moto resources of the same names);
- the API function gets API Gateway's events (Chalice's local gateway) for requests that create
  customers and projects, place, approve, finish and terminate orders, set usage, create hooks and
  invitations; the queue consumers get the batches their event sources would deliver; the publisher
  gets the table's stream; the EventBridge Scheduler's targets are sent as the schedules send them;
  the state machines run in moto.

Every AWS call made inside a handler is recorded (`tests/awscalls.py`) and mapped to the IAM actions
and resources AWS authorises it by; each must be allowed by the statements of the function's role
(its `Role`: inline policies and attached AWS::IAM::Policy resources, `tests/infra/iam_policy.py`).
The event source mappings' own reads (queues, stream) and on-failure destinations are checked from
the template. The state machines' and schedules' roles are checked statically by test_synth.py.
"""

from __future__ import annotations

import copy
import fcntl
import importlib
import json
import logging
import os
import pickle
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from tests.awscalls import (
    Account,
    Call,
    Recorder,
    Request,
    Unmapped,
    entry_point,
    requests_for,
    task_token_owners,
)
from tests.infra.iam_policy import ACCOUNT, API_ID, Stack, Unsupported, allows, covers, granted
from tests.infra.test_synth import EMAIL_FROM, SUPPORT_SECRET_ARN, Synth, _synth
from tests.support_fakes.jira import FakeJira
from tests.support_fakes.server import serving
from tests.workflow_helpers import TEST_TIMING

pytestmark = pytest.mark.infra

REGION = "eu-west-1"
# The functions Chalice packages (app.py) as the template names them.
API = "APIHandler"
PUBLISHER = "EventsPublisher"
WORKERS = ("TasksWorker", "HeavyWorker", "BackgroundWorker")
FUNCTIONS = (API, *WORKERS, PUBLISHER)
# API Gateway's Host header for the API's default endpoint (the functions' CIRRUS_ALLOWED_HOSTS).
API_HOST = f"{API_ID}.execute-api.{REGION}.amazonaws.com"
# The harness's own settings, over the template's environment: how fast things happen, not what is
# called (cheap password hashing; a hook's first failure is its last, so it reaches the dead-letter
# queue now; hooks may reach loopback, where the test's receiver is).
HARNESS_ENVIRONMENT = {
    "CIRRUS_PASSWORD_ITERATIONS": "1000",
    "CIRRUS_HOOK_MAX_ATTEMPTS": "1",
    "CIRRUS_HOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
    "CIRRUS_HOOK_TIMEOUT_SECONDS": "2",
    "POWERTOOLS_LOG_LEVEL": "CRITICAL",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
}
SCHEDULER_EXECUTION_ID = "<aws.scheduler.execution-id>"
# A deployment that mails, and whose support desk is synced with Jira Service Management (the fake
# Jira on 127.0.0.1 stands for the site; its settings are in the secret the template names).
SYNTH_OPTIONS = {
    "email_from": EMAIL_FROM,
    "support_backend": "jira",
    "support_backend_secret_arn": SUPPORT_SECRET_ARN,
}
SUPPORT_WEBHOOK_SECRET = "iam-calls-webhook-secret"
# The workflows' timing: retries quick (moto really sleeps), waits long enough that a loaded machine
# never times a step out (the scenario stops what still runs at its end).
TIMING = {
    **TEST_TIMING,
    "StepTimeoutSeconds": 60,
    "StepHeartbeatSeconds": 20,
    "CallbackTimeoutSeconds": 60,
    "ApprovalTimeoutSeconds": 120,
    "AgentTimeoutSeconds": 60,
}


# --- the deployment, under moto --------------------------------------------------------------------


class Deployment:
    """The synthesized functions, run in-process on moto: each invocation is an entry point."""

    def __init__(self, stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
        self.stack = stack
        self._monkeypatch = monkeypatch
        self._applied: dict[str, str] | None = None
        self._function: str | None = None
        functions = stack.functions()
        missing = set(FUNCTIONS) - set(functions)
        assert not missing, f"the template has no {sorted(missing)} (functions: {sorted(functions)})"

    def environment(self, function: str) -> dict[str, str]:
        variables = self.stack.functions()[function]["Properties"].get("Environment", {}).get("Variables", {})
        return self.stack.resolve_environment(variables)

    def use(self, function: str) -> None:
        """The process environment `function` runs with (settings re-read when it changes)."""
        from chalicelib.config import reset_settings
        from chalicelib.workflows import queues

        if function != self._function:
            from chalicelib.support_backends import configured

            configured.forget()  # each function reads the support backend's secret in its own container
            self._function = function
        wanted = {**self.environment(function), **HARNESS_ENVIRONMENT}
        if wanted == self._applied:
            return
        for key in set(self._applied or {}) - set(wanted):
            self._monkeypatch.delenv(key, raising=False)
        for key, value in wanted.items():
            self._monkeypatch.setenv(key, value)
        self._applied = wanted
        reset_settings()
        queues._lookup_url.cache_clear()

    def handler(self, function: str) -> Callable[[Any, Any], Any]:
        module, _, name = self.stack.functions()[function]["Properties"]["Handler"].rpartition(".")
        return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]

    def invoke(self, function: str, event: dict[str, Any], context: Any = None) -> Any:
        from chalice.local import LambdaContext

        self.use(function)
        context = context or LambdaContext(function, 1024)
        with entry_point(function):
            return self.handler(function)(event, context)

    def event_source_queue(self, function: str) -> str | None:
        """The ARN of the queue `function`'s SQS event source reads, if it has one."""
        for event in self.stack.functions()[function]["Properties"].get("Events", {}).values():
            if event["Type"] == "SQS":
                return str(self.stack.resolve(event["Properties"]["Queue"]))
        return None


class _ApiFunction:
    """What Chalice's local gateway sees as the app: Chalice's routes (to build API Gateway's event),
    and the API function's handler (to answer it)."""

    def __init__(self, app: Any, invoke: Callable[[Any, Any], Any]) -> None:
        self._app = app
        self._invoke = invoke

    def __getattr__(self, name: str) -> Any:
        return getattr(self._app, name)

    def __call__(self, event: Any, context: Any) -> Any:
        return self._invoke(event, context)


class ApiClient:
    """`tests.helpers.call`'s client: requests through API Gateway (locally) to the API function."""

    def __init__(self, deployment: Deployment) -> None:
        from chalice.config import Config
        from chalice.local import LocalGateway

        from app import app

        function = _ApiFunction(app, lambda event, context: deployment.invoke(API, event, context))
        self._gateway = LocalGateway(cast(Any, function), Config())

    def request(self, method: str, path: str, headers: dict[str, str] | None = None, body: Any = b"") -> Any:
        from chalice.test import HTTPResponse

        sent = {"Host": API_HOST, **(headers or {})}
        data = body.encode() if isinstance(body, str) else body
        return HTTPResponse.create_from_dict(self._gateway.handle_request(method.upper(), path, sent, data))

    def __getattr__(self, method: str) -> Callable[..., Any]:
        if method not in ("get", "post", "put", "patch", "delete"):
            raise AttributeError(method)
        return lambda path, **kwargs: self.request(method, path, **kwargs)


class Runtime:
    """The event sources: the queues' consumers, the stream's publisher, the scheduler's targets."""

    def __init__(self, deployment: Deployment) -> None:
        from chalicelib.local.stream import StreamReader
        from chalicelib.workflows import queues
        from chalicelib.workflows.registry import QUEUES

        self.deployment = deployment
        deployment.use(PUBLISHER)
        self.stream = StreamReader(handler=lambda batch: deployment.invoke(PUBLISHER, batch), max_retries=2)
        self.consumers: dict[str, str] = {}  # registry queue -> the function consuming it
        for queue in QUEUES:
            arn = _queue_arn(queues.queue_url(queue))
            consumers = [f for f in WORKERS if deployment.event_source_queue(f) == arn]
            assert len(consumers) == 1, f"{arn} is consumed by {consumers or 'no function'}"
            self.consumers[queue] = consumers[0]

    def deliver(self, queue: str) -> int:
        """One batch from `queue` to its consumer, as its event source mapping delivers it."""
        from chalicelib.local.workers import as_lambda_event
        from chalicelib.workflows import queues
        from chalicelib.workflows.aws import client

        sqs, url = client("sqs"), queues.queue_url(queue)
        received = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["ApproximateReceiveCount", "SentTimestamp"]
        ).get("Messages", [])
        if not received:
            return 0
        response = self.deployment.invoke(self.consumers[queue], as_lambda_event(received, queue))
        failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        for m in received:
            if m["MessageId"] in failed:
                sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return len(received)

    def settle(
        self, until: Callable[[], bool] | None = None, quiet: float = 1.0, timeout: float = 60.0
    ) -> None:
        """Publish and consume until `until()` holds once a round finds nothing to do, or without
        `until`, until nothing happens for `quiet` seconds (the state machines run on in moto's
        threads meanwhile)."""
        deadline = time.monotonic() + timeout
        idle_since = time.monotonic()
        while time.monotonic() < deadline:
            busy = self.stream.poll_once() + sum(self.deliver(q) for q in self.consumers)
            now = time.monotonic()
            if busy:
                idle_since = now
            elif until() if until is not None else now - idle_since >= quiet:
                return
            else:
                time.sleep(0.05)
        raise AssertionError("the runtime did not settle")

    def fire_schedules(self) -> list[str]:
        """Send each EventBridge Scheduler schedule's target, as the Scheduler does when it fires."""
        from chalicelib.workflows.aws import client

        fired = []
        for logical_id, resource in self.deployment.stack.resources.items():
            if resource["Type"] != "AWS::Scheduler::Schedule":
                continue
            target = self.deployment.stack.resolve(resource["Properties"]["Target"])
            body = target["Input"].replace(SCHEDULER_EXECUTION_ID, f"{logical_id}-{time.time_ns()}")
            client("sqs").send_message(QueueUrl=_queue_url(target["Arn"]), MessageBody=body)
            fired.append(json.loads(body)["task"])
        return fired


def _queue_arn(url: str) -> str:
    *_, account, name = url.rstrip("/").split("/")
    return f"arn:aws:sqs:{REGION}:{account}:{name}"


def _queue_url(arn: str) -> str:
    *_, account, name = arn.split(":")
    return f"https://sqs.{REGION}.amazonaws.com/{account}/{name}"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the scenario ----------------------------------------------------------------------------------


def _scenario(api: ApiClient, runtime: Runtime, jira: Any) -> None:
    """What the deployed functions do in a marketplace's life, through their entry points."""
    from chalicelib.domain import clock
    from chalicelib.domain.clock import utcnow
    from chalicelib.domain.vocabulary import OrderState
    from chalicelib.store import orders as order_store
    from chalicelib.support_backends.base import sign_hub
    from tests.conftest import make_account
    from tests.helpers import call, create_customer, create_project
    from tests.marketplace_helpers import DEMO, build_market, make_offering

    staff = make_account("staff", is_staff=True, full_name="Staff Person")
    market = build_market(staff)
    # The demo provider: busy on its first try (a Cirrus.Transient task failure, retried), then slow
    # enough to heartbeat.
    options = {"delay_seconds": 1.2, "transient_failures": 1}
    demo = make_offering(staff, market.provider.id, DEMO, name="Demo", plugin_options=options)

    # Hooks: a web hook whose receiver is down (its delivery ends in the dead-letter queue) and a
    # mail hook, on project creations; an invitation mailed to a newcomer.
    web = {
        "destination_url": f"http://127.0.0.1:{_closed_port()}/hook",
        "event_types": ["project_creation_succeeded"],
    }
    assert call(api, "POST", "/api/hooks-web/", market.owner, web).status == 201
    mail = {"email": "ops@example.org", "event_types": ["project_creation_succeeded"]}
    assert call(api, "POST", "/api/hooks-email/", market.owner, mail).status == 201
    acme = call(api, "GET", f"/api/customers/{market.consumer.id}/", market.owner).json
    create_project(api, staff, acme, "Gemini")
    invitation = {"scope": acme["url"], "role": "CUSTOMER.SUPPORT", "email": "newcomer@example.org"}
    reply = call(api, "POST", "/api/user-invitations/", market.owner, invitation)
    assert reply.status == 201, reply.json
    create_customer(api, staff, "Initech")

    # A support ticket, synced to Jira (the background worker reads the backend's secret), and
    # Jira's signed webhook about it, received by the API (which reads the secret too).
    reply = call(api, "POST", "/api/support-issues/", market.owner, {"type": "Incident", "summary": "Slow"})
    assert reply.status == 201, reply.json
    issue_url = reply.json["url"]
    runtime.settle(until=lambda: bool(jira.issues))
    (remote,) = jira.issues.values()
    jira.agent_comment(remote.id, "Looking into it.", public=True)
    hook = json.dumps(jira.webhook_payload(remote.id, "jira:issue_updated")).encode()
    signed = {"X-Hub-Signature": sign_hub(hook, SUPPORT_WEBHOOK_SECRET, "sha256")}
    assert call(api, "POST", "/api/support-jira-webhook/", None, headers=signed, raw_body=hook).status == 202
    # A file attached to that ticket, read back and deleted (S3: put, presigned get, delete
    # in the attachment's follow-up task).
    boundary = "iam-calls"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="issue"\r\n\r\n{issue_url}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="top.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\nload 42\r\n--{boundary}--\r\n"
    )
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    reply = call(
        api, "POST", "/api/support-attachments/", market.owner, headers=headers, raw_body=body.encode()
    )
    assert reply.status == 201, reply.json
    assert call(api, "GET", reply.json["url"], market.owner).status == 200
    assert call(api, "DELETE", reply.json["url"], market.owner).status == 204
    runtime.settle()

    # An order the demo provider processes by itself (the order workflow, its provider step).
    def order(account: Any, offering: Any) -> dict[str, Any]:
        body = {
            "project": f"https://{API_HOST}/api/projects/{market.project.id}/",
            "offering": f"https://{API_HOST}/api/marketplace-public-offerings/{offering.id}/",
            "plan": f"https://{API_HOST}/api/marketplace-public-offerings/{offering.id}/plans/{offering.plans[0].id}/",
            "attributes": {"name": f"vm-{time.time_ns()}"},
            "limits": {"cpu": 2},
        }
        reply = call(api, "POST", "/api/marketplace-orders/", account, body)
        assert reply.status == 201, reply.json
        return reply.json  # type: ignore[no-any-return]

    def state(placed: dict[str, Any]) -> OrderState:
        found = order_store.load(market.consumer.id, placed["uuid"])
        assert found is not None
        return found.state

    def act(account: Any, placed: dict[str, Any], action: str) -> None:
        reply = call(api, "POST", f"/api/marketplace-orders/{placed['uuid']}/{action}/", account)
        assert reply.status in (200, 202), (action, reply.status, reply.json)

    automatic = order(market.owner, demo)
    runtime.settle(until=lambda: state(automatic) is OrderState.DONE)

    # An order that waits on its consumer's and its provider's approvals, then on the provider.
    approved = order(market.member, market.offering)
    runtime.settle(until=lambda: state(approved) is OrderState.PENDING_CONSUMER)
    act(market.owner, approved, "approve_by_consumer")
    runtime.settle(until=lambda: state(approved) is OrderState.PENDING_PROVIDER)
    act(market.seller, approved, "approve_by_provider")
    runtime.settle(until=lambda: state(approved) is OrderState.EXECUTING)
    act(market.seller, approved, "set_state_done")
    runtime.settle(until=lambda: state(approved) is OrderState.DONE)

    # One its consumer rejects.
    rejected = order(market.member, market.offering)
    runtime.settle(until=lambda: state(rejected) is OrderState.PENDING_CONSUMER)
    act(market.owner, rejected, "reject_by_consumer")
    runtime.settle(until=lambda: state(rejected) is OrderState.REJECTED)

    # Terminating the demo resource (a Terminate order through the workflow).
    resource = automatic["marketplace_resource_uuid"]
    reply = call(api, "POST", f"/api/marketplace-resources/{resource}/terminate/", market.owner, {})
    assert reply.status in (200, 202), reply.json
    terminate = {"uuid": reply.json["order_uuid"]}
    runtime.settle(until=lambda: state(terminate) is OrderState.DONE)

    # Every schedule fires once (billing, sweeps, purges, the dead-letter report), an hour from now:
    # past the sweep's grace, so it asks Step Functions about the order still waiting on approval.
    waiting = order(market.member, market.offering)
    runtime.settle(until=lambda: state(waiting) is OrderState.PENDING_CONSUMER)
    later = utcnow() + timedelta(hours=1)
    clock.set_source(lambda: later)
    try:
        runtime.fire_schedules()
        runtime.settle()
    finally:
        clock.set_source(None)


def _stop_executions() -> None:
    """Stop what still runs in moto, so no execution outlives the mock."""
    from chalicelib.workflows.aws import client

    sfn = client("stepfunctions")
    for machine in sfn.list_state_machines()["stateMachines"]:
        arn = machine["stateMachineArn"]
        for execution in sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]:
            sfn.stop_execution(executionArn=execution["executionArn"])


def _support_secret(jira_url: str) -> None:
    """The support backend's secret, in moto, under the exact ARN the template grants (moto makes
    its own suffix: the harness gives the secret the deployment's ARN, as the table its name)."""
    from moto.backends import get_backend

    from chalicelib.workflows.aws import client
    from tests.support_fakes import jira

    settings = {
        "base_url": jira_url,
        "email": jira.EMAIL,
        "api_token": jira.TOKEN,
        "project_key": jira.PROJECT,
        "service_desk_id": jira.SERVICE_DESK_ID,
        "request_type_id": "10",
        "webhook_secret": SUPPORT_WEBHOOK_SECRET,
    }
    name = SUPPORT_SECRET_ARN.rsplit(":", 1)[-1][:-7]
    client("secretsmanager").create_secret(Name=name, SecretString=json.dumps(settings))
    secret = get_backend("secretsmanager")[ACCOUNT][REGION].secrets[name]
    secret.arn = SUPPORT_SECRET_ARN


@dataclass
class Recorded:
    stack: Stack
    calls: list[Call]
    account: Account


def _record(synth: Synth) -> Recorded:
    from moto import mock_aws

    from chalicelib import bootstrap, files, mail
    from chalicelib.local.aws import create_buckets, create_queues, create_state_machines, create_table
    from chalicelib.local.stream import create_event_bus
    from chalicelib.services import ports
    from chalicelib.workflows import aws, queues, stepfunctions

    # moto's ASL interpreter logs each failed execution (an order the scenario lets time out) whole.
    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
    stack = Stack(synth.template, REGION)
    recorder = Recorder()
    with (
        pytest.MonkeyPatch.context() as mp,
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
    ):
        deployment = Deployment(stack, mp)
        deployment.use(API)
        aws._client.cache_clear()
        files._client.cache_clear()
        stepfunctions._account.cache_clear()
        ports.use(None)
        # The stack's resources, named as the template names them (the table by its stand-in name).
        from chalicelib.config import get_settings

        settings = get_settings()
        create_table(settings.table_name)
        create_queues(visibility_timeout=30)
        create_buckets()  # the attachments' bucket, by the name the environment gives
        arns = create_state_machines(timing=TIMING)
        for name, arn in arns.items():  # the same ARNs the functions' environment names
            assert os.environ[f"CIRRUS_STATE_MACHINE_ARN_{name.upper()}"] == arn
        assert create_event_bus() == settings.event_bus_name
        aws.client("sesv2").create_email_identity(EmailIdentity=EMAIL_FROM.rsplit("@", 1)[-1])
        aws.client("sesv2").create_email_identity(EmailIdentity=EMAIL_FROM)
        bootstrap.ensure_ready()
        mail.OUTBOX.clear()
        with serving(FakeJira(clock=datetime.now(UTC).replace(microsecond=0))) as jira:
            _support_secret(jira.url)
            with recorder.installed():
                _scenario(ApiClient(deployment), Runtime(deployment), jira)
        _stop_executions()
        queues._lookup_url.cache_clear()
        aws._client.cache_clear()
        ports.use(None)
    from chalicelib.config import reset_settings

    reset_settings()
    table = stack.physical_name(synth.one("AWS::DynamoDB::Table")[0])
    [key] = [
        k["AttributeName"]
        for k in synth.one("AWS::DynamoDB::Table")[1]["Properties"]["KeySchema"]
        if k["KeyType"] == "HASH"
    ]
    account = Account(ACCOUNT, partition_keys={table: key}, task_tokens=task_token_owners(recorder.calls))
    return Recorded(stack, recorder.calls, account)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Recorded:
    """One synth and one scenario per test run: under xdist the first worker to get here records,
    the others wait for its recording and read it (xdist's recipe for a session-wide fixture)."""
    if worker_id == "master":
        return _record(_synth(tmp_path_factory.mktemp("synth-iam"), **SYNTH_OPTIONS))
    shared = tmp_path_factory.getbasetemp().parent
    with (shared / "iam-calls.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cache = shared / "iam-calls.pickle"
        if not cache.exists():
            made = _record(_synth(tmp_path_factory.mktemp("synth-iam"), **SYNTH_OPTIONS))
            cache.write_bytes(pickle.dumps(made))
        found: Recorded = pickle.loads(cache.read_bytes())
        return found


# --- the checks ------------------------------------------------------------------------------------


def _requests(recorded: Recorded) -> dict[str, dict[Request, list[Call]]]:
    """Per function: each distinct authorisation request, with the calls that made it."""
    found: dict[str, dict[Request, list[Call]]] = {}
    problems = []
    for call in recorded.calls:
        if call.entry_point is None or call.nested:
            continue
        try:
            for request in requests_for(call, recorded.account):
                found.setdefault(call.entry_point, {}).setdefault(request, []).append(call)
        except Unmapped as exc:
            problems.append(f"{call.entry_point}: {exc}")
    assert not problems, "calls with no IAM mapping (map them in tests/awscalls.py):\n" + "\n".join(
        sorted(set(problems))
    )
    return found


def denied(recorded: Recorded) -> list[str]:
    out = []
    for function, requests in sorted(_requests(recorded).items()):
        role = recorded.stack.role_of(function)
        statements = recorded.stack.role_statements(role)
        for request, calls in requests.items():
            if not allows(statements, request):
                out.append(f"{function} (role {role}): {request}  <- {calls[0]} x{len(calls)}")
    return out


def test_every_call_each_function_makes_is_allowed_by_its_role(recorded: Recorded) -> None:
    refused = denied(recorded)
    assert not refused, "AWS would refuse these calls (entry point, role: action on resource):\n" + "\n".join(
        refused
    )


def test_the_scenario_reaches_every_function_and_kind_of_call(recorded: Recorded) -> None:
    """The scenario is only worth what it exercises: each function, and the kinds of call that have
    needed a grant of their own (so a scenario that stops reaching them fails here, not silently)."""
    requests = _requests(recorded)
    assert set(requests) == set(FUNCTIONS), sorted(requests)
    stack = recorded.stack

    def arn_of_queue(name: str) -> str:
        return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"

    prefix = stack.resolve({"Ref": "AWS::StackName"})  # cirrus-test: the stage's resource prefix
    kinds = {function: {(r.action, r.resources[0]) for r in found} for function, found in requests.items()}
    actions = {function: {a for a, _ in found} for function, found in kinds.items()}
    expected = {
        PUBLISHER: {
            ("sqs:SendMessage", arn_of_queue(f"{prefix}-background")),  # hooks.dispatch
            ("sqs:SendMessage", arn_of_queue(f"{prefix}-tasks")),  # marketplace.ensure_started
        },
    }
    for function, wanted in expected.items():
        assert wanted <= kinds[function], (function, wanted - kinds[function])
    assert {"events:PutEvents", "dynamodb:PutItem", "dynamodb:UpdateItem"} <= actions[PUBLISHER]
    assert {
        "states:StartExecution",
        "states:SendTaskSuccess",
        "sqs:SendMessage",
        "dynamodb:Query",
    } <= actions[API]
    workers = set().union(*(actions[w] for w in WORKERS))
    assert {
        "ses:SendEmail", "states:SendTaskSuccess", "states:SendTaskHeartbeat", "states:DescribeExecution",
        "sqs:GetQueueAttributes", "sqs:SendMessage",
    } <= workers, sorted(workers)  # fmt: skip
    # A hook's last failure goes to the background queue's dead-letter queue, from its worker.
    assert ("sqs:SendMessage", arn_of_queue(f"{prefix}-background-dlq")) in kinds["BackgroundWorker"]
    # The analytics export (the daily schedule): the background worker puts each dataset's day.
    [export_bucket] = [k for k in _ids(stack, "AWS::S3::Bucket") if k.startswith("AnalyticsExport")]
    objects = f"arn:aws:s3:::{stack.resolve({'Ref': export_bucket})}"
    exported = {r for a, r in kinds["BackgroundWorker"] if a == "s3:PutObject" and r.startswith(objects)}
    assert {r.split("/")[1] for r in exported} == {"aggregates", "events"}, exported
    # The support backend's secret: the API (a webhook) and the background worker (the sync) read it.
    for function in (API, "BackgroundWorker"):
        assert ("secretsmanager:GetSecretValue", SUPPORT_SECRET_ARN) in kinds[function], function


def event_source_requests(stack: Stack) -> dict[str, list[Request]]:
    """What Lambda's event source mappings do with each function's role: receive, delete and read
    the attributes of its queue; read the stream (ListStreams is authorised on "*" only); send what
    it gives up on to the on-failure destination."""
    out: dict[str, list[Request]] = {}
    for function, resource in stack.functions().items():
        needed = out.setdefault(function, [])
        for event in resource["Properties"].get("Events", {}).values():
            source = stack.resolve(event["Properties"])
            if event["Type"] == "SQS":
                actions = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
                needed += [Request(a, (source["Queue"],)) for a in actions]
            elif event["Type"] == "DynamoDB":
                actions = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator")
                needed += [Request(a, (source["Stream"],)) for a in actions]
                needed.append(Request("dynamodb:ListStreams", ("*",)))
            elif event["Type"] in ("Api", "HttpApi"):
                continue  # API Gateway invokes the function under its own permission, not the role
            else:
                raise AssertionError(f"{function}: an event source of type {event['Type']} is not checked")
            destination = (source.get("DestinationConfig") or {}).get("OnFailure", {}).get("Destination")
            if destination:
                needed.append(Request("sqs:SendMessage", (destination,)))
    return out


def test_event_sources_may_read_their_queues_and_stream_and_reach_their_destinations(
    recorded: Recorded,
) -> None:
    stack = recorded.stack
    refused = [
        f"{function} (role {stack.role_of(function)}) event source: {request}"
        for function, needed in event_source_requests(stack).items()
        for request in needed
        if not allows(stack.role_statements(stack.role_of(function)), request)
    ]
    assert not refused, "\n".join(refused)


def test_the_check_names_the_entry_point_action_and_resource_of_a_refused_call(recorded: Recorded) -> None:
    """The publisher's role as it was before issue 19 (sending to the background queue and its own
    dead-letter queue, not to tasks): the check refuses its marketplace.ensure_started, and only
    that, naming the function, its role, the action and the queue."""
    stack = recorded.stack
    template = copy.deepcopy(dict(stack.template))
    role = stack.role_of(PUBLISHER)
    tasks = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{stack.resolve({'Ref': 'AWS::StackName'})}-tasks"
    for policy in template["Resources"][role]["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            if "sqs:SendMessage" in _listed(statement["Action"]):
                statement["Resource"] = [
                    r for r in _listed(statement["Resource"]) if stack.resolve(r) != tasks
                ]
    before = Recorded(Stack(template, REGION), recorded.calls, recorded.account)

    refused = denied(before)

    assert len(refused) == 1 and refused[0].startswith(
        f"{PUBLISHER} (role {role}): sqs:SendMessage on {tasks}  <- sqs.SendMessage"
    ), refused


def _listed(value: Any) -> list[Any]:
    return [value] if isinstance(value, (str, dict)) else list(value)


def test_the_policy_evaluation_knows_its_limits(recorded: Recorded) -> None:
    """Conditions are evaluated (the publisher may write its counters' partitions, not a customer's);
    anything the evaluation does not understand fails instead of deciding."""
    stack = recorded.stack
    statements = stack.role_statements(stack.role_of(PUBLISHER))
    [table_id] = _ids(stack, "AWS::DynamoDB::Table")
    table = stack.get_att(table_id, "Arn")
    key = "dynamodb:LeadingKeys"
    assert allows(statements, Request("dynamodb:UpdateItem", (table,), ((key, ("COUNTER#projects",)),)))
    assert not allows(statements, Request("dynamodb:UpdateItem", (table,), ((key, ("CUST#c1",)),)))
    assert not allows(statements, Request("dynamodb:DeleteItem", (table,), ((key, ("COUNTER#projects",)),)))
    with pytest.raises(Unsupported):  # a write whose partition key is unknown is not "allowed"
        allows(statements, Request("dynamodb:UpdateItem", (table,), ((key, None),)))
    resource = {"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": "*"}
    for odd in (
        {"NotAction": "sqs:DeleteQueue", "Effect": "Allow", "Resource": "*"},
        {**resource, "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
        {**resource, "Condition": {"StringEquals": {"aws:PrincipalTag/team": "x"}}},
        {**resource, "Resource": "arn:aws:sqs:*:*:${aws:username}"},
    ):
        with pytest.raises(Unsupported):
            allows([odd], Request("sqs:SendMessage", ("arn:aws:sqs:eu-west-1:1:q",)))
    with pytest.raises(Unsupported):
        stack.resolve({"Fn::ImportValue": "elsewhere"})
    with pytest.raises(Unsupported):
        stack.resolve({"Fn::GetAtt": [table_id, "Nonsense"]})


def _ids(stack: Stack, kind: str) -> list[str]:
    return [k for k, v in stack.resources.items() if v["Type"] == kind]


# Granted to every function for the Lambda runtime itself (logs, traces), never called by the code.
RUNTIME_PREFIXES = ("logs:", "xray:")


def test_report_grants_no_recorded_call_uses(recorded: Recorded, capsys: pytest.CaptureFixture[str]) -> None:
    """The reverse, as a report for tightening policies: what each role grants that no recorded call
    (nor event source) uses, written to test-output/iam-unused-grants.txt. Fails only for a wildcard
    action (`sqs:*`), which grants calls nobody reviewed."""
    stack = recorded.stack
    requests = _requests(recorded)
    sources = event_source_requests(stack)
    wildcards = []
    lines = []
    roles: dict[str, list[str]] = {}
    for function in stack.functions():
        roles.setdefault(stack.role_of(function), []).append(function)
    for role, functions in sorted(roles.items()):
        used = [r for f in functions for r in [*requests.get(f, {}), *sources.get(f, [])]]
        for action, resource in sorted(set(granted(stack.role_statements(role)))):
            if "*" in action and not action.startswith(RUNTIME_PREFIXES):
                wildcards.append(f"{role}: {action} on {resource}")
            if action.startswith(RUNTIME_PREFIXES):
                continue
            if not any(covers(action, resource, r) for r in used):
                lines.append(f"  {role} ({', '.join(functions)}): {action} on {resource}")
    report = "Granted, used by no recorded call nor event source:\n" + "\n".join(lines)
    out = Path(os.environ.get("CIRRUS_TEST_OUTPUT", "test-output")) / "iam-unused-grants.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report + "\n")
    with capsys.disabled():
        print("\n" + report)
    assert not wildcards, "wildcard actions:\n" + "\n".join(wildcards)
