"""`/api/support-jira-webhook/` and `/api/support-zammad-webhook/` (Waldur's paths, as
waldur-api-client's `support_jira_webhook` / `support_zammad_webhook` name them): an external
service desk tells Cirrus that one of its issues changed.

No Cirrus credentials: the desk signs the raw body (`X-Hub-Signature`, HMAC with the webhook secret
of the backend's settings) and the adapter's `parse_webhook` checks it; a webhook that is not
signed so is 403 and changes nothing. A desk that is not the configured one is 404 (as if the route
did not exist). The body is bounded (1 MiB: 413 beyond). A good webhook only queues a pull of the
issue it names (`support_sync.pull_issue`: the remote is read afresh, so a forged-but-signed or
replayed body can at most cause a pull) and is answered 202 at once.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint  # type: ignore[attr-defined]

from chalicelib import observability
from chalicelib.api import errors
from chalicelib.api.rest import Call, ResponseModel, WithStatus, endpoint

bp = Blueprint(__name__)
TAG = "support"
MAX_BODY_BYTES = 1024 * 1024  # the adapters' own bound (support_backends.base.MAX_WEBHOOK_BYTES)


class WebhookAccepted(ResponseModel):
    """The webhook was verified and a pull of its issue is queued."""

    detail: str


def _accept(call: Call, kind: str) -> Any:
    from chalicelib.services import support_sync
    from chalicelib.support_backends import SettingsError, WebhookRefused, configured

    if configured.kind() != kind:
        raise errors.detail(404, "Not found.")
    raw = bp.current_request.raw_body or b""
    body = raw.encode() if isinstance(raw, str) else raw
    if len(body) > MAX_BODY_BYTES:
        raise errors.detail(413, f"A webhook body may hold at most {MAX_BODY_BYTES} bytes.")
    try:
        backend = configured.backend()
    except SettingsError as error:
        observability.logger().error("support backend misconfigured", extra={"problem": str(error)})
        raise errors.detail(503, "The support backend is not configured correctly.") from error
    try:
        issue = support_sync.accept_webhook(call.ctx, backend, kind, dict(call.headers), body)
    except WebhookRefused as refused:
        observability.logger().warning(
            "support webhook refused", extra={"backend": kind, "why": str(refused)}
        )
        raise errors.detail(403, "Webhook signature verification failed.") from refused
    observability.logger().info("support webhook accepted", extra={"backend": kind, "backend_id": issue})
    return WithStatus({"detail": "Accepted."}, 202)


@endpoint(
    bp,
    "/api/support-jira-webhook",
    "POST",
    name="support_jira_webhook",
    tag=TAG,
    anonymous=True,
    response=WebhookAccepted,
    status=202,
    summary="A Jira Service Management webhook (signed X-Hub-Signature: sha256=...)",
)
def support_jira_webhook(call: Call) -> Any:
    return _accept(call, "jira")


@endpoint(
    bp,
    "/api/support-zammad-webhook",
    "POST",
    name="support_zammad_webhook",
    tag=TAG,
    anonymous=True,
    response=WebhookAccepted,
    status=202,
    summary="A Zammad webhook (signed X-Hub-Signature: sha1=...)",
)
def support_zammad_webhook(call: Call) -> Any:
    return _accept(call, "zammad")
