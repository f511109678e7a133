"""Slugs: the short, URL-friendly names customers, projects and marketplace resources carry.

Waldur's rules (core.models.SlugMixin / generate_slug): at creation, when none is given, the slug is
the item's name through Django's `slugify`, cut to 8 characters, and a number: `<base>-<n>`, n one
more than the highest number any item of the same kind already has with that base. So slugs are
unique per kind (customers among customers, projects among all projects, resources among all
resources), and a rename never changes one. Staff may give or change a slug (at most 50 letters,
digits, underscores or hyphens); the site agent names SLURM accounts after them.

Cirrus keeps the same shape. Two differences, both for the agents that build account names from
slugs: a name with nothing left after `slugify` takes the kind as its base (`project-1`, where
Waldur makes `-1`), and a slug given by hand must not be held by another item of its kind (Waldur
does not check; two accounts with one name would merge on a SLURM cluster).
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from typing import Any

from chalicelib.domain.errors import ValidationError

SLUG_NAME_LIMIT = 8  # Waldur's SLUG_NAME_LIMIT: the characters of the name a generated slug keeps
MAX_LENGTH = 50  # Django's SlugField

# Django's validate_slug and DRF's messages, as Waldur answers them.
INVALID = "Enter a valid “slug” consisting of letters, numbers, underscores or hyphens."
TOO_LONG = f"Ensure this field has no more than {MAX_LENGTH} characters."
BLANK = "This field may not be blank."
REQUIRED = "This field is required."
NOT_STRING = "Not a valid string."
TAKEN = "This slug is already in use."
CHANGED = "{model} slug has been changed."
UNCHANGED = "{model} slug is not changed."

SLUG_CHARACTERS = "-a-zA-Z0-9_"
_VALID = re.compile(f"^[{SLUG_CHARACTERS}]+\\Z")
# `check` as a schema says it: a slug given by hand; `BLANK_OR_PATTERN` where blank means "none
# given" (create and update). `check` trims first, so it also takes what these match padded.
PATTERN = f"^[{SLUG_CHARACTERS}]+$"
BLANK_OR_PATTERN = f"^[{SLUG_CHARACTERS}]*$"


class SlugKind(StrEnum):
    """What a slug names; slugs are unique within a kind."""

    CUSTOMER = "customer"
    PROJECT = "project"
    RESOURCE = "resource"


def slugify(value: str) -> str:
    """Django's `slugify` (allow_unicode=False): ASCII only, lower case, spaces and hyphens runs
    to one hyphen, anything else that is not a letter, digit or underscore dropped."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    cleaned = re.sub(r"[^\w\s-]", "", ascii_text.lower())
    return re.sub(r"[-\s]+", "-", cleaned).strip("-_")


def base_of(name: str, kind: SlugKind) -> str:
    """The part of a generated slug before its number: the name's first 8 slug characters, or the
    kind when the name has none."""
    return slugify(name)[:SLUG_NAME_LIMIT] or kind.value


def numbered(base: str, number: int) -> str:
    return f"{base}-{number}"


def check(value: Any) -> str:
    """A slug given by hand (`set_slug/`, or by staff on create/update): 400 in Waldur's shape."""
    if value is None:
        raise ValidationError.field("slug", REQUIRED)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValidationError.field("slug", NOT_STRING)
    slug = str(value).strip()
    if not slug:
        raise ValidationError.field("slug", BLANK)
    if len(slug) > MAX_LENGTH:
        raise ValidationError.field("slug", TOO_LONG)
    if not _VALID.match(slug):
        raise ValidationError.field("slug", INVALID)
    return slug
