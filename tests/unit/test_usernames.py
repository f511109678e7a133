"""The username rules: what users/ accepts, what a token's claim may give, and which names look alike."""

from __future__ import annotations

import pytest

from chalicelib.domain.usernames import fallback, from_claim, is_valid, lookalike_key


@pytest.mark.parametrize("name", ["alice", "alice.smith@example.org", "a+b-c_d", "x" * 128])
def test_the_rule_of_users_accepts_letters_digits_and_at_dot_plus_dash_underscore(name):
    assert is_valid(name)


@pytest.mark.parametrize("name", ["", "al ice", "<script>", "a\r\nb", "a\u200bb", "x" * 129])
def test_the_rule_of_users_refuses_the_rest(name):
    assert not is_valid(name)


@pytest.mark.parametrize(
    ("claim", "username"),
    [
        ("alice", "alice"),
        ("  alice  ", "alice"),  # trimmed
        ("\uff41lice", "alice"),  # a full-width a, NFKC-normalised
        ("al\u200bice", None),  # a zero-width space
        ("al\u202eice", None),  # a bidi override
        ("<img src=x>", None),  # markup
        ("alice\r\nbob", None),  # a line break inside
        ("\u0430lice", None),  # a Cyrillic a: another script, however valid a letter
        ("x" * 129, None),  # too long
    ],
)
def test_a_claim_gives_a_username_only_when_plain(claim, username):
    assert from_claim(claim) == username


@pytest.mark.parametrize(
    "lookalike",
    [
        "Admin",
        "ADMIN",
        "\uff41\uff44\uff4d\uff49\uff4e",
        "\u0430dmin",
        "\u0391DMIN",
        "ad\u200bmin",
        "adm\u0456n",
    ],
    ids=["capital", "caps", "full-width", "cyrillic-a", "greek-alpha", "zero-width", "cyrillic-i"],
)
def test_names_that_pass_for_each_other_share_a_lookalike_key(lookalike):
    assert lookalike_key(lookalike) == lookalike_key("admin")


def test_different_names_keep_different_keys():
    assert lookalike_key("alice") != lookalike_key("alicia")
    assert lookalike_key("bob") != lookalike_key("rob")


def test_the_fallback_name_is_stable_per_user_and_meets_the_rule():
    assert fallback("u1") == fallback("u1") != fallback("u2")
    assert is_valid(fallback("u1")) and fallback("u1").startswith("user-")
