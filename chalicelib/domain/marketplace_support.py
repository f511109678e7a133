"""Request-based offerings (Waldur's `marketplace_support` app, offering type
`Support.OfferingTemplate`): an order of such an offering is a request to the provider's people,
carried by a support ticket.

- The order needs no provider review (Waldur's order_should_not_be_reviewed_by_provider): once the
  consumer's side approved it, it executes, and the order workflow opens one issue for it (type
  "Service Request", Waldur's ATLASSIAN_DEFAULT_OFFERING_ISSUE_TYPE), its caller the order's
  creator, its scopes the order's customer, project and resource. The issue's id is fixed by the
  order's, so opening it twice makes one issue.
- The text says what is asked (Waldur's marketplace_support templates): a create order names the
  offering, its provider, the resource, the plan, the ordered options and limits and who ordered;
  an update order the old and new limits or plans; a terminate order the resource.
- When the desk resolves the issue the order is done (the resource OK, changed, or Terminated for a
  terminate order); when it cancels it, as Waldur's RESOURCE_CALLBACKS do: a create order is
  canceled and its resource Terminated, an update order erred and its resource Erred, a terminate
  order erred and its resource left OK.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from chalicelib.domain.orders import Order
from chalicelib.domain.support import DESCRIPTION_MAX_BYTES, SUMMARY_MAX
from chalicelib.domain.vocabulary import Offering, OrderType, ResourceState

PLUGIN_NAME = "Support.OfferingTemplate"
ISSUE_TYPE = "Service Request"  # Waldur's ATLASSIAN_DEFAULT_OFFERING_ISSUE_TYPE
_ISSUE_NAMESPACE = uuid.UUID("6f0c1d2e-8a4b-4c5d-9e7f-1a2b3c4d5e6f")

CANCELED_MESSAGE = "The support request {key} for this order was canceled."
NONE = "none"  # Waldur's `default:"none"`
TRUNCATED = "\n[…]"


def issue_id_of(order_id: str, execution: int = 1) -> str:
    """The fixed id of the issue an order's execution opens: a redelivery or a second worker makes
    the same issue (a retried erred order, a new execution, opens a new one)."""
    name = order_id if execution <= 1 else f"{order_id}#{execution}"
    return uuid.uuid5(_ISSUE_NAMESPACE, name).hex


@dataclass(frozen=True)
class Links:
    """Where people see the order and the resource (HomePort's pages, Waldur's get_order_url and
    get_request_link); empty when no HomePort address is configured."""

    order: str = ""
    resource: str = ""


def homeport_links(homeport_url: str | None, order: Order) -> Links:
    if not homeport_url:
        return Links()
    base = homeport_url.rstrip("/")
    return Links(
        order=f"{base}/projects/{order.project_id}/marketplace-order-details/{order.id}/",
        resource=f"{base}/projects/{order.project_id}/support/{order.resource_id}/",
    )


@dataclass(frozen=True)
class Request:
    summary: str
    description: str


def _linked(text: str, url: str) -> str:
    """Jira's `[text|url]` (Waldur's templates), or the text alone without an address."""
    return f"[{text}|{url}]" if url else text


def _plan_details(offering: Offering, plan_id: str | None) -> str:
    """Waldur's plan_details: the plan's name and its priced components (usage ones left out)."""
    plan = offering.plan(plan_id) if plan_id else None
    if plan is None:
        return "Plan: none"
    lines = [f"Plan: {plan.name}"]
    for component_type, price in sorted(plan.prices.items()):
        component = offering.component(component_type)
        if component is None or component.billing_type.value == "usage":
            continue
        amount = plan.quotas.get(component_type)
        shown = "" if amount is None else f"{amount} x "
        lines.append(f"    {component.name or component_type}: {shown}{price}")
    return "\n".join(lines)


def _limits_list(offering: Offering, limits: Mapping[str, Any]) -> str:
    """Waldur's format_limits_list: `Name: value, ...`."""
    named = []
    for key, value in limits.items():
        component = offering.component(key)
        named.append(f"{(component.name if component else '') or key}: {value}")
    return ", ".join(named)


def _ordered_options(order: Order, offering: Offering) -> list[str]:
    """The order's attributes the offering's options form asks for, in its order, by their labels
    (Waldur's format_create_description), then the free-text `description` if any."""
    lines: list[str] = []
    options: Mapping[str, Any] = offering.options if isinstance(offering.options, Mapping) else {}
    found = options.get("options")
    fields: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    wanted = options.get("order")
    for key in wanted if isinstance(wanted, list) else []:
        if not isinstance(key, str) or key not in order.attributes:
            continue
        field = fields.get(key)
        label = field.get("label") if isinstance(field, Mapping) else None
        lines.append(f"{label or key}: '{order.attributes[key]}'")
    if "description" in order.attributes:
        lines.append(f"\n {order.attributes['description']}")
    return lines


def _create(order: Order, offering: Offering, links: Links) -> Request:
    creator = order.created_by
    lines = _ordered_options(order, offering)
    lines += [
        f"{_linked('Order', links.order)}.",
        f"Provider: {order.provider_name or NONE}",
        f"Resource UUID: {order.resource_id}",
        f"Resource name: {order.resource_name}",
        "Plan details:",
        "    " + _plan_details(offering, order.plan_id).replace("\n", "\n    "),
        f"Full name: {(creator.full_name if creator else '') or NONE}",
        f"Email: {(creator.email if creator else '') or NONE}",
    ]
    for key, value in order.limits.items():
        component = offering.component(key)
        if component is not None:
            lines.append(f"\n{component.name} ({component.type}): {value} {component.measured_unit}".rstrip())
    return Request(f"Request for {offering.name}", "\n".join(lines))


def _update(order: Order, offering: Offering, links: Links) -> Request:
    name = order.resource_name
    if order.plan_id == order.old_plan_id:  # a change of limits
        text = "\n".join(
            [
                f"{_linked(f'Update limits for resource {name}', links.resource)}.",
                f"Marketplace resource UUID: {order.resource_id}",
                f"Old limits: {_limits_list(offering, order.old_limits)}.",
                f"New limits: {_limits_list(offering, order.limits)}.",
            ]
        )
        return Request(f"Request to update limits for {name}", text)
    old = offering.plan(order.old_plan_id) if order.old_plan_id else None
    text = "\n".join(
        [
            f"{_linked(f'Switch plan for resource {name}', links.resource)}.",
            f"Switch from {old.name if old else NONE} plan to {order.plan_name or NONE}.",
            f"Marketplace resource UUID: {order.resource_id}",
        ]
    )
    return Request(f"Request to switch plan for {name}", text)


def _terminate(order: Order, offering: Offering, links: Links) -> Request:
    name = order.resource_name
    text = "\n".join(
        [
            f"{_linked(f'Terminate resource {name}', links.resource)}.",
            _plan_details(offering, order.plan_id),
            f"Marketplace resource UUID: {order.resource_id}",
        ]
    )
    return Request(f"Request to terminate resource {name}", text)


def _clip(text: str, max_bytes: int) -> str:
    data = text.encode()
    if len(data) <= max_bytes:
        return text
    room = max_bytes - len(TRUNCATED.encode())
    return data[:room].decode(errors="ignore") + TRUNCATED


def request_of(order: Order, offering: Offering, links: Links = Links()) -> Request:
    """The issue's summary and description for an order (Waldur's marketplace_support texts),
    within the desk's bounds (a longer description is cut, marked `[…]`)."""
    build = {OrderType.CREATE: _create, OrderType.UPDATE: _update, OrderType.TERMINATE: _terminate}
    made = build[order.type](order, offering, links)
    summary = made.summary if len(made.summary) <= SUMMARY_MAX else made.summary[: SUMMARY_MAX - 1] + "…"
    return Request(summary, _clip(made.description, DESCRIPTION_MAX_BYTES))


# --- what the issue's end does to the order ------------------------------------------------------
class Settlement(StrEnum):
    DONE = "done"
    CANCELED = "canceled"
    ERRED = "erred"


@dataclass(frozen=True)
class Outcome:
    settlement: Settlement
    resource_state: ResourceState | None = None  # None: the order's usual effect on its resource
    error_message: str = ""


def outcome(order_type: OrderType, resolved: bool, issue_key: str) -> Outcome:
    """Waldur's RESOURCE_CALLBACKS[(order type, issue resolved)]."""
    if resolved:
        return Outcome(Settlement.DONE)
    message = CANCELED_MESSAGE.format(key=issue_key)
    if order_type is OrderType.CREATE:
        return Outcome(Settlement.CANCELED, ResourceState.TERMINATED, message)
    if order_type is OrderType.UPDATE:
        return Outcome(Settlement.ERRED, ResourceState.ERRED, message)
    return Outcome(Settlement.ERRED, ResourceState.OK, message)
