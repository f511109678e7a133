"""Quota arithmetic. Waldur's counters are informational; Cirrus enforces them (store: atomically)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib.domain.errors import QuotaExceeded
from chalicelib.domain.numbers import MAX_INTEGER, at_most

UNLIMITED = -1

PROJECT_COUNT = "nc_project_count"
USER_COUNT = "nc_user_count"
RESOURCE_COUNT = "nc_resource_count"

CUSTOMER_QUOTAS: tuple[str, ...] = (PROJECT_COUNT, USER_COUNT, RESOURCE_COUNT)
PROJECT_QUOTAS: tuple[str, ...] = (RESOURCE_COUNT,)


@dataclass(frozen=True)
class Quota:
    name: str
    usage: int
    limit: int = UNLIMITED

    def allows(self, delta: int) -> bool:
        return delta <= 0 or self.limit == UNLIMITED or self.usage + delta <= self.limit

    def require(self, delta: int) -> None:
        if not self.allows(delta):
            raise QuotaExceeded(self.name, self.limit, self.usage + delta)


def quotas_of(names: tuple[str, ...], usage: Mapping[str, int], limits: Mapping[str, int]) -> list[Quota]:
    return [Quota(n, int(usage.get(n, 0)), int(limits.get(n, UNLIMITED))) for n in names]


def check_limits(names: tuple[str, ...], limits: Mapping[str, object]) -> dict[str, int]:
    """New limits for some of `names`: whole numbers, -1 (unlimited) or more. Setting a limit
    below the current usage is allowed (as in Waldur): it refuses further use, it takes nothing."""
    from chalicelib.domain.errors import ValidationError

    errors = [f"Unknown quota: {name}." for name in limits if name not in names]
    whole = {n: v for n, v in limits.items() if isinstance(v, int) and not isinstance(v, bool)}
    errors += [
        f"{name}: the limit must be a whole number, -1 (unlimited) or more."
        for name, value in limits.items()
        if name in names and (name not in whole or whole[name] < UNLIMITED)
    ]
    errors += [f"{n}: {at_most(MAX_INTEGER)}" for n, v in whole.items() if n in names and v > MAX_INTEGER]
    if errors or not limits:
        raise ValidationError({"quotas": errors or ["Name at least one quota."]})
    return {name: int(value) for name, value in limits.items()}  # type: ignore[call-overload]
