"""Site agent identities, services and processors, specified on the in-memory fakes: who sees and
registers them (the offering's provider, its OFFERING.MANAGER, staff; support reads), and what
one identity may hold. The same routes are driven through waldur-api-client by
tests/compat/test_site_agent_identities_clients.py and by the stock agent in tests/site_agent/."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.domain import agents as rules
from chalicelib.domain.context import EventContext, Principal
from chalicelib.domain.errors import NotFound, PermissionDenied, ValidationError
from chalicelib.domain.roles import CUSTOMER_OWNER, OFFERING_MANAGER, ScopeType
from chalicelib.services import access, agents, memberships, offerings
from chalicelib.services.agents import IdentityInput, ProcessorFilters, ServiceFilters
from chalicelib.services.ports import unit_of_work
from tests.fakes import World


def _person(username: str, **flags: bool) -> EventContext:
    from chalicelib.domain.ids import new_id
    from chalicelib.domain.users import User
    from chalicelib.services.ports import users

    user = User(id=new_id(), username=username, date_joined=datetime.now(UTC), **flags)  # type: ignore[arg-type]
    uow = unit_of_work()
    users.add(uow, user)
    uow.commit()
    return EventContext(principal=user.principal(), ip_address="10.0.0.9")


def _who(ctx: EventContext) -> Principal:
    assert ctx.principal is not None
    return ctx.principal


def _grant(by: EventContext, who: EventContext, scope_type: ScopeType, scope_id: str, role: str) -> None:
    scope = memberships.find_scope(scope_type, scope_id)
    assert scope is not None
    memberships.add_user(by, scope, _who(who).user_id, role, None)


@dataclass
class Site:
    staff: EventContext
    owner: EventContext  # CUSTOMER.OWNER of the provider
    manager: EventContext  # OFFERING.MANAGER of `offering` only
    support: EventContext  # platform support
    stranger: EventContext
    offering: str
    other_offering: str

    def identity(self, name: str = "agent-1", offering: str | None = None) -> IdentityInput:
        return IdentityInput(offering_id=offering or self.offering, name=name, version_text="1.0.7")


@pytest.fixture
def site(fakes: World) -> Iterator[Site]:
    from chalicelib.services import customers

    access._memo.set(None)
    access._roles_memo.set(None)
    staff = _person("staff", is_staff=True)
    provider = customers.create_customer(staff, {"name": "HPC Centre"})
    made = []
    for name in ("Cluster", "Storage"):
        data: dict[str, Any] = {"name": name, "type": "Marketplace.Slurm", "plans": []}
        made.append(offerings.create_offering(staff, provider.id, data).id)
    owner, manager, stranger = (_person(n) for n in ("owner", "manager", "stranger"))
    support = _person("platform-support", is_support=True)
    _grant(staff, owner, ScopeType.CUSTOMER, provider.id, CUSTOMER_OWNER)
    _grant(staff, manager, ScopeType.OFFERING, made[0], OFFERING_MANAGER)
    yield Site(staff, owner, manager, support, stranger, made[0], made[1])


def test_the_offering_manager_registers_for_their_offering_only(site: Site) -> None:
    view = agents.create_identity(site.manager, site.identity())
    service, made = agents.register_service(site.manager, view.identity.id, "report", "report")
    again, made_again = agents.register_service(site.manager, view.identity.id, "report", "report")
    assert (made, made_again, again.service.id) == (True, False, service.service.id)
    processor, service_name, _ = agents.register_processor(
        site.manager, service.service.id, "OfferingReportProcessor", "mock", "1.0"
    )
    assert service_name == "report" and processor.last_run is not None

    with pytest.raises(ValidationError) as refused:  # an offering of the provider they do not manage
        agents.create_identity(site.manager, site.identity(offering=site.other_offering))
    assert refused.value.errors == {"offering": [agents.NO_OFFERING.format(site.other_offering)]}
    elsewhere = agents.create_identity(site.owner, site.identity("agent-2", site.other_offering))
    assert [v.identity.id for v in agents.list_identities(_who(site.manager))] == [view.identity.id]
    with pytest.raises(NotFound):
        agents.get_identity(_who(site.manager), elsewhere.identity.id)
    owned = agents.list_identities(_who(site.owner))
    assert [v.identity.id for v in owned] == [view.identity.id, elsewhere.identity.id]
    assert [s.service.name for s in agents.list_services(_who(site.owner), ServiceFilters())] == ["report"]
    assert [p.name for p, _ in agents.list_processors(_who(site.owner), ProcessorFilters())] == [
        "OfferingReportProcessor"
    ]


def test_strangers_see_nothing_and_support_reads_without_acting(site: Site) -> None:
    view = agents.create_identity(site.owner, site.identity())
    assert agents.list_identities(_who(site.stranger)) == []
    with pytest.raises(NotFound):
        agents.get_identity(_who(site.stranger), view.identity.id)
    with pytest.raises(NotFound):
        agents.register_service(site.stranger, view.identity.id, "report", None)
    with pytest.raises(NotFound):
        agents.delete_identity(site.stranger, view.identity.id)

    assert agents.get_identity(_who(site.support), view.identity.id).identity.name == "agent-1"
    with pytest.raises(PermissionDenied):
        agents.register_service(site.support, view.identity.id, "report", None)
    with pytest.raises(PermissionDenied):
        agents.update_identity(site.support, view.identity.id, site.identity("renamed"))
    assert agents.get_identity(_who(site.staff), view.identity.id).services == ()


def test_what_one_identity_may_hold(site: Site) -> None:
    view = agents.create_identity(site.owner, site.identity())
    identity_id = view.identity.id
    for n in range(rules.MAX_SERVICES):
        agents.register_service(site.owner, identity_id, f"mode-{n}", None)
    with pytest.raises(ValidationError) as refused:
        agents.register_service(site.owner, identity_id, "one-more", None)
    assert refused.value.errors == [rules.TOO_MANY_SERVICES]
    assert len(agents.get_identity(_who(site.owner), identity_id).services) == rules.MAX_SERVICES

    service_id = agents.get_identity(_who(site.owner), identity_id).services[0][0].id
    with pytest.raises(ValidationError):
        agents.set_statistics(site.owner, service_id, {"blob": "x" * rules.STATISTICS.max_bytes})
    assert agents.get_service(_who(site.owner), service_id).service.statistics == {}
    with pytest.raises(ValidationError) as moved:
        agents.update_identity(site.owner, identity_id, site.identity(offering=site.other_offering))
    assert moved.value.errors == {"offering": [rules.OFFERING_FIXED]}

    agents.delete_identity(site.owner, identity_id)
    assert agents.list_identities(_who(site.staff)) == []
    assert agents.list_services(_who(site.staff), ServiceFilters()) == []


def test_a_list_reads_the_services_and_processors_once_however_many_identities(
    site: Site, fakes: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.services.ports import current

    agent_store = current().agents
    for n in range(3):
        identity = agents.create_identity(site.owner, site.identity(f"agent-{n}")).identity
        service, _ = agents.register_service(site.owner, identity.id, "report", "report")
        agents.register_processor(site.owner, service.service.id, f"p-{n}", "mock", None)
    reads: list[str] = []
    for name in ("identities", "services", "processors"):
        original = getattr(agent_store, name)
        monkeypatch.setattr(
            agent_store, name, lambda *a, _o=original, _n=name, **k: reads.append(_n) or _o(*a, **k)
        )

    listed = agents.list_identities(_who(site.owner))
    assert [len(v.services[0][1]) for v in listed] == [1, 1, 1]
    assert sorted(reads) == ["identities", "processors", "services"]  # one each, not one per identity
    reads.clear()
    services = agents.list_services(_who(site.owner), ServiceFilters())
    assert [s.identity_name for s in services] == ["agent-0", "agent-1", "agent-2"]
    assert [len(s.processors) for s in services] == [1, 1, 1]
    assert sorted(reads) == ["identities", "processors", "services"]


def test_an_identity_put_with_its_own_fields_changes_nothing(site: Site) -> None:
    """The same fields again (a client repeating its PUT) write nothing: version and `modified`
    stay; a changed field is stored with a new version, and the permission check comes first."""
    restarted = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    given = replace(site.identity(), last_restarted=restarted)
    first = agents.create_identity(site.owner, given).identity
    again = agents.update_identity(site.owner, first.id, given).identity
    assert (again.version, again.modified) == (first.version, first.modified)
    with pytest.raises(PermissionDenied):
        agents.update_identity(site.support, first.id, given)  # even a no-op is refused to support
    changed = agents.update_identity(site.owner, first.id, replace(given, version_text="1.0.8")).identity
    assert (changed.version, changed.version_text) == (first.version + 1, "1.0.8")
    assert agents.get_identity(_who(site.owner), first.id).identity == changed
