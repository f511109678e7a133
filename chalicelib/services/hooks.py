"""Hook use cases (Waldur's `hooks-web/`, `hooks-email/`, `hooks/`): create, list, retrieve, change
and delete a user's web and email hooks.

Who may do what: every signed-in user manages their own hooks; staff see and manage everybody's.
Anybody else's hook is a 404, as in Waldur (its StaffOrUserFilter). Hook changes write no events
(Waldur logs none). A web hook's URL that names a loopback, private, link-local, multicast,
reserved or unspecified address itself (in any form) is refused unless the operator allows its
network (`domain.hooks.check_destination`); names are vetted at each delivery.
Delivering events to hooks is `services/hook_delivery.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from chalicelib.config import get_settings
from chalicelib.domain import hooks as domain
from chalicelib.domain.clock import utcnow
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import NotFound
from chalicelib.domain.hooks import ContentType, Hook, HookKind
from chalicelib.domain.ids import new_id, parse_id
from chalicelib.domain.request_keys import RequestKey
from chalicelib.domain.users import User
from chalicelib.services import request_keys
from chalicelib.services.paging import Page, PageRequest, paginate
from chalicelib.services.ports import UnitOfWork, unit_of_work
from chalicelib.services.ports import hooks as store
from chalicelib.services.ports import users as user_store

MODELS = {HookKind.WEB: domain.WEB_MODEL, HookKind.EMAIL: domain.EMAIL_MODEL}
# A user's hooks deleted with the user in one transaction; beyond that, each goes first on its own.
_HOOKS_WITH_USER = 40


@dataclass(frozen=True)
class HookView:
    """A hook with its author; `secret` is set only in the answer to its creation."""

    hook: Hook
    author: User | None
    secret: str | None = None


def describe(hooks: list[Hook]) -> list[HookView]:
    """Join hooks with their authors: one BatchGetItem per 100 distinct authors."""
    authors = user_store.get_many([h.user_id for h in hooks]) if hooks else {}
    return [HookView(h, authors.get(h.user_id)) for h in hooks]


def _may_manage(principal: Principal, hook: Hook) -> bool:
    return principal.is_staff or hook.user_id == principal.user_id


def get_visible(principal: Principal, kind: HookKind, hook_id: str) -> Hook:
    hook = store.load(kind, hook_id)
    if hook is None or not _may_manage(principal, hook):
        raise NotFound(MODELS[kind])
    return hook


def retrieve(principal: Principal, kind: HookKind, hook_id: str) -> HookView:
    return describe([get_visible(principal, kind, hook_id)])[0]


# --- commands --------------------------------------------------------------------------------------
def create_hook(ctx: EventContext, kind: HookKind, sent: Mapping[str, Any]) -> HookView:
    """Make a hook owned by the caller. A web hook gets the secret sent, or a new one; the answer is
    the only place it is ever shown (and the answer to its creation's retry with the same
    `Idempotency-Key`, which only its owner can send: that client never saw the first answer)."""
    return request_keys.once(
        ctx, lambda: _create_hook(ctx, kind, sent), lambda used: _created(ctx, kind, used)
    )


def _created(ctx: EventContext, kind: HookKind, used: RequestKey) -> HookView:
    hook = get_visible(ctx.actor, kind, used.object_id)
    view = describe([hook])[0]
    return HookView(view.hook, view.author, hook.secret if kind is HookKind.WEB else None)


def _create_hook(ctx: EventContext, kind: HookKind, sent: Mapping[str, Any]) -> HookView:
    principal = ctx.actor
    values = domain.subscription_changes(sent, creating=True)
    _check_destination(values)
    given = values.pop("secret", None)
    secret = str(given or domain.new_secret()) if kind is HookKind.WEB else ""
    if "content_type" in values:
        values["content_type"] = ContentType(values["content_type"])
    now = utcnow()
    hook = Hook(
        id=new_id(),
        user_id=principal.user_id,
        kind=kind,
        created=now,
        modified=now,
        secret=secret,
        version=1,
        **values,
    )
    uow = unit_of_work()
    store.add(uow, hook)
    request_keys.remember(uow, ctx, hook.id)
    uow.commit()
    view = describe([hook])[0]
    return HookView(view.hook, view.author, secret if kind is HookKind.WEB else None)


def update_hook(ctx: EventContext, kind: HookKind, hook_id: str, sent: Mapping[str, Any]) -> HookView:
    """Change what was sent (PUT and PATCH alike, as DRF does); groups sent are expanded again."""
    before = get_visible(ctx.actor, kind, hook_id)
    values = domain.subscription_changes(sent, creating=False)
    _check_destination(values)
    if "content_type" in values:
        values["content_type"] = ContentType(values["content_type"])
    if kind is HookKind.EMAIL:
        values.pop("secret", None)  # email hooks sign nothing
    after = before.changed(values, utcnow())
    uow = unit_of_work()
    store.save_changes(uow, before, after)
    uow.commit()
    return describe([after])[0]


def _check_destination(values: Mapping[str, Any]) -> None:
    """A web hook's URL naming an address itself must name an allowed one (400 otherwise)."""
    if values.get("destination_url"):
        domain.check_destination(str(values["destination_url"]), get_settings().hook_allowed_networks)


def delete_hook(ctx: EventContext, kind: HookKind, hook_id: str) -> None:
    hook = get_visible(ctx.actor, kind, hook_id)
    uow = unit_of_work()
    store.remove(uow, hook)
    uow.commit()


def remove_user_hooks(uow: UnitOfWork, user_id: str) -> None:
    """Delete a user's hooks with the user (their deletion's unit of work). Their index entries go
    after the commit; a user with very many hooks loses the oldest ones first, each on its own."""
    hooks = store.for_user(user_id)
    for extra in hooks[:-_HOOKS_WITH_USER]:
        own = unit_of_work()
        store.remove(own, extra)
        own.commit()
    store.remove_all(uow, hooks[-_HOOKS_WITH_USER:])


# --- listing ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HookFilters:
    """Waldur's BaseHookFilter, WebHookFilter and EmailHookFilter."""

    author_uuid: str | None = None
    author_fullname: str | None = None  # contains
    author_username: str | None = None
    author_email: str | None = None
    query: str | None = None  # author's name, username or email contains
    is_active: bool | None = None
    last_published: datetime | None = None
    destination_url: str | None = None
    content_type: str | None = None  # json | form (Waldur's 1 | 2)
    email: str | None = None

    def any(self) -> bool:
        return any(getattr(self, f.name) is not None for f in fields(self))

    def matches(self, view: HookView) -> bool:
        return all(check(view) for check in self._checks())

    def _checks(self) -> list[Callable[[HookView], bool]]:
        checks: list[Callable[[HookView], bool]] = []
        if self.author_uuid is not None:
            wanted = parse_id(self.author_uuid)
            checks.append(lambda v: v.hook.user_id == wanted)
        if self.author_fullname is not None:
            needle = self.author_fullname.lower()
            checks.append(lambda v: needle in _author(v, "full_name").lower())
        if self.author_username is not None:
            checks.append(lambda v: _author(v, "username") == self.author_username)
        if self.author_email is not None:
            checks.append(lambda v: _author(v, "email") == self.author_email)
        if self.query is not None:
            needle = self.query.lower()
            checks.append(
                lambda v: any(needle in _author(v, f).lower() for f in ("full_name", "username", "email"))
            )
        checks += self._hook_checks()
        return checks

    def _hook_checks(self) -> list[Callable[[HookView], bool]]:
        checks: list[Callable[[HookView], bool]] = []
        if self.is_active is not None:
            checks.append(lambda v: v.hook.is_active is self.is_active)
        if self.last_published is not None:
            checks.append(lambda v: v.hook.last_published == self.last_published)
        if self.destination_url is not None:
            checks.append(lambda v: v.hook.destination_url == self.destination_url)
        if self.content_type is not None:
            checks.append(lambda v: v.hook.content_type.value == self.content_type)
        if self.email is not None:
            checks.append(lambda v: v.hook.email == self.email)
        return checks


def _author(view: HookView, name: str) -> str:
    return str(getattr(view.author, name, "") or "")


def _candidates(principal: Principal, kind: HookKind | None) -> list[Hook]:
    """Staff: every hook of the kind (or both kinds); others: their own, one Query."""
    if not principal.is_staff:
        return store.for_user(principal.user_id, kind)
    kinds = [kind] if kind else list(HookKind)
    return [h for k in kinds for h in store.read_all(k)]


def list_hooks(
    principal: Principal, kind: HookKind | None, filters: HookFilters, request: PageRequest
) -> Page[HookView]:
    """Newest first (Waldur's `-created`). Staff's unfiltered list of one kind reads one page of
    gsi1; everything else reads the candidates, filters and pages them in memory."""
    if principal.is_staff and kind is not None and not filters.any():
        found = store.page_all(kind, request)
        return Page(describe(found.items), found.total)
    views = [
        v for v in describe(domain.sorted_newest_first(_candidates(principal, kind))) if filters.matches(v)
    ]
    return paginate(views, request)
