"""DigitalOcean droplets as the Cirrus offering type `DigitalOcean.Droplet`, registered through the
`cirrus.providers` entry point `register`.

Waldur's DigitalOcean support is a standalone plugin (`waldur_digitalocean`: service type
`DigitalOcean`, resource `Droplet`, routes `digitalocean-droplets/`) with no marketplace offering
type, so Cirrus names one the way Waldur names its marketplace types: `<service>.<resource>`
(`OpenStack.Instance`, `Azure.VirtualMachine`), hence `DigitalOcean.Droplet`.

A droplet's price is its size's: one fixed component, `droplet`, priced per plan, and the plan's
article_code is the size slug. Secret option: `token` (an API token with droplet read/write).
Plugin options: `region`, `image` (and `images` an order may choose among), `size` (and `sizes`),
`ssh_keys`, `resize_disk`, `poll_interval`, `poll_timeout`, `api_url` (DigitalOcean's own by
default; any other must be public https). Nothing here imports pydo: the factory does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from chalicelib.domain.offerings import ComponentTemplate
from chalicelib.domain.vocabulary import BillingType
from chalicelib.providers.cloud import CloudBackend, ProviderError, Settings, cloud_type
from cirrus_digitalocean import outbound

TYPE = "DigitalOcean.Droplet"
API_URL = "https://api.digitalocean.com"
SECRET_OPTIONS = frozenset({"token"})
COMPONENTS = (
    ComponentTemplate(
        "droplet", "Droplet", "droplet", BillingType.FIXED, "The plan's size (its article_code), per month"
    ),
)
DEFAULTS: Mapping[str, Any] = {
    "api_url": API_URL,
    "region": "nyc3",
    "image": "ubuntu-24-04-x64",
    "size": "s-1vcpu-1gb",
    "sizes": [],
    "images": [],
    "ssh_keys": [],
    "resize_disk": False,
    "poll_interval": 5,
    "poll_timeout": 900,
}
SLUG = re.compile(r"[a-z0-9][a-z0-9.-]{0,63}")
FINGERPRINT = re.compile(r"([0-9a-f]{2}:){15}[0-9a-f]{2}")
LIST_MAX = 50
TOKEN = re.compile(r"[A-Za-z0-9_.:-]{1,200}")


def _slugs(options: Mapping[str, Any], name: str) -> None:
    value = options.get(name)
    if not isinstance(value, list) or len(value) > LIST_MAX:
        raise ValueError(f"{name} must be a list of at most {LIST_MAX} slugs.")
    if not all(isinstance(v, str) and SLUG.fullmatch(v) for v in value):
        raise ValueError(f"{name} must hold slugs such as s-1vcpu-1gb or ubuntu-24-04-x64.")


def validate_plugin_options(options: Mapping[str, Any]) -> None:
    """Each option has its shape (a 400 on `plugin_options` otherwise)."""
    for name in ("region", "image", "size"):
        if not (isinstance(options.get(name), str) and SLUG.fullmatch(options[name])):
            raise ValueError(
                f"{name} must be a DigitalOcean slug such as nyc3, ubuntu-24-04-x64 or s-1vcpu-1gb."
            )
    _slugs(options, "sizes")
    _slugs(options, "images")
    keys = options.get("ssh_keys")
    if not isinstance(keys, list) or len(keys) > LIST_MAX:
        raise ValueError(f"ssh_keys must be a list of at most {LIST_MAX} key ids or fingerprints.")
    for key in keys:
        if not (
            (isinstance(key, int) and not isinstance(key, bool) and key > 0)
            or (isinstance(key, str) and FINGERPRINT.fullmatch(key))
        ):
            raise ValueError("ssh_keys must hold DigitalOcean key ids or MD5 fingerprints (aa:bb:...).")
    if not isinstance(options.get("resize_disk"), bool):
        raise ValueError("resize_disk must be true or false.")
    for name, high in (("poll_interval", 60), ("poll_timeout", 3600)):
        value = options.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= high:
            raise ValueError(f"{name} must be a number of seconds above 0 and at most {high}.")
    outbound.check_url(options.get("api_url"), "api_url")


def validate_secret_options(secrets: Mapping[str, Any]) -> None:
    """The offering's secret options when a provider saves them: `token` must look like an API
    token (a 400 on `secret_options` that never repeats it)."""
    token = secrets.get("token")
    if not isinstance(token, str) or not TOKEN.fullmatch(token):
        raise ValueError("token must be a DigitalOcean API token (letters, digits, _ . : -).")


def build(settings: Settings) -> CloudBackend:
    import pydo
    from azure.core.pipeline.policies import RedirectPolicy, RetryPolicy
    from azure.core.pipeline.transport import RequestsTransport

    from cirrus_digitalocean.backend import DigitalOceanBackend

    try:
        validate_secret_options(settings.secrets)
    except ValueError as exc:
        raise ProviderError(f"The offering's secret option {exc}") from None
    token = str(settings.secrets["token"])
    try:
        endpoint = outbound.check_url(settings.options.get("api_url") or API_URL, "api_url")
        session = outbound.pinned_session(endpoint, "api_url")  # connections go to a vetted address
    except ValueError as exc:
        raise ProviderError(f"The offering's plugin option {exc}") from None
    except OSError:
        raise ProviderError("The offering's api_url host could not be resolved.") from None
    client = pydo.Client(
        token,
        endpoint=endpoint,
        transport=RequestsTransport(session=session, connection_timeout=5, read_timeout=60),
        retry_policy=RetryPolicy.no_retries(),  # the order workflow retries, with its own backoff
        redirect_policy=RedirectPolicy.no_redirects(),  # a redirect could point anywhere
    )
    return DigitalOceanBackend(settings, client)


register = cloud_type(
    TYPE,
    "DigitalOcean droplet",
    build,
    components=COMPONENTS,
    secret_options=SECRET_OPTIONS,
    plugin_option_defaults=DEFAULTS,
    validate_plugin_options=validate_plugin_options,
    validate_secret_options=validate_secret_options,
)
