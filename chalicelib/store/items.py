"""pynamodb models of the single table. One base model owns the physical schema; each entity is a
discriminated subclass, so a Query over a partition returns typed items.

Versions are managed explicitly (a plain number, conditioned on and bumped by field updates) rather
than with pynamodb's VersionAttribute, because counters (quota usage) are updated in place by other
writers and must not invalidate a concurrent edit of the entity's fields.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pynamodb.attributes import (
    Attribute,
    BooleanAttribute,
    DiscriminatorAttribute,
    JSONAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.connection import TableConnection
from pynamodb.constants import NUMBER
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.store import schema
from chalicelib.store.errors import watch_throttling


class DecimalAttribute(Attribute[Decimal]):
    """A DynamoDB number read and written as an exact Decimal (NumberAttribute goes through JSON and
    floats: sums of money would drift)."""

    attr_type = NUMBER

    def serialize(self, value: Decimal | int | float) -> str:
        return str(value if isinstance(value, Decimal) else Decimal(str(value)))

    def deserialize(self, value: str) -> Decimal:
        return Decimal(value)


class _Gsi1(GlobalSecondaryIndex["BaseItem"]):
    class Meta:
        index_name = schema.GSI1.name
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class _Gsi2(GlobalSecondaryIndex["BaseItem"]):
    class Meta:
        index_name = schema.GSI2.name
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class BaseItem(Model):
    class Meta:
        table_name = "cirrus"  # bound at runtime from settings (store/table.py)
        region = "us-east-1"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    type = DiscriminatorAttribute()
    version = NumberAttribute(default=0)
    expires_at = TTLAttribute(null=True)

    gsi1 = _Gsi1()
    gsi2 = _Gsi2()

    @classmethod
    def _get_connection(cls) -> TableConnection:
        # pynamodb keeps one connection (and so one botocore client, ~100 ms to build) per model
        # class; every entity here lives in the same table, so they all share the base model's.
        conn = super(BaseItem, BaseItem)._get_connection()
        # On the client in use now (pynamodb rebuilds it if its credentials went missing).
        watch_throttling(conn.connection.client)
        return conn


class CounterItem(BaseItem, discriminator="counter"):
    value = NumberAttribute(default=0)


class TallyItem(BaseItem, discriminator="tally"):
    """A stream record already counted (`TALLY#<eventID>`), kept past the stream's retention."""


class AggregateItem(BaseItem, discriminator="aggregate"):
    """One analytics aggregate (`AGG#<series>` / `<period>|<field>`; domain/analytics.py): a fact
    sum moved by the stream (no `seq`), or a gauge's point (`seq`: the stream record's sequence
    number, zero-padded to sort as text; "" for the snapshot's)."""

    series = UnicodeAttribute()
    period = UnicodeAttribute()
    field = UnicodeAttribute()
    value = DecimalAttribute(default=Decimal)
    label = UnicodeAttribute(default="")
    seq = UnicodeAttribute(null=True)


class FoldItem(BaseItem, discriminator="fold"):
    """A stream record the analytics aggregates already took in (`FOLD#<eventID>`), kept past the
    stream's retention."""


class CustomerItem(BaseItem, discriminator="customer"):
    customer_id = UnicodeAttribute()
    name = UnicodeAttribute()
    created = UTCDateTimeAttribute()
    fields = JSONAttribute(default=dict)  # the free-text and optional fields, as stored values
    quota_usage = MapAttribute[str, Any](default=dict)
    quota_limits = MapAttribute[str, Any](default=dict)


class ProjectItem(BaseItem, discriminator="project"):
    project_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    name = UnicodeAttribute()
    created = UTCDateTimeAttribute()
    customer_name = UnicodeAttribute(default="")
    customer_abbreviation = UnicodeAttribute(default="")
    customer_native_name = UnicodeAttribute(default="")
    # The customer's version whose names the three above were last copied from by a rename task
    # (None: copied when the project was made), so a late task never writes older names.
    customer_version = NumberAttribute(null=True)
    fields = JSONAttribute(default=dict)
    removed = UTCDateTimeAttribute(null=True)
    quota_usage = MapAttribute[str, Any](default=dict)
    quota_limits = MapAttribute[str, Any](default=dict)


class UserItem(BaseItem, discriminator="user"):
    user_id = UnicodeAttribute()
    username = UnicodeAttribute()
    date_joined = UTCDateTimeAttribute()
    password_hash = UnicodeAttribute(default="")
    is_staff = BooleanAttribute(default=False)
    is_support = BooleanAttribute(default=False)
    is_active = BooleanAttribute(default=True)
    token_lifetime = NumberAttribute(null=True)
    fields = JSONAttribute(default=dict)


class UsernameItem(BaseItem, discriminator="username"):
    """Guards username uniqueness (conditional put) and resolves a login name to a user."""

    user_id = UnicodeAttribute()


class TokenItem(BaseItem, discriminator="token"):
    """A live API token, keyed by the SHA-256 of its key, carrying the user's auth snapshot."""

    user_id = UnicodeAttribute()
    username = UnicodeAttribute()
    full_name = UnicodeAttribute(default="")
    is_staff = BooleanAttribute(default=False)
    is_support = BooleanAttribute(default=False)
    is_active = BooleanAttribute(default=True)
    lifetime = NumberAttribute(null=True)
    created = UTCDateTimeAttribute()
    expires = UTCDateTimeAttribute(null=True)


class LoginFailuresItem(BaseItem, discriminator="login_failures"):
    failures = NumberAttribute(default=0)
    window_ends = UTCDateTimeAttribute()


class EventItem(BaseItem, discriminator="event"):
    """The audit log's record of an event (the outbox: the stream publishes these, and only these)."""

    event_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    message = UnicodeAttribute()
    created = UTCDateTimeAttribute()
    context = JSONAttribute(default=dict)
    customer_id = UnicodeAttribute(null=True)
    scopes = JSONAttribute(default=list)  # [[scope type, id], ...]: the feeds it is copied to
    correlation_id = UnicodeAttribute(null=True)  # for the publisher's logs; feed copies leave it out


class FeedEntryItem(BaseItem, discriminator="feed_entry"):
    """A copy of an event in the feed of one scope it concerns, so a page of a feed is one Query."""

    event_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    message = UnicodeAttribute()
    created = UTCDateTimeAttribute()
    context = JSONAttribute(default=dict)
    customer_id = UnicodeAttribute(null=True)
    scopes = JSONAttribute(default=list)


class RoleItem(BaseItem, discriminator="role"):
    """A custom role, or the stored override of a system role (permissions, is_active)."""

    role_id = UnicodeAttribute()
    name = UnicodeAttribute()
    content_type = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    permissions = JSONAttribute(default=list)
    is_system_role = BooleanAttribute(default=False)
    is_active = BooleanAttribute(default=True)
    users_count = NumberAttribute(default=0)


class RoleNameItem(BaseItem, discriminator="role_name"):
    role_id = UnicodeAttribute()


class GrantItem(BaseItem, discriminator="grant"):
    """A user's role on a scope (customer, project or offering), in the scope's customer partition."""

    grant_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    role_id = UnicodeAttribute()
    scope_type = UnicodeAttribute()
    scope_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    created = UTCDateTimeAttribute()
    expiration_time = UTCDateTimeAttribute(null=True)
    created_by = JSONAttribute(default=dict)  # {id, username, full_name} of who granted it


class MemberItem(BaseItem, discriminator="member"):
    """How many grants a user holds in a customer (its projects included); exists while > 0."""

    user_id = UnicodeAttribute()
    grants = NumberAttribute(default=0)


class ExpiryMarkItem(BaseItem, discriminator="expiry_mark"):
    """Lists something that lapses within an hour, for the job that acts on it (pk: expiry bucket)."""

    target_pk = UnicodeAttribute()
    target_sk = UnicodeAttribute()


class IdempotencyItem(BaseItem, discriminator="idempotency"):
    """One task delivery: `in_progress` while a worker holds it (until `lease_ends`), then `done`."""

    status = UnicodeAttribute()
    task = UnicodeAttribute()
    lease_ends = UTCDateTimeAttribute()


class CallbackItem(BaseItem, discriminator="callback"):
    """A task token a workflow waits on, stored under a key the external party knows."""

    task_token = UnicodeAttribute()
    workflow = UnicodeAttribute(default="")


class InvitationItem(BaseItem, discriminator="invitation"):
    """An invitation to a role on a customer or project, in that customer's partition."""

    invitation_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    scope_type = UnicodeAttribute()
    scope_id = UnicodeAttribute()
    role_id = UnicodeAttribute()
    email = UnicodeAttribute()
    state = UnicodeAttribute()
    created = UTCDateTimeAttribute()
    created_by = JSONAttribute(default=dict)  # {id, username, full_name} of the inviter
    details = JSONAttribute(default=dict)  # full_name, native_name, ... extra_invitation_text
    execution_state = UnicodeAttribute(default="Scheduled")
    error_message = UnicodeAttribute(default="")
    token_hash = UnicodeAttribute(null=True)  # SHA-256 of the latest mail's accept token


class HookItem(BaseItem, discriminator="hook"):
    """A user's web or email hook, in the user's partition (`USER#<u>` / `HOOK#<kind>#<h>`)."""

    hook_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    created = UTCDateTimeAttribute()
    modified = UTCDateTimeAttribute()
    is_active = BooleanAttribute(default=True)
    event_types = JSONAttribute(default=list)
    event_groups = JSONAttribute(default=list)
    destination_url = UnicodeAttribute(default="")
    content_type = UnicodeAttribute(default="json")
    email = UnicodeAttribute(default="")
    secret = UnicodeAttribute(default="")
    last_published = UTCDateTimeAttribute(null=True)
    last_failure = UTCDateTimeAttribute(null=True)
    last_error = UnicodeAttribute(default="")
    failure_count = NumberAttribute(default=0)


class HookSubscriptionItem(BaseItem, discriminator="hook_subscription"):
    """An active hook's interest in one event type (pk `HOOKSUB#<event type>`, sk the hook id)."""

    hook_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    kind = UnicodeAttribute()


class OfferingItem(BaseItem, discriminator="offering"):
    """A marketplace offering, in its provider customer's partition, with its components and plans
    embedded (an offering has a handful of each)."""

    offering_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    name = UnicodeAttribute()
    offering_type = UnicodeAttribute()
    state = UnicodeAttribute()
    category_id = UnicodeAttribute(null=True)
    created = UTCDateTimeAttribute()
    shared = BooleanAttribute(default=True)
    billable = BooleanAttribute(default=True)
    components = JSONAttribute(default=list)
    plans = JSONAttribute(default=list)
    fields = JSONAttribute(default=dict)  # descriptions, options, plugin options, location, ...


class PlanPointerItem(BaseItem, discriminator="plan_pointer"):
    """Points from a plan's id (gsi1 `PLAN#<p>`) to the offering that holds it."""

    plan_id = UnicodeAttribute()
    offering_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()


class ServiceProviderItem(BaseItem, discriminator="service_provider"):
    """A customer's registration as a service provider (`CUST#<c>` / `PROVIDER`)."""

    provider_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    created = UTCDateTimeAttribute()
    fields = JSONAttribute(default=dict)


class CategoryItem(BaseItem, discriminator="category"):
    """A marketplace category (`CATEGORIES` / `CAT#<c>`)."""

    category_id = UnicodeAttribute()
    title = UnicodeAttribute()
    created = UTCDateTimeAttribute()
    fields = JSONAttribute(default=dict)


class SupportPriorityItem(BaseItem, discriminator="support_priority"):
    """A support issue priority (`SUPPORT#PRIORITIES` / `PRIORITY#<p>`)."""

    priority_id = UnicodeAttribute()
    name = UnicodeAttribute()
    fields = JSONAttribute(default=dict)


class SupportCatalogMarkItem(BaseItem, discriminator="support_catalog_mark"):
    """`SUPPORT#PRIORITIES` / `#SEEDED`: the default priorities were written (once, ever)."""


class SupportTemplateItem(BaseItem, discriminator="support_template"):
    """A support issue template (`SUPPORT#TEMPLATES` / `TEMPLATE#<t>`)."""

    template_id = UnicodeAttribute()
    name = UnicodeAttribute()
    created = UTCDateTimeAttribute()
    fields = JSONAttribute(default=dict)


class OrderItem(BaseItem, discriminator="order"):
    """A marketplace order, in its consumer customer's partition (`CUST#<c>` / `ORDER#<o>`)."""

    order_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    project_id = UnicodeAttribute()
    offering_id = UnicodeAttribute()
    provider_id = UnicodeAttribute()
    resource_id = UnicodeAttribute()
    order_type = UnicodeAttribute()
    state = UnicodeAttribute()
    created = UTCDateTimeAttribute()
    modified = UTCDateTimeAttribute()
    fields = JSONAttribute(default=dict)  # the rest of the order (domain/orders.py)


class OpenOrderItem(BaseItem, discriminator="open_order"):
    """Marks a non-final order (`OPENORDERS#<shard>` / `<o>`), written in the transactions that
    change whether it is final: the sweep of stranded orders lists these."""

    customer_id = UnicodeAttribute()


class ResourceItem(BaseItem, discriminator="resource"):
    """A marketplace resource, in its consumer customer's partition (`CUST#<c>` / `RES#<p>#<r>`)."""

    resource_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    project_id = UnicodeAttribute()
    offering_id = UnicodeAttribute()
    provider_id = UnicodeAttribute()
    name = UnicodeAttribute()
    state = UnicodeAttribute()
    created = UTCDateTimeAttribute()
    modified = UTCDateTimeAttribute()
    current_usages = JSONAttribute(default=dict)
    fields = JSONAttribute(default=dict)  # the rest of the resource (domain/resources.py)


class UsageItem(BaseItem, discriminator="component_usage"):
    """A component usage, in its resource's consumer customer's partition
    (`CUST#<c>` / `USAGE#<p>#<r>#<billing period>#<component type>`)."""

    usage_id = UnicodeAttribute()
    resource_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    project_id = UnicodeAttribute()
    offering_id = UnicodeAttribute()
    provider_id = UnicodeAttribute()
    component_type = UnicodeAttribute()
    billing_period = UnicodeAttribute()  # yyyy-mm-dd
    amount = UnicodeAttribute()  # a decimal, as text (exact)
    date = UTCDateTimeAttribute()
    created = UTCDateTimeAttribute()
    modified = UTCDateTimeAttribute()
    fields = JSONAttribute(default=dict)  # names and the rest (domain/usages.py)


class SlugItem(BaseItem, discriminator="slug"):
    """Guards a slug's uniqueness within its kind (conditional put) and names the item holding it."""

    holder_id = UnicodeAttribute()


class RequestKeyItem(BaseItem, discriminator="request_key"):
    """An `Idempotency-Key` of a creation and the object it made (`REQKEY#<u>#<sha256>`). The
    attribute names are those of the first keys (orders': the order and its customer)."""

    object_id = UnicodeAttribute(attr_name="order_id")
    scope_id = UnicodeAttribute(attr_name="customer_id")
    # sha256 of the canonical request that used the key (None: stored before requests were hashed).
    request_hash = UnicodeAttribute(null=True)


class UserUsageItem(BaseItem, discriminator="component_user_usage"):
    """A per-user usage, in its resource's consumer customer's partition
    (`CUST#<c>` / `UUSAGE#<p>#<r>#<billing period>#<component type>#<username>`)."""

    user_usage_id = UnicodeAttribute()
    component_usage_id = UnicodeAttribute()
    resource_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    project_id = UnicodeAttribute()
    offering_id = UnicodeAttribute()
    provider_id = UnicodeAttribute()
    component_type = UnicodeAttribute()
    billing_period = UnicodeAttribute()  # yyyy-mm-dd
    username = UnicodeAttribute()
    amount = UnicodeAttribute()  # a decimal, as text (exact)
    date = UTCDateTimeAttribute()
    created = UTCDateTimeAttribute()
    modified = UTCDateTimeAttribute()
    fields = JSONAttribute(default=dict)  # names and the rest (domain/user_usages.py)


class UserLimitItem(BaseItem, discriminator="component_user_usage_limit"):
    """A per-user usage limit, in its resource's consumer customer's partition
    (`CUST#<c>` / `UULIMIT#<p>#<r>#<component>#<offering user>`)."""

    limit_id = UnicodeAttribute()
    resource_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    project_id = UnicodeAttribute()
    offering_id = UnicodeAttribute()
    provider_id = UnicodeAttribute()
    component_id = UnicodeAttribute()
    component_type = UnicodeAttribute()
    offering_user_id = UnicodeAttribute()
    limit = UnicodeAttribute()  # a decimal, as text (exact)
    created = UTCDateTimeAttribute()
    modified = UTCDateTimeAttribute()
    fields = JSONAttribute(default=dict)  # names (domain/user_usages.py)


ALL_MODELS: tuple[type[BaseItem], ...] = (
    BaseItem,
    CounterItem,
    TallyItem,
    CustomerItem,
    ProjectItem,
    UserItem,
    UsernameItem,
    TokenItem,
    LoginFailuresItem,
    EventItem,
    FeedEntryItem,
    RoleItem,
    RoleNameItem,
    GrantItem,
    MemberItem,
    ExpiryMarkItem,
    IdempotencyItem,
    CallbackItem,
    InvitationItem,
    HookItem,
    HookSubscriptionItem,
    OfferingItem,
    PlanPointerItem,
    ServiceProviderItem,
    CategoryItem,
    OrderItem,
    OpenOrderItem,
    ResourceItem,
    RequestKeyItem,
    UsageItem,
    UserUsageItem,
    UserLimitItem,
    SlugItem,
)


class InvoiceHeaderItem(BaseItem, discriminator="invoice"):
    """A customer's invoice of a month (`CUST#<c>` / `INVOICE#<yyyy-mm>`); its items follow it."""

    invoice_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    customer_name = UnicodeAttribute(default="")
    year = NumberAttribute()
    month = NumberAttribute()
    number = NumberAttribute()
    state = UnicodeAttribute()
    tax_percent = UnicodeAttribute()  # a decimal, as text (exact)
    created = UTCDateTimeAttribute()
    invoice_date = UnicodeAttribute(null=True)  # yyyy-mm-dd
    fields = JSONAttribute(default=dict)  # backend_id, payment_url, reference_number


class InvoiceLineItem(BaseItem, discriminator="invoice_item"):
    """One item of an invoice (`CUST#<c>` / `INVOICE#<yyyy-mm>#<project>#<resource>#<item>`)."""

    item_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    year = NumberAttribute()
    month = NumberAttribute()
    name = UnicodeAttribute()
    unit = UnicodeAttribute()
    unit_price = UnicodeAttribute()  # decimals as text (exact)
    quantity = UnicodeAttribute()
    start = UTCDateTimeAttribute()
    end = UTCDateTimeAttribute()
    kind = UnicodeAttribute(default="")
    resource_id = UnicodeAttribute(default="")
    project_id = UnicodeAttribute(default="")
    offering_id = UnicodeAttribute(default="")
    provider_id = UnicodeAttribute(default="")
    component_type = UnicodeAttribute(default="")
    fields = JSONAttribute(default=dict)  # names, measured unit, article code, details, limit periods


class AgentIdentityItem(BaseItem, discriminator="agent_identity"):
    """A site agent's identity, in its offering's provider partition
    (`CUST#<provider>` / `AGENTID#<offering>#<identity>`)."""

    identity_id = UnicodeAttribute()
    offering_id = UnicodeAttribute()
    provider_id = UnicodeAttribute()
    fields = JSONAttribute(default=dict)  # name, agent version, dependencies, config file, times


class AgentServiceItem(BaseItem, discriminator="agent_service"):
    """A service (one mode) of an agent identity (`CUST#<provider>` / `AGENTSVC#<identity>#<service>`)."""

    service_id = UnicodeAttribute()
    identity_id = UnicodeAttribute()
    provider_id = UnicodeAttribute()
    fields = JSONAttribute(default=dict)  # name, mode, state, statistics, times


class AgentProcessorItem(BaseItem, discriminator="agent_processor"):
    """A processor of an agent service
    (`CUST#<provider>` / `AGENTPROC#<identity>#<service>#<processor>`)."""

    processor_id = UnicodeAttribute()
    service_id = UnicodeAttribute()
    identity_id = UnicodeAttribute()
    provider_id = UnicodeAttribute()
    fields = JSONAttribute(default=dict)  # name, backend type and version, last run, times


class SshKeyItem(BaseItem, discriminator="ssh_key"):
    """A user's SSH public key (`USER#<u>` / `SSHKEY#<name>`; gsi1 `SSHKEYS` / `<k>`)."""

    key_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    name = UnicodeAttribute(default="")
    public_key = UnicodeAttribute()
    fingerprint_md5 = UnicodeAttribute()
    fingerprint_sha256 = UnicodeAttribute()
    fingerprint_sha512 = UnicodeAttribute()
    created = UTCDateTimeAttribute()
    is_shared = BooleanAttribute(default=False)


class OfferingUserItem(BaseItem, discriminator="offering_user"):
    offering_user_id = UnicodeAttribute()
    offering_id = UnicodeAttribute()
    provider_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    created = UTCDateTimeAttribute()
    fields = JSONAttribute(default=dict)


class OfferingUserConfigItem(BaseItem, discriminator="offering_user_config"):
    offering_id = UnicodeAttribute()
    provider_id = UnicodeAttribute()
    created = UTCDateTimeAttribute()
    fields = JSONAttribute(default=dict)


class RobotAccountItem(BaseItem, discriminator="robot_account"):
    """A robot account, in its resource's consumer customer's partition
    (`CUST#<c>` / `ROBOT#<p>#<r>#<type>`; gsi1 `ROBOTS` / `<id>`; gsi2 `PROBOT#<provider>` /
    `<offering>#<id>`)."""

    robot_account_id = UnicodeAttribute()
    resource_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    project_id = UnicodeAttribute()
    offering_id = UnicodeAttribute()
    provider_id = UnicodeAttribute()
    created = UTCDateTimeAttribute()
    fields = JSONAttribute(default=dict)  # type, username, users, keys, state and names


# --- the support desk ------------------------------------------------------------------------------
class IssueItem(BaseItem, discriminator="issue"):
    """A support issue (`CUST#<c>` or `SUPPORT` / `ISSUE#<id>`; gsi1 `ISSUES` / `<id>`; gsi2
    `ISSUEUSER#<caller>` / `<id>`)."""

    issue_id = UnicodeAttribute()
    customer_id = UnicodeAttribute(null=True)
    created = UTCDateTimeAttribute()
    fields = JSONAttribute(default=dict)  # everything else, through the codec


class IssueReporterItem(BaseItem, discriminator="issue_reporter"):
    """Lists an issue among its reporter's (`<issue pk>` / `ISSUE#<id>#REPORTER`; gsi2
    `ISSUEUSER#<reporter's user>` / `<id>`), when the reporter is not its caller."""

    issue_id = UnicodeAttribute()


class IssueCommentItem(BaseItem, discriminator="issue_comment"):
    """A comment, beside its issue (`<issue pk>` / `ISSUECOMMENT#<issue>#<id>`; gsi1
    `ISSUECOMMENTS` / `<id>`)."""

    comment_id = UnicodeAttribute()
    issue_id = UnicodeAttribute()
    customer_id = UnicodeAttribute(null=True)
    created = UTCDateTimeAttribute()
    fields = JSONAttribute(default=dict)


class IssueAttachmentItem(BaseItem, discriminator="issue_attachment"):
    """A file attached to an issue, beside it (`<issue pk>` / `ISSUEATTACH#<issue>#<id>`; gsi1
    `ISSUEATTACHMENTS` / `<id>`); the file itself is an S3 object (chalicelib/files.py)."""

    attachment_id = UnicodeAttribute()
    issue_id = UnicodeAttribute()
    customer_id = UnicodeAttribute(null=True)
    created = UTCDateTimeAttribute()
    fields = JSONAttribute(default=dict)


class IssueFeedbackItem(BaseItem, discriminator="issue_feedback"):
    """The caller's rating of an issue, beside it (`<issue pk>` / `ISSUEFEEDBACK#<issue>`: one per
    issue; gsi1 `ISSUEFEEDBACKS` / `<id>`)."""

    feedback_id = UnicodeAttribute()
    issue_id = UnicodeAttribute()
    customer_id = UnicodeAttribute(null=True)
    created = UTCDateTimeAttribute()
    fields = JSONAttribute(default=dict)


class FeedbackTokenItem(BaseItem, discriminator="feedback_token"):
    """A mailed feedback token by its hash (`FEEDBACKTOKEN#<sha256>` / `#META`): the issue it rates
    until `expires` (and `expires_at`, the table's TTL, removes it some time after)."""

    issue_id = UnicodeAttribute()
    customer_id = UnicodeAttribute(null=True)
    expires = UTCDateTimeAttribute()


class SupportUserItem(BaseItem, discriminator="support_user"):
    """A support desk's user (`SUPPORTUSER#<id>` / `#META`; gsi1 `SUPPORTUSERS` / `<id>`)."""

    support_user_id = UnicodeAttribute()
    fields = JSONAttribute(default=dict)
    # Moved with ADD by the issues' and comments' transactions (store/support.py `count`).
    reported_issues_count = NumberAttribute(default=0)
    assigned_issues_count = NumberAttribute(default=0)
    comments_count = NumberAttribute(default=0)


class SupportLinkItem(BaseItem, discriminator="support_link"):
    """An issue's copy on an external desk and what both sides last agreed on
    (`SUPPORTLINK#<backend>#<remote id>` / `#LINK`)."""

    issue_id = UnicodeAttribute()
    fields = JSONAttribute(default=dict)


class SupportCommentLinkItem(BaseItem, discriminator="support_comment_link"):
    """A remote comment known to our desk, imported from it or pushed to it
    (`SUPPORTLINK#<backend>#<remote issue id>` / `COMMENT#<remote comment id>`)."""

    comment_id = UnicodeAttribute()


class SupportWatermarkItem(BaseItem, discriminator="support_watermark"):
    """Where the scheduled pull of a remote desk's changes resumes (`SUPPORTSYNC#<backend>` /
    `#WATERMARK`)."""

    at = UTCDateTimeAttribute()
