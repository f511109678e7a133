"""Usernames: the rule every username meets, the stricter one for names an identity provider sends,
and the look-alike key that stops a federated name from passing for someone else's.

`users/` accepts letters, digits and `@.+-_` (Waldur's `^[\\w.@+-]+$`, up to 128 characters). A name
from a token's claims is the IdP's to choose, not ours to trust: it is NFKC-normalised and must then be
plain ASCII in that alphabet (current Waldur's usernames are ASCII), and must not fold to the same
key as another user's name (`Admin`, a full-width `ADMIN` or one with a Cyrillic `a` beside
`admin`). Otherwise the user gets a generated name, which staff can change later.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

MAX_LENGTH = 128  # Waldur's username length
_RULE = re.compile(r"[\w.@+-]+")
# The rule as a schema's pattern can say it in every engine: the ASCII letters and digits (`\w` is
# ASCII in ECMA, Unicode in Python and Rust, and not the same Unicode): a username it matches is
# valid, and letters and digits of other scripts are accepted too.
ASCII_PATTERN = r"^[A-Za-z0-9_.@+-]+$"
INVALID = "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."
FALLBACK_PREFIX = "user-"

# Letters of other scripts that look like Latin ones (the common part of Unicode's confusables
# table: Cyrillic and Greek), read as the Latin letter they imitate; case matters (a Greek capital
# nu looks like N, its small letter like v), so this comes before case folding. The look-alikes are
# the point of these strings, hence the noqa.
_LOOKALIKES = str.maketrans(
    "АВСЕНІЈКМОРЅТХУаьвсԁеһніјкӏмпорԛѕтԝхуѵѡΑΒΕΖΗΙΚΜΝΟΡΤΥΧαβγεικνορτυχ01",  # noqa: RUF001
    "ABCEHIJKMOPSTXYabbcdehhijklmnopqstwxyvwABEZHIKMNOPTYXabyeikvoptuxol",
)
_INVISIBLE = {"Cc", "Cf", "Mn", "Zs"}  # controls, zero-width and bidi marks, combining marks, spaces
_FOLD_LIMIT = 256  # characters of the key kept (NFKC can expand a character into many)


def is_valid(name: str) -> bool:
    """Whether `name` meets the username rule of `users/`."""
    return len(name) <= MAX_LENGTH and _RULE.fullmatch(name) is not None


def from_claim(claim: str) -> str | None:
    """The username a claim may give: NFKC-normalised, trimmed, within the rule and ASCII; None when
    it is not (zero-width or control characters, markup, other scripts, too long)."""
    name = unicodedata.normalize("NFKC", claim).strip()
    return name if name.isascii() and is_valid(name) else None


def lookalike_key(name: str) -> str:
    """What `name` looks like: NFKC, case-folded, invisible characters dropped and letters of other
    scripts read as the Latin ones they imitate. Two names with the same key pass for each other."""
    latin = unicodedata.normalize("NFKC", name).translate(_LOOKALIKES).casefold()
    visible = "".join(c for c in latin if unicodedata.category(c) not in _INVISIBLE)
    return visible[:_FOLD_LIMIT]


def fallback(user_id: str) -> str:
    """A generated username for a user whose claimed names cannot be used: stable for the user."""
    return f"{FALLBACK_PREFIX}{hashlib.sha256(user_id.encode()).hexdigest()[:12]}"
