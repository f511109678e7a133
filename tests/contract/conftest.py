"""The contract suite: every test here runs twice, on the in-memory fakes (tests/fakes) and on the
DynamoDB store under moto, through the same `Ports`. A fake that answers differently from the store
it stands for fails here, so the service specifications that run on fakes mean the same on AWS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chalicelib.services.ports import Ports


@pytest.fixture(params=["fake", "dynamodb"])
def ports(request: pytest.FixtureRequest) -> Iterator[Ports]:
    if request.param == "fake":
        from tests.fakes import build

        yield build()
        return
    request.getfixturevalue("aws")
    from chalicelib import bootstrap

    yield bootstrap.dynamodb_ports()
