"""The API's real answers checked against its own OpenAPI document (GET /api/schema/): every status
an operation answers is documented, and every JSON body it sends validates against the documented
schema (OpenAPI 3.0 semantics: `nullable`). `SchemaCheckedHttp` wraps Chalice's test client, so a
test drives the API as usual and each answer is checked on the way."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from openapi_schema_validator import OAS30Validator

SKIPPED_STATUSES = frozenset({500})  # tests that break the app on purpose get DRF's 500


class SchemaCheck:
    """Finds the documented operation of a request and checks its answer."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        templates = sorted(doc["paths"], key=lambda p: (p.count("{"), -len(p)))
        self.routes = [(re.compile("^" + re.sub(r"\{\w+\}", "[^/]+", p) + "$"), p) for p in templates]

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        path = path.split("?", 1)[0]
        path = path if path.endswith("/") else path + "/"
        verb = "get" if method.upper() == "HEAD" else method.lower()
        for pattern, template in self.routes:
            if pattern.match(path) and verb in self.doc["paths"][template]:
                return template, self.doc["paths"][template][verb]
        return None

    def problems(self, method: str, path: str, status: int, raw: bytes) -> list[str]:
        found = self.operation(method, path)
        if found is None or status in SKIPPED_STATUSES:
            return []  # a URL no endpoint serves (the catch-all's 404), or a deliberate 500
        template, op = found
        where = f"{method} {path} -> {status} ({template})"
        response = op["responses"].get(str(status))
        if response is None:
            return [f"{where}: status not documented (documented: {sorted(op['responses'])})"]
        if method.upper() == "HEAD" or not raw:
            if raw == b"" and "content" in response and status != 204 and method.upper() != "HEAD":
                return [f"{where}: documented body, but the answer is empty"]
            return []
        if "content" not in response:
            return [f"{where}: a body, but no content schema: {raw[:200]!r}"]
        schema = response["content"]["application/json"]["schema"]
        errors = list(_validator(json.dumps(schema)).iter_errors(json.loads(raw)))
        return [f"{where}: {list(e.absolute_path)}: {e.message[:300]}" for e in errors[:5]]


@lru_cache(maxsize=512)
def _validator(schema: str) -> OAS30Validator:
    from chalicelib.api import openapi

    components = openapi.document("http://localhost")["components"]
    return OAS30Validator({**json.loads(schema), "components": components})


class SchemaCheckedHttp:
    """Chalice's test HTTP client, each answer checked against the document (`problems` collects)."""

    def __init__(self, http: Any) -> None:
        from chalicelib.api import openapi

        self.http = http
        self.check = SchemaCheck(openapi.document("http://localhost"))
        self.problems: list[str] = []
        self.checked = 0

    def request(self, method: str, path: str, headers: Any = None, body: Any = b"") -> Any:
        response = self.http.request(method, path, headers=headers, body=body)
        self.checked += 1
        self.problems += self.check.problems(method, path, response.status_code, response.body or b"")
        return response

    def __getattr__(self, verb: str) -> Any:
        if verb.upper() not in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
            raise AttributeError(verb)
        return lambda path, **kwargs: self.request(verb.upper(), path, **kwargs)
