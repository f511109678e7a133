"""Adapters that connect Cirrus's support desk to an external service desk (see README.md).

`build(kind, settings)` makes one from a flat dict of strings; the modules import lazily so that
nothing is loaded until a backend is configured.
"""

from __future__ import annotations

from collections.abc import Mapping

from chalicelib.support_backends.base import (
    BackendError,
    BackendRefused,
    BackendUnavailable,
    NewIssue,
    RemoteComment,
    RemoteIssue,
    SettingsError,
    SupportBackend,
    WebhookEvent,
    WebhookRefused,
)

KINDS = ("jira", "zammad")

__all__ = [
    "KINDS",
    "BackendError",
    "BackendRefused",
    "BackendUnavailable",
    "NewIssue",
    "RemoteComment",
    "RemoteIssue",
    "SettingsError",
    "SupportBackend",
    "WebhookEvent",
    "WebhookRefused",
    "build",
]


def build(kind: str, settings: Mapping[str, str]) -> SupportBackend:
    """The adapter named `kind` ("jira" or "zammad") from its settings."""
    if kind == "jira":
        from chalicelib.support_backends import jira

        return jira.from_settings(settings)
    if kind == "zammad":
        from chalicelib.support_backends import zammad

        return zammad.from_settings(settings)
    raise SettingsError(f"unknown support backend {kind!r}; expected one of {', '.join(KINDS)}")
