"""A login's password check costs the same whether or not the account exists (finding: login
timing revealed which usernames exist). Counted in PBKDF2 stretches, not in wall time."""

from __future__ import annotations

import pytest

from chalicelib.domain import users
from chalicelib.domain.users import check_login_password, hash_password

ITERATIONS = 1000


@pytest.fixture
def stretches(monkeypatch):
    """Each PBKDF2 the check runs, by its iteration count (the real function still runs)."""
    seen: list[int] = []
    real = users.pbkdf2

    def counting(password: str, salt: str, iterations: int) -> bytes:
        seen.append(iterations)
        return real(password, salt, iterations)

    monkeypatch.setattr(users, "pbkdf2", counting)
    return seen


def test_a_known_user_costs_one_stretch(stretches):
    encoded = hash_password("right-password", ITERATIONS)
    stretches.clear()
    assert check_login_password("right-password", encoded, ITERATIONS)
    assert not check_login_password("wrong-password", encoded, ITERATIONS)
    assert stretches == [ITERATIONS, ITERATIONS]


@pytest.mark.parametrize(
    "encoded", [None, "", "!unusable", "md5$x$y"], ids=["no user", "no password", "bang", "md5"]
)
def test_no_user_or_no_usable_password_costs_the_same_stretch_and_never_matches(stretches, encoded):
    assert not check_login_password("any-password", encoded, ITERATIONS)
    assert stretches == [ITERATIONS]
