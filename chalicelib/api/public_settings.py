"""`/api/configuration/`: the public settings a client reads before anyone signs in, in Waldur's shape
(one section per extension, `FEATURES` per area, the languages). HomePort bootstraps from it: it maps
`LANGUAGES`, reads `WALDUR_CORE` for branding, sign-in methods and currency, and shows or hides parts of
the UI by `FEATURES` (a missing flag is a hidden part). The values say what Cirrus does: a section of an
extension Cirrus does not have is there with that extension switched off."""

from __future__ import annotations

from typing import Any

from chalicelib.api import cognito
from chalicelib.config import get_settings

LANGUAGES = [["en", "English"]]
CURRENCY = "EUR"  # what invoices and prices are in (Waldur's default CURRENCY_NAME)
BRAND_COLOR = "#1f6feb"

# Waldur's feature flags by area (HomePort's FeaturesEnums); on where Cirrus serves the part.
FEATURES: dict[str, dict[str, bool]] = {
    "customer": {"payments_for_staff_only": False, "show_domain": False},
    "invitations": {
        "civil_number_required": False,
        "conceal_civil_number": False,
        "require_user_details": False,
        "show_tax_number": False,
        "tax_number_required": False,
    },
    "marketplace": {
        "conceal_prices": False,
        "import_resources": False,
        "lexis_links": False,
        "show_call_management_functionality": False,
        "show_experimental_ui_components": False,
    },
    "openstack": {"hide_volume_type_selector": False, "show_migrations": False},
    "project": {
        "estimated_cost": False,
        "oecd_fos_2007_code": False,
        "show_description_in_create_dialog": True,
        "show_end_date_in_create_dialog": True,
        "show_image_in_create_dialog": False,
        "show_industry_flag": False,
        "show_start_date_in_create_dialog": False,
        "show_type_in_create_dialog": False,
    },
    "rancher": {"volume_mount_point": False},
    "slurm": {"jobs": False},
    "support": {
        "conceal_change_request": False,
        "pricelist": False,
        "shared_providers": False,
        "users": True,
        "vm_type_overview": False,
    },
    "telemetry": {"send_metrics": False},
    "user": {
        "disable_user_termination": False,
        "notifications": False,
        "preferred_language": False,
        "show_slug": False,
        "ssh_keys": True,
    },
}


def core(base_url: str, federated: bool) -> dict[str, Any]:
    settings = get_settings()
    return {
        "SITE_NAME": "Cirrus",
        "SITE_DESCRIPTION": "Cloud orchestration and service marketplace",
        "SHORT_PAGE_TITLE": "Cirrus",
        "FULL_PAGE_TITLE": "Cirrus | Cloud Service Management",
        "SITE_EMAIL": "",
        "SITE_PHONE": "",
        "SITE_ADDRESS": "",
        # SOCIAL_SIGNUP is Waldur's method for sign-in through an external identity provider.
        "AUTHENTICATION_METHODS": ["LOCAL_SIGNIN", *(["SOCIAL_SIGNUP"] if federated else [])],
        "TOKEN_LIFETIME": 3600,
        "INVITATIONS_ENABLED": True,
        "VALIDATE_INVITATION_EMAIL": False,
        "INVITATION_USE_WEBHOOKS": False,
        "INVITATION_CIVIL_NUMBER_LABEL": "",
        "INVITATION_TAX_NUMBER_LABEL": "",
        "NATIVE_NAME_ENABLED": False,
        "ONLY_STAFF_MANAGES_SERVICES": False,
        "ORGANIZATION_SUBNETS_VISIBLE": False,
        "OECD_FOS_2007_CODE_MANDATORY": False,
        "USER_MANDATORY_FIELDS": ["full_name", "email"],
        "USER_REGISTRATION_HIDDEN_FIELDS": [],
        "PROTECT_USER_DETAILS_FOR_REGISTRATION_METHODS": [],
        "USER_TABLE_COLUMNS": "",
        "LANGUAGE_CHOICES": [code for code, _ in LANGUAGES],
        "CURRENCY_NAME": CURRENCY,
        "BRAND_COLOR": BRAND_COLOR,
        "BRAND_LABEL_COLOR": "#ffffff",
        "DISABLE_DARK_THEME": False,
        "SIDEBAR_STYLE": "dark",
        "HERO_LINK_LABEL": "",
        "HERO_LINK_URL": "",
        "HERO_IMAGE": None,
        "LOGIN_LOGO": None,
        "SITE_LOGO": None,
        "POWERED_BY_LOGO": None,
        "SIDEBAR_LOGO": None,
        "SIDEBAR_LOGO_DARK": None,
        "SIDEBAR_LOGO_MOBILE": None,
        "FAVICON": None,
        "EXTERNAL_LINKS": [],
        "DOCS_URL": "",
        "SUPPORT_PORTAL_URL": "",
        "COMMON_FOOTER_TEXT": "",
        "COMMON_FOOTER_HTML": "",
        "TRANSLATION_DOMAIN": "",
        "MATOMO_URL_BASE": None,
        "MATOMO_SITE_ID": None,
        "HOMEPORT_SENTRY_DSN": None,
        "HOMEPORT_SENTRY_ENVIRONMENT": "",
        "HOMEPORT_SENTRY_TRACES_SAMPLE_RATE": 0.0,
        "HOMEPORT_URL": f"{settings.homeport_url or base_url}/",
        "MASTERMIND_URL": base_url,
        "DEFAULT_IDP": None,
    }


def public_configuration(base_url: str) -> dict[str, Any]:
    federated = cognito.public_settings(base_url)
    body: dict[str, Any] = {
        "WALDUR_CORE": core(base_url, federated is not None),
        "WALDUR_AUTH_SOCIAL": {"REMOTE_EDUTEAMS_ENABLED": False, "ENABLE_EDUTEAMS_SYNC": False},
        "WALDUR_AUTH_SAML2": {
            "ENABLE_SINGLE_LOGOUT": False,
            "ALLOW_TO_SELECT_IDENTITY_PROVIDER": False,
            "IDENTITY_PROVIDER_URL": None,
            "IDENTITY_PROVIDER_LABEL": None,
            "DISCOVERY_SERVICE_URL": None,
            "DISCOVERY_SERVICE_LABEL": None,
        },
        "WALDUR_AUTH_VALIMO": {"LABEL": "", "MOBILE_PREFIX": ""},
        "WALDUR_MARKETPLACE": {"ENABLE_RESOURCE_END_DATE": True, "ANONYMOUS_USER_CAN_VIEW_OFFERINGS": True},
        "WALDUR_OPENSTACK": {
            "TENANT_CREDENTIALS_VISIBLE": False,
            "ALLOW_CUSTOMER_USERS_OPENSTACK_CONSOLE_ACCESS": False,
            "REQUIRE_AVAILABILITY_ZONE": False,
        },
        "WALDUR_FREEIPA": {"ENABLED": False, "USERNAME_PREFIX": ""},
        "WALDUR_SUPPORT": {"ENABLED": True, "DISPLAY_REQUEST_TYPE": False, "ACTIVE_BACKEND_TYPE": "basic"},
        "FEATURES": FEATURES,
        "LANGUAGES": LANGUAGES,
        "LANGUAGE_CODE": "en",
        "version": get_settings().version,
    }
    if federated:
        body["WALDUR_AUTH_COGNITO"] = federated
    return body
