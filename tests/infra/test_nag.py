"""cdk-nag's AwsSolutions and Serverless packs find nothing Cirrus has not accepted with a reason, on the
stack as CDK synthesises it and on the template CloudFormation runs after the SAM transform (where
Chalice's functions, their event source mappings, permissions and the API's stage exist as the
resources AWS creates; in the synthesised stack they are still `AWS::Serverless::*`).

Accepted findings are suppressions with reasons: on CDK's constructs (in the construct files) and, for
what Chalice and SAM generate, in `cirrus_infra.nag.SAM_SUPPRESSIONS`. A suppression that no longer
silences anything fails too: the change that fixed its finding removes it.

Two synths (module-scoped: the default stack, and the stack with its options) with the packs applied as
aspects; the SAM translator (aws-sam-translator) runs offline on the default stack's template, which is
then checked in a stack of its own through CfnInclude.
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.infra.test_synth import CDK_DIR, CERTIFICATE, DOMAIN, EMAIL_FROM, REPO, SUPPORT_SECRET_ARN

pytestmark = pytest.mark.infra

REGION = "eu-west-1"
NAG_RULE = re.compile(r"^(?:AwsSolutions|Serverless|CdkNagValidationFailure)\b")
# `<rule>[<finding>]: <info>` (the finding id is optional: IAM5 names the wildcard it found).
MESSAGE = re.compile(r"^(?P<rule>[^\s\[:]+)(?:\[(?P<finding>.*)\])?: (?P<info>.*)$", re.DOTALL)
SUPPRESSED = re.compile(r"^(?P<rule>\S+) was triggered but suppressed\.")


@dataclass(frozen=True)
class Finding:
    rule: str
    finding: str | None
    logical_id: str
    type: str
    level: str
    info: str

    def line(self) -> str:
        rule = f"{self.rule}[{self.finding}]" if self.finding else self.rule
        return f"{rule}  {self.logical_id} ({self.type})  {self.info.strip()}"


@dataclass(frozen=True)
class Declared:
    """One suppression as it lands in a resource's `Metadata.cdk_nag.rules_to_suppress`."""

    rule: str
    applies_to: str | None  # a finding id, or `/regex/` (RegexAppliesTo), or None: every finding
    reason: str

    def line(self, logical_ids: set[str]) -> str:
        rule = f"{self.rule}[{self.applies_to}]" if self.applies_to else self.rule
        return f"{rule}  on {', '.join(sorted(logical_ids))}  ({self.reason})"

    def covers(self, rule: str, finding: str | None) -> bool:
        if rule != self.rule:
            return False
        if self.applies_to is None:
            return True
        if self.applies_to.startswith("/"):
            return re.search(self.applies_to[1 : self.applies_to.rindex("/")], finding or "") is not None
        return finding == self.applies_to


@dataclass
class NagRun:
    name: str
    template: dict[str, Any]
    findings: list[Finding] = field(default_factory=list)
    # (logical id, rule, finding) of each finding a suppression silenced
    suppressed: set[tuple[str, str, str | None]] = field(default_factory=set)

    def type_of(self, logical_id: str) -> str:
        return str(self.template["Resources"].get(logical_id, {}).get("Type", "?"))

    def declared(self) -> dict[Declared, set[str]]:
        """Each suppression in the template, with the logical ids it is declared on."""
        found: dict[Declared, set[str]] = defaultdict(set)
        for logical_id, resource in self.template["Resources"].items():
            rules = resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
            for rule in rules:
                for applies_to in rule.get("applies_to") or [None]:
                    target = applies_to["regex"] if isinstance(applies_to, dict) else applies_to
                    found[Declared(rule["id"], target, rule["reason"])].add(logical_id)
        return found


def _collect(name: str, app: Any, stack: Any) -> NagRun:
    """The packs' annotations in the synthesised assembly, by the resource's logical id."""
    artifact = app.synth().get_stack_by_name(stack.stack_name)
    template = json.loads(Path(artifact.template_full_path).read_text())
    logical_ids = {m.path: str(m.data) for m in artifact.find_metadata_by_type("aws:cdk:logicalId")}
    run = NagRun(name, template)
    for message in artifact.messages:
        text = str(message.entry.data)
        match = MESSAGE.match(text)
        if not match:
            continue
        # A resource CDK builds is `<construct>/Resource`; an included one is `<include>/<logical id>`.
        logical_id = logical_ids.get(message.id, message.id.rsplit("/", 1)[-1])
        if match["rule"] == "CdkNagSuppression":
            suppressed = SUPPRESSED.match(match["info"])
            assert suppressed, text
            run.suppressed.add((logical_id, suppressed["rule"], match["finding"]))
        elif NAG_RULE.match(text):
            run.findings.append(
                Finding(
                    match["rule"],
                    match["finding"],
                    logical_id,
                    run.type_of(logical_id),
                    message.level.name,
                    match["info"],
                )
            )
    return run


def _nag_synth(workdir: Path, name: str, **settings: Any) -> NagRun:
    """The stack (as tests/infra/test_synth.py's `_synth` builds it), with the packs applied."""
    import importlib

    assert Path(importlib.import_module("app").__file__ or "") == REPO / "app.py"
    saved_environ = dict(os.environ)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("AWS_DEFAULT_REGION", REGION)
            mp.setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
            mp.syspath_prepend(str(CDK_DIR))
            mp.chdir(workdir)

            import aws_cdk as cdk

            from cirrus_infra import CirrusStack, StackSettings
            from cirrus_infra.bundle import BundleSpec
            from cirrus_infra.nag import packs

            app = cdk.App(outdir=str(workdir / "cdk.out"))
            # The code bundle without third-party packages (no pip), as test_synth.py's `_synth` builds it.
            settings.setdefault("bundle", BundleSpec(requirements=None, cache_dir=workdir.parent / "bundles"))
            stack = CirrusStack(app, "cirrus-test", settings=StackSettings(stage="test", **settings))
            for pack in packs():
                cdk.Aspects.of(app).add(pack)
            return _collect(name, app, stack)
    finally:
        os.environ.clear()
        os.environ.update(saved_environ)


def _sam_transform(template: dict[str, Any]) -> dict[str, Any]:
    """What CloudFormation's AWS::Serverless-2016-10-31 transform makes of the template (offline: the
    functions name their role, so no managed policy is looked up)."""
    import boto3
    from samtranslator.parser.parser import Parser  # type: ignore[import-untyped]
    from samtranslator.translator.translator import Translator  # type: ignore[import-untyped]

    translator = Translator({}, Parser(), boto_session=boto3.Session(region_name=REGION))
    transformed: dict[str, Any] = translator.translate(
        json.loads(json.dumps(template)), {}, passthrough_metadata=True, get_managed_policy_map=dict
    )
    return transformed


def _nag_transformed(template: dict[str, Any], workdir: Path) -> NagRun:
    import aws_cdk as cdk
    from aws_cdk import cloudformation_include as cfn_inc

    from cirrus_infra.nag import packs, suppress_sam_resources

    path = workdir / "transformed.template.json"
    path.write_text(json.dumps(_sam_transform(template)))
    app = cdk.App(outdir=str(workdir / "cdk.out"))
    # No bootstrap version rule: the template brings its own.
    synthesizer = cdk.DefaultStackSynthesizer(generate_bootstrap_version_rule=False)
    stack = cdk.Stack(app, "transformed", synthesizer=synthesizer)
    included = cfn_inc.CfnInclude(stack, "Template", template_file=str(path))
    assert suppress_sam_resources(included) > 0
    for pack in packs():
        cdk.Aspects.of(app).add(pack)
    return _collect("SAM-transformed template", app, stack)


def _homeport_build(tmp: Path) -> Path:
    build = tmp / "build"
    build.mkdir()
    (build / "index.html").write_text("<!doctype html><title>HomePort</title>")
    return build


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[NagRun]:
    """The default stack, its SAM transform, and the stack with every option that adds resources (a
    custom domain, HomePort hosted on S3 + CloudFront, SES mail, alarm e-mail, a support backend's
    secret and pull schedule). The options add nothing to the SAM-generated part but the domain's
    mapping, which is plain CloudFormation already."""
    synthesised = _nag_synth(tmp_path_factory.mktemp("nag-synth"), "synthesised stack")
    transformed = _nag_transformed(synthesised.template, tmp_path_factory.mktemp("nag-transformed"))
    tmp = tmp_path_factory.mktemp("nag-options")
    (tmp / "work").mkdir()
    options = _nag_synth(
        tmp / "work",
        "stack with its options",
        domain_name=DOMAIN,
        certificate_arn=CERTIFICATE,
        alarm_email="ops@example.org",
        email_from=EMAIL_FROM,
        homeport_dir=_homeport_build(tmp),
        support_backend="jira",
        support_backend_secret_arn=SUPPORT_SECRET_ARN,
    )
    return [synthesised, transformed, options]


def _report(findings: list[Finding]) -> str:
    return "\n".join(sorted(f.line() for f in findings))


def _assert_clean(run: NagRun) -> None:
    if run.findings:
        pytest.fail(
            f"cdk-nag on the {run.name}: fix each finding, or suppress it with a reason (on the construct, "
            f"or in cirrus_infra/nag.py's SAM_SUPPRESSIONS for what Chalice and SAM generate):\n"
            + _report(run.findings),
            pytrace=False,
        )


def test_the_synthesised_stack_has_no_unsuppressed_finding(runs: list[NagRun]) -> None:
    _assert_clean(runs[0])


def test_the_sam_transformed_template_has_no_unsuppressed_finding(runs: list[NagRun]) -> None:
    _assert_clean(runs[1])


def test_the_stack_with_its_options_has_no_unsuppressed_finding(runs: list[NagRun]) -> None:
    _assert_clean(runs[2])


def test_the_packs_checked_the_functions_sam_makes(runs: list[NagRun]) -> None:
    """The second run is worth something only if cdk-nag saw the real functions: each Chalice function
    is an AWS::Lambda::Function there, and the rules on functions (runtime, dead-letter queue) fired on
    each, silenced by the table's reasons."""
    from cirrus_infra.nag import CHALICE_FUNCTIONS

    transformed = runs[1]
    for function in CHALICE_FUNCTIONS:
        assert transformed.type_of(function) == "AWS::Lambda::Function", function
        for rule in ("AwsSolutions-L1", "Serverless-LambdaDLQ"):
            assert (function, rule, None) in transformed.suppressed, (function, rule)
    assert runs[0].type_of(CHALICE_FUNCTIONS[0]) == "AWS::Serverless::Function"


def test_every_suppression_silences_a_finding(runs: list[NagRun]) -> None:
    """A suppression whose finding is gone (fixed by a change, e.g. one marked TEMPORARY) is removed."""
    declared: dict[Declared, set[str]] = defaultdict(set)
    for run in runs:
        for suppression, logical_ids in run.declared().items():
            declared[suppression] |= logical_ids
    suppressed = set().union(*(run.suppressed for run in runs))
    stale = [
        s.line(ids)
        for s, ids in declared.items()
        if not any(lid in ids and s.covers(rule, finding) for lid, rule, finding in suppressed)
    ]
    assert declared, "no suppression found in the templates' metadata"
    if stale:
        pytest.fail(
            "suppressions that silence nothing (remove them):\n" + "\n".join(sorted(stale)), pytrace=False
        )


def test_every_sam_suppression_is_used_and_reasoned(runs: list[NagRun]) -> None:
    from cirrus_infra.nag import SAM_SUPPRESSIONS

    suppressed = set().union(*(run.suppressed for run in runs))
    assert all(len(s.reason) >= 40 for s in SAM_SUPPRESSIONS), "a suppression's reason says why"
    stale = [
        s
        for s in SAM_SUPPRESSIONS
        if not any(
            s.matches(lid, runs[1].type_of(lid))
            and rule == s.rule
            and (not s.applies_to or finding in s.applies_to)
            for lid, rule, finding in suppressed
        )
    ]
    if stale:
        pytest.fail(
            "SAM_SUPPRESSIONS entries that silence nothing (remove them):\n" + "\n".join(map(str, stale)),
            pytrace=False,
        )
