from datetime import UTC, date, datetime

import pytest

from chalicelib.domain.errors import Conflict, QuotaExceeded, ValidationError
from chalicelib.domain.projects import Project
from chalicelib.domain.quotas import UNLIMITED, Quota
from chalicelib.domain.users import check_password, hash_password
from chalicelib.services.paging import Ordering


def test_quota_allows_up_to_its_limit_and_reports_waldurs_message():
    assert Quota("nc_project_count", 9, 10).allows(1)
    assert not Quota("nc_project_count", 10, 10).allows(1)
    assert Quota("nc_project_count", 10_000, UNLIMITED).allows(1)
    with pytest.raises(QuotaExceeded) as exc:
        Quota("nc_resource_count", 10, 10).require(1)
    assert exc.value.errors == [
        "One or more quotas were exceeded: nc_resource_count quota limit: 10, requires 11"
    ]


def test_passwords_hash_in_djangos_format_and_verify():
    encoded = hash_password("s3cret-pass", 1000)
    assert encoded.startswith("pbkdf2_sha256$1000$")
    assert check_password("s3cret-pass", encoded)
    assert not check_password("wrong", encoded)
    assert not check_password("s3cret-pass", "md5$x$y")


def _project(**kw):
    return Project(id="p", customer_id="c", name="P", created=datetime.now(UTC), **kw)


def test_project_end_date_before_start_is_refused():
    with pytest.raises(ValidationError):
        _project(start_date=date(2026, 2, 1), end_date=date(2026, 1, 1)).check_dates()
    _project(start_date=date(2026, 1, 1), end_date=date(2026, 1, 1)).check_dates()


def test_project_with_resources_cannot_be_removed():
    with pytest.raises(Conflict):
        _project(quota_usage={"nc_resource_count": 1}).check_removable()
    _project().check_removable()


@pytest.mark.parametrize(
    ("raw", "field", "descending"),
    [
        (None, None, False),
        ("name", "name", False),
        ("-created", "created", True),
        ("-name,created", "name", True),
    ],
)
def test_ordering_parses_drf_syntax(raw, field, descending):
    assert Ordering.parse(raw) == Ordering(field, descending)
