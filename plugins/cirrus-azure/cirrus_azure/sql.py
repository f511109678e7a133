"""`Azure.SQLServer`'s cloud backend: an Azure SQL logical server with one database.

Waldur's `Azure.SQLServer` made an Azure Database for PostgreSQL single server (retired by Azure in
2025) with a generated admin password it showed the consumer. Here the type makes what its name
says, through azure-mgmt-sql, and no password at all: the server allows Microsoft Entra
authentication only, its administrator the user or group the order names (`admin_login`,
`admin_object_id`, `admin_type` User|Group) in the offering's tenant. So no credential is stored,
shown or logged by Cirrus.

For a resource `U` create makes the resource group `<resource_group_prefix>U` (tagged with U), the
server `sql-U` (Servers - Create Or Update: TLS 1.2 minimum, Entra-only, public access only through
its firewall, which allows nothing by itself), a firewall rule per entry of the order's
`allowed_ips` (IPv4 addresses or CIDR ranges, at most `max_firewall_rules`), and the
database `attributes.database_name` (default `db`) of the service objective the plan's
article_code names, else `attributes.sku`, else `default_database_sku` (one of `database_skus`).
The server is looked up first: a retried create PUTs no second server (and re-PUTs the database by
name, idempotent).
The backend id is `<group>/<server>/<database>`. Update scales the database (Databases - Update,
`sku`); terminate deletes the server (its databases and rules go with it), then the group if Cirrus
made it for this resource.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from chalicelib.providers.cloud import Heartbeat, Job, ProviderError, RemoteResource, RemoteState, Settings
from cirrus_azure import options as opts
from cirrus_azure.base import TAG_NAME, AzureBackend, group_of, text

IMPORTABLE_TYPE = "sql_server"
_BACKEND_ID = re.compile(r"([A-Za-z0-9_().-]{1,90})/([a-z0-9-]{1,63})(?:/([A-Za-z0-9_-]{1,128}))?")
_DATABASE = re.compile(r"[A-Za-z0-9_-]{1,128}")
_LOGIN = re.compile(r"[^\x00-\x1f\x7f]{1,128}")
_OBJECT_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_VCORE = re.compile(r"(GP|BC|HS)(_S)?_Gen5_([0-9]{1,3})")
_TIERS = {"GP": "GeneralPurpose", "BC": "BusinessCritical", "HS": "Hyperscale"}
_RESERVED_DATABASES = frozenset({"master", "tempdb", "model", "msdb"})

# Databases' `status` (Databases - Get) in the platform's terms.
_DATABASE_STATES = {
    "online": RemoteState.OK,
    "paused": RemoteState.OK,  # a serverless database asleep
    "autoclosed": RemoteState.OK,
    "creating": RemoteState.CREATING,
    "copying": RemoteState.CREATING,
    "restoring": RemoteState.CREATING,
    "recovering": RemoteState.CREATING,
    "scaling": RemoteState.UPDATING,
    "resuming": RemoteState.UPDATING,
    "pausing": RemoteState.UPDATING,
    "onlinechangingdwperformancetiers": RemoteState.UPDATING,
}


def sku_body(objective: str) -> dict[str, Any]:
    """A service objective as the `sku` a database is PUT with: DTU names by name and tier, vCore
    ones (`GP_Gen5_2`, `GP_S_Gen5_1`) by name, family and capacity."""
    found = _VCORE.fullmatch(objective)
    if found is not None:
        name = f"{found.group(1)}{found.group(2) or ''}_Gen5"
        return {
            "name": name,
            "tier": _TIERS[found.group(1)],
            "family": "Gen5",
            "capacity": int(found.group(3)),
        }
    tier = "Basic" if objective == "Basic" else "Standard" if objective.startswith("S") else "Premium"
    return {"name": objective, "tier": tier}


def objective_of(sku: Any) -> str:
    """The service objective a database's `sku` names (the inverse of sku_body)."""
    if sku is None:
        return ""
    name, capacity = text(sku.name), getattr(sku, "capacity", None)
    return f"{name}_{capacity}" if name.endswith("_Gen5") and capacity else name


class AzureSQLServers(AzureBackend):
    """One offering's SQL servers. Built from its Settings; the SDK clients are made on first use."""

    def __init__(self, settings: Settings, **sdk: Any) -> None:
        super().__init__(settings, opts.SQL_DEFAULTS, opts.check_sql_options, **sdk)

    # --- the order's choices -------------------------------------------------------------------
    def _objective(self, job: Job, current: str = "") -> str:
        """The objective asked for; `current` (an update's database's) when the order names none."""
        # The plan's objective wins: an order may not buy a small plan and ask for a large database.
        objective = (
            job.plan_code or job.attributes.get("sku") or current or self.options["default_database_sku"]
        )
        if objective == current:
            return current
        if objective not in self.options["database_skus"]:
            offered = ", ".join(self.options["database_skus"][:20])
            raise ProviderError(
                f"The database SKU {str(objective)[:64]!r} is not offered here (one of: {offered})."
            )
        return str(objective)

    def _administrator(self, job: Job) -> dict[str, Any]:
        login, object_id = job.attributes.get("admin_login"), job.attributes.get("admin_object_id")
        kind = job.attributes.get("admin_type", "User")
        if not (isinstance(login, str) and _LOGIN.fullmatch(login)):
            raise ProviderError(
                "An Azure SQL server needs the order's admin_login: the Microsoft Entra user or group "
                "(at most 128 characters) that administers it; password login is not offered."
            )
        if not (isinstance(object_id, str) and _OBJECT_ID.fullmatch(object_id)):
            raise ProviderError("admin_object_id must be the Entra object id (a UUID) of admin_login.")
        if kind not in ("User", "Group"):
            raise ProviderError("admin_type must be User or Group.")
        return {
            "administratorType": "ActiveDirectory",
            "principalType": kind,
            "login": login,
            "sid": object_id.lower(),
            "tenantId": self.credentials["tenant_id"],
            "azureADOnlyAuthentication": True,
        }

    def _database_name(self, job: Job) -> str:
        name = job.attributes.get("database_name") or "db"
        if not (isinstance(name, str) and _DATABASE.fullmatch(name)) or name.lower() in _RESERVED_DATABASES:
            raise ProviderError(
                "database_name must be 1-128 letters, digits, '_' or '-' (not master, tempdb, ...)."
            )
        return name

    def _firewall(self, job: Job) -> list[tuple[str, str]]:
        given = job.attributes.get("allowed_ips") or []
        limit = self.options["max_firewall_rules"]
        if not isinstance(given, list) or len(given) > limit:
            raise ProviderError(f"allowed_ips must be a list of at most {limit} IPv4 addresses or ranges.")
        ranges: list[tuple[str, str]] = []
        for entry in given:
            try:
                network = ipaddress.IPv4Network(str(entry)[:40], strict=False)
            except ValueError:
                raise ProviderError(
                    f"allowed_ips: {str(entry)[:40]!r} is not an IPv4 address or range."
                ) from None
            if network.prefixlen < 8:
                raise ProviderError(f"allowed_ips: {network} is wider than a /8.")
            if not network.is_global:  # 0.0.0.0 would mean "every Azure service"; private ones never connect
                raise ProviderError(f"allowed_ips: {network} is not a public range.")
            ranges.append((str(network.network_address), str(network.broadcast_address)))
        return ranges

    @staticmethod
    def parse_backend_id(backend_id: str) -> tuple[str, str, str]:
        found = _BACKEND_ID.fullmatch(backend_id or "")
        if found is None:
            raise ProviderError(
                f"{backend_id[:100]!r} is not an Azure SQL id (resource group/server[/database])."
            )
        return found.group(1), found.group(2), found.group(3) or ""

    # --- CloudBackend --------------------------------------------------------------------------
    def create(self, job: Job, heartbeat: Heartbeat) -> RemoteResource:
        group, server = self.group_name(job.resource_uuid), f"sql-{self.uuid_of(job.resource_uuid)}"
        objective, admin = self._objective(job), self._administrator(job)
        database, firewall = self._database_name(job), self._firewall(job)
        sql, location, tags = self.client("sql"), self.options["location"], self.tags(job)
        heartbeat()
        found = self.absent("looking for the SQL server", lambda: sql.servers.get(group, server))
        if found is None:
            self.make_group(group, tags)
            body = {
                "location": location,
                "tags": tags,
                "properties": {
                    "version": "12.0",
                    "minimalTlsVersion": "1.2",
                    "publicNetworkAccess": "Enabled",  # reachable only from allowed_ips (firewall)
                    "administrators": admin,
                },
            }
            self.wait(
                "creating the SQL server",
                lambda: sql.servers.begin_create_or_update(group, server, body),
                heartbeat,
            )
        for i, (start, end) in enumerate(firewall):
            rule = {"properties": {"startIpAddress": start, "endIpAddress": end}}
            self.call(
                "opening the SQL server's firewall",
                lambda i=i, rule=rule: sql.firewall_rules.create_or_update(
                    group, server, f"cirrus-{i}", rule
                ),  # type: ignore[misc]
            )
        db_body = {
            "location": location,
            "tags": tags,
            "sku": sku_body(objective),
            "properties": {"collation": "SQL_Latin1_General_CP1_CI_AS"},
        }
        self.wait(
            "creating the database",
            lambda: sql.databases.begin_create_or_update(group, server, database, db_body),
            heartbeat,
        )
        made = self.get(f"{group}/{server}/{database}")
        if made is None:
            raise ProviderError(f"The SQL server {server} went away while it was made.")
        if made.state is RemoteState.ERRED:
            raise ProviderError(made.error)
        return made

    def update(self, job: Job, heartbeat: Heartbeat) -> RemoteResource:
        group, server, database = self.parse_backend_id(job.backend_id)
        if not database:
            raise ProviderError("This SQL server was imported without a database: there is nothing to scale.")
        sql = self.client("sql")
        found = self.absent("reading the database", lambda: sql.databases.get(group, server, database))
        if found is None:
            raise ProviderError(f"The database {database} of SQL server {server} is not at Azure any more.")
        current = objective_of(found.sku)
        objective = self._objective(job, current)
        if objective != current:
            body = {"sku": sku_body(objective)}
            self.wait(
                f"scaling the database to {objective}",
                lambda: sql.databases.begin_update(group, server, database, body),
                heartbeat,
            )
        made = self.get(job.backend_id)
        if made is None:
            raise ProviderError(f"The SQL server {server} is not at Azure any more.")
        return made

    def terminate(self, job: Job, heartbeat: Heartbeat) -> None:
        group, server, _database = self.parse_backend_id(job.backend_id)
        sql = self.client("sql")
        self.wait(
            "deleting the SQL server",
            lambda: sql.servers.begin_delete(group, server),
            heartbeat,
            gone_ok=True,
        )
        self.delete_group_if_ours(group, job, heartbeat)

    def get(self, backend_id: str) -> RemoteResource | None:
        group, server, database = self.parse_backend_id(backend_id)
        sql = self.client("sql")
        found = self.absent("reading the SQL server", lambda: sql.servers.get(group, server))
        if found is None:
            return None
        db = (
            self.absent("reading the database", lambda: sql.databases.get(group, server, database))
            if database
            else None
        )
        return self._remote(found, group, database, db)

    def list(self) -> Iterable[RemoteResource]:
        sql = self.client("sql")
        with self.calling("listing the SQL servers"):
            return [self._remote(s, group_of(s.id), "", None) for s in sql.servers.list()]

    def usage(self, backend_id: str, month: date) -> Mapping[str, Decimal]:
        return {}  # Azure reports cost through Cost Management, not read here

    # --- answers -------------------------------------------------------------------------------
    def _remote(self, server: Any, group: str, database: str, db: Any) -> RemoteResource:
        props = server.properties
        server_state = text(getattr(props, "state", "")) or "Ready"
        metadata: dict[str, Any] = {
            "resource_group": group,
            "server_name": server.name,
            "fqdn": text(getattr(props, "fully_qualified_domain_name", "")),
            "location": text(server.location),
            "server_state": server_state,
        }
        admins = getattr(props, "administrators", None)
        if admins is not None and admins.login:
            metadata["admin_login"] = text(admins.login)
        state, error = (
            (RemoteState.OK, "")
            if server_state == "Ready"
            else (
                RemoteState.ERRED,
                f"Azure reports the SQL server {server.name} {server_state}.",
            )
        )
        if database:
            metadata["database_name"] = database
            if db is None:
                state, error = (
                    RemoteState.ERRED,
                    f"The database {database} is not on the SQL server any more.",
                )
            else:
                status = text(db.properties.status)
                metadata.update(database_status=status, sku=objective_of(db.sku))
                state = (
                    _DATABASE_STATES.get(status.lower(), RemoteState.ERRED)
                    if state is RemoteState.OK
                    else state
                )
                if state is RemoteState.ERRED and not error:
                    error = f"Azure reports the database {database} {status or 'in an unknown state'}."
        tags = server.tags or {}
        return RemoteResource(
            backend_id=f"{group}/{server.name}" + (f"/{database}" if database else ""),
            name=tags.get(TAG_NAME) or server.name,
            state=state,
            error=error,
            metadata=metadata,
            type=IMPORTABLE_TYPE,
            description=f"SQL server in {metadata['location']}",
        )
