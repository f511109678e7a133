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


def use_offline_environment(table_name: str) -> None:
    """What tests and benchmarks run under: moto's credentials (never a real account), their own
    table, cheap password hashing, no tracing, quiet logs, no endpoint or public URL inherited."""
    os.environ.update(
        {
            **LOCAL_ENV,
            "CIRRUS_TABLE_NAME": table_name,
            "CIRRUS_PASSWORD_ITERATIONS": "1000",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
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
        self._server.start()
        # moto's Step Functions integrations call back into the server on this port.
        os.environ["MOTO_PORT"] = str(self.port)
        return self

    def stop(self) -> None:
        self._server.stop()


def dynamodb_client(endpoint: str | None) -> Any:
    return boto3.client(
        "dynamodb", endpoint_url=endpoint, region_name=os.environ.get("AWS_REGION", "us-east-1")
    )


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
