"""Stage configuration of the CDK entry point (infra/cdk/app.py), as `make synth|deploy STAGE=...`
gives it: the stage's defaults (dev's table without deletion protection, other stages' with),
context from `-c` first, then `infra/cdk/stages/<stage>.json`, and the bundle's bytecode switch.
No synth: the settings only."""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.infra.test_synth import CDK_DIR

pytestmark = pytest.mark.infra


@pytest.fixture(scope="module")
def entry() -> Any:
    """infra/cdk/app.py as a module (not `app`: that name is the Chalice app's)."""
    importlib.import_module("app")  # the repository's app.py keeps the name `app`
    saved = list(sys.path)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
        spec = importlib.util.spec_from_file_location("cirrus_cdk_entry", CDK_DIR / "app.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    sys.path[:] = saved
    return module


def _settings(entry: Any, context: dict[str, Any]) -> Any:
    return entry.stack_settings(context.get)


def test_dev_is_the_default_stage_unprotected_other_stages_protect_the_table(entry: Any) -> None:
    dev = _settings(entry, {})
    assert (dev.stage, dev.resource_prefix, dev.deletion_protection) == ("dev", "cirrus-dev", False)
    prod = _settings(entry, {"stage": "prod"})
    assert (prod.stage, prod.deletion_protection) == ("prod", True)
    assert _settings(entry, {"stage": "staging"}).deletion_protection is True
    assert _settings(entry, {"stage": "dev", "deletion_protection": "true"}).deletion_protection is True
    assert _settings(entry, {"stage": "prod", "deletion_protection": "false"}).deletion_protection is False
    with pytest.raises(ValueError, match="true or false"):
        _settings(entry, {"deletion_protection": "maybe"})


def test_bytecode_is_on_unless_turned_off(entry: Any) -> None:
    assert _settings(entry, {}).bundle.compile is True
    assert _settings(entry, {"bundle_bytecode": "false"}).bundle.compile is False


def test_the_stage_file_fills_what_the_command_line_does_not(
    entry: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(entry, "STAGES_DIR", tmp_path)
    providers = [
        {
            "type": "oidc",
            "name": "Partner",
            "issuer": "https://login.example.com",
            "client_id": "cirrus",
            "client_secret_name": "cirrus/oidc",
        }
    ]
    (tmp_path / "prod.json").write_text(
        json.dumps(
            {
                "domain_name": "cirrus.example.org",
                "certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/file",
                "email_from": "cirrus@example.org",
                "queue_max_receives": 3,
                "deletion_protection": False,
                "staff_groups": ["cirrus-staff", "admins"],
                "identity_providers": providers,
            }
        )
    )
    prod = _settings(
        entry, {"stage": "prod", "certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/cli"}
    )
    assert prod.domain_name == "cirrus.example.org" and prod.api_url == "https://cirrus.example.org"
    assert prod.certificate_arn.endswith("/cli")  # -c wins over the file
    assert (prod.email_from, prod.queue_max_receives, prod.deletion_protection) == (
        "cirrus@example.org",
        3,
        False,
    )
    assert prod.auth.staff_groups == ("cirrus-staff", "admins")
    assert [p.name for p in prod.auth.identity_providers] == ["Partner"]
    # Another stage does not read prod's file.
    assert _settings(entry, {"stage": "dev"}).domain_name is None


def test_a_stage_file_must_hold_an_object(
    entry: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(entry, "STAGES_DIR", tmp_path)
    (tmp_path / "dev.json").write_text("[]")
    with pytest.raises(ValueError, match="JSON object"):
        _settings(entry, {})


def test_the_example_stage_file_is_valid(entry: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(entry, {"stage": "example"})
    assert settings.domain_name and settings.certificate_arn and settings.auth.identity_providers


def test_provider_plugins_name_the_repositorys_plugin_distributions(entry: Any, tmp_path: Path) -> None:
    """`-c provider_plugins=a,b` puts those `plugins/<name>/` distributions into the bundle; none by
    default; an unknown name (or a path) is refused, naming the known ones."""
    assert _settings(entry, {}).bundle.plugins == ()
    known = sorted(p.parent.name for p in (entry.REPO_ROOT / "plugins").glob("*/pyproject.toml"))
    if known:
        chosen = _settings(entry, {"provider_plugins": f" {known[0]} ,"}).bundle.plugins
        assert chosen == (entry.REPO_ROOT / "plugins" / known[0],)
    for bad in ("no-such-plugin", "../chalicelib"):
        with pytest.raises(ValueError, match="no plugin"):
            _settings(entry, {"provider_plugins": bad})
