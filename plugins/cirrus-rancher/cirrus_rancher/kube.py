"""The Kubernetes calls the backend makes, through the official `kubernetes` client against the
cluster's API: Rancher's authenticating proxy `<rancher_url>/k8s/clusters/<cluster_id>` (the same
bearer token) or a direct kube API URL from the secret options.

References: https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/namespace-v1/,
https://kubernetes.io/docs/reference/kubernetes-api/policy-resources/resource-quota-v1/ and, for
errors, https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/status/.

An `ApiException` becomes the contract's error with the Status object's `message`; 5xx, 408, 429 and
connection trouble are `TransientError`. No redirect is followed and urllib3 retries nothing (the
order workflow retries).
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Mapping
from typing import Any

from chalicelib.providers.cloud import ProviderError, TransientError
from cirrus_rancher.rancher_api import MAX_ANSWER_BYTES, RETRY_STATUSES, NotFound, bounded

QUOTA_NAME = "cirrus-quota"
JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"  # RFC 7386: annotations merged, others kept


class Conflict(ProviderError):
    """409: the object exists already (or changed under us)."""


class Kube:
    def __init__(
        self, host: str, token: str, timeout: tuple[float, float] = (5.0, 30.0), ca_certificate: str = ""
    ) -> None:
        import urllib3
        from kubernetes import client

        configuration = client.Configuration(host=host)
        if ca_certificate:  # trusted instead of the system's authorities
            configuration.ca_cert_data = ca_certificate
        configuration.api_key = {"authorization": token}
        configuration.api_key_prefix = {"authorization": "Bearer"}
        configuration.retries = urllib3.Retry(total=0, redirect=False)
        self._token = token
        self._timeout = timeout
        self._api = client.CoreV1Api(client.ApiClient(configuration))

    # --- namespaces ----------------------------------------------------------------------------
    def namespace(self, name: str) -> dict[str, Any]:
        return self._call("read namespace", "read_namespace", name=name)

    def create_namespace(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._call("create namespace", "create_namespace", body=dict(body), _content_type=JSON)

    def annotate_namespace(self, name: str, annotations: Mapping[str, str]) -> dict[str, Any]:
        body = {"metadata": {"annotations": dict(annotations)}}
        return self._call(
            "annotate namespace", "patch_namespace", name=name, body=body, _content_type=MERGE_PATCH
        )

    def delete_namespace(self, name: str) -> None:
        self._call("delete namespace", "delete_namespace", name=name)

    # --- resource quotas -----------------------------------------------------------------------
    def quota(self, namespace: str, name: str = QUOTA_NAME) -> dict[str, Any]:
        return self._call(
            "read resource quota", "read_namespaced_resource_quota", name=name, namespace=namespace
        )

    def create_quota(self, namespace: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._call(
            "create resource quota",
            "create_namespaced_resource_quota",
            namespace=namespace,
            body=dict(body),
            _content_type=JSON,
        )

    def replace_quota(self, namespace: str, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._call(
            "replace resource quota",
            "replace_namespaced_resource_quota",
            name=name,
            namespace=namespace,
            body=dict(body),
            _content_type=JSON,
        )

    # --- transport -----------------------------------------------------------------------------
    def _call(self, what: str, method: str, **kwargs: Any) -> dict[str, Any]:
        """One call; its 2xx answer read raw (at most MAX_ANSWER_BYTES) and decoded as JSON."""
        import urllib3
        from kubernetes.client.exceptions import ApiException

        try:
            answer = getattr(self._api, method)(
                _request_timeout=self._timeout, _preload_content=False, **kwargs
            )
            try:
                content = answer.read(MAX_ANSWER_BYTES + 1)
            finally:
                answer.release_conn()
        except ApiException as exc:
            raise self._refused(what, exc) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            if isinstance(getattr(exc, "reason", exc), urllib3.exceptions.SSLError | ssl.SSLError):
                raise ProviderError(
                    f"The cluster's certificate could not be verified to {what} (set ca_certificate for "
                    "a private CA)."
                ) from None
            raise TransientError(
                f"The cluster's API could not be reached to {what} ({type(exc).__name__})."
            ) from None
        if len(content) > MAX_ANSWER_BYTES:
            raise ProviderError(
                f"The cluster's answer to {what} is larger than {MAX_ANSWER_BYTES // 2**20} MiB."
            )
        try:
            payload = json.loads(content) if content else {}
        except ValueError:
            raise ProviderError(f"The cluster's answer to {what} is not JSON.") from None
        return payload if isinstance(payload, dict) else {}

    def _refused(self, what: str, exc: Any) -> ProviderError:
        status = int(exc.status or 0)
        message = ""
        try:
            payload = json.loads(exc.body or "")
        except (TypeError, ValueError):
            payload = None
        if isinstance(payload, dict) and isinstance(payload.get("message"), str):
            message = payload["message"]
        elif exc.reason:
            message = str(exc.reason)
        message = bounded(message, self._token)
        text = f"The cluster refused to {what} (HTTP {status}" + (f": {message})." if message else ").")
        if status >= 500 or status in RETRY_STATUSES or status == 0:
            return TransientError(text)
        if status == 404:
            return NotFound(text)
        if status == 409:
            return Conflict(text)
        return ProviderError(text)
