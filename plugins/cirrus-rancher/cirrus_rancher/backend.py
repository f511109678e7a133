"""Marketplace.Rancher's cloud backend: a tenant's allocation on an existing Rancher-managed cluster.

One Cirrus resource is one Rancher project (its id, `c-xxxxx:p-yyyyy`, is the backend id) with
project quotas, plus one namespace in that project (annotation `field.cattle.io/projectId`) holding a
ResourceQuota `cirrus-quota` of requests.cpu / requests.memory / requests.storage from the limit
components cpu (cores), ram (GiB) and storage (GiB).

Idempotency: the project carries the label `cirrus/resource-uuid=<resource uuid>` and is looked for
among the cluster's projects before one is made; the namespace's name is derived from the uuid and
a 409 on it is accepted when the existing namespace carries the same label.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from chalicelib.providers.cloud import (
    Heartbeat,
    Job,
    ProviderError,
    RemoteResource,
    RemoteState,
    Settings,
    TransientError,
)
from cirrus_rancher import options as opts
from cirrus_rancher.kube import QUOTA_NAME, Conflict, Kube
from cirrus_rancher.rancher_api import NotFound, RancherApi
from cirrus_rancher.urls import check_url

LABEL_RESOURCE = "cirrus/resource-uuid"
LABEL_OFFERING = "cirrus/offering-uuid"
ANNOTATION_NAMESPACE = "cirrus/namespace"
CATTLE_PROJECT = "field.cattle.io/projectId"
CATTLE_QUOTA = "field.cattle.io/resourceQuota"
# The cluster's own projects (Rancher labels them): never importable, never changed or deleted.
CLUSTER_PROJECTS = {
    "authz.management.cattle.io/system-project": "System",
    "authz.management.cattle.io/default-project": "Default",
}
NAME_MAX = 63
MAX_POLLS = 1000  # reads of a starting project in one create, whatever the options say

# A Rancher project's `state` in the platform's terms (anything else: Creating if it is still
# transitioning, else OK). A project whose `transitioning` is "error" is Erred with Rancher's message.
STATES: Mapping[str, RemoteState] = {
    "active": RemoteState.OK,
    "provisioning": RemoteState.CREATING,
    "initializing": RemoteState.CREATING,
    "creating": RemoteState.CREATING,
    "updating": RemoteState.UPDATING,
    "removing": RemoteState.TERMINATING,
    "removed": RemoteState.TERMINATED,
}

# Cirrus's limit components -> (Rancher project quota key, Kubernetes ResourceQuota key, unit).
QUOTAS: Mapping[str, tuple[str, str]] = {
    "cpu": ("requestsCpu", "requests.cpu"),
    "ram": ("requestsMemory", "requests.memory"),
    "storage": ("requestsStorage", "requests.storage"),
}

_UUID = re.compile(r"[0-9a-f]{32}")
_QUANTITY = re.compile(r"([0-9]+(?:\.[0-9]+)?)([a-zA-Z]*)")
_SUFFIX: Mapping[str, Decimal | int] = {
    "": 1,
    "m": Decimal("0.001"),
    "k": 10**3,
    "K": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}


class RancherBackend:
    def __init__(self, settings: Settings, *, session: Any = None) -> None:
        options = settings.options
        secrets = settings.secrets
        try:
            opts.check(options)
            rancher_url = check_url("rancher_url", secrets.get("rancher_url"))
            kube_url = secrets.get("kube_api_url")
            kube_url = check_url("kube_api_url", kube_url) if kube_url else ""
        except ValueError as exc:
            raise ProviderError(f"The offering's Rancher settings are invalid: {exc}") from None
        try:
            token = opts.check_token(secrets.get("token"), "token")
            given = secrets.get("kube_token")
            kube_token = opts.check_token(given, "kube_token") if given else token
        except ValueError as exc:
            raise ProviderError(f"The offering's secret option {exc}") from None
        self.cluster_id = str(options.get("cluster_id") or "")
        if not self.cluster_id:
            raise ProviderError(
                "The offering's plugin option cluster_id (the Rancher cluster, e.g. c-m-abcd1234) is not set."
            )
        self.offering_uuid = settings.offering_uuid
        self.prefix = str(options.get("namespace_prefix", opts.DEFAULTS["namespace_prefix"]))
        self.defaults: Mapping[str, int] = dict(options.get("default_limits") or {})
        self.poll_interval = float(
            options.get("poll_interval_seconds", opts.DEFAULTS["poll_interval_seconds"])
        )
        ready = float(options.get("ready_timeout_seconds", opts.DEFAULTS["ready_timeout_seconds"]))
        self.polls = max(1, min(MAX_POLLS, int(ready / max(self.poll_interval, 0.01))))
        read = float(options.get("request_timeout_seconds", opts.DEFAULTS["request_timeout_seconds"]))
        timeout = (min(5.0, read), read)
        ca = str(options.get("ca_certificate") or "")
        self.rancher = RancherApi(rancher_url, token, timeout=timeout, session=session, ca_certificate=ca)
        self.kube = Kube(
            kube_url or f"{rancher_url}/k8s/clusters/{self.cluster_id}",
            kube_token,
            timeout=timeout,
            ca_certificate=ca,
        )

    # --- the contract ------------------------------------------------------------------------------
    def create(self, job: Job, heartbeat: Heartbeat) -> RemoteResource:
        uuid = _uuid(job.resource_uuid)
        namespace = self._namespace_name(uuid)
        limits = {**self.defaults, **_limits(job.limits)}
        project = self._find(uuid)
        if project is None:
            project = self.rancher.create_project(self._project_body(job, uuid, namespace, limits))
        heartbeat()
        project = self._wait_active(project, heartbeat)
        self._ensure_namespace(project, uuid, namespace, limits)
        self._ensure_quota(namespace, uuid, limits)
        return self._remote(project)

    def update(self, job: Job, heartbeat: Heartbeat) -> RemoteResource:
        project = self._project_or_error(job.backend_id)
        limits = {**self.defaults, **_limits_of(project), **_limits(job.limits)}
        body = {k: v for k, v in project.items() if k not in ("links", "actions")}
        body.update(_project_quotas(limits))
        project = self.rancher.update_project(project["id"], body)
        heartbeat()
        namespace = _annotations(project).get(ANNOTATION_NAMESPACE, "")
        uuid = _labels(project).get(LABEL_RESOURCE, "")
        if namespace:
            if limits:
                self.kube.annotate_namespace(namespace, {CATTLE_QUOTA: _namespace_quota(limits)})
            self._ensure_quota(namespace, uuid, limits)
        return self._remote(project)

    def terminate(self, job: Job, heartbeat: Heartbeat) -> None:
        uuid = _uuid(job.resource_uuid) if _UUID.fullmatch(job.resource_uuid or "") else ""
        try:
            project: dict[str, Any] | None = self._ours(self.rancher.project(job.backend_id))
        except NotFound:
            project = None
        namespace = _annotations(project).get(ANNOTATION_NAMESPACE, "") if project else ""
        owner = _labels(project).get(LABEL_RESOURCE, "") if project else uuid
        if not namespace and uuid:
            namespace = self._namespace_name(uuid)
        if namespace and owner:
            self._delete_namespace(namespace, owner)
        heartbeat()
        if project is not None:
            with contextlib.suppress(NotFound):  # gone meanwhile: what was asked
                self.rancher.delete_project(project["id"])

    def get(self, backend_id: str) -> RemoteResource | None:
        try:
            project = self.rancher.project(backend_id)
        except NotFound:
            return None
        if project.get("clusterId") != self.cluster_id:
            return None
        return self._remote(project)

    def list(self) -> Iterable[RemoteResource]:
        return [self._remote(p) for p in self.rancher.projects(self.cluster_id) if not _cluster_project(p)]

    def usage(self, backend_id: str, month: date) -> Mapping[str, Decimal]:
        return {}  # quotas are limits; Rancher reports no metered usage through these APIs

    # --- steps -------------------------------------------------------------------------------------
    def _find(self, uuid: str) -> dict[str, Any] | None:
        for project in self.rancher.projects(self.cluster_id):
            if _labels(project).get(LABEL_RESOURCE) == uuid and project.get("state") != "removing":
                return project
        return None

    def _project_body(self, job: Job, uuid: str, namespace: str, limits: Mapping[str, int]) -> dict[str, Any]:
        name = " ".join((job.resource_name or "").split())[:NAME_MAX] or f"cirrus-{uuid[:8]}"
        labels = {LABEL_RESOURCE: uuid}
        if _UUID.fullmatch(self.offering_uuid or ""):
            labels[LABEL_OFFERING] = self.offering_uuid
        return {
            "type": "project",
            "name": name,
            "clusterId": self.cluster_id,
            "description": f"Cirrus resource {uuid}"[:250],
            "labels": labels,
            "annotations": {ANNOTATION_NAMESPACE: namespace},
            **_project_quotas(limits),
        }

    def _wait_active(self, project: dict[str, Any], heartbeat: Heartbeat) -> dict[str, Any]:
        for _ in range(self.polls):
            state = self._state(project)
            if state is RemoteState.OK:
                return project
            if state is RemoteState.ERRED:
                raise ProviderError(f"Rancher could not make the project: {_transition_message(project)}")
            if state in (RemoteState.TERMINATING, RemoteState.TERMINATED):
                raise ProviderError(f"The Rancher project {project['id']} is being removed.")
            time.sleep(self.poll_interval)
            heartbeat()
            project = self.rancher.project(project["id"])
        raise TransientError(
            f"The Rancher project {project['id']} is not active yet ({project.get('state')})."
        )

    def _ensure_namespace(
        self, project: Mapping[str, Any], uuid: str, name: str, limits: Mapping[str, int]
    ) -> None:
        project_id = str(project["id"])
        annotations = {CATTLE_PROJECT: project_id}
        if limits:
            annotations[CATTLE_QUOTA] = _namespace_quota(limits)
        body = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": name,
                "labels": {LABEL_RESOURCE: uuid, CATTLE_PROJECT: project_id.split(":")[-1]},
                "annotations": annotations,
            },
        }
        try:
            self.kube.create_namespace(body)
        except Conflict:
            existing = self.kube.namespace(name)
            if _labels(existing.get("metadata")).get(LABEL_RESOURCE) != uuid:
                raise ProviderError(
                    f"The namespace {name} exists in the cluster and is not this resource's."
                ) from None

    def _ensure_quota(self, namespace: str, uuid: str, limits: Mapping[str, int]) -> None:
        hard = _hard(limits)
        if not hard:
            return
        body: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {
                "name": QUOTA_NAME,
                "namespace": namespace,
                "labels": {LABEL_RESOURCE: uuid} if uuid else {},
            },
            "spec": {"hard": hard},
        }
        try:
            self.kube.create_quota(namespace, body)
        except Conflict:
            existing = self.kube.quota(namespace)
            body["metadata"]["resourceVersion"] = (existing.get("metadata") or {}).get("resourceVersion")
            self.kube.replace_quota(namespace, QUOTA_NAME, body)

    def _delete_namespace(self, name: str, owner: str) -> None:
        try:
            existing = self.kube.namespace(name)
        except NotFound:
            return
        if _labels(existing.get("metadata")).get(LABEL_RESOURCE) != owner:
            return  # not ours: the project's deletion takes care of its own namespaces
        with contextlib.suppress(NotFound):
            self.kube.delete_namespace(name)

    def _project_or_error(self, backend_id: str) -> dict[str, Any]:
        try:
            return self._ours(self.rancher.project(backend_id))
        except NotFound:
            raise ProviderError(f"The Rancher project {backend_id} does not exist any more.") from None

    def _ours(self, project: dict[str, Any]) -> dict[str, Any]:
        """The project, if it is in this offering's cluster: a backend id naming another cluster's
        project (set by hand, say) is never changed or deleted through this offering."""
        if project.get("clusterId") != self.cluster_id:
            raise ProviderError(
                f"The Rancher project {project.get('id')} is not in this offering's cluster "
                f"{self.cluster_id}."
            )
        if kind := _cluster_project(project):
            raise ProviderError(
                f"The Rancher project {project.get('id')} is the cluster's {kind} project; Cirrus does "
                "not change or delete it."
            )
        return project

    # --- reading -----------------------------------------------------------------------------------
    def _namespace_name(self, uuid: str) -> str:
        return f"{self.prefix}{uuid}"[:NAME_MAX]

    def _state(self, project: Mapping[str, Any]) -> RemoteState:
        if project.get("transitioning") == "error":
            return RemoteState.ERRED
        state = str(project.get("state") or "")
        if state in STATES:
            return STATES[state]
        return RemoteState.CREATING if project.get("transitioning") == "yes" else RemoteState.OK

    def _remote(self, project: Mapping[str, Any]) -> RemoteResource:
        state = self._state(project)
        return RemoteResource(
            backend_id=str(project["id"]),
            name=str(project.get("name") or ""),
            state=state,
            error=_transition_message(project) if state is RemoteState.ERRED else "",
            metadata={
                "project_id": str(project["id"]),
                "namespace": _annotations(project).get(ANNOTATION_NAMESPACE, ""),
                "cluster_id": str(project.get("clusterId") or self.cluster_id),
            },
            limits=_limits_of(project),
            type="project",
            description=str(project.get("description") or "")[:500],
        )


# --- helpers -----------------------------------------------------------------------------------------
def _uuid(value: str) -> str:
    uuid = (value or "").replace("-", "").lower()
    if not _UUID.fullmatch(uuid):
        raise ProviderError("The resource has no valid uuid to name its Rancher project by.")
    return uuid


def _labels(obj: Mapping[str, Any] | None) -> Mapping[str, str]:
    labels = (obj or {}).get("labels")
    return labels if isinstance(labels, dict) else {}


def _cluster_project(project: Mapping[str, Any]) -> str:
    """ "System" or "Default" for the cluster's own projects, else ""."""
    labels = _labels(project)
    return next((kind for label, kind in CLUSTER_PROJECTS.items() if label in labels), "")


def _annotations(obj: Mapping[str, Any] | None) -> Mapping[str, str]:
    annotations = (obj or {}).get("annotations")
    return annotations if isinstance(annotations, dict) else {}


def _transition_message(project: Mapping[str, Any]) -> str:
    return str(project.get("transitioningMessage") or project.get("state") or "unknown error")[:300]


def _limits(given: Mapping[str, Any]) -> dict[str, int]:
    return {
        k: int(v) for k, v in given.items() if k in QUOTAS and isinstance(v, int) and not isinstance(v, bool)
    }


def _rancher_quantity(component: str, value: int) -> str:
    return f"{value * 1000}m" if component == "cpu" else f"{value}Gi"


def _kube_quantity(component: str, value: int) -> str:
    return str(value) if component == "cpu" else f"{value}Gi"


def _quota_limit(limits: Mapping[str, int]) -> dict[str, str]:
    return {QUOTAS[k][0]: _rancher_quantity(k, v) for k, v in sorted(limits.items()) if k in QUOTAS}


def _project_quotas(limits: Mapping[str, int]) -> dict[str, Any]:
    limit = _quota_limit(limits)
    if not limit:
        return {}
    return {"resourceQuota": {"limit": limit}, "namespaceDefaultResourceQuota": {"limit": dict(limit)}}


def _namespace_quota(limits: Mapping[str, int]) -> str:
    return json.dumps({"limit": _quota_limit(limits)}, separators=(",", ":"))


def _hard(limits: Mapping[str, int]) -> dict[str, str]:
    return {QUOTAS[k][1]: _kube_quantity(k, v) for k, v in sorted(limits.items()) if k in QUOTAS}


def _limits_of(project: Mapping[str, Any]) -> dict[str, int]:
    """The project's quota as Cirrus limits (cores, GiB)."""
    quota = project.get("resourceQuota")
    limit = quota.get("limit") if isinstance(quota, dict) else None
    if not isinstance(limit, dict):
        return {}
    found: dict[str, int] = {}
    for component, (key, _) in QUOTAS.items():
        value = _quantity(limit.get(key))
        if value is None:
            continue
        found[component] = int(value if component == "cpu" else value / 2**30)
    return found


def _quantity(text: Any) -> Decimal | None:
    match = _QUANTITY.fullmatch(text) if isinstance(text, str) else None
    if match is None or match.group(2) not in _SUFFIX:
        return None
    return Decimal(match.group(1)) * _SUFFIX[match.group(2)]
