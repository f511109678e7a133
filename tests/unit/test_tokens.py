from datetime import UTC, datetime, timedelta

from chalicelib.domain.tokens import RENEWAL_GRANULARITY, LoginFailures, Token, expiry_for, hash_key, new_key

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def token(lifetime: int | None = 3600, expires: datetime | None = None) -> Token:
    return Token(
        key_hash=hash_key("k"),
        user_id="u",
        username="alice",
        full_name="",
        is_staff=False,
        is_support=False,
        is_active=True,
        lifetime=lifetime,
        created=NOW,
        expires=expires if expires is not None else expiry_for(NOW, lifetime),
    )


def test_keys_look_like_waldur_tokens_and_are_stored_hashed():
    key = new_key()
    assert len(key) == 40 and int(key, 16) >= 0
    assert hash_key(key) != key and len(hash_key(key)) == 64


def test_token_is_valid_until_its_expiry_and_not_after():
    t = token()
    assert not t.is_expired(NOW + timedelta(seconds=3599))
    assert t.is_expired(NOW + timedelta(seconds=3600))


def test_use_slides_the_expiry_but_writes_at_most_once_a_minute():
    t = token()
    assert t.renewed(NOW + timedelta(seconds=30)) is None
    later = NOW + RENEWAL_GRANULARITY + timedelta(seconds=1)
    renewed = t.renewed(later)
    assert renewed is not None and renewed.expires == later + timedelta(seconds=3600)


def test_token_without_lifetime_never_expires():
    t = token(lifetime=None)
    assert t.expires is None
    assert not t.is_expired(NOW + timedelta(days=3650))
    assert t.renewed(NOW + timedelta(days=1)) is None


def test_lockout_holds_within_the_window_only():
    failures = LoginFailures(count=5, window_ends=NOW + timedelta(minutes=10))
    assert failures.locked(NOW, limit=5)
    assert not failures.locked(NOW, limit=6)
    assert not failures.locked(NOW + timedelta(minutes=10), limit=5)
