"""The local AWS: a moto server on loopback, and the resources Cirrus needs created in it."""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

import boto3

from chalicelib.store import schema

# Credentials moto accepts; never real ones (the local stack must not reach AWS by accident).
LOCAL_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}

# Web hooks may reach loopback in the local stack and the tests (receivers run on 127.0.0.1); a
# deployment allows no internal network unless its operator sets CIRRUS_HOOK_ALLOWED_NETWORKS.
LOOPBACK_NETWORKS = "127.0.0.0/8,::1/128"


def use_offline_environment(table_name: str) -> None:
    """What tests and benchmarks run under: moto's credentials (never a real account), their own
    table, cheap password hashing, quiet logs, no metric lines, no endpoint or public URL inherited."""
    os.environ.update(
        {
            **LOCAL_ENV,
            "CIRRUS_TABLE_NAME": table_name,
            "CIRRUS_PASSWORD_ITERATIONS": "1000",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "POWERTOOLS_METRICS_DISABLED": "true",  # no EMF lines (chalicelib/metrics.py)
        }
    )
    os.environ.pop("CIRRUS_AWS_ENDPOINT_URL", None)
    os.environ.pop("CIRRUS_PUBLIC_URL", None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def use_local_credentials() -> None:
    for key, value in LOCAL_ENV.items():
        os.environ[key] = value


class MotoServer:
    """moto's threaded server on 127.0.0.1; `endpoint` is what boto3 and pynamodb are pointed at."""

    def __init__(self, port: int | None = None) -> None:
        from moto.server import ThreadedMotoServer

        self.port = port or free_port()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MotoServer:
        # moto's server logs every AWS call through werkzeug; the stack's own output is what matters.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        # moto's ASL interpreter logs every failed execution as an ERROR with its whole parse tree;
        # `python -m chalicelib.ops history <execution>` shows the failure readably instead.
        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
        self._server.start()
        # moto's Step Functions integrations call back into the server on this port.
        os.environ["MOTO_PORT"] = str(self.port)
        return self

    def stop(self) -> None:
        self._server.stop()


def enable_state_machine_execution(endpoint: str) -> None:
    """Make the moto server at `endpoint` run state machines (moto's default only records them):
    the server-mode equivalent of mock_aws(config={"stepfunctions": {"execute_state_machine": True}}).
    Its ASL interpreter calls services back on localhost:$MOTO_PORT (set by MotoServer.start)."""
    import json
    import urllib.request

    body = json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode()
    request = urllib.request.Request(
        f"{endpoint}/moto-api/config", data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    loopback = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    with loopback.open(request, timeout=10) as response:
        response.read()


def _boto_client(service: str, endpoint: str | None) -> Any:
    """A client on the local endpoint (`endpoint`) with the same timeouts and retries as the app's."""
    from chalicelib.workflows.aws import client_config

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        config=client_config(),
    )


def dynamodb_client(endpoint: str | None) -> Any:
    return _boto_client("dynamodb", endpoint)


def create_table(table_name: str, endpoint: str | None = None) -> None:
    """Create the single table from store/schema.py (as CDK does), with TTL on; idempotent."""
    client = dynamodb_client(endpoint)
    if table_name in client.list_tables()["TableNames"]:
        return
    client.create_table(**schema.create_table_request(table_name))
    client.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": schema.TTL_ATTRIBUTE},
    )


def create_buckets(endpoint: str | None = None) -> None:
    """The support attachments' bucket and the BI export's (as CDK makes them: no public access);
    idempotent."""
    from chalicelib.config import get_settings

    s3 = _boto_client("s3", endpoint)
    settings = get_settings()
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for bucket in (settings.attachments_bucket_name, settings.export_bucket_name):
        if bucket not in existing:
            region = os.environ.get("AWS_REGION", "us-east-1")
            extra = (
                {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
            )
            s3.create_bucket(Bucket=bucket, **extra)
        block = {
            k: True
            for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
        }
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=block)


# Local timing of the shipped workflows: short enough to watch, long enough for a poller to answer.
LOCAL_TIMING: dict[str, int] = {
    "StepTimeoutSeconds": 300,
    "StepHeartbeatSeconds": 60,
    "RetryIntervalSeconds": 2,
    "RetryMaxAttempts": 3,
    "SqsRetryIntervalSeconds": 1,
    "SqsRetryMaxAttempts": 4,
    "CallbackTimeoutSeconds": 3600,
    "ApprovalTimeoutSeconds": 24 * 3600,
    "AgentTimeoutSeconds": 24 * 3600,
}


def create_queues(endpoint: str | None = None, visibility_timeout: int = 30) -> dict[str, str]:
    """The three task queues, each with its dead-letter queue after `queue_max_receives` receives,
    and the events publisher's dead-letter queue (as CDK builds them); returns task queue name ->
    URL. Idempotent."""
    import json

    from chalicelib.config import get_settings
    from chalicelib.workflows import queues
    from chalicelib.workflows.publisher import DEAD_LETTERS
    from chalicelib.workflows.registry import QUEUES

    sqs = _boto_client("sqs", endpoint)
    urls = {}
    for queue in QUEUES:
        dlq_url = sqs.create_queue(QueueName=queues.dead_letter_name(queue))["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(get_settings().queue_max_receives)}
        urls[queue] = sqs.create_queue(
            QueueName=queues.queue_name(queue),
            Attributes={"RedrivePolicy": json.dumps(redrive), "VisibilityTimeout": str(visibility_timeout)},
        )["QueueUrl"]
    # Where the events publisher puts the stream records it gives up on (CDK: events.py).
    sqs.create_queue(QueueName=queues.dead_letter_name(DEAD_LETTERS))
    return urls


def create_state_machines(
    endpoint: str | None = None, timing: dict[str, int] | None = None
) -> dict[str, str]:
    """Every `statemachines/*.asl.json`, rendered with the same function and placeholder names CDK
    uses; sets CIRRUS_STATE_MACHINE_ARN_<NAME> so `start_workflow` finds them. Idempotent."""
    from chalicelib.workflows import queues, stepfunctions
    from chalicelib.workflows.registry import QUEUES

    values: dict[str, object] = {**stepfunctions.DEFAULT_TIMING, **(timing or LOCAL_TIMING)}
    values.update({f"{q.capitalize()}QueueUrl": queues.queue_url(q) for q in QUEUES})
    sfn = _boto_client("stepfunctions", endpoint)
    existing = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
    arns = {}
    for name in stepfunctions.names():
        full_name = stepfunctions.state_machine_name(name)
        definition = stepfunctions.render(name, values)
        if full_name in existing:
            arn = existing[full_name]
            sfn.update_state_machine(stateMachineArn=arn, definition=definition)
        else:
            arn = sfn.create_state_machine(
                name=full_name,
                definition=definition,
                roleArn="arn:aws:iam::123456789012:role/cirrus-local-workflows",
            )["stateMachineArn"]
        os.environ[f"CIRRUS_STATE_MACHINE_ARN_{name.upper()}"] = arn
        arns[name] = arn
    return arns
