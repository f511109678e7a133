"""The Chalice application: registers the blueprints and the middleware, and the API function's handler
for both API Gateway front doors (`api_handler`), with its SnapStart hooks."""

from __future__ import annotations

from typing import Any

from chalice.app import Chalice

from chalicelib import snapstart
from chalicelib.api import (
    absent_features,
    aggregate_limits,
    analytics_charts,
    analytics_costs,
    analytics_quotas,
    analytics_usages,
    auth,
    cognito,
    component_user_usage_limits,
    customers,
    daily_quotas,
    event_stats,
    events,
    financial_reports,
    health,
    hooks,
    icons,
    identity_providers,
    invitations,
    invoice_items,
    invoices,
    marketplace_agents,
    marketplace_imports,
    marketplace_offering_users,
    marketplace_offerings,
    marketplace_orders,
    marketplace_overview,
    marketplace_plans,
    marketplace_provider_lists,
    marketplace_providers,
    marketplace_resources,
    marketplace_robot_accounts,
    marketplace_stats_orders,
    marketplace_stats_providers,
    marketplace_stats_users,
    marketplace_usages,
    marketplace_user_usages,
    not_found,
    projects,
    quotas,
    roles,
    root,
    ssh_keys,
    support,
    support_attachments,
    support_catalog,
    support_feedbacks,
    support_webhooks,
    teams,
    users,
)
from chalicelib.api.middleware import cors, drf_shapes, security_headers

# Logs go through powertools (chalicelib/observability.py); Chalice would add a second, plain handler.
app = Chalice(app_name="cirrus", configure_logs=False)
# A multipart upload (support attachments) reaches the app as bytes: API Gateway base64-encodes it,
# and the local server too.
app.api.binary_types.append("multipart/form-data")
app.register_middleware(drf_shapes, "http")
app.register_middleware(security_headers, "http")
app.register_middleware(cors, "http")
for blueprint in (
    root.bp,
    auth.bp,
    cognito.bp,
    customers.bp,
    projects.bp,
    users.bp,
    teams.bp,
    roles.bp,
    invitations.bp,
    events.bp,
    hooks.bp,
    marketplace_providers.bp,
    marketplace_offerings.bp,
    marketplace_plans.bp,
    marketplace_orders.bp,
    marketplace_resources.bp,
    marketplace_usages.bp,
    quotas.bp,
    invoices.bp,
    invoice_items.bp,
    marketplace_user_usages.bp,
    component_user_usage_limits.bp,
    marketplace_agents.bp,
    ssh_keys.bp,
    marketplace_offering_users.bp,
    marketplace_provider_lists.bp,
    marketplace_robot_accounts.bp,
    identity_providers.bp,
    icons.bp,
    health.bp,
    absent_features.bp,
    financial_reports.bp,
    aggregate_limits.bp,
    analytics_quotas.bp,
    daily_quotas.bp,
    analytics_costs.bp,
    marketplace_stats_orders.bp,
    marketplace_stats_users.bp,
    analytics_usages.bp,
    analytics_charts.bp,
    event_stats.bp,
    marketplace_stats_providers.bp,
    marketplace_overview.bp,
    marketplace_imports.bp,
    support.bp,
    support_attachments.bp,
    support_catalog.bp,
    support_webhooks.bp,
    support_feedbacks.bp,
):
    app.register_blueprint(blueprint)
# Last: whatever no route above serves (any path, any method) is Waldur's 404.
app.register_blueprint(not_found.bp)


def api_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The API function's handler: the HTTP API's events (payload 1.0, `$default` route) routed by
    the app's route table (chalicelib/api/gateway.py); a REST API's events go to the app unchanged."""
    from chalicelib.api import gateway

    return gateway.handle(app, event, context)


# SnapStart: Lambda snapshots the API function after this module's import (its init), so the runtime
# hooks must be registered now; a registration during a request would come after the restore it is
# meant for. Cheap: no I/O, and nothing at all outside Lambda's Python runtime (chalicelib/snapstart.py).
snapstart.register(app)


# Queue consumers, one per priority tier. Queue names here are placeholders Chalice needs at package
# time; CDK points each event source at its stage's queue (and turns on ReportBatchItemFailures).
@app.on_sqs_message(queue="cirrus-tasks", batch_size=10, name="tasks_worker")
def tasks_worker(event: Any) -> dict[str, Any]:
    return _consume(event)


@app.on_sqs_message(queue="cirrus-heavy", batch_size=1, name="heavy_worker")
def heavy_worker(event: Any) -> dict[str, Any]:
    return _consume(event)


@app.on_sqs_message(queue="cirrus-background", batch_size=10, name="background_worker")
def background_worker(event: Any) -> dict[str, Any]:
    return _consume(event)


# The audit log's publisher: the table's stream → the EventBridge bus and the hooks. The stream ARN
# is a placeholder Chalice needs at package time; CDK points the event source at the table's stream,
# filters it to event inserts and turns on ReportBatchItemFailures.
@app.on_dynamodb_record(
    stream_arn="arn:aws:dynamodb:us-east-1:000000000000:table/cirrus/stream/placeholder",
    batch_size=100,
    starting_position="TRIM_HORIZON",
    name="events_publisher",
)
def events_publisher(event: Any) -> dict[str, Any]:
    from chalicelib.workflows.publisher import handle_stream_event

    return handle_stream_event(event.to_dict(), event.context)


def _consume(event: Any) -> dict[str, Any]:
    from chalicelib.workflows.consumer import handle_sqs_event

    return handle_sqs_event(event.to_dict(), event.context)  # the Lambda context: for the logs
