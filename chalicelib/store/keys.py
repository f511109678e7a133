"""Every key formula of the single table, and nowhere else.

Prefixes used with `begins_with` end with `#`. The tenant (customer) leads every tenant-owned
partition key. The access patterns these serve are listed in ACCESS_PATTERNS.md.
"""

from __future__ import annotations

from datetime import datetime

META = "#META"


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


def token_pk(key_hash: str) -> str:
    return f"TOKEN#{key_hash}"


TOKEN_PREFIX = "TOKEN#"


def login_failures_pk(username: str, ip_address: str) -> str:
    return f"LOGINFAIL#{username}#{ip_address}"


# --- counters (list totals without counting) ---------------------------------------------
def counter_pk(name: str) -> str:
    return f"COUNTER#{name}"


# --- events (audit log outbox) --------------------------------------------------------------
GLOBAL_TENANT = "GLOBAL"


def event_pk(customer_id: str | None, created: datetime) -> str:
    return f"EVT#{customer_id or GLOBAL_TENANT}#{created:%Y-%m}"


def feed_pk(scope: str) -> str:
    return f"FEED#{scope}"


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
