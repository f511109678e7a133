"""Cirrus's response models next to Waldur's: which waldur-api-client model each one answers as, and
what that model says about each field (may it be null? must it be there?).

The pairs are derived, not written by hand: an endpoint (path + method + status, from rest.ENDPOINTS)
answers what waldur-api-client's function for the same path and method parses on that status; nested
models pair up through fields of the same name. Used by tests/compat/test_null_rule.py.
"""

from __future__ import annotations

import importlib
import inspect
import re
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

Rule = Literal["null", "omit", "always"]
_OP = re.compile(r'"method": "(\w+)",\s*"url": f?"([^"]+)"')
_BRANCH = re.compile(r"if response\.status_code == (\d+):\n(.*?)(?=\n    if |\n    raise |\Z)", re.S)
_FROM_DICT = re.compile(r"(\w+)\.from_dict\(")
_POP = re.compile(r'd\.pop\(\s*"([^"]+)"(\s*,\s*UNSET)?\s*\)')


def _route(method: str, path: str) -> tuple[str, str]:
    return method.upper(), re.sub(r"\{[^}]+\}", "{}", path).rstrip("/")


def client_operations() -> dict[tuple[str, str], dict[int, str]]:
    """(method, path with `{}` parameters) -> {status: name of the model its function parses}, for
    every function of waldur-api-client. Read from the generated source: the path is an f-string in
    `_get_kwargs`, the model a `from_dict` call in `_parse_response`'s branch for that status."""
    import waldur_api_client.api as api

    found: dict[tuple[str, str], dict[int, str]] = {}
    for path in sorted(Path(api.__file__).parent.glob("*/*.py")):
        source = path.read_text()
        match = _OP.search(source)
        if match is None:
            continue
        parsed = found.setdefault(_route(match.group(1), match.group(2)), {})
        for status, body in _BRANCH.findall(source):
            model = _FROM_DICT.search(body)
            if model and 200 <= int(status) < 300:
                parsed[int(status)] = model.group(1)
    return found


def client_model(name: str) -> type:
    return getattr(importlib.import_module("waldur_api_client.models"), name)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class ClientField:
    """What waldur-api-client's `from_dict` does with one key."""

    nullable: bool  # its type admits None: a null parses
    required: bool  # popped without a default: the key must be there
    models: tuple[type, ...]  # the attrs models it parses the value (or its items) with


def _args(annotation: Any) -> Iterator[Any]:
    """The leaves of a union / list / ForwardRef annotation."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType or origin is list:
        for arg in typing.get_args(annotation):
            yield from _args(arg)
    elif isinstance(annotation, typing.ForwardRef):
        yield client_model(annotation.__forward_arg__)
    elif isinstance(annotation, str):
        yield client_model(annotation)
    else:
        yield annotation


def client_fields(model: type) -> dict[str, ClientField]:
    """Each key `from_dict` reads (`d.pop("key")`: required; `d.pop("key", UNSET)`: optional), with
    the type of the attribute it fills (`type_` for the key `type`)."""
    import attrs

    source = inspect.getsource(model.from_dict)  # type: ignore[attr-defined]
    annotations = model.__annotations__
    fields = {}
    for key, default in _POP.findall(source):
        attribute = key if key in annotations else f"{key}_"
        leaves = list(_args(annotations[attribute]))
        fields[key] = ClientField(
            nullable=type(None) in leaves,
            required=not default,
            models=tuple(leaf for leaf in leaves if attrs.has(leaf)),
        )
    return fields


def cirrus_nested(annotation: Any) -> list[type[BaseModel]]:
    """The response models inside a Cirrus field's annotation (`X`, `X | None`, `list[X]`)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType or origin is list:
        return [m for arg in typing.get_args(annotation) for m in cirrus_nested(arg)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return []


def admits_none(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return type(None) in typing.get_args(annotation)
    return annotation is None or annotation is type(None) or annotation is Any


@dataclass
class Mapping:
    """Every response model an endpoint answers, with the waldur-api-client models it answers as
    (several when one model serves several operations: UserOut is both User and UserMe)."""

    pairs: dict[type[BaseModel], set[type]] = field(default_factory=dict)
    unpaired: set[type[BaseModel]] = field(default_factory=set)
    via: dict[tuple[type[BaseModel], type], str] = field(default_factory=dict)

    def pair(self, ours: type[BaseModel], theirs: type, via: str) -> None:
        if theirs in self.pairs.setdefault(ours, set()):
            return
        self.pairs[ours].add(theirs)
        self.via[(ours, theirs)] = via
        mine = ours.model_fields
        for name, spec in client_fields(theirs).items():
            nested = cirrus_nested(mine[name].annotation) if name in mine else []
            for inner in nested:
                for model in spec.models:
                    self.pair(inner, model, f"{ours.__name__}.{name}")

    def visit(self, model: type[BaseModel]) -> None:
        """A model with no counterpart, and what it nests (which may have one through another path)."""
        if model in self.unpaired:
            return
        self.unpaired.add(model)
        for spec in model.model_fields.values():
            for inner in cirrus_nested(spec.annotation):
                self.visit(inner)

    @property
    def cirrus_only(self) -> set[type[BaseModel]]:
        return self.unpaired - set(self.pairs)


def mapping() -> Mapping:
    """Pair every response model of rest.ENDPOINTS with waldur-api-client's model for the same
    operation; the rest (Cirrus-only routes, operations the client does not parse) are unpaired."""
    import app  # noqa: F401  (registers every endpoint)
    from chalicelib.api.rest import ENDPOINTS

    operations = client_operations()
    result = Mapping()
    for e in ENDPOINTS:
        if e.response is None:
            continue
        parsed = operations.get(_route(e.method, e.path), {}).get(e.status)
        if parsed is None:
            result.visit(e.response)
        else:
            result.pair(e.response, client_model(parsed), f"{e.method} {e.path}")
    return result


def rule(theirs: list[ClientField | None]) -> Rule:
    """What Cirrus must do with a field when it has no value, by Waldur's schema: DRF renders every
    declared field, so `null`, unless a client model it answers as types the key as never null; then
    the key is left out (`omit`), and if one also requires the key, Cirrus must always have a value
    (`always`). A key the client does not know (None) is Cirrus's own: null, as DRF would."""
    known = [t for t in theirs if t is not None]
    if all(t.nullable for t in known):
        return "null"
    return "always" if any(t.required for t in known) else "omit"


def qualified(model: type) -> str:
    return f"{model.__module__.rsplit('.', 1)[-1]}.{model.__name__}"


def problems(pairs: dict[type[BaseModel], set[type]]) -> list[str]:
    """Every field whose rendering breaks the rule (see `rule`), as `module.Model.field: why`."""
    found: list[str] = []
    for ours, theirs in pairs.items():
        found.extend(_problems(ours, {t: client_fields(t) for t in theirs}))
    return sorted(found)


def _problems(ours: type[BaseModel], theirs: dict[type, dict[str, ClientField]]) -> Iterator[str]:
    where = qualified(ours)
    omit: frozenset[str] = getattr(ours, "omit_when_null", frozenset())
    clients = ", ".join(sorted(t.__name__ for t in theirs))
    for name, spec in ours.model_fields.items():
        expected = rule([fields.get(name) for fields in theirs.values()])
        unset = admits_none(spec.annotation)
        if expected == "null" and name in omit:
            yield f"{where}.{name}: left out when unset, but {clients} allows null (DRF renders null)"
        if expected == "omit" and unset and name not in omit:
            yield f"{where}.{name}: rendered null when unset, but {clients} forbids null: omit_when_null"
        if expected == "always" and unset:
            yield f"{where}.{name}: may be unset, but {clients} requires a value that is not null"
    for client, fields in theirs.items():
        for name, theirs_spec in fields.items():
            if theirs_spec.required and name not in ours.model_fields:
                yield f"{where}.{name}: never rendered, but {client.__name__} requires it"
    for name in omit:
        if name not in ours.model_fields or not admits_none(ours.model_fields[name].annotation):
            yield f"{where}.{name}: in omit_when_null, but it is not a field that can be unset"
