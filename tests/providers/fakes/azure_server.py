"""A fake of the Microsoft identity platform's token endpoint and of the Azure Resource Manager
calls the Azure plugin makes, served over HTTPS on 127.0.0.1 (azure-core sends a bearer token over
https only) with a self-signed certificate made at start.

What it speaks, in the shapes of Microsoft's public references:

- OpenID Connect discovery and the client-credentials grant (MSAL discovers the token endpoint
  first, the authority being a custom host with instance discovery off):
  https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc (the
  `/{tenant}/v2.0/.well-known/openid-configuration` document) and
  https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
  (`POST /{tenant}/oauth2/v2.0/token`, form `grant_type=client_credentials`, `client_id`,
  `client_secret`, `scope=<resource>/.default`; errors `invalid_client` AADSTS7000215 (401),
  `invalid_request` AADSTS90002 for an unknown tenant (400), `invalid_scope` (400)).
- ARM's common rules: https://learn.microsoft.com/rest/api/azure/ (bearer token of the ARM audience,
  `api-version` required: `MissingApiVersionParameter`; errors as `{"error": {"code", "message"}}`:
  https://learn.microsoft.com/azure/azure-resource-manager/troubleshooting/common-deployment-errors)
  and long-running operations:
  https://learn.microsoft.com/azure/azure-resource-manager/management/async-operations (201/202 with
  `Azure-AsyncOperation` -> `{"status": "InProgress"|"Succeeded"|"Failed", "error"}`; `Location` ->
  202 until done, then 200).
- Resource Groups: https://learn.microsoft.com/rest/api/resources/resource-groups/create-or-update
  (PUT 200/201, synchronous), /get (404 `ResourceGroupNotFound`), /check-existence (HEAD 204/404),
  /delete (202 + Location; the group's resources go with it).
- Virtual Networks: https://learn.microsoft.com/rest/api/virtualnetwork/virtual-networks/create-or-update
  (subnets inline; `provisioningState` Updating -> Succeeded).
- Public IP Addresses: https://learn.microsoft.com/rest/api/virtualnetwork/public-ip-addresses/create-or-update
  and /get (`ipAddress` once allocated).
- Network Interfaces: https://learn.microsoft.com/rest/api/virtualnetwork/network-interfaces/create-or-update
  and /get (`ipConfigurations[].properties.privateIPAddress`, `subnet`, `publicIPAddress`;
  `InvalidResourceReference` for a subnet or IP that does not exist).
- Virtual Machines: https://learn.microsoft.com/rest/api/compute/virtual-machines/create-or-update
  (201 + Azure-AsyncOperation, `Creating`; `PropertyChangeNotAllowed` 409 when a PUT changes the
  osProfile; `InvalidParameter` for an unknown size; `PlatformImageNotFound` 404; a Linux profile
  needs SSH keys or a password), /update (PATCH, resize), /get (`$expand=instanceView`:
  `statuses` `ProvisioningState/…`, `PowerState/…`), /list-all (paged with `nextLink`) and /delete
  (202; a NIC or OS disk with `deleteOption: Delete` goes with the VM, and a public IP so marked on
  that NIC with it).
- Azure SQL: https://learn.microsoft.com/rest/api/sql/servers/create-or-update (202 with
  `Azure-AsyncOperation`; `administrators` as ServerExternalAdministrator: `administratorType`
  ActiveDirectory, `login`, `sid`, `tenantId`, `azureADOnlyAuthentication`; without it a SQL login
  and password are required: `InvalidResourceRequestBody`), /servers/get (`state` Ready,
  `fullyQualifiedDomainName`), /servers/list (paged), /servers/delete (its databases and rules go);
  https://learn.microsoft.com/rest/api/sql/firewall-rules/create-or-update (synchronous 200/201,
  `startIpAddress` <= `endIpAddress`); https://learn.microsoft.com/rest/api/sql/databases/create-or-update
  (202; `sku` DTU by name or vCore `GP_Gen5` + `capacity`: `InvalidSkuName`; `status` Creating ->
  Online), /databases/update (PATCH `sku`: Scaling -> Online), /databases/get (404 when gone;
  `ParentResourceNotFound` under a missing server).

Test knobs: `polls` (status reads before an operation finishes), `page_size`, `fail(...)` (answer
the next matching request with an error, or hang it), `fail_vm_operation` (the next VM create ends
Failed, as an allocation failure does), `remove_vm` (a VM deleted behind Cirrus's back), `log` (what
was asked), `tokens_issued`.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import re
import ssl
import tempfile
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.providers.fakes import tls

SIZES = frozenset({"Standard_B1s", "Standard_B1ms", "Standard_B2s", "Standard_B2ms", "Standard_D2s_v5"})
IMAGES = frozenset({("canonical", "ubuntu-24_04-lts", "server"), ("debian", "debian-12", "12")})

_ARM_ITEM = re.compile(
    r"/subscriptions/(?P<sub>[^/]+)/resourcegroups/(?P<group>[^/]+)"
    r"(?:/providers/(?P<ns>microsoft\.[a-z]+)/(?P<type>[a-z]+)/(?P<name>[^/]+)"
    r"(?:/(?P<child>[a-z]+)/(?P<childname>[^/]+))?)?"
)
_LIST_VMS = re.compile(r"/subscriptions/(?P<sub>[^/]+)/providers/microsoft\.compute/virtualmachines")
_LIST_SQL = re.compile(r"/subscriptions/(?P<sub>[^/]+)/providers/microsoft\.sql/servers")
_ASYNC_OP = re.compile(
    r"/subscriptions/(?P<sub>[^/]+)/providers/microsoft\.[a-z]+/locations/[^/]+/operations/(?P<op>[^/]+)"
)
_LOCATION_OP = re.compile(r"/subscriptions/(?P<sub>[^/]+)/operationresults/(?P<op>[^/]+)")

TYPES = {
    ("microsoft.network", "virtualnetworks"): "Microsoft.Network/virtualNetworks",
    ("microsoft.network", "publicipaddresses"): "Microsoft.Network/publicIPAddresses",
    ("microsoft.network", "networkinterfaces"): "Microsoft.Network/networkInterfaces",
    ("microsoft.compute", "virtualmachines"): "Microsoft.Compute/virtualMachines",
    ("microsoft.sql", "servers"): "Microsoft.Sql/servers",
}
SQL_CHILDREN = {
    "databases": "Microsoft.Sql/servers/databases",
    "firewallrules": "Microsoft.Sql/servers/firewallRules",
}
# Azure SQL Database SKUs: DTU by name (and tier), vCore by edition family with a capacity.
SQL_DTU = {"Basic": "Basic", **{f"S{n}": "Standard" for n in (0, 1, 2, 3, 4, 6, 7, 9, 12)},
           **{f"P{n}": "Premium" for n in (1, 2, 4, 6, 11, 15)}}  # fmt: skip
SQL_VCORE = {"GP_Gen5": "GeneralPurpose", "GP_S_Gen5": "GeneralPurpose", "BC_Gen5": "BusinessCritical",
             "HS_Gen5": "Hyperscale"}  # fmt: skip


class ArmError(Exception):
    def __init__(self, status: int, code: str, message: str, target: str = "") -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.target = status, code, message, target

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target:
            error["target"] = self.target
        return {"error": error}


@dataclass
class Operation:
    polls_left: int
    done: Callable[[], None]
    error: dict[str, str] | None = None
    finished: bool = False
    key: tuple[str, str, str] | None = None  # the resource it works on (a GET of it advances it too)


@dataclass
class Fault:
    method: str
    pattern: str
    status: int
    code: str
    message: str
    times: int = 1
    hang: bool = False


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def _objective(sku: dict[str, Any]) -> str:
    return f"{sku['name']}_{sku['capacity']}" if "capacity" in sku else str(sku["name"])


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat()


class FakeAzure:
    """One tenant, one service principal, one subscription."""

    def __init__(
        self,
        tenant_id: str = "72f988bf-86f1-41af-91ab-2d7cd011db47",
        client_id: str = "0c1a7a3e-5b8f-4a1e-9f5e-2f3b1d6c7e8a",
        client_secret: str = "s3cr3t~Azure.Client_Secret-Value",
        subscription_id: str = "11111111-2222-3333-4444-555555555555",
    ) -> None:
        self.tenant_id, self.client_id = tenant_id, client_id
        self.client_secret, self.subscription_id = client_secret, subscription_id
        self.polls = 1
        self.page_size = 2
        self.groups: dict[str, dict[str, Any]] = {}
        self.resources: dict[tuple[str, str, str], dict[str, Any]] = {}  # (group, type, name), lower case
        self.disks: dict[tuple[str, str], dict[str, Any]] = {}
        self.operations: dict[str, Operation] = {}
        self.faults: list[Fault] = []
        self.fail_vm_operation: dict[str, str] | None = None
        self.log: list[dict[str, Any]] = []
        self.tokens: dict[str, str] = {}  # access token -> scope
        self.tokens_issued = 0
        self._lock = threading.RLock()
        self._release = threading.Event()
        self._next_ip = 10
        self._dir = tempfile.TemporaryDirectory(prefix="fake-azure-")
        made = tls.self_signed(Path(self._dir.name))
        self.ca_file, key_file = made.cert_path, made.key_path
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.ca_file, key_file)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def start(self) -> FakeAzure:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()
        self._dir.cleanup()

    # --- knobs ---------------------------------------------------------------------------------
    def fail(
        self,
        method: str,
        pattern: str,
        status: int,
        code: str = "",
        message: str = "",
        times: int = 1,
        hang: bool = False,
    ) -> None:
        """Answer the next `times` requests of `method` whose path matches `pattern` (a regex on the
        lower-cased path) with `status` and ARM's error body, or hold them (`hang`) until stop."""
        self.faults.append(Fault(method, pattern, status, code, message, times, hang))

    def remove_vm(self, group: str, name: str) -> None:
        with self._lock:
            self.resources.pop((group.lower(), "microsoft.compute/virtualmachines", name.lower()), None)

    def vm(self, group: str, name: str) -> dict[str, Any] | None:
        return self.resources.get((group.lower(), "microsoft.compute/virtualmachines", name.lower()))

    def requests(self, method: str, pattern: str) -> list[dict[str, Any]]:
        return [r for r in self.log if r["method"] == method and re.search(pattern, r["path"].lower())]

    def arm_id(self, group: str, kind: str = "", name: str = "") -> str:
        base = f"/subscriptions/{self.subscription_id}/resourceGroups/{group}"
        return f"{base}/providers/{kind}/{name}" if kind else base

    # --- identity ------------------------------------------------------------------------------
    def openid_configuration(self, tenant: str) -> Answer:
        if tenant != self.tenant_id:
            return Answer(
                400,
                {
                    "error": "invalid_tenant",
                    "error_description": f"AADSTS90002: Tenant '{tenant}' not found.",
                },
            )
        base = f"{self.url}/{tenant}"
        return Answer(
            200,
            {
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "issuer": f"{base}/v2.0",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
            },
        )

    def token(self, tenant: str, form: dict[str, str]) -> Answer:
        def refused(status: int, error: str, description: str) -> Answer:
            return Answer(
                status,
                {"error": error, "error_description": description, "error_codes": [], "timestamp": _now()},
            )

        if tenant != self.tenant_id:
            return refused(400, "invalid_request", f"AADSTS90002: Tenant '{tenant}' not found.")
        if form.get("grant_type") != "client_credentials":
            return refused(
                400, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type."
            )
        if form.get("client_id") != self.client_id:
            return refused(
                400,
                "unauthorized_client",
                f"AADSTS700016: Application with identifier '{form.get('client_id')}' was not found.",
            )
        if form.get("client_secret") != self.client_secret:
            return refused(
                401,
                "invalid_client",
                f"AADSTS7000215: Invalid client secret provided for app '{self.client_id}'.",
            )
        scope = form.get("scope", "")
        if not scope.endswith("/.default") or " " in scope.strip():
            return refused(
                400, "invalid_scope", f"AADSTS1002012: The provided value for scope {scope} is not valid."
            )
        token = uuid.uuid4().hex + uuid.uuid4().hex
        with self._lock:
            self.tokens[token] = scope
            self.tokens_issued += 1
        return Answer(
            200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}
        )

    # --- ARM -----------------------------------------------------------------------------------
    def arm(self, method: str, path: str, query: dict[str, str], headers: Any, body: Any) -> Answer:
        auth = headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            raise ArmError(
                401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."
            )
        scope = self.tokens.get(auth[len("Bearer ") :])
        if scope is None:
            raise ArmError(401, "InvalidAuthenticationToken", "The access token is invalid.")
        if scope.rstrip("/").removesuffix("/.default").rstrip("/") != self.url:
            raise ArmError(
                401,
                "InvalidAuthenticationTokenAudience",
                "The access token has been obtained for wrong audience or resource.",
            )
        lower = path.lower()
        if found := _ASYNC_OP.fullmatch(lower):
            return self._async_status(found["op"])
        if found := _LOCATION_OP.fullmatch(lower):
            return self._location_status(found["op"])
        if "api-version" not in query:
            raise ArmError(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        if found := _LIST_VMS.fullmatch(lower) or _LIST_SQL.fullmatch(lower):
            self._subscription(found["sub"])
            if method != "GET":
                raise ArmError(405, "MethodNotAllowed", "The method is not allowed.")
            kind = (
                "microsoft.compute/virtualmachines" if "virtualmachines" in lower else "microsoft.sql/servers"
            )
            return self._list(kind, path, query)
        found = _ARM_ITEM.fullmatch(lower)
        if found is None:
            raise ArmError(404, "InvalidResourceType", f"The resource type could not be found for {path}.")
        self._subscription(found["sub"])
        group = path.split("/")[4]
        if found["ns"] is None:
            return self._group(method, group, body)
        item_kind = (found["ns"], found["type"])
        if item_kind == ("microsoft.sql", "servers"):
            if group.lower() not in self.groups:
                raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{group}' could not be found.")
            segments = path.split("/")
            child = found["child"]
            if child is not None and child not in SQL_CHILDREN:
                raise ArmError(404, "InvalidResourceType", f"The resource type '{child}' could not be found.")
            return self._sql(method, group, segments[8], child, segments[10] if child else "", query, body)
        if item_kind not in TYPES or found["child"] is not None:
            raise ArmError(
                404, "InvalidResourceType", f"The resource type '{found['type']}' could not be found."
            )
        name = path.split("/")[-1]
        return self._item(method, group, TYPES[item_kind], name, query, body)

    def _subscription(self, sub: str) -> None:
        if sub != self.subscription_id.lower():
            raise ArmError(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")

    def _advance_for(self, key: tuple[str, str, str]) -> None:
        """Time passes for a resource's running operations when it is read (real ARM: by the clock)."""
        for op_id in [i for i, op in self.operations.items() if op.key == key and not op.finished]:
            self._advance(op_id)

    def _operation(
        self, done: Callable[[], None], location: str, provider: str, error: dict[str, str] | None = None
    ) -> dict[str, str]:
        op = uuid.uuid4().hex
        self.operations[op] = Operation(self.polls, done, error)
        base = f"{self.url}/subscriptions/{self.subscription_id}"
        return {
            "Azure-AsyncOperation": (
                f"{base}/providers/{provider}/locations/{location}/operations/{op}?api-version=2024-01-01"
            ),
            "Location": f"{base}/operationresults/{op}?api-version=2024-01-01",
        }

    def _advance(self, op_id: str) -> Operation:
        op = self.operations.get(op_id)
        if op is None:
            raise ArmError(404, "OperationNotFound", f"The operation '{op_id}' could not be found.")
        if not op.finished:
            op.polls_left -= 1
            if op.polls_left <= 0:
                op.finished = True
                op.done()
        return op

    def _async_status(self, op_id: str) -> Answer:
        op = self._advance(op_id)
        if not op.finished:
            return Answer(200, {"name": op_id, "status": "InProgress", "startTime": _now()})
        if op.error is not None:
            return Answer(200, {"name": op_id, "status": "Failed", "error": op.error, "endTime": _now()})
        return Answer(200, {"name": op_id, "status": "Succeeded", "endTime": _now()})

    def _location_status(self, op_id: str) -> Answer:
        op = self._advance(op_id)
        if not op.finished:
            return Answer(
                202,
                None,
                {
                    "Location": f"{self.url}/subscriptions/{self.subscription_id}/operationresults/{op_id}"
                    "?api-version=2024-01-01"
                },
            )
        if op.error is not None:
            return Answer(400, {"error": op.error})
        return Answer(200)

    # resource groups
    def _group(self, method: str, name: str, body: Any) -> Answer:
        key = name.lower()
        found = self.groups.get(key)
        if method == "PUT":
            location = (body or {}).get("location")
            if not isinstance(location, str) or not location:
                raise ArmError(
                    400, "LocationRequired", "The location property is required for this definition."
                )
            if found is not None and found["location"] != location:
                raise ArmError(
                    409,
                    "InvalidResourceGroupLocation",
                    f"Invalid resource group location '{location}'. "
                    f"The Resource group already exists in location '{found['location']}'.",
                )
            made = {
                "id": self.arm_id(found["name"] if found else name),
                "name": found["name"] if found else name,
                "type": "Microsoft.Resources/resourceGroups",
                "location": location,
                "tags": dict((body or {}).get("tags") or {}),
                "properties": {"provisioningState": "Succeeded"},
            }
            self.groups[key] = made
            return Answer(200 if found else 201, made)
        if found is None:
            if method == "HEAD":
                return Answer(404)
            raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.")
        if method == "HEAD":
            return Answer(204)
        if method == "GET":
            return Answer(200, found)
        if method == "DELETE":
            found["properties"]["provisioningState"] = "Deleting"

            def gone() -> None:
                self.groups.pop(key, None)
                for item in [k for k in self.resources if k[0] == key]:
                    del self.resources[item]
                for disk in [k for k in self.disks if k[0] == key]:
                    del self.disks[disk]

            headers = self._operation(gone, found["location"], "Microsoft.Resources")
            return Answer(202, None, {"Location": headers["Location"]})
        raise ArmError(405, "MethodNotAllowed", "The method is not allowed.")

    # resources in a group
    def _item(
        self, method: str, group: str, kind: str, name: str, query: dict[str, str], body: Any
    ) -> Answer:
        if group.lower() not in self.groups:
            raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{group}' could not be found.")
        key = (group.lower(), kind.lower(), name.lower())
        found = self.resources.get(key)
        if method == "GET":
            self._advance_for(key)
            found = self.resources.get(key)
            if found is None:
                raise ArmError(
                    404,
                    "ResourceNotFound",
                    f"The Resource '{kind}/{name}' under resource group '{group}' was not found.",
                )
            return Answer(200, self._shown(found, query))
        if method == "DELETE":
            if found is None:
                return Answer(204)
            found["properties"]["provisioningState"] = "Deleting"
            headers = self._operation(lambda: self._delete(key), found["location"], kind.split("/")[0])
            return Answer(202, None, headers)
        if method == "PATCH" and kind == "Microsoft.Compute/virtualMachines":
            if found is None:
                raise ArmError(
                    404,
                    "ResourceNotFound",
                    f"The Resource '{kind}/{name}' under resource group '{group}' was not found.",
                )
            return self._resize(found, body)
        if method != "PUT":
            raise ArmError(405, "MethodNotAllowed", "The method is not allowed.")
        if not isinstance(body, dict) or not isinstance(body.get("location"), str):
            raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
        make = {
            "Microsoft.Network/virtualNetworks": self._vnet,
            "Microsoft.Network/publicIPAddresses": self._public_ip,
            "Microsoft.Network/networkInterfaces": self._nic,
            "Microsoft.Compute/virtualMachines": self._vm,
        }[kind]
        made, extra = make(group, name, body, found)
        made.update(
            {
                "id": self.arm_id(group, kind, name),
                "name": name,
                "type": kind,
                "location": body["location"],
                "tags": dict(body.get("tags") or {}),
            }
        )
        made["properties"]["provisioningState"] = (
            "Creating" if found is None and kind.startswith("Microsoft.Compute") else "Updating"
        )
        self.resources[key] = made
        error = None
        if kind == "Microsoft.Compute/virtualMachines" and self.fail_vm_operation is not None:
            error, self.fail_vm_operation = self.fail_vm_operation, None

        def finished() -> None:
            made["properties"]["provisioningState"] = "Failed" if error else "Succeeded"
            if error:
                made["properties"]["_failure"] = error["message"]
            else:
                extra()

        headers = self._operation(finished, body["location"], kind.split("/")[0], error)
        self.operations[headers["Location"].split("/")[-1].split("?")[0]].key = key
        return Answer(200 if found else 201, made, {"Azure-AsyncOperation": headers["Azure-AsyncOperation"]})

    def _shown(self, item: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
        shown: dict[str, Any] = json.loads(json.dumps(item))
        shown["properties"].pop("_customData", None)
        if item["type"] == "Microsoft.Compute/virtualMachines" and query.get("$expand") == "instanceView":
            state = item["properties"]["provisioningState"]
            statuses = [
                {
                    "code": f"ProvisioningState/{state.lower()}",
                    "level": "Error" if state == "Failed" else "Info",
                    "displayStatus": f"Provisioning {state.lower()}",
                    "time": _now(),
                }
            ]
            if state == "Failed":
                statuses[0]["message"] = item["properties"].get("_failure", "Provisioning failed.")
            if state == "Succeeded":
                statuses.append(
                    {
                        "code": f"PowerState/{item['properties']['_power']}",
                        "level": "Info",
                        "displayStatus": f"VM {item['properties']['_power']}",
                    }
                )
            shown["properties"]["instanceView"] = {
                "computerName": item["properties"]["osProfile"]["computerName"],
                "statuses": statuses,
            }
        for hidden in [k for k in shown["properties"] if k.startswith("_")]:
            del shown["properties"][hidden]
        return shown

    def _reference(self, arm_id: Any, what: str, referrer: str) -> dict[str, Any]:
        """The resource an `{"id": ...}` reference names, or InvalidResourceReference."""
        parts = str(arm_id or "").split("/")
        item = None
        if len(parts) >= 9 and parts[2].lower() == self.subscription_id.lower():
            item = self.resources.get((parts[4].lower(), f"{parts[6]}/{parts[7]}".lower(), parts[8].lower()))
        if item is None:
            raise ArmError(
                400,
                "InvalidResourceReference",
                f"Resource {arm_id} referenced by resource {referrer} was not found. Please make sure that "
                "the referenced resource exists, and that both resources are in the same region.",
            )
        if what == "subnet":
            subnet = next(
                (s for s in item["properties"]["subnets"] if s["id"].lower() == str(arm_id).lower()), None
            )
            if subnet is None:
                raise ArmError(
                    400,
                    "InvalidResourceReference",
                    f"Resource {arm_id} referenced by resource {referrer} was not found.",
                )
        return item

    def _vnet(
        self, group: str, name: str, body: dict[str, Any], found: Any
    ) -> tuple[dict[str, Any], Callable[[], None]]:
        props = body.get("properties") or {}
        prefixes = (props.get("addressSpace") or {}).get("addressPrefixes") or []
        if not prefixes:
            raise ArmError(400, "InvalidAddressSpace", "The virtual network must have an address space.")
        spaces = [ipaddress.ip_network(p) for p in prefixes]
        vnet_id = self.arm_id(group, "Microsoft.Network/virtualNetworks", name)
        subnets = []
        for subnet in props.get("subnets") or []:
            prefix = (subnet.get("properties") or {}).get("addressPrefix")
            if not subnet.get("name") or not prefix:
                raise ArmError(400, "InvalidRequestFormat", "A subnet needs a name and an addressPrefix.")
            if not any(ipaddress.ip_network(prefix).subnet_of(s) for s in spaces):  # type: ignore[arg-type]
                raise ArmError(
                    400,
                    "NetcfgSubnetRangeOutsideVnet",
                    f"Subnet '{subnet['name']}' is not valid because its IP address range is outside the IP "
                    f"address range of virtual network '{name}'.",
                )
            subnets.append(
                {
                    "id": f"{vnet_id}/subnets/{subnet['name']}",
                    "name": subnet["name"],
                    "type": "Microsoft.Network/virtualNetworks/subnets",
                    "properties": {"provisioningState": "Succeeded", "addressPrefix": prefix},
                }
            )
        made = {
            "etag": f'W/"{uuid.uuid4()}"',
            "properties": {
                "resourceGuid": str(uuid.uuid4()),
                "addressSpace": {"addressPrefixes": prefixes},
                "subnets": subnets,
            },
        }
        return made, lambda: None

    def _public_ip(
        self, group: str, name: str, body: dict[str, Any], found: Any
    ) -> tuple[dict[str, Any], Callable[[], None]]:
        props = body.get("properties") or {}
        method = props.get("publicIPAllocationMethod", "Dynamic")
        sku = (body.get("sku") or {}).get("name", "Basic")
        if sku == "Standard" and method != "Static":
            raise ArmError(
                400,
                "StandardSkuPublicIPAddressesMustBeStatic",
                "Standard sku public IP addresses must have allocation method Static.",
            )
        address = found["properties"].get("ipAddress") if found else None
        made = {
            "sku": {"name": sku, "tier": "Regional"},
            "properties": {
                "publicIPAllocationMethod": method,
                "publicIPAddressVersion": props.get("publicIPAddressVersion", "IPv4"),
                "idleTimeoutInMinutes": 4,
            },
        }
        if address is None:
            self._next_ip += 1
            address = f"20.50.1.{self._next_ip}"

        def allocated() -> None:
            self.resources[(group.lower(), "microsoft.network/publicipaddresses", name.lower())][
                "properties"
            ]["ipAddress"] = address

        return made, allocated

    def _nic(
        self, group: str, name: str, body: dict[str, Any], found: Any
    ) -> tuple[dict[str, Any], Callable[[], None]]:
        nic_id = self.arm_id(group, "Microsoft.Network/networkInterfaces", name)
        configs = (body.get("properties") or {}).get("ipConfigurations") or []
        if not configs:
            raise ArmError(
                400,
                "NetworkInterfaceMustHaveIpConfiguration",
                "A network interface must have at least one IP configuration.",
            )
        shown = []
        for i, config in enumerate(configs):
            props = config.get("properties") or {}
            subnet_id = (props.get("subnet") or {}).get("id")
            self._reference(subnet_id, "subnet", nic_id)
            out: dict[str, Any] = {
                "privateIPAddress": f"10.0.0.{4 + len(self.resources) % 200}",
                "privateIPAllocationMethod": props.get("privateIPAllocationMethod", "Dynamic"),
                "subnet": {"id": subnet_id},
                "primary": i == 0,
                "provisioningState": "Succeeded",
            }
            if found is not None:
                out["privateIPAddress"] = found["properties"]["ipConfigurations"][i]["properties"][
                    "privateIPAddress"
                ]
            public = props.get("publicIPAddress")
            if public:
                self._reference(public.get("id"), "ip", nic_id)
                out["publicIPAddress"] = {
                    "id": public["id"],
                    "properties": {
                        "deleteOption": (public.get("properties") or {}).get("deleteOption", "Detach")
                    },
                }
            shown.append(
                {
                    "id": f"{nic_id}/ipConfigurations/{config.get('name')}",
                    "name": config.get("name"),
                    "properties": out,
                }
            )
        made = {
            "etag": f'W/"{uuid.uuid4()}"',
            "properties": {"ipConfigurations": shown, "enableAcceleratedNetworking": False, "primary": True},
        }
        return made, lambda: None

    def _vm(
        self, group: str, name: str, body: dict[str, Any], found: Any
    ) -> tuple[dict[str, Any], Callable[[], None]]:
        props = body.get("properties") or {}
        size = (props.get("hardwareProfile") or {}).get("vmSize")
        if size not in SIZES:
            raise ArmError(
                400,
                "InvalidParameter",
                f"The value {size} provided for the VM size is not valid. "
                f"The valid sizes in the current region are: {', '.join(sorted(SIZES))}.",
                "vmSize",
            )
        storage = props.get("storageProfile") or {}
        image = storage.get("imageReference") or {}
        if (
            str(image.get("publisher")).lower(),
            str(image.get("offer")).lower(),
            str(image.get("sku")).lower(),
        ) not in IMAGES:
            raise ArmError(
                404,
                "PlatformImageNotFound",
                f"The platform image '{image.get('publisher')}:{image.get('offer')}:{image.get('sku')}:"
                f"{image.get('version')}' is not available. "
                "Verify that all fields in the storage profile are correct.",
            )
        os_profile = props.get("osProfile") or {}
        if found is not None:
            before = found["properties"]["osProfile"]
            for field_name in ("adminUsername", "computerName"):
                if os_profile.get(field_name) != before.get(field_name):
                    raise ArmError(
                        409,
                        "PropertyChangeNotAllowed",
                        f"Changing property 'osProfile.{field_name}' is not allowed.",
                        f"osProfile.{field_name}",
                    )
            if os_profile.get("customData") != found["properties"].get("_customData"):
                raise ArmError(
                    409,
                    "PropertyChangeNotAllowed",
                    "Changing property 'customData' is not allowed.",
                    "customData",
                )
        if not os_profile.get("adminUsername") or not os_profile.get("computerName"):
            raise ArmError(
                400,
                "InvalidParameter",
                "Required parameter 'osProfile.adminUsername' is missing (null).",
                "osProfile",
            )
        linux = os_profile.get("linuxConfiguration") or {}
        keys = (linux.get("ssh") or {}).get("publicKeys") or []
        if not keys and not os_profile.get("adminPassword"):
            raise ArmError(
                400,
                "InvalidParameter",
                "Authentication using either SSH or by user name and password must be enabled in Linux "
                "profile.",
                "linuxConfiguration",
            )
        nics = (props.get("networkProfile") or {}).get("networkInterfaces") or []
        if not nics:
            raise ArmError(
                400, "InvalidParameter", "At least one network interface is required.", "networkProfile"
            )
        vm_id = self.arm_id(group, "Microsoft.Compute/virtualMachines", name)
        for nic in nics:
            item = self._reference(nic.get("id"), "nic", vm_id)
            attached = item["properties"].get("virtualMachine", {}).get("id")
            if attached and attached.lower() != vm_id.lower():
                raise ArmError(
                    400,
                    "NicInUse",
                    f"Network Interface {nic.get('id')} is used by existing resource {attached}.",
                )
        os_disk = dict(storage.get("osDisk") or {})
        disk_name = os_disk.get("name") or f"{name}_OsDisk_1_{uuid.uuid4().hex}"
        os_disk.update({"name": disk_name, "osType": "Linux", "diskSizeGB": 30})
        os_disk["managedDisk"] = {
            **(os_disk.get("managedDisk") or {}),
            "id": self.arm_id(group, "Microsoft.Compute/disks", disk_name),
        }
        shown_profile = {k: v for k, v in os_profile.items() if k not in ("customData", "adminPassword")}
        shown_profile.update({"secrets": [], "allowExtensionOperations": True})
        made = {
            "properties": {
                "vmId": found["properties"]["vmId"] if found else str(uuid.uuid4()),
                "hardwareProfile": {"vmSize": size},
                "storageProfile": {
                    "imageReference": {**image, "exactVersion": "24.04.202411030"},
                    "osDisk": os_disk,
                    "dataDisks": [],
                },
                "osProfile": shown_profile,
                "networkProfile": {"networkInterfaces": nics},
                "timeCreated": found["properties"]["timeCreated"] if found else _now(),
                "_customData": os_profile.get("customData"),
                "_power": "running",
            }
        }

        def provisioned() -> None:
            self.disks[(group.lower(), disk_name.lower())] = {
                "deleteOption": os_disk.get("deleteOption", "Detach")
            }
            for nic in nics:
                self._reference(nic.get("id"), "nic", vm_id)["properties"]["virtualMachine"] = {"id": vm_id}

        return made, provisioned

    def _resize(self, vm: dict[str, Any], body: Any) -> Answer:
        size = (((body or {}).get("properties") or {}).get("hardwareProfile") or {}).get("vmSize")
        if size is not None and size not in SIZES:
            raise ArmError(
                400, "InvalidParameter", f"The value {size} provided for the VM size is not valid.", "vmSize"
            )
        vm["properties"]["provisioningState"] = "Updating"

        def resized() -> None:
            if size is not None:
                vm["properties"]["hardwareProfile"]["vmSize"] = size
            vm["properties"]["provisioningState"] = "Succeeded"

        headers = self._operation(resized, vm["location"], "Microsoft.Compute")
        return Answer(200, self._shown(vm, {}), {"Azure-AsyncOperation": headers["Azure-AsyncOperation"]})

    def _delete(self, key: tuple[str, str, str]) -> None:
        item = self.resources.pop(key, None)
        if item is None or key[1] != "microsoft.compute/virtualmachines":
            return
        disk = item["properties"]["storageProfile"]["osDisk"]
        if disk.get("deleteOption") == "Delete":
            self.disks.pop((key[0], disk["name"].lower()), None)
        for ref in item["properties"]["networkProfile"]["networkInterfaces"]:
            parts = ref["id"].split("/")
            nic_key = (parts[4].lower(), "microsoft.network/networkinterfaces", parts[8].lower())
            nic = self.resources.get(nic_key)
            if nic is None:
                continue
            nic["properties"].pop("virtualMachine", None)
            if (ref.get("properties") or {}).get("deleteOption") != "Delete":
                continue
            del self.resources[nic_key]
            for config in nic["properties"]["ipConfigurations"]:
                public = config["properties"].get("publicIPAddress")
                if public and public["properties"].get("deleteOption") == "Delete":
                    ip_parts = public["id"].split("/")
                    self.resources.pop(
                        (ip_parts[4].lower(), "microsoft.network/publicipaddresses", ip_parts[8].lower()),
                        None,
                    )

    # --- Azure SQL: servers, their firewall rules and databases ---------------------------------
    def _sql(
        self,
        method: str,
        group: str,
        server: str,
        child: str | None,
        name: str,
        query: dict[str, str],
        body: Any,
    ) -> Answer:
        g = group.lower()
        server_key = (g, "microsoft.sql/servers", server.lower())
        found_server = self.resources.get(server_key)
        if child is None:
            return self._sql_server(method, group, server, server_key, found_server, body)
        if found_server is None:
            raise ArmError(
                404,
                "ParentResourceNotFound",
                "Can not perform requested operation on nested resource. "
                f"Parent resource '{server}' not found.",
            )
        kind = SQL_CHILDREN[child]
        key = (g, kind.lower(), f"{server}/{name}".lower())
        found = self.resources.get(key)
        item_id = f"{self.arm_id(group, 'Microsoft.Sql/servers', server)}/{kind.split('/')[-1]}/{name}"
        if method == "GET":
            if found is None:
                raise ArmError(
                    404,
                    "ResourceNotFound",
                    f"The requested resource of type '{kind}' with name '{name}' was not found.",
                )
            return Answer(200, self._shown(found, query))
        if kind == "Microsoft.Sql/servers/firewallRules":
            if method != "PUT":
                raise ArmError(405, "MethodNotAllowed", "The method is not allowed.")
            return self._firewall_rule(item_id, name, key, found, body)
        if method == "PUT":
            return self._database(group, server, name, item_id, key, found, body)
        if method == "PATCH":
            if found is None:
                raise ArmError(
                    404,
                    "ResourceNotFound",
                    f"The requested resource of type '{kind}' with name '{name}' was not found.",
                )
            sku = self._sql_sku((body or {}).get("sku"))
            found["properties"]["status"] = "Scaling"

            def scaled() -> None:
                found["sku"] = sku
                found["properties"].update(
                    status="Online", currentServiceObjectiveName=_objective(sku), currentSku=sku
                )

            return Answer(202, None, self._operation(scaled, found["location"], "Microsoft.Sql"))
        raise ArmError(405, "MethodNotAllowed", "The method is not allowed.")

    def _sql_server(
        self, method: str, group: str, server: str, key: tuple[str, str, str], found: Any, body: Any
    ) -> Answer:
        if method == "GET":
            if found is None:
                raise ArmError(
                    404,
                    "ResourceNotFound",
                    "The requested resource of type 'Microsoft.Sql/servers' "
                    f"with name '{server}' was not found.",
                )
            return Answer(200, self._shown(found, {}))
        if method == "DELETE":
            if found is None:
                return Answer(204)

            def gone() -> None:
                for k in [
                    k
                    for k in self.resources
                    if k == key or (k[0] == key[0] and k[2].startswith(f"{key[2]}/"))
                ]:
                    del self.resources[k]

            return Answer(202, None, self._operation(gone, found["location"], "Microsoft.Sql"))
        if method != "PUT":
            raise ArmError(405, "MethodNotAllowed", "The method is not allowed.")
        if not isinstance(body, dict) or not isinstance(body.get("location"), str):
            raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
        props = body.get("properties") or {}
        admins = props.get("administrators") or {}
        entra_only = admins.get("azureADOnlyAuthentication") is True
        if (
            found is None
            and not entra_only
            and not (props.get("administratorLogin") and props.get("administratorLoginPassword"))
        ):
            raise ArmError(
                400,
                "InvalidResourceRequestBody",
                "The resource or resource properties in the request body is empty or invalid.",
            )
        if admins and not (
            admins.get("login") and admins.get("sid") and admins.get("administratorType") == "ActiveDirectory"
        ):
            raise ArmError(
                400,
                "InvalidResourceRequestBody",
                "The resource or resource properties in the request body is empty or invalid.",
            )
        if admins.get("tenantId") not in (None, self.tenant_id):
            raise ArmError(
                400,
                "InvalidTenantId",
                f"The tenant '{admins.get('tenantId')}' is not the subscription's tenant.",
            )
        shown_admins = {k: v for k, v in admins.items()}
        made = {
            "id": self.arm_id(group, "Microsoft.Sql/servers", server),
            "name": server,
            "type": "Microsoft.Sql/servers",
            "location": body["location"],
            "tags": dict(body.get("tags") or {}),
            "kind": "v12.0",
            "properties": {
                "version": props.get("version", "12.0"),
                "state": "Ready",
                "fullyQualifiedDomainName": f"{server}.database.windows.net",
                "minimalTlsVersion": props.get("minimalTlsVersion", "None"),
                "publicNetworkAccess": props.get("publicNetworkAccess", "Enabled"),
                "administrators": shown_admins,
            },
        }

        def ready() -> None:
            self.resources[key] = made

        return Answer(202, None, self._operation(ready, body["location"], "Microsoft.Sql"))

    def _firewall_rule(
        self, item_id: str, name: str, key: tuple[str, str, str], found: Any, body: Any
    ) -> Answer:
        props = (body or {}).get("properties") or {}
        try:
            start = ipaddress.IPv4Address(props.get("startIpAddress"))
            end = ipaddress.IPv4Address(props.get("endIpAddress"))
        except ValueError:
            raise ArmError(
                400,
                "InvalidParameterValue",
                "Invalid value given for parameter startIpAddress or endIpAddress.",
            ) from None
        if start > end:
            raise ArmError(
                400,
                "FirewallRuleStartIpAddressGreaterThanEndIpAddress",
                "The start IP address of a firewall rule cannot exceed its end IP address.",
            )
        made = {"id": item_id, "name": name, "type": "Microsoft.Sql/servers/firewallRules",
                "properties": {"startIpAddress": str(start), "endIpAddress": str(end)}}  # fmt: skip
        self.resources[key] = made
        return Answer(200 if found else 201, made)

    @staticmethod
    def _sql_sku(sku: Any) -> dict[str, Any]:
        name = (sku or {}).get("name")
        if name in SQL_DTU:
            return {"name": name, "tier": SQL_DTU[name]}
        if name in SQL_VCORE and isinstance(sku.get("capacity"), int) and sku["capacity"] > 0:
            return {"name": name, "tier": SQL_VCORE[name], "family": "Gen5", "capacity": sku["capacity"]}
        raise ArmError(
            400,
            "InvalidSkuName",
            f"The requested SKU name '{name}' is invalid or not supported in this region.",
        )

    def _database(
        self,
        group: str,
        server: str,
        name: str,
        item_id: str,
        key: tuple[str, str, str],
        found: Any,
        body: Any,
    ) -> Answer:
        if not isinstance(body, dict) or not isinstance(body.get("location"), str):
            raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
        if name.lower() in ("master", "tempdb", "model", "msdb"):
            raise ArmError(400, "ReservedDatabaseName", f"The database name '{name}' is reserved.")
        sku = self._sql_sku(body.get("sku") or {"name": "GP_Gen5", "capacity": 2})
        props = body.get("properties") or {}
        made = found or {
            "id": item_id, "name": name, "type": "Microsoft.Sql/servers/databases",
            "location": body["location"], "kind": "v12.0,user", "sku": sku,
            "properties": {"databaseId": str(uuid.uuid4()), "creationDate": _now(),
                           "maxSizeBytes": 2147483648, "status": "Creating",
                           "collation": props.get("collation", "SQL_Latin1_General_CP1_CI_AS")},
        }  # fmt: skip
        made["tags"] = dict(body.get("tags") or {})
        made["properties"]["requestedServiceObjectiveName"] = _objective(sku)
        self.resources[key] = made

        def online() -> None:
            made["sku"] = sku
            made["properties"].update(
                status="Online", currentServiceObjectiveName=_objective(sku), currentSku=sku
            )

        return Answer(202, None, self._operation(online, body["location"], "Microsoft.Sql"))

    def _list(self, kind: str, path: str, query: dict[str, str]) -> Answer:
        vms = sorted((v for k, v in self.resources.items() if k[1] == kind), key=lambda v: v["id"].lower())
        start = int(query.get("$skiptoken", "0"))
        page = vms[start : start + self.page_size]
        answer: dict[str, Any] = {"value": [self._shown(v, {}) for v in page]}
        if start + self.page_size < len(vms):
            answer["nextLink"] = (
                f"{self.url}{path}?api-version={query['api-version']}&$skiptoken={start + self.page_size}"
            )
        return Answer(200, answer)

    # --- faults --------------------------------------------------------------------------------
    def fault_for(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.method == method and re.search(fault.pattern, path.lower()):
                    fault.times -= 1
                    return fault
        return None

    def hold(self) -> None:
        self._release.wait(10)


def _handler(fake: FakeAzure) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            fake.log.append(
                {
                    "method": self.command,
                    "path": parts.path,
                    "query": query,
                    "body": raw.decode(errors="replace"),
                    "authorization": self.headers.get("Authorization", ""),
                }
            )
            try:
                answer = self._answer(parts.path, query, raw)
            except ArmError as exc:
                answer = Answer(exc.status, exc.body())
            except Exception as exc:  # a bug in the fake: say so as ARM would
                answer = Answer(
                    500,
                    {
                        "error": {
                            "code": "InternalServerError",
                            "message": f"fake: {type(exc).__name__}: {exc}",
                        }
                    },
                )
            self._send(answer)

        def _answer(self, path: str, query: dict[str, str], raw: bytes) -> Answer:
            segments = path.strip("/").split("/")
            fault = fake.fault_for(self.command, path)
            if fault is not None:
                if fault.hang:
                    fake.hold()
                headers = {"Retry-After": "0"} if fault.status == 429 else {}
                if not path.lower().startswith("/subscriptions/"):  # the identity platform's shape
                    description = f"{fault.code or 'AADSTS50000'}: {fault.message or 'Injected failure.'}"
                    identity_error = {"error": "temporarily_unavailable", "error_description": description}
                    return Answer(fault.status, identity_error, headers)
                error = {"code": fault.code or "Error", "message": fault.message or "Injected failure."}
                return Answer(fault.status, {"error": error}, headers)
            if (
                self.command == "GET"
                and path.endswith("/v2.0/.well-known/openid-configuration")
                and len(segments) == 4
            ):
                return fake.openid_configuration(segments[0])
            if self.command == "POST" and path.endswith("/oauth2/v2.0/token") and len(segments) == 4:
                if "application/x-www-form-urlencoded" not in self.headers.get("Content-Type", ""):
                    return Answer(
                        400,
                        {
                            "error": "invalid_request",
                            "error_description": "AADSTS900144: The request body must be form encoded.",
                        },
                    )
                form = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
                return fake.token(segments[0], form)
            if not path.lower().startswith("/subscriptions/"):
                return Answer(404, {"error": {"code": "NotFound", "message": f"No route for {path}."}})
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                raise ArmError(
                    400,
                    "InvalidRequestContent",
                    "The request content was invalid and could not be deserialized.",
                ) from None
            with fake._lock:
                return fake.arm(self.command, path, query, self.headers, body)

        def _send(self, answer: Answer) -> None:
            payload = b"" if answer.body is None else json.dumps(answer.body).encode()
            self.send_response(answer.status)
            if payload:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("x-ms-request-id", str(uuid.uuid4()))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = _serve

    return Handler
