"""Which Host a request may name, and the scheme its absolute URLs get (Django's ALLOWED_HOSTS).

Absolute URLs in responses come from the configured public URL; without one, from the request's
Host and X-Forwarded-Proto. Either way the Host must be one the operator allows (CIRRUS_ALLOWED_HOSTS,
plus the public URL's own host), so a forged Host never turns into a link, and the scheme is http or
https, nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

# Django's host_validation_re: a name or dotted address, or a bracketed IPv6 address; then a port.
_HOST = re.compile(r"^([a-z0-9.-]+|\[[a-f0-9]*:[a-f0-9.:]+\])(:[0-9]+)?$")
SCHEMES = ("http", "https")
INVALID_HOST = "Invalid HTTP_HOST header."


def domain_of(host: str) -> str | None:
    """The host's domain (lowercase, without port or trailing dot; IPv6 keeps its brackets), or None
    when it is not a well-formed host."""
    found = _HOST.match(host.strip().lower())
    if found is None:
        return None
    domain = found.group(1)
    return domain[:-1] if domain.endswith(".") else domain


def matches(domain: str, pattern: str) -> bool:
    """Django's rule: `*` is any host, `.example.org` is example.org and its subdomains, anything
    else the exact (case-insensitive) name."""
    pattern = pattern.strip().lower()
    if pattern == "*":
        return True
    if pattern.startswith("."):
        return domain == pattern[1:] or domain.endswith(pattern)
    return domain == pattern


def allowed_patterns(configured: Iterable[str], public_url: str | None) -> list[str]:
    """The configured patterns and the public URL's host (always its own)."""
    patterns = list(configured)
    if public_url:
        own = domain_of(urlsplit(public_url).netloc.rsplit("@", 1)[-1])
        if own:
            patterns.append(own)
    return patterns


def is_allowed(host: str, patterns: Iterable[str]) -> bool:
    domain = domain_of(host)
    return domain is not None and any(matches(domain, p) for p in patterns)


def scheme(forwarded_proto: str | None) -> str:
    """The first X-Forwarded-Proto value if it is http or https; else http."""
    value = (forwarded_proto or "").split(",")[0].strip().lower()
    return value if value in SCHEMES else "http"
