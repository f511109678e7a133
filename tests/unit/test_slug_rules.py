"""Waldur's slug rules (core.models.generate_slug, Django's slugify and SlugField)."""

from __future__ import annotations

import pytest

from chalicelib.domain import slugs
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.slugs import SlugKind


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Apollo", "apollo"),
        ("  Moon  landing ", "moon-landing"),
        ("Ünïcödé Café", "unicode-cafe"),
        ("a_b--c", "a_b-c"),
        ("R&D (2026)!", "rd-2026"),
        ("--edge--", "edge"),
        ("日本", ""),
    ],
)
def test_slugify_is_djangos(name: str, slug: str) -> None:
    assert slugs.slugify(name) == slug


def test_a_generated_slug_keeps_eight_characters_of_the_name_and_a_number() -> None:
    base = slugs.base_of("Astrophysics Department", SlugKind.PROJECT)
    assert base == "astrophy"
    assert slugs.numbered(base, 3) == "astrophy-3"


def test_a_name_with_no_slug_characters_takes_the_kind() -> None:
    assert slugs.base_of("日本", SlugKind.PROJECT) == "project"
    assert slugs.base_of("!!!", SlugKind.RESOURCE) == "resource"


@pytest.mark.parametrize("good", ["abc", "A-b_9", "x" * 50, 42])
def test_a_slug_given_by_hand_is_letters_digits_underscores_or_hyphens(good: object) -> None:
    assert slugs.check(good) == str(good)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (None, slugs.REQUIRED),
        ("", slugs.BLANK),
        ("x" * 51, slugs.TOO_LONG),
        ("a b", slugs.INVALID),
        ("ünï", slugs.INVALID),
        ("a/b", slugs.INVALID),
        (["a"], slugs.NOT_STRING),
        (True, slugs.NOT_STRING),
    ],
)
def test_a_bad_slug_is_refused_in_waldurs_words(bad: object, message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        slugs.check(bad)
    assert refused.value.errors == {"slug": [message]}
