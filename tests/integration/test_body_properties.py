"""Every endpoint's body, fed random and extreme JSON by staff (who pass every permission check, so
the input reaches the deepest rule): the answer is never a 5xx, and every 4xx is in Django REST
framework's shape (`{"detail": "..."}`, `{"field": ["message", ...]}` or a list of messages).

Bodies start from a valid one (the isolation matrix's `body_for`, naming tenant B's objects as staff
may) and replace a few fields, at any depth of the body model, with extreme values: deep nesting,
huge and tiny numbers (10**30, 10**400, 1e308, -0, NaN and Infinity literals), numeric strings, wrong
types, huge strings, control and bidi characters, lone surrogates, nulls, empty and extra keys. Some
bodies are not objects at all. The path names tenant B's object of the collection.

One moto backend and one world serve every endpoint; hypothesis draws a bounded number of bodies
per endpoint, from a fixed seed (`derandomize`), so a run is repeatable. For a longer hunt, set
CIRRUS_BODY_EXAMPLES (default 6) to a few hundred.
"""

from __future__ import annotations

import json
import os
import typing
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from chalicelib.api.rest import ENDPOINTS, Endpoint
from tests.helpers import call
from tests.integration.test_tenant_isolation import (
    TARGETS,
    World,
    _plausible,
    body_for,
    build_world,
    collection_of,
    stage,  # noqa: F401 (the module's moto backend, a fixture)
)

EXAMPLES = int(os.environ.get("CIRRUS_BODY_EXAMPLES", "6"))
# Logging out ends the staff session every later probe uses.
CASES = [ep for ep in ENDPOINTS if ep.body is not None and ep.path != "/api-auth/logout"]


@dataclass(frozen=True)
class Raw:
    """JSON text sent as is where a value goes (what json.dumps would refuse or cannot build)."""

    text: str


# hypothesis raises the recursion limit while it runs a test: 1000 levels would parse there.
DEEP = [Raw("[" * 50_000 + "]" * 50_000), Raw('{"a": ' * 40 + "1" + "}" * 40), Raw("[" * 33 + "]" * 33)]
LITERALS = [Raw("NaN"), Raw("Infinity"), Raw("-Infinity"), Raw("1e400"), Raw("-0"), Raw("9" * 5000)]
EXTREME_INTS = [-1, 2**31 - 1, 2**31, 2**63, -(2**63) - 1, 10**30, -(10**30), 10**40, 10**400]
EXTREME_FLOATS = [1e308, -1e308, 5e-324, -0.0, 0.1, 1e30, 123456789.123456789]
EXTREME_STRINGS = [
    "",
    "   ",
    "NaN",
    "Infinity",
    "-0",
    "1e308",
    "1e-400",
    "9" * 60,
    "0x10",
    "\x00",
    "a\x07b",
    "\u202eevil",
    "\ud800",
    "\U0001f600" * 5,
    "x" * 20_000,
    "2026-02-30",
    "null",
    "cores",
    "http://localhost/api/customers/" + "0" * 32 + "/",
    "<script>alert(1)</script>",
]
KEYS = st.one_of(st.text(max_size=8), st.sampled_from([*EXTREME_STRINGS[:14], "cores", "name", "type"]))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(EXTREME_INTS),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(EXTREME_FLOATS),
    st.text(max_size=20),
    st.sampled_from(EXTREME_STRINGS),
    st.sampled_from(DEEP + LITERALS),
)
NUMBERISH = st.sampled_from(
    [*EXTREME_INTS, *EXTREME_FLOATS, *LITERALS, "1e308", "-0", "9" * 60, "1e-400", "0.0000000000001"]
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=6,
)
WHOLE_BODIES = [b"", b"null", b"[]", b"{}", b"\xef\xbb\xbf{}", b'{"a": ', b"\xff\xfe", b"1e999", b"NaN"]


def encode(value: Any) -> bytes:
    """JSON text of `value`, with each `Raw` spliced in as written."""
    raws: list[str] = []

    def placeholder(obj: Any) -> str:
        raws.append(obj.text)
        return f"@@raw{len(raws) - 1}@@"

    text = json.dumps(value, default=placeholder)
    for i, raw in enumerate(raws):
        text = text.replace(f'"@@raw{i}@@"', raw)
    return text.encode()


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The body model a field holds (directly, in a list, optional), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


# Nested fields the matrix has no value for: a usage line of B's offering's component.
NESTED = {"type": "cores", "amount": "1"}


def _valid(model: type[BaseModel], ep: Endpoint, w: World) -> dict[str, Any]:
    """A nested model's required fields, with plausible values."""
    return {
        name: NESTED[name] if name in NESTED else _plausible(name, info.annotation, ep, w)
        for name, info in model.model_fields.items()
        if info.is_required()
    }


def _shaped(annotation: Any) -> st.SearchStrategy[Any]:
    """Values of the field's own shape (a map of component types, a list), holding extreme numbers."""
    origin = typing.get_origin(annotation)
    if origin is dict:
        keys = st.sampled_from(["cores", "nc_resource_count", "nc_project_count", "", "\x00"])
        return st.dictionaries(keys, NUMBERISH | SCALARS, min_size=1, max_size=2)
    if origin is list:
        return st.lists(NUMBERISH | SCALARS, min_size=1, max_size=2)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return _shaped(args[0]) if origin is not None and args else NUMBERISH


def _field_values(annotation: Any, ep: Endpoint, w: World) -> st.SearchStrategy[Any]:
    model = _model_in(annotation)
    if model is None:
        return st.one_of(VALUES, _shaped(annotation))
    nested = _bodies(model, _valid(model, ep, w), ep, w)
    return st.one_of(VALUES, nested, st.lists(nested, min_size=1, max_size=2))


def _bodies(
    model: type[BaseModel], base: dict[str, Any], ep: Endpoint, w: World
) -> st.SearchStrategy[dict[str, Any]]:
    """`base` with one to three fields (of the model, or unknown ones) replaced or removed."""
    names = [*model.model_fields, "unknown_field"]

    @st.composite
    def mutated(draw: Any) -> dict[str, Any]:
        body = dict(base)
        for name in draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True)):
            info = model.model_fields.get(name)
            if draw(st.integers(0, 9)) == 0:
                body.pop(name, None)
            else:
                body[name] = draw(_field_values(info.annotation if info else Any, ep, w))
        return body

    return mutated()


def raw_bodies(ep: Endpoint, w: World) -> st.SearchStrategy[bytes]:
    assert ep.body is not None
    base = body_for(ep, w) or {}
    return st.one_of(
        _bodies(ep.body, base, ep, w).map(encode),
        _bodies(ep.body, base, ep, w).map(encode),
        VALUES.map(encode),
        st.sampled_from(WHOLE_BODIES),
    )


HUGE = 10**30
DEEP_BODY = b"[" * 50_000 + b"]" * 50_000


def _extreme(annotation: Any) -> Any:
    """10**30 in the field's own shape (in a map of B's offering's component, in a list)."""
    origin = typing.get_origin(annotation)
    if origin is dict:
        return {"cores": HUGE}
    if origin is list:
        return [HUGE]
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return _extreme(args[0]) if origin is not None and args else HUGE


def _is_plain(annotation: Any) -> bool:
    """A text, flag or date field (optional, constrained or not): 10**30 is only a wrong type there."""
    if typing.get_origin(annotation) is typing.Annotated:
        return _is_plain(typing.get_args(annotation)[0])
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return annotation in (str, bool, date, datetime) or (len(args) == 1 and _is_plain(args[0]))


def fixed_bodies(ep: Endpoint, w: World) -> list[bytes]:
    """Sent to every endpoint before the random ones: a body nested far too deep, and the valid body
    with each field that may hold a number set to 10**30 (so the number reaches the service)."""
    assert ep.body is not None
    base = body_for(ep, w) or {}
    numeric = [n for n, info in ep.body.model_fields.items() if not _is_plain(info.annotation)]
    fields = ep.body.model_fields
    return [DEEP_BODY, *(encode({**base, n: _extreme(fields[n].annotation)}) for n in numeric)]


def _messages(value: Any) -> bool:
    if isinstance(value, list):  # messages, or a list of objects' errors (one entry per item)
        return all(isinstance(m, str) for m in value) or all(
            isinstance(m, dict | list) and _messages(m) for m in value
        )
    return isinstance(value, dict) and all(_messages(v) for v in value.values())


def drf_shaped(body: Any) -> bool:
    """`{"detail": str}`, `{"field": [str, ...]}` (nested serializers and dicts: a dict per field;
    lists of objects: a list of those, `{}` for valid items) or `[str]`."""
    if isinstance(body, dict) and "detail" in body:
        return set(body) == {"detail"} and isinstance(body["detail"], str)
    if isinstance(body, dict):
        return bool(body) and all(_messages(v) for v in body.values())
    return isinstance(body, list) and all(isinstance(m, str) for m in body)


@pytest.fixture(scope="module")
def world(stage: Any) -> World:  # noqa: F811 (the imported fixture)
    return build_world(stage.client)


def _id(ep: Endpoint) -> str:
    return f"{ep.method} {ep.path}"


def test_every_endpoint_with_a_body_is_probed() -> None:
    assert len(CASES) >= 70, "the registry lost endpoints (a broken import?)"


@pytest.mark.parametrize("ep", CASES, ids=_id)
def test_random_and_extreme_bodies_never_get_a_server_error(world: World, ep: Endpoint) -> None:
    target = TARGETS[collection_of(ep.path)](world) if "{uuid}" in ep.path else ""
    path = ep.path.replace("{uuid}", target) + "/"

    for raw in fixed_bodies(ep, world):
        _check(world, ep, path, raw)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(raw=raw_bodies(ep, world))
    def probe(raw: bytes) -> None:
        _check(world, ep, path, raw)

    probe()


def _check(world: World, ep: Endpoint, path: str, raw: bytes) -> None:
    reply = call(world.client, ep.method, path, world.staff, raw_body=raw)
    shown = raw[:300]
    assert reply.status < 500, f"{ep.method} {path} {shown!r} -> {reply.status} {reply.raw[:300]!r}"
    if reply.status >= 400:
        body = json.loads(reply.raw)
        assert drf_shaped(body), f"{ep.method} {path} {shown!r} -> {reply.status} {body}"
