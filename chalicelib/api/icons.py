"""`/api/icons/<name>/`: the site's logos, which HomePort shows as images (login page, sidebar, hero,
favicon). Waldur answers the uploaded file or its default; Cirrus has no upload yet and answers one
default mark for every name Waldur knows, so no page shows a broken image. Public, like Waldur's."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint  # type: ignore[attr-defined]

from chalicelib.api.rest import Call, Raw, endpoint
from chalicelib.domain.errors import NotFound

bp = Blueprint(__name__)
TAG = "icons"
SVG = "image/svg+xml"

# Waldur's logo names (waldur_core/core/logos.py LOGO_MAP).
NAMES = frozenset(
    {
        "login_logo",
        "site_logo",
        "sidebar_logo",
        "sidebar_logo_mobile",
        "sidebar_logo_dark",
        "powered_by_logo",
        "hero_image",
        "favicon",
        "offering_logo_placeholder",
    }
)

# A cloud drawn in two arcs and a base line: the Cirrus mark, in the configuration's BRAND_COLOR.
MARK = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 64" width="120" height="64">'
    '<title>Cirrus</title><g fill="none" stroke="#1f6feb" stroke-width="6" stroke-linecap="round">'
    '<path d="M22 52a16 16 0 0 1 4-31 22 22 0 0 1 41-6 18 18 0 0 1 31 13 12 12 0 0 1-2 24z"/>'
    "</g></svg>"
)

# The login page's hero: a wide sky, drawn behind HomePort's title text.
HERO = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1200 900" preserveAspectRatio="xMidYMid slice">'
    '<defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">'
    '<stop offset="0" stop-color="#0b2a5b"/><stop offset="1" stop-color="#1f6feb"/></linearGradient></defs>'
    '<rect width="1200" height="900" fill="url(#sky)"/>'
    '<g fill="#ffffff" fill-opacity="0.08">'
    '<ellipse cx="260" cy="220" rx="240" ry="46"/><ellipse cx="900" cy="330" rx="300" ry="52"/>'
    '<ellipse cx="520" cy="640" rx="360" ry="60"/></g></svg>'
)


@endpoint(
    bp,
    "/api/icons/{name}",
    "GET",
    name="icons_retrieve",
    tag=TAG,
    anonymous=True,
    media=SVG,
    summary="One of the site's logos (login_logo, sidebar_logo, hero_image, favicon, ...), as SVG",
)
def icon(call: Call, name: str) -> Any:
    if name not in NAMES:
        raise NotFound("Icon")
    # Public and the same for everybody: a browser may keep it for a day.
    return Raw(
        HERO if name == "hero_image" else MARK,
        {"Content-Type": SVG, "Cache-Control": "public, max-age=86400"},
    )
