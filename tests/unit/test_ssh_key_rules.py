"""SSH public keys: the fingerprints Waldur shows (as `ssh-keygen -l -E md5|sha256|sha512` prints
them, md5 without its `MD5:` prefix), what a valid key is and the messages for one that is not,
and who sees and deletes a key."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chalicelib.domain import ssh_keys as domain
from chalicelib.domain.context import Principal
from chalicelib.domain.errors import ValidationError

# Made with ssh-keygen (OpenSSH 9), with the fingerprints it printed.
ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMI8mOlDJAWsXHu2OOZiOdaEhJ8q0XbC9uZKPuk9DlM6 alice@example"
RSA = (
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDZBHq1ZvTvTqXIsrikv4oZl348pGo4vwFK6vcnlfsZdu/+To8XbZGGLW/Pk"
    "XFDvuUeQ77MR7YyMv+tSj+zx0+aZIIq0ePBhjxCoFWXN7ZqYzSIpXrKM9z1/RBvFghjSc1KkMrIPSJ/vD2aq5Y0v+f5ateajTnj"
    "1HjbVwefDV39zQ== v"
)
ECDSA = (
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBDhdGSUSpKzkniFfGTRu1YAQ78Z"
    "TEtgMf6S5R0Re6rQEKTMkHmXEUlaFB5Kx3YA7Ji9HzOa3TYRWn88guQA8ZK0= v"
)
VECTORS = {
    ED25519: (
        "0e:4c:83:84:cc:9e:be:75:eb:d7:bb:73:24:86:5c:fc",
        "SHA256:5Sq50lcjyUwsk39L/+YRDCXY4/t7yAimSThlkiOnBFk",
        "SHA512:TnfdjSamCgxDXvNs1BRkReBmL4Oktp//lTUcrKESkgtrcf57dVnafkFUYlZwjIdq2dOi/Z3VSu5261rwVGgCVw",
    ),
    RSA: (
        "23:09:72:50:ab:d7:10:a3:57:d8:b5:55:61:a4:19:a8",
        "SHA256:Cso844aeW0k6nwOk1Sews7gL0jKqaBQZ4jr7wfpVEW0",
        "SHA512:bRm5sLPcQ306pmKISHVdmFOuLIx/9udlt4Ghw33GTUl1fPO5PJ2+8VRbtyPFsmIoQwK6DI71X7aOrySfLqy00A",
    ),
    ECDSA: (
        "f8:01:2b:13:ac:fd:29:8a:d1:74:25:05:b0:24:91:96",
        "SHA256:eNbbknbaA1rdrl6qHiHM/28LUiRapWTKHPAJbQjaCqg",
        "SHA512:KcN1vVwa1XqH9hJX6/RxJ2BwhUTb0ePson9b+dBYBESyIACfyVAfBGR+URgzyMZJw5UrLg/0mOO7qsxFVXUzaA",
    ),
}


@pytest.mark.parametrize("public_key", list(VECTORS))
def test_fingerprints_are_those_ssh_keygen_prints(public_key: str) -> None:
    _, prints = domain.clean_public_key(public_key)
    assert (prints.md5, prints.sha256, prints.sha512) == VECTORS[public_key]


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs OpenSSH's ssh-keygen")
@pytest.mark.parametrize("kind", ["ed25519", "ecdsa", "rsa"])
def test_fingerprints_of_a_fresh_key_match_ssh_keygen(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "key"
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "me", "-f", str(path)], check=True)
    public = path.with_suffix(".pub").read_text()
    _, prints = domain.clean_public_key(public)

    def printed(hash_name: str) -> str:
        out = subprocess.run(
            ["ssh-keygen", "-l", "-E", hash_name, "-f", f"{path}.pub"], check=True, capture_output=True
        )
        return out.stdout.decode().split()[1]

    assert "MD5:" + prints.md5 == printed("md5")
    assert prints.sha256 == printed("sha256")
    assert prints.sha512 == printed("sha512")


def test_a_key_is_stored_trimmed_with_its_comment_and_typed_by_its_first_word() -> None:
    text, _ = domain.clean_public_key(f"  {ECDSA}\n")
    assert text == ECDSA
    key = domain.SshKey("k", "u", "n", text, domain.fingerprints(text), datetime.now(UTC))
    assert key.type == "ecdsa-sha2-nistp256"
    assert domain.clean_public_key(ED25519.rsplit(" ", 1)[0])[0].endswith("DlM6")  # no comment


@pytest.mark.parametrize(
    ("sent", "message"),
    [
        (ED25519 + "\n" + RSA, domain.SINGLE_LINE),
        ("ssh-ed25519", domain.NO_FINGERPRINT),
        ("ssh-ed25519 not*base64", domain.NO_FINGERPRINT),
        ("ssh-ed25519 AAAA", domain.INVALID_KEY),
        (ED25519.replace("ssh-ed25519", "ssh-rsa"), domain.INVALID_KEY),  # type and body disagree
        ("ssh-foo AAAAB3NzaC1mb28= x", domain.INVALID_KEY),
        ("-----BEGIN PUBLIC KEY----- AAAA -----END PUBLIC KEY-----", domain.NO_FINGERPRINT),
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5", domain.INVALID_KEY),  # a type, no key
        (ED25519 + " " + "x" * 2000, "Ensure this field has no more than 2000 characters."),
    ],
)
def test_anything_but_one_openssh_public_key_is_refused_with_waldurs_message(sent: str, message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        domain.clean_public_key(sent)
    assert refused.value.errors == {"public_key": [message]}


def _principal(user_id: str, *, staff: bool = False, support: bool = False) -> Principal:
    return Principal(user_id=user_id, username=user_id, is_staff=staff, is_support=support)


def test_a_key_is_seen_by_its_owner_staff_and_support_and_deleted_by_its_owner_and_staff() -> None:
    key = domain.SshKey("k", "alice", "n", ED25519, domain.fingerprints(ED25519), datetime.now(UTC))
    alice, bob = _principal("alice"), _principal("bob")
    staff, support = _principal("s", staff=True), _principal("h", support=True)
    assert [domain.may_see(p, key) for p in (alice, bob, staff, support)] == [True, False, True, True]
    assert [domain.may_delete(p, key) for p in (alice, bob, staff, support)] == [True, False, True, False]


def test_the_events_name_the_owner_as_waldur_does() -> None:
    from chalicelib.domain.context import EventContext

    key = domain.SshKey("k", "u1", "laptop", ED25519, domain.fingerprints(ED25519), datetime.now(UTC))
    made = domain.event(domain.SSH_KEY_CREATION_SUCCEEDED, key, "alice", "Alice Example", EventContext())
    assert made.message == "SSH key laptop has been created for user Alice Example with username alice."
    gone = domain.event(domain.SSH_KEY_DELETION_SUCCEEDED, key, "alice", "", EventContext())
    assert gone.message == "SSH key laptop has been deleted for user with username alice."
    assert made.context["ssh_key_uuid"] == "k" and made.scopes == (("user", "u1"),)
