"""`/api/keys/`: users' SSH public keys (list, create, retrieve, delete), in Waldur's fields, with
the fingerprints Waldur computes (md5 as colon hex; `SHA256:` and `SHA512:` unpadded base64, as
`ssh-keygen -l` prints them). Keys cannot be changed (Waldur has no update: 405)."""

from __future__ import annotations

from typing import Annotated, Any

from chalice import Blueprint  # type: ignore[attr-defined]
from pydantic import StringConstraints, field_validator

from chalicelib.api.fields import line_text, schema_facts
from chalicelib.api.rest import (
    BodyModel,
    Call,
    Created,
    FieldsQuery,
    ListQuery,
    NoContent,
    ResponseModel,
    endpoint,
    listed,
    object_id,
    render,
)
from chalicelib.domain import ssh_keys as domain
from chalicelib.domain.ids import parse_id
from chalicelib.domain.ssh_keys import SshKey
from chalicelib.services import ssh_keys as service
from chalicelib.services.ssh_keys import KeyFilters

bp = Blueprint(__name__)
TAG = "keys"
COLLECTION = "keys"

# Checked by the domain (`clean_public_key`, Waldur's messages); the schema states the line's shape.
PublicKey = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=domain.PUBLIC_KEY_MAX),
    schema_facts(pattern=domain.KEY_PATTERN),
]


class SshKeyIn(BodyModel):
    name: line_text(domain.NAME_MAX) = ""  # type: ignore[valid-type]
    public_key: PublicKey


class SshKeyOut(ResponseModel):
    url: str
    uuid: str
    name: str
    public_key: str
    fingerprint_md5: str
    fingerprint_sha256: str
    fingerprint_sha512: str
    user_uuid: str
    is_shared: bool
    type: str


class SshKeyQuery(ListQuery):
    name: str | None = None
    name_exact: str | None = None
    uuid: str | None = None
    user_uuid: str | None = None
    fingerprint_md5: str | None = None
    fingerprint_sha256: str | None = None
    fingerprint_sha512: str | None = None
    is_shared: bool | None = None

    ordering_fields = service.ORDERING_FIELDS

    @field_validator("uuid", "user_uuid")
    @classmethod
    def _uuid(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parsed = parse_id(value)
        if parsed is None:
            raise ValueError("Enter a valid UUID.")
        return parsed

    def filters(self) -> KeyFilters:
        return KeyFilters(
            name=self.name,
            name_exact=self.name_exact,
            uuid=self.uuid,
            user_uuid=self.user_uuid,
            fingerprint_md5=self.fingerprint_md5,
            fingerprint_sha256=self.fingerprint_sha256,
            fingerprint_sha512=self.fingerprint_sha512,
            is_shared=self.is_shared,
        )


def to_data(call: Call, key: SshKey) -> dict[str, Any]:
    """Waldur's SshKeySerializer fields (other modules render keys with it too)."""
    return {
        "url": call.url(COLLECTION, key.id),
        "uuid": key.id,
        "name": key.name,
        "public_key": key.public_key,
        "fingerprint_md5": key.fingerprints.md5,
        "fingerprint_sha256": key.fingerprints.sha256,
        "fingerprint_sha512": key.fingerprints.sha512,
        "user_uuid": key.user_id,
        "is_shared": key.is_shared,
        "type": key.type,
    }


@endpoint(bp, "/api/keys", "GET", name="keys_list", tag=TAG, query=SshKeyQuery, response=SshKeyOut, many=True)
def list_keys(call: Call) -> Any:
    q: SshKeyQuery = call.query
    page = service.list_keys(call.user, q.filters(), q.ordering(), q.page_request())
    return listed(call, page, SshKeyOut, lambda k: to_data(call, k))


@endpoint(bp, "/api/keys", "POST", name="keys_create", tag=TAG, body=SshKeyIn, response=SshKeyOut, status=201,
          retry_key=True)  # fmt: skip
def create_key(call: Call) -> Any:
    body: SshKeyIn = call.body
    return Created(render(SshKeyOut, to_data(call, service.create_key(call.ctx, body.name, body.public_key))))


@endpoint(bp, "/api/keys/{uuid}", "GET", name="keys_retrieve", tag=TAG, query=FieldsQuery, response=SshKeyOut)
def retrieve_key(call: Call, uuid: str) -> Any:
    key = service.get_visible(call.user, object_id(uuid, domain.MODEL))
    return render(SshKeyOut, to_data(call, key), call.query.field)


@endpoint(bp, "/api/keys/{uuid}", "DELETE", name="keys_destroy", tag=TAG, status=204)
def delete_key(call: Call, uuid: str) -> Any:
    service.delete_key(call.ctx, object_id(uuid, domain.MODEL))
    return NoContent()
