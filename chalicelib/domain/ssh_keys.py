"""Users' SSH public keys (Waldur's `SshPublicKey`): what a valid key is, its fingerprints as Waldur
computes them, who sees a key, and the events its creation and deletion write.

A key belongs to one user, who made it (nobody makes a key for someone else, staff included, as in
Waldur). Its name is unique per user (blank is a name too). `is_shared` (a key every user sees) is
set only from Waldur's admin site; Cirrus has none, so every key is private to its owner, staff and
support.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain import events
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import ValidationError

MODEL = "SshPublicKey"  # Waldur's model name, in its 404 message
NAME_MAX = 150  # Waldur's column
PUBLIC_KEY_MAX = 2000  # Waldur's MaxLengthValidator (an 8192-bit RSA key is about 1,400)
# Keys one user may hold. Waldur sets none; a bound keeps a user's list (one Query) and the
# service provider's key lists, which read every key of many users, small.
MAX_KEYS_PER_USER = 100

# The line `clean_public_key` reads, as a schema's pattern can say it: a key type OpenSSH loads, a
# space, a base64 body (padded), then an optional comment on the same line. Whether the body is a
# key of that type is not a shape: such a line may still be refused (INVALID_KEY).
KEY_TYPES = (
    "ssh-rsa",
    "ssh-dss",
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
)
_B64 = "[A-Za-z0-9+/]"
_BODY = f"({_B64}{{4}})*({_B64}{{4}}|{_B64}{{3}}=|{_B64}{{2}}==)"
# `str.splitlines` breaks at these besides controls: a comment holds none of them.
_COMMENT = r"[^\u0000-\u001f\u007f-\u009f\u2028\u2029]*"
KEY_PATTERN = f"^({'|'.join(KEY_TYPES)}) {_BODY}( {_COMMENT})?$"
SINGLE_LINE = "Key is not valid: it should be single line."
NO_FINGERPRINT = "Key is not valid: cannot generate fingerprint_md5 from it."
INVALID_KEY = "Invalid SSH public key."
NAME_TAKEN = "This field must be unique."
TOO_MANY = f"A user may hold at most {MAX_KEYS_PER_USER} SSH keys."
SHARED_DELETE = "Only staff users are allowed to delete shared SSH public key."

SSH_KEY_CREATION_SUCCEEDED = "ssh_key_creation_succeeded"
SSH_KEY_DELETION_SUCCEEDED = "ssh_key_deletion_succeeded"
EVENT_TYPES = (SSH_KEY_CREATION_SUCCEEDED, SSH_KEY_DELETION_SUCCEEDED)


@dataclass(frozen=True)
class Fingerprints:
    md5: str  # colon-separated hex, no prefix (Waldur's legacy form)
    sha256: str  # `SHA256:<base64 without padding>`, as `ssh-keygen -l` prints it
    sha512: str  # `SHA512:<base64 without padding>`


@dataclass(frozen=True)
class SshKey:
    id: str
    user_id: str
    name: str
    public_key: str
    fingerprints: Fingerprints
    created: datetime
    is_shared: bool = False

    @property
    def type(self) -> str:
        """The key's algorithm as its text names it (Waldur: the text before the first space)."""
        return self.public_key.split(" ", 1)[0]


def fingerprints(public_key: str) -> Fingerprints:
    """The digests of the key's body (the base64 after its type), Waldur's three forms. Raises
    ValueError when there is no body or it is not base64."""
    parts = public_key.strip().split()
    if len(parts) < 2:
        raise ValueError("no key body")
    try:
        body = base64.b64decode(parts[1].encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError("the key body is not base64") from exc
    md5 = hashlib.md5(body, usedforsecurity=False).hexdigest()
    return Fingerprints(
        md5=":".join(md5[i : i + 2] for i in range(0, len(md5), 2)),
        sha256="SHA256:" + _b64(hashlib.sha256(body).digest()),
        sha512="SHA512:" + _b64(hashlib.sha512(body).digest()),
    )


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii").rstrip("=")


def clean_public_key(value: str) -> tuple[str, Fingerprints]:
    """The key as stored (trimmed) and its fingerprints, or a ValidationError on `public_key` with
    Waldur's messages: one line, a body to fingerprint, and a key OpenSSH's format accepts (RSA,
    DSA, ECDSA on NIST P-256/384/521, Ed25519; certificates are not keys)."""
    key = value.strip()
    if len(key) > PUBLIC_KEY_MAX:
        raise ValidationError.field(
            "public_key", f"Ensure this field has no more than {PUBLIC_KEY_MAX} characters."
        )
    if len(key.splitlines()) > 1:
        raise ValidationError.field("public_key", SINGLE_LINE)
    try:
        found = fingerprints(key)
    except ValueError:
        raise ValidationError.field("public_key", NO_FINGERPRINT) from None
    # Imported here: a Lambda's cold start loads cryptography only when a key is added.
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.serialization import load_ssh_public_key

    try:
        load_ssh_public_key(key.encode("utf-8"))
    except (ValueError, UnsupportedAlgorithm):
        raise ValidationError.field("public_key", INVALID_KEY) from None
    return key, found


def may_see(principal: Principal, key: SshKey) -> bool:
    """Waldur's SshKeyViewSet: staff and support see every key, others their own and shared ones."""
    return principal.reads_everything or key.user_id == principal.user_id or key.is_shared


def may_delete(principal: Principal, key: SshKey) -> bool:
    """Its owner or staff (support only reads); a shared key, staff alone."""
    if key.is_shared:
        return principal.is_staff
    return principal.is_staff or key.user_id == principal.user_id


def event(event_type: str, key: SshKey, username: str, full_name: str, ctx: EventContext) -> events.Event:
    """Waldur's message, naming the key's owner (who may not be the actor: staff deleting a key).
    The event is in the owner's feed (`affected_user_uuid`), where the owner reads it."""
    action = "created" if event_type == SSH_KEY_CREATION_SUCCEEDED else "deleted"
    owner = f" {full_name}" if full_name else ""
    message = f"SSH key {key.name} has been {action} for user{owner} with username {username}."
    fields = {
        "ssh_key_uuid": key.id,
        "ssh_key_name": key.name,
        "affected_user_uuid": key.user_id,
        "affected_user_username": username,
    }
    return events.make_event(event_type, message, ctx, fields)
