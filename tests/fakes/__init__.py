"""In-memory implementations of every port (`chalicelib.services.ports`), for service specifications.

`build()` makes a fresh `World` and the `Ports` over it; `tests/contract/` checks each fake against
the DynamoDB store it stands for, so a specification that passes here means the same on moto/AWS.
"""

from __future__ import annotations

from chalicelib.services.ports import Ports
from tests.fakes.agents import FakeAgents
from tests.fakes.analytics import FakeAnalytics
from tests.fakes.audit import FakeEvents, FakeHooks
from tests.fakes.billing import FakeInvoices
from tests.fakes.catalog import FakeCategories, FakeOfferings, FakeServiceProviders
from tests.fakes.files import FakeFiles
from tests.fakes.identity import FakeRoles, FakeTokens, FakeUsers
from tests.fakes.mail import FakeMailer
from tests.fakes.marketplace import FakeOrders, FakeResources, FakeUsages, FakeUserLimits, FakeUserUsages
from tests.fakes.memberships import FakeGrants, FakeInvitations
from tests.fakes.offering_users import FakeOfferingUsers
from tests.fakes.organizations import FakeCustomers, FakeProjects
from tests.fakes.request_keys import FakeRequestKeys
from tests.fakes.robot_accounts import FakeRobotAccounts
from tests.fakes.slugs import FakeSlugs
from tests.fakes.ssh_keys import FakeSshKeys
from tests.fakes.support import FakeSupportDesk
from tests.fakes.support_attachments import FakeSupportAttachments
from tests.fakes.support_catalog import FakeSupportCatalog
from tests.fakes.support_feedbacks import FakeSupportFeedbacks
from tests.fakes.support_sync import FakeSupportLinks
from tests.fakes.world import FakeUnitOfWork, World, carry_out

__all__ = ["FakeUnitOfWork", "World", "build"]


def build(world: World | None = None) -> Ports:
    """Ports backed by `world` (a new, empty one by default)."""
    world = world or World()
    return Ports(
        unit_of_work=lambda: FakeUnitOfWork(world),
        effects=lambda effects: carry_out(world, effects),
        categories=FakeCategories(world),
        offerings=FakeOfferings(world),
        service_providers=FakeServiceProviders(world),
        users=FakeUsers(world),
        tokens=FakeTokens(world),
        roles=FakeRoles(world),
        orders=FakeOrders(world),
        resources=FakeResources(world),
        usages=FakeUsages(world),
        grants=FakeGrants(world),
        invitations=FakeInvitations(world),
        customers=FakeCustomers(world),
        projects=FakeProjects(world),
        events=FakeEvents(world),
        hooks=FakeHooks(world),
        mailer=FakeMailer(world),
        files=FakeFiles(world),
        invoices=FakeInvoices(world),
        user_usages=FakeUserUsages(world),
        user_limits=FakeUserLimits(world),
        agents=FakeAgents(world),
        ssh_keys=FakeSshKeys(world),
        slugs=FakeSlugs(world),
        offering_users=FakeOfferingUsers(world),
        robot_accounts=FakeRobotAccounts(world),
        request_keys=FakeRequestKeys(world),
        support=FakeSupportDesk(world),
        support_catalog=FakeSupportCatalog(world),
        support_attachments=FakeSupportAttachments(world),
        support_links=FakeSupportLinks(world),
        support_feedbacks=FakeSupportFeedbacks(world),
        analytics=FakeAnalytics(world),
    )
