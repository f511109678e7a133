"""Every key formula of the single table, and nowhere else.

Prefixes used with `begins_with` end with `#`. The tenant (customer) leads every tenant-owned
partition key. The access patterns these serve are listed in ACCESS_PATTERNS.md.
"""

from __future__ import annotations

import zlib
from datetime import datetime

META = "#META"
HEALTH = "HEALTH"  # a partition nothing is written to: the health check's read of the table


# --- customers -------------------------------------------------------------------------------
def customer_pk(customer_id: str) -> str:
    return f"CUST#{customer_id}"


CUSTOMERS = "CUSTOMERS"  # gsi1 (by creation) and gsi2 (by name) partitions of all customers


def customer_by_name_sk(name: str, customer_id: str) -> str:
    return f"{name}#{customer_id}"


def name_prefix(name: str) -> str:
    return f"{name}#"


# --- projects --------------------------------------------------------------------------------
PROJECT_PREFIX = "PROJ#"
REMOVED_PROJECT_PREFIX = "RMPROJ#"
PROJECTS = "PROJECTS"  # gsi2 partition of all live projects, by creation (ids are UUIDv7)
REMOVED = "#REMOVED"


def project_sk(project_id: str) -> str:
    return f"{PROJECT_PREFIX}{project_id}"


def removed_project_sk(project_id: str) -> str:
    return f"{REMOVED_PROJECT_PREFIX}{project_id}"


def project_lookup(project_id: str) -> str:
    """gsi1 partition that finds a project (and its customer) from its id alone."""
    return f"PROJ#{project_id}"


# --- users and authentication ---------------------------------------------------------------
USERS = "USERS"  # gsi2 partition of all users, by username


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def username_pk(username: str) -> str:
    """Uniqueness guard and login lookup: one item per username, pointing at the user."""
    return f"USERNAME#{username}"


def user_by_name_sk(username: str, user_id: str) -> str:
    return f"{username}#{user_id}"


def username_lookalike_pk(lookalike_key: str) -> str:
    """gsi1 partition of the users whose names look alike (domain.usernames.lookalike_key)."""
    return f"USERLIKE#{lookalike_key}"


def token_pk(key_hash: str) -> str:
    return f"TOKEN#{key_hash}"


TOKEN_PREFIX = "TOKEN#"


def login_failures_pk(username: str, ip_address: str) -> str:
    return f"LOGINFAIL#{username}#{ip_address}"


# --- roles and grants ------------------------------------------------------------------------
ROLES = "ROLES"  # partition of every stored role (custom roles, overrides of system roles)
ROLE_PREFIX = "ROLE#"


def role_sk(role_id: str) -> str:
    return f"{ROLE_PREFIX}{role_id}"


def role_name_sk(name: str) -> str:
    """Uniqueness guard of a role name, in the roles partition."""
    return f"ROLENAME#{name}"


GRANT_PREFIX = "GRANT#"
GRANTS = "GRANTS"  # gsi2 partition of every grant, by grant id (staff's user-permissions/ list)


def grant_scope_prefix(scope_type: str, scope_id: str) -> str:
    """A scope's grants within its customer's partition."""
    return f"{GRANT_PREFIX}{scope_type}#{scope_id}#"


def grant_sk(scope_type: str, scope_id: str, user_id: str, role_id: str) -> str:
    return f"{grant_scope_prefix(scope_type, scope_id)}{user_id}#{role_id}"


def user_grants(user_id: str) -> str:
    """gsi1 partition of a user's grants (shared with their tokens: `USER#<u>`)."""
    return user_pk(user_id)


def user_grant_sk(scope_type: str, scope_id: str, role_id: str) -> str:
    return f"{GRANT_PREFIX}{scope_type}#{scope_id}#{role_id}"


def member_sk(user_id: str) -> str:
    """In a customer's partition: how many grants a user holds there (nc_user_count counts these)."""
    return f"MEMBER#{user_id}"


def grant_expiry_sk(customer_id: str, grant_sort_key: str) -> str:
    """In an `expiry_bucket("GRANT", hour)` partition: points at a grant that lapses that hour."""
    return f"{customer_id}|{grant_sort_key}"


# --- counters (list totals without counting) ---------------------------------------------
def counter_pk(name: str) -> str:
    return f"COUNTER#{name}"


def tally_pk(stream_record_id: str) -> str:
    """Marks a stream record whose change the platform-wide counters have taken in (store/counters.py)."""
    return f"TALLY#{stream_record_id}"


# --- analytics aggregates (store/analytics.py) -------------------------------------------
AGGREGATE_PREFIX = "AGG#"
# Between a period and a field in an aggregate's sort key: sorts after every character of a period,
# so `<end period>` + AGGREGATE_LAST bounds a Query of periods from start to end.
AGGREGATE_SEP = "|"
AGGREGATE_LAST = "|\uffff"


def aggregate_pk(series: str) -> str:
    """The partition of one analytics series: every period and field of it (one Query reads a range)."""
    return f"{AGGREGATE_PREFIX}{series}"


def aggregate_sk(period: str, field: str) -> str:
    return f"{period}{AGGREGATE_SEP}{field}"


# gsi2 of every dated aggregate (`D#` and `M#` periods; `NOW` has none): partition
# `AGGDAY#<period>#<k>`, sort key `<series>|<field>`, so the export reads a day's aggregates with a
# Query per shard, never a Scan. Sharded like the events' index (one partition takes about 1,000
# writes a second, and a day's aggregates are written during that day); k from the series' hash.
AGGREGATE_LISTING_PREFIX = "AGGDAY#"
AGGREGATE_LISTING_SHARDS = 4


def aggregate_listing(series: str, period: str) -> str | None:
    """The gsi2 partition listing a dated aggregate (None for a `NOW` value: it has no day)."""
    if period[:2] not in ("D#", "M#"):
        return None
    shard = zlib.crc32(series.encode()) % AGGREGATE_LISTING_SHARDS
    return f"{AGGREGATE_LISTING_PREFIX}{period}#{shard}"


def aggregate_listings(period: str) -> list[str]:
    """Every gsi2 partition listing the aggregates of `period`."""
    return [f"{AGGREGATE_LISTING_PREFIX}{period}#{k}" for k in range(AGGREGATE_LISTING_SHARDS)]


def fold_pk(stream_record_id: str) -> str:
    """Marks a stream record whose change the analytics aggregates have taken in (its chunk `n`)."""
    return f"FOLD#{stream_record_id}"


# --- events (audit log outbox) --------------------------------------------------------------
GLOBAL_TENANT = "GLOBAL"


def event_pk(customer_id: str | None, created: datetime) -> str:
    return f"EVT#{customer_id or GLOBAL_TENANT}#{created:%Y-%m}"


def feed_pk(scope_type: str, scope_id: str) -> str:
    """A scope's feed: a copy of each event that concerns it, sorted by event id (time order)."""
    return f"FEED#{scope_type}#{scope_id}"


# gsi2 partitions of every event (staff's unfiltered log, lookup by uuid), sharded: one partition
# takes about 1,000 writes a second, and every tenant's events land here. An event's shard follows
# from its id, so a lookup by uuid is one Query; the staff's log merges the shards (a Query each).
EVENT_SHARDS = 4
EVENTS_PREFIX = "EVENTS#"


def event_shard(event_id: str) -> str:
    """The gsi2 partition holding event `event_id`: `EVENTS#<k>`, k from a hash of the id (not its
    leading hex digits: those are the time of a UUIDv7, so one shard would take every write)."""
    return f"{EVENTS_PREFIX}{zlib.crc32(event_id.encode()) % EVENT_SHARDS}"


def event_shards() -> list[str]:
    return [f"{EVENTS_PREFIX}{k}" for k in range(EVENT_SHARDS)]


def event_count_pk(partition: str) -> str:
    """The counts of a feed (`feed_pk`) or an events shard (`event_shard`), one item per month
    (sort key `event_count_sk`), so X-Result-Count is a read of a dozen small items."""
    return f"EVCOUNT#{partition}"


def event_count_sk(month: datetime) -> str:
    return f"{month:%Y-%m}"


# --- background work ------------------------------------------------------------------------
def idempotency_pk(digest: str) -> str:
    """A task delivery's record (digest: SHA-256 of its idempotency key)."""
    return f"IDEMP#{digest}"


def callback_pk(key: str) -> str:
    """A workflow's stored task token, waiting for an external party to answer."""
    return f"CALLBACK#{key}"


def expiry_bucket(kind: str, hour: datetime) -> str:
    """gsi2 partition of the items of `kind` that lapse within one UTC hour (the purge reads it)."""
    return f"EXPIRES#{kind}#{hour:%Y-%m-%dT%H}"


# --- invitations ------------------------------------------------------------------------------
INVITATIONS = "INVITATIONS"  # gsi1 partition of every invitation, by id (lookup by id, staff's list)
INVITATION_PREFIX = "INVITE#"
INVITATIONS_EXPIRY = "INVITE"  # expiry_bucket kind of pending invitations (gsi2, while pending)


def invitation_sk(invitation_id: str) -> str:
    """In the customer's partition (`customer_pk`) of the invitation's scope."""
    return f"{INVITATION_PREFIX}{invitation_id}"


# --- hooks ------------------------------------------------------------------------------------------
HOOKS = "HOOKS"  # gsi1 partition of every hook, by `<kind>#<id>` (lookup by id, staff's lists)
HOOK_PREFIX = "HOOK#"


def hook_kind_prefix(kind: str) -> str:
    """A user's hooks of one kind, in the user's partition (`user_pk`)."""
    return f"{HOOK_PREFIX}{kind}#"


def hook_sk(kind: str, hook_id: str) -> str:
    return f"{hook_kind_prefix(kind)}{hook_id}"


def hook_lookup_prefix(kind: str) -> str:
    return f"{kind}#"


def hook_lookup_sk(kind: str, hook_id: str) -> str:
    """In gsi1 `HOOKS`: finds a hook (and its owner) from its kind and id."""
    return f"{hook_lookup_prefix(kind)}{hook_id}"


def hook_subscription_pk(event_type: str) -> str:
    """The active hooks that want one event type (one item per hook, sort key: the hook id), so
    dispatching an event is one Query however many users and hooks there are."""
    return f"HOOKSUB#{event_type}"


# --- marketplace catalog ----------------------------------------------------------------------------
OFFERING_PREFIX = "OFFER#"
OFFERINGS = "OFFERINGS"  # gsi2 partition of every offering, by id (creation): the catalog's lists


def offering_sk(offering_id: str) -> str:
    """In the provider customer's partition (`customer_pk`)."""
    return f"{OFFERING_PREFIX}{offering_id}"


def offering_lookup(offering_id: str) -> str:
    """gsi1 partition that finds an offering (and its provider) from its id alone."""
    return f"{OFFERING_PREFIX}{offering_id}"


PLAN_PREFIX = "PLAN#"


def plan_sk(plan_id: str) -> str:
    """A plan's pointer to its offering, in the provider customer's partition."""
    return f"{PLAN_PREFIX}{plan_id}"


def plan_lookup(plan_id: str) -> str:
    """gsi1 partition that finds a plan's offering from the plan's id alone."""
    return f"{PLAN_PREFIX}{plan_id}"


SERVICE_PROVIDER = "PROVIDER"  # sort key of a customer's service provider record (one per customer)
SERVICE_PROVIDERS = "PROVIDERS"  # gsi2 partition of every service provider, by id


def service_provider_lookup(provider_id: str) -> str:
    """gsi1 partition that finds a service provider (and its customer) from its id alone."""
    return f"PROVIDER#{provider_id}"


CATEGORIES = "CATEGORIES"  # partition of every marketplace category
CATEGORY_PREFIX = "CAT#"


def category_sk(category_id: str) -> str:
    return f"{CATEGORY_PREFIX}{category_id}"


# --- support desk catalogs ----------------------------------------------------------------------------
SUPPORT_PRIORITIES = "SUPPORT#PRIORITIES"  # partition of every support priority
SUPPORT_PRIORITY_PREFIX = "PRIORITY#"
SUPPORT_PRIORITIES_SEEDED = "#SEEDED"  # marker: the default priorities were written once
SUPPORT_TEMPLATES = "SUPPORT#TEMPLATES"  # partition of every support issue template
SUPPORT_TEMPLATE_PREFIX = "TEMPLATE#"


def support_priority_sk(priority_id: str) -> str:
    return f"{SUPPORT_PRIORITY_PREFIX}{priority_id}"


def support_template_sk(template_id: str) -> str:
    return f"{SUPPORT_TEMPLATE_PREFIX}{template_id}"


# --- marketplace orders and resources ---------------------------------------------------------------
ORDER_PREFIX = "ORDER#"
ORDERS = "ORDERS"  # gsi1 partition of every order, by id (lookup by id, staff's list)
RESOURCE_PREFIX = "RES#"
RESOURCES = "RESOURCES"  # gsi1 partition of every resource, by id (lookup by id, staff's list)


def order_sk(order_id: str) -> str:
    """In the consumer customer's partition (`customer_pk` of the project's customer)."""
    return f"{ORDER_PREFIX}{order_id}"


def provider_orders(provider_customer_id: str) -> str:
    """gsi2 partition of the orders for one service provider's offerings, by `<offering>#<order>`."""
    return f"PORDERS#{provider_customer_id}"


# An order keeps a mark while it is not final, so the hourly sweep of stranded orders reads the open
# orders (by creation: the sort key is the order's UUIDv7) and nothing else. Marks are spread over a
# few partitions by the id's last (random) hex digit, so no one partition takes every order's writes.
OPEN_ORDER_SHARDS = 8


def open_orders_pk(shard: int) -> str:
    return f"OPENORDERS#{shard}"


def open_order_pk(order_id: str) -> str:
    """The partition of `order_id`'s open mark (sort key: the order id)."""
    return open_orders_pk(int(order_id[-1], 16) % OPEN_ORDER_SHARDS)


def resource_project_prefix(project_id: str) -> str:
    return f"{RESOURCE_PREFIX}{project_id}#"


def resource_sk(project_id: str, resource_id: str) -> str:
    """In the consumer customer's partition: a project's resources share a prefix."""
    return f"{resource_project_prefix(project_id)}{resource_id}"


def provider_resources(provider_customer_id: str) -> str:
    """gsi2 partition of the resources of one service provider's offerings, by `<offering>#<res>`."""
    return f"PRES#{provider_customer_id}"


def offering_prefix(offering_id: str) -> str:
    """Within a provider partition (`provider_orders`, `provider_resources`): one offering's items."""
    return f"{offering_id}#"


def by_offering_sk(offering_id: str, item_id: str) -> str:
    return f"{offering_prefix(offering_id)}{item_id}"


def request_key_pk(user_id: str, key_digest: str) -> str:
    """An `Idempotency-Key` a user sent with a creation (digest: its SHA-256), pointing at the
    object it made, so a retried request answers with that object."""
    return f"REQKEY#{user_id}#{key_digest}"


# --- marketplace component usages --------------------------------------------------------------------
USAGE_PREFIX = "USAGE#"
USAGES = "USAGES"  # gsi1 partition of every component usage, by id (lookup by id, staff's list)


def usage_project_prefix(project_id: str) -> str:
    return f"{USAGE_PREFIX}{project_id}#"


def usage_resource_prefix(project_id: str, resource_id: str) -> str:
    """In the consumer customer's partition: one resource's usages, every period and component."""
    return f"{usage_project_prefix(project_id)}{resource_id}#"


def usage_sk(project_id: str, resource_id: str, billing_period: str, component_type: str) -> str:
    """One usage per resource, billing period (`yyyy-mm-dd`, a month's first day) and component."""
    return f"{usage_resource_prefix(project_id, resource_id)}{billing_period}#{component_type}"


def provider_usages(provider_customer_id: str) -> str:
    """gsi2 partition of the usages of one service provider's offerings, by `<offering>#<usage>`."""
    return f"PUSAGE#{provider_customer_id}"


# --- invoices ---------------------------------------------------------------------------------------
INVOICE_PREFIX = "INVOICE#"
INVOICES = "INVOICES"  # gsi1 partition of every invoice, by id (lookup by id, staff's list by month)
INVOICE_ITEMS = "INVOICE_ITEMS"  # gsi1 partition of every invoice item, by id (lookup by id)


def invoice_sk(period: str) -> str:
    """A customer's invoice of a month (`yyyy-mm`), in the customer's partition. Its items follow it
    under the same prefix, so one Query reads an invoice with its items."""
    return f"{INVOICE_PREFIX}{period}"


def invoice_item_prefix(period: str, project_id: str = "", resource_id: str = "") -> str:
    """An invoice's items, or one project's, or one resource's (give the project with a resource)."""
    prefix = f"{invoice_sk(period)}#"
    if project_id:
        prefix += f"{project_id}#"
        if resource_id:
            prefix += f"{resource_id}#"
    return prefix


def invoice_item_sk(period: str, project_id: str, resource_id: str, item_id: str) -> str:
    return f"{invoice_item_prefix(period, project_id, resource_id)}{item_id}"


def customer_invoices(customer_id: str) -> str:
    """gsi2 partition of one customer's invoices (not their items), by `yyyy-mm`."""
    return f"CINVOICES#{customer_id}"


# --- per-user component usages and limits -------------------------------------------------------------
USER_USAGE_PREFIX = "UUSAGE#"
USER_USAGES = "UUSAGES"  # gsi1 partition of every per-user usage, by id (lookup by id, staff's list)
USER_LIMIT_PREFIX = "UULIMIT#"
USER_LIMITS = "UULIMITS"  # gsi1 partition of every per-user usage limit, by id


def user_usage_project_prefix(project_id: str) -> str:
    return f"{USER_USAGE_PREFIX}{project_id}#"


def user_usage_slot_prefix(
    project_id: str, resource_id: str, billing_period: str, component_type: str
) -> str:
    """In the consumer customer's partition: the per-user usages of one component usage."""
    return f"{user_usage_project_prefix(project_id)}{resource_id}#{billing_period}#{component_type}#"


def user_usage_sk(
    project_id: str, resource_id: str, billing_period: str, component_type: str, username: str
) -> str:
    """One per component usage and username (Waldur's unique together)."""
    return f"{user_usage_slot_prefix(project_id, resource_id, billing_period, component_type)}{username}"


def provider_user_usages(provider_customer_id: str) -> str:
    """gsi2 partition of the per-user usages of one provider's offerings, by `<offering>#<id>`."""
    return f"PUUSAGE#{provider_customer_id}"


def user_limit_project_prefix(project_id: str) -> str:
    return f"{USER_LIMIT_PREFIX}{project_id}#"


def user_limit_resource_prefix(project_id: str, resource_id: str) -> str:
    """In the consumer customer's partition: one resource's per-user limits."""
    return f"{user_limit_project_prefix(project_id)}{resource_id}#"


def user_limit_sk(project_id: str, resource_id: str, component_id: str, offering_user_id: str) -> str:
    """One per resource, component and offering user (Waldur's unique together)."""
    return f"{user_limit_resource_prefix(project_id, resource_id)}{component_id}#{offering_user_id}"


def provider_user_limits(provider_customer_id: str) -> str:
    """gsi2 partition of the per-user limits on one provider's offerings, by `<offering>#<id>`."""
    return f"PUULIMIT#{provider_customer_id}"


# --- site agent identities, services, processors ---------------------------------------------------
# In the provider customer's partition; gsi1 finds each by id alone and lists each kind for staff.
AGENT_IDENTITY_PREFIX = "AGENTID#"
AGENT_SERVICE_PREFIX = "AGENTSVC#"
AGENT_PROCESSOR_PREFIX = "AGENTPROC#"
AGENT_IDENTITIES = "AGENT_IDENTITIES"
AGENT_SERVICES = "AGENT_SERVICES"
AGENT_PROCESSORS = "AGENT_PROCESSORS"


def agent_identity_offering_prefix(offering_id: str) -> str:
    return f"{AGENT_IDENTITY_PREFIX}{offering_id}#"


def agent_identity_sk(offering_id: str, identity_id: str) -> str:
    return f"{agent_identity_offering_prefix(offering_id)}{identity_id}"


def agent_service_identity_prefix(identity_id: str) -> str:
    return f"{AGENT_SERVICE_PREFIX}{identity_id}#"


def agent_service_sk(identity_id: str, service_id: str) -> str:
    return f"{agent_service_identity_prefix(identity_id)}{service_id}"


def agent_processor_identity_prefix(identity_id: str) -> str:
    return f"{AGENT_PROCESSOR_PREFIX}{identity_id}#"


def agent_processor_service_prefix(identity_id: str, service_id: str) -> str:
    return f"{agent_processor_identity_prefix(identity_id)}{service_id}#"


def agent_processor_sk(identity_id: str, service_id: str, processor_id: str) -> str:
    return f"{agent_processor_service_prefix(identity_id, service_id)}{processor_id}"


# --- SSH keys -------------------------------------------------------------------------------------
SSH_KEYS = "SSHKEYS"  # gsi1 partition of every SSH key by id (lookup), gsi2 by name (staff's list)
SSH_KEY_PREFIX = "SSHKEY#"
SSH_KEY_COUNT = "SSHKEYS#COUNT"  # in the user's partition: how many keys they hold (the cap)


def ssh_key_sk(name: str) -> str:
    """A user's key, in the user's partition (`user_pk`), by its name: the key itself is the
    uniqueness guard of (user, name), and a user's keys come back in name order (Waldur's)."""
    return f"{SSH_KEY_PREFIX}{name}"


def ssh_key_by_name_sk(name: str, key_id: str) -> str:
    """In gsi2 `SSH_KEYS`: every key by name, then id (Waldur orders keys by name)."""
    return f"{name}#{key_id}"


# --- slugs ------------------------------------------------------------------------------------------
def slug_pk(kind: str, slug: str) -> str:
    """Uniqueness guard of a slug within its kind (customer, project, resource), naming its holder."""
    return f"SLUG#{kind}#{slug}"


def slug_counter_pk(kind: str, base: str) -> str:
    """The last number handed out to a generated slug `<base>-<n>` of `kind` (domain/slugs.py)."""
    return f"SLUGSEQ#{kind}#{base}"


# --- marketplace offering users ------------------------------------------------------------------
OFFERING_USER_PREFIX = "OFFUSER#"
OFFERING_USER_CONFIG_PREFIX = "OFFUSERCFG#"


def offering_users_prefix(offering_id: str | None = None) -> str:
    """Within the provider customer's partition: every offering user, or one offering's."""
    return f"{OFFERING_USER_PREFIX}{offering_id}#" if offering_id else OFFERING_USER_PREFIX


def offering_user_sk(offering_id: str, user_id: str) -> str:
    """One per user per offering: the key is the uniqueness guard."""
    return f"{offering_users_prefix(offering_id)}{user_id}"


def offering_user_lookup(offering_user_id: str) -> str:
    """gsi1 partition that finds an offering user (and its provider) from its id alone."""
    return f"{OFFERING_USER_PREFIX}{offering_user_id}"


def user_offering_users(user_id: str) -> str:
    """gsi2 partition of a user's offering users, by `<offering>`."""
    return f"UOFFUSERS#{user_id}"


def offering_user_config_sk(offering_id: str) -> str:
    """The offering's user attribute config, in its provider's partition."""
    return f"{OFFERING_USER_CONFIG_PREFIX}{offering_id}"


# --- marketplace robot accounts ---------------------------------------------------------------------
ROBOT_ACCOUNT_PREFIX = "ROBOT#"
ROBOT_ACCOUNTS = "ROBOTS"  # gsi1 partition of every robot account, by id (lookup by id, staff's list)


def robot_account_project_prefix(project_id: str) -> str:
    return f"{ROBOT_ACCOUNT_PREFIX}{project_id}#"


def robot_account_resource_prefix(project_id: str, resource_id: str) -> str:
    """In the consumer customer's partition: one resource's robot accounts."""
    return f"{robot_account_project_prefix(project_id)}{resource_id}#"


def robot_account_sk(project_id: str, resource_id: str, account_type: str) -> str:
    """One per resource and type (Waldur's unique together): the key is the guard."""
    return f"{robot_account_resource_prefix(project_id, resource_id)}{account_type}"


def provider_robot_accounts(provider_customer_id: str) -> str:
    """gsi2 partition of the robot accounts on one provider's offerings, by `<offering>#<id>`."""
    return f"PROBOT#{provider_customer_id}"


# --- the support desk ------------------------------------------------------------------------------
SUPPORT_DESK = "SUPPORT"  # the partition of issues without a customer (personal ones)
ISSUE_PREFIX = "ISSUE#"
ISSUES = "ISSUES"  # gsi1 partition of every issue, by id (lookup by id, the desk's list)
ISSUE_COMMENTS = "ISSUECOMMENTS"  # gsi1 partition of every comment, by id
SUPPORT_USERS = "SUPPORTUSERS"  # gsi1 partition of every support user, by id
ISSUE_NUMBER = "ISSUENUMBER"  # sk of the counter that numbers the desk's issues (in SUPPORT_DESK)


def issue_pk(customer_id: str | None) -> str:
    """An issue lives in its customer's partition; one without a customer in the desk's."""
    return customer_pk(customer_id) if customer_id else SUPPORT_DESK


def issue_sk(issue_id: str) -> str:
    return f"{ISSUE_PREFIX}{issue_id}"


def issue_reporter_sk(issue_id: str) -> str:
    """Beside the issue: the pointer that lists it among its reporter's issues."""
    return f"{ISSUE_PREFIX}{issue_id}#REPORTER"


def issue_comment_prefix(issue_id: str) -> str:
    """Beside the issue, in its partition: its comments, oldest first."""
    return f"ISSUECOMMENT#{issue_id}#"


ISSUE_ATTACHMENTS = "ISSUEATTACHMENTS"  # gsi1 partition of every support attachment, by id


def issue_attachment_prefix(issue_id: str) -> str:
    """The sort-key prefix of an issue's attachments, beside it in its partition."""
    return f"ISSUEATTACH#{issue_id}#"


def issue_attachment_sk(issue_id: str, attachment_id: str) -> str:
    return f"{issue_attachment_prefix(issue_id)}{attachment_id}"


ISSUE_FEEDBACKS = "ISSUEFEEDBACKS"  # gsi1 partition of every support feedback, by id


def issue_feedback_sk(issue_id: str) -> str:
    """Beside the issue, in its partition: its one feedback (the key makes it one per issue)."""
    return f"ISSUEFEEDBACK#{issue_id}"


def feedback_token_pk(token_hash: str) -> str:
    """A mailed feedback token, by its SHA-256 (sk META)."""
    return f"FEEDBACKTOKEN#{token_hash}"


def issue_comment_sk(issue_id: str, comment_id: str) -> str:
    return f"{issue_comment_prefix(issue_id)}{comment_id}"


def issues_of_user(user_id: str) -> str:
    """gsi2 partition of the issues a user is the caller or the reporter of, by id."""
    return f"ISSUEUSER#{user_id}"


def support_user_pk(support_user_id: str) -> str:
    return f"SUPPORTUSER#{support_user_id}"


# --- the support desk's sync with an external service desk (store/support_sync.py) -----------------
SUPPORT_LINK_SK = "#LINK"  # an issue's link to its remote copy
SUPPORT_WATERMARK_SK = "#WATERMARK"  # how far the scheduled pull has read a remote desk's changes


def support_link_pk(backend: str, backend_id: str) -> str:
    """A remote issue's partition: its link to our issue, and the remote comments already known."""
    return f"SUPPORTLINK#{backend}#{backend_id}"


def support_comment_link_sk(comment_backend_id: str) -> str:
    return f"COMMENT#{comment_backend_id}"


SUPPORT_COMMENT_LINK_PREFIX = "COMMENT#"


def support_sync_pk(backend: str) -> str:
    return f"SUPPORTSYNC#{backend}"
