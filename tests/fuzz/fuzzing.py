"""Schemathesis against the served API: the configuration of a run, the caller it signs in as, and
a summary of what it found. The bounded run of `make test` (tests/fuzz/test_schemathesis.py) and the
long run of `make fuzz` (`python -m tests.fuzz`) share it; they differ only in their `Profile`."""

from __future__ import annotations

import dataclasses
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import requests

# What a run checks. All of schemathesis's checks but these, each unsound for this API:
# - object_level_authorization needs two identities in one run (`auth.wfc` peers); the tenant
#   isolation suites (tests/integration/test_tenant_isolation.py) own that property.
# - negative_data_rejection wants every request the schema forbids refused. DRF, which Waldur's
#   clients are written against, is lenient by design and Cirrus follows it: a BooleanField takes
#   0/1/"true"/"on", a FloatField takes false and "1.5", a CharField takes numbers, a bad page_size
#   is the default page size, an empty filter value (`?state=`) is no filter, unknown query
#   parameters and body keys are ignored. A schema for clients cannot say all that without lying
#   to them the other way; the strict refusals are specified in tests/integration/test_bad_input.py.
# - positive_data_acceptance is replaced by `positive_data_acceptance_drf` (below): the same check,
#   except that a 400 whose every message says a referenced object does not exist, a unique value is
#   taken or the object's state forbids it (STATE_REFUSAL) is about what is stored, which no schema
#   describes (DRF answers 400 for all of them), not a refusal of the data.
EXCLUDED_CHECKS: tuple[str, ...] = (
    "object_level_authorization",
    "negative_data_rejection",
    "positive_data_acceptance",
)
# DRF's messages (and Waldur's) for a refusal that depends on what is stored, not on the data's shape.
# "A project cannot move to another customer": PUT/PATCH of a project may name its customer (Waldur's
# clients send it), and only the project's own customer is accepted, which the stored project decides;
# likewise a site agent identity's offering on PUT.
# An archived customer or plan (the run may archive the demo ones), a slug another object holds, a
# quota the run has set low (set_quotas) and the offering's components (limits name them) are
# stored state too; so is "Can't restore object from url" (Waldur's words for a scope naming no
# object the caller sees), the scope's form being stated by its pattern.
STATE_REFUSAL = re.compile(
    r"(does not exist|already exists|already has an account in this offering|is already archived"
    r"|of system role is not available|for system role is not possible|You cannot delete yourself"
    r"|Plan is required for this offering|Metadata for resource options is not defined"
    r"|^Invalid components: .*|days in advance|earlier than the current date"
    r"|Update of this field is not allowed"
    r"|^Can't restore object from url: .*"  # a scope URL of the schema's shape naming no object
    r"|^This slug is already in use|^A user with the uuid \[.*\] is not found"
    # A project stays in its customer (Cirrus refuses the move Waldur's serializer would make): the
    # customer it may name is the one stored; and a site agent identity in its offering (PUT names
    # it again: the stored one).
    r"|^A project cannot move to another customer|^The offering of an agent identity cannot be changed"
    r"|already used with a different request; use a new key"
    r"|^Archived organization is not available"
    r"|^One or more quotas were exceeded: .*|^Plan is archived"
    r"|is not a (limit-based )?component of this offering|^These components are invalid: .*"
    # Robot account users must hold a role where the resource is: who does is stored state.
    r"|^User should belong to the same project or organization as resource"
    # A feedback's token must be one the desk mailed (its hash is stored), for an issue still there.
    r"|^Token is wrong|^An issue is not found"
    # Who the caller is (stored roles): only the support desk names an issue's caller, assignee or
    # priority, or reports a customer's issue without owning it (Waldur's 400s).
    r"|^Only staff or support can .*|^Only customer owner, .*|^Assignee cannot be defined if issue is .*"
    # Importing resources: the offering's stored type runs a cloud backend or not (Waldur's 400), and
    # a resource imported once is stored.
    r"|^Current offering plugin does not support resource import|^Resource has been imported already"
    r"|must make a unique set)\.?$",  # DRF's UniqueTogetherValidator: another object holds the pair
    re.DOTALL,  # a name quoted in a message may hold a newline
)
# Refusals of data the schema allows because OpenAPI 3.0 cannot say the rule (each field's schema
# says as much of it as is true, and its description the rest). Keep this list short and narrow:
# - a web hook to an internal address (the SSRF guard): the URL's shape is in its pattern, whether
#   its host is a public address is not a shape;
# - an SSH key line of the right shape whose body is not a key of its type (a parse, not a pattern);
# - a text or JSON value over its size in bytes as stored (JSON-escaped): `maxLength` counts
#   characters, and a non-ASCII character takes 6 or 12 bytes, so no character count is true for
#   every text without refusing ASCII texts the API takes (chalicelib/domain/bounds.py);
# - daily-quotas' period: start before end, 3660 days at most, and a project's end date after its
#   start date (rules across two parameters or fields); likewise the statistics' periods (start not
#   after end, at most so many months or days, `start` and `end` both or neither, `year` and `month`
#   both or neither) and events-stats' feed (a scope or a user's, not both);
# - a support attachment's file: its part's declared type among those allowed and its file name's
#   extension one of that type's, not empty, within the size limit (rules on a multipart part's
#   headers and length, which a multipart schema does not state), and sent as a file part.
UNEXPRESSIBLE = re.compile(
    r"^(Files of type .+ cannot be attached\.|The file name's extension does not match its type .+\."
    r"|The submitted file is empty\.|The file is too large: at most \d+ bytes\.|No file was submitted\."
    r"|The submitted data was not a file\. Check the encoding type on the form\.|The file name is not valid\."
    r"|Web hooks may not be sent to loopback, private, link-local, multicast, reserved or unspecified"
    r" addresses\.|Invalid SSH public key\.|The period is longer than \d+ days: ask for a shorter one\."
    r"|Invalid period specified\. `start` should be lesser than `end`\."
    r"|End date must be later than start date\."
    r"|start must not be after end\.|Start date must be earlier or equal to end date\."
    r"|Both parameters must be specified\.|Give both year and month, or neither \(this month\)\."
    r"|A range of at most \d+ months may be asked for\."
    r"|The period is longer than \d+ (months|days): ask for a shorter one\."
    r"|Name the feed by scope or by related_user_uuid, not both\."
    r"|A chart shows at most \d+ days: ask for a shorter period\."
    r"|Ensure this value is no larger than \d+ bytes as stored \(it is \d+\)\.)$"
)

# Operations that end the caller's own session: a logout revokes the token it is sent with, after
# which every later request of the run would be a 401 and the run vacuous. They are sent spare
# tokens of the caller instead (`TokenAuth`), minted before the run (the run may change the
# caller's password), so they are still covered.
SESSION_ENDERS: frozenset[tuple[str, str]] = frozenset(
    {("POST", "/api-auth/logout/"), ("POST", "/api-auth/cognito/logout/")}
)

# Which failures are which (a failure's kind decides who fixes it; see the report).
SERVER_ERROR_CHECKS = frozenset({"not_a_server_error"})
SCHEMA_CHECKS = frozenset(
    {
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "allow_header_conformance",
        "positive_data_acceptance_drf",  # the schema allows what the API refuses
    }
)


@dataclass(frozen=True)
class Profile:
    """How much a run does. Without a schemathesis time budget each phase runs once (a time budget
    makes fuzzing and stateful repeat until it is spent: a run then depends on the machine's speed),
    so the amount of work is set by the example caps alone; `deadline` only stops a run gone wrong."""

    name: str
    max_examples: int  # per operation, in the fuzzing phase (and per stateful scenario step draw)
    stateful_steps: int
    deterministic: bool  # the same requests every run (Hypothesis derandomised)
    seed: int
    deadline: float  # seconds: past it the run stops and says so
    phases: tuple[str, ...] = ("examples", "coverage", "fuzzing", "stateful")
    # The coverage phase's cases: "all" adds to the schema's boundary values the values it forbids
    # (most of a run's requests); "positive" keeps to what the schema allows.
    coverage_mode: str = "all"
    # Verbs the coverage phase sends to each path that does not serve them (each answers 405).
    unexpected_methods: tuple[str, ...] = ("get", "put", "post", "delete", "options", "patch", "trace")
    request_timeout: float = 120.0  # generous: a loaded 2-core machine is slow, never wrong
    only: str | None = None  # a path regex: fuzz only the operations whose path matches it


# `make test`'s run as staff: every check, every phase, a few examples per operation.
BOUNDED = Profile(
    name="bounded",
    max_examples=5,
    stateful_steps=5,
    deterministic=True,
    seed=17,
    deadline=600.0,
    unexpected_methods=("trace", "put"),  # the 405 path is the same for every verb
)
# ... and as the customer owner: the same, but the coverage phase keeps to valid input (what the
# owner adds over staff is who may see and do what; the invalid input is the staff run's).
BOUNDED_OWNER = dataclasses.replace(BOUNDED, name="bounded-owner", coverage_mode="positive")


def long_profile(seed: int) -> Profile:
    return Profile(
        name="long",
        max_examples=100,
        stateful_steps=20,
        deterministic=False,
        seed=seed,
        deadline=4 * 3600.0,
    )


SPARE_TOKENS = 30  # more than the logouts a run sends; past them a logout gets a revoked token (401)


@dataclass(frozen=True)
class Caller:
    """Whom the run signs in as: their token, and spare ones for the logouts to revoke."""

    label: str
    token: str
    spares: tuple[str, ...] = ()


def caller(base_url: str, label: str, username: str, password: str, token: str | None = None) -> Caller:
    """A caller signed in by password (as a client is), with `SPARE_TOKENS` spare tokens."""
    spares = tuple(login(base_url, username, password) for _ in range(SPARE_TOKENS))
    return Caller(label, token or login(base_url, username, password), spares)


def login(base_url: str, username: str, password: str, timeout: float = 120.0) -> str:
    """A new token through POST /api-auth/password/, as a client gets one."""
    answer = requests.post(
        f"{base_url}/api-auth/password/",
        json={"username": username, "password": password},
        timeout=timeout,
    )
    answer.raise_for_status()
    return str(answer.json()["token"])


def config(profile: Profile) -> Any:
    from schemathesis.config import SchemathesisConfig

    enabled = set(profile.phases)
    return SchemathesisConfig.from_dict(
        {
            "seed": profile.seed,
            "suppress-health-check": ["all"],  # slow answers under load are not a finding
            "cache": {"enabled": False},  # no state kept between runs (.schemathesis/): a run is its seed
            "request-timeout": profile.request_timeout,
            "workers": 1,  # one request at a time: the same order, hence the same run, every time
            "continue-on-failure": True,  # every failure of an operation, not only its first
            "generation": {
                "max-examples": profile.max_examples,
                "deterministic": profile.deterministic,
                "database": "none",  # nothing remembered between runs: a run is its seed
                "no-shrink": True,  # shrinking costs requests; the report shows the failing case
            },
            "phases": {
                "examples": {"enabled": "examples" in enabled},
                "coverage": {
                    "enabled": "coverage" in enabled,
                    "unexpected-methods": list(profile.unexpected_methods),
                    "generation": {"mode": profile.coverage_mode},
                },
                "fuzzing": {"enabled": "fuzzing" in enabled},
                "stateful": {"enabled": "stateful" in enabled, "max-steps": profile.stateful_steps},
            },
            "checks": {"enabled": True, **{name: {"enabled": False} for name in EXCLUDED_CHECKS}},
        }
    )


def token_auth(caller: Caller) -> type:
    """A schemathesis auth provider sending `Token <key>`: the caller's token, except to an
    operation that ends the session, which gets the next spare token (it may revoke it)."""
    spares = list(caller.spares)

    class TokenAuth:
        def get(self, case: Any, context: Any) -> str:
            operation = context.operation
            if (operation.method.upper(), operation.path) in SESSION_ENDERS and spares:
                return spares.pop(0) if len(spares) > 1 else spares[0]
            return caller.token

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Token {data}"}

    return TokenAuth


def _messages(body: Any) -> list[str]:
    """Every message of a DRF error body (an object of lists, a list, nested objects)."""
    if isinstance(body, str):
        return [body]
    if isinstance(body, dict):
        return [m for value in body.values() for m in _messages(value)]
    if isinstance(body, list):
        return [m for value in body for m in _messages(value)]
    return ["(not a message)"]


def refused_for_state(response: Any) -> bool:
    """A 400 about the stored state (a referenced object missing, a unique value taken), not about
    the shape of the data, or by a rule the schema cannot state (UNEXPRESSIBLE); or the 422 of an
    Idempotency-Key the run already sent with another body (the fuzzer draws the same few keys for
    every operation)."""
    if response.status_code not in (400, 422):
        return False
    try:
        messages = _messages(response.json())
    except ValueError:
        return False
    return bool(messages) and all(STATE_REFUSAL.search(m) or UNEXPRESSIBLE.search(m) for m in messages)


_registered: list[bool] = []


def register_checks() -> None:
    """`positive_data_acceptance_drf` (see EXCLUDED_CHECKS), once per process: schemathesis keeps
    checks in a global registry."""
    if _registered:
        return
    import schemathesis
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    @schemathesis.check
    def positive_data_acceptance_drf(ctx: Any, response: Any, case: Any) -> bool | None:
        if refused_for_state(response):
            return None
        return positive_data_acceptance(ctx, response, case)  # type: ignore[no-any-return]

    _registered.append(True)


def load(base_url: str, caller: Caller, profile: Profile) -> Any:
    """The served OpenAPI document (GET /api/schema/), with the caller's authentication."""
    import schemathesis

    register_checks()
    schema = schemathesis.openapi.from_url(
        f"{base_url}/api/schema/", config=config(profile), timeout=profile.request_timeout
    )
    # No caching: `get` is asked for every request, so each logout gets its own token.
    schema.auth(refresh_interval=None)(token_auth(caller))
    return schema.include(path_regex=profile.only) if profile.only else schema


@dataclass(frozen=True)
class Finding:
    kind: str  # "server error", "schema", "behaviour"
    check: str
    operation: str
    title: str
    message: str
    curl: str
    response: str  # the status and the start of the body the check failed on


@dataclass
class Outcome:
    """What a run did and found."""

    caller: str
    profile: str
    operations: int = 0  # in the schema
    operations_tested: set[str] = field(default_factory=set)
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    checks: Counter[str] = field(default_factory=Counter)  # check -> responses it judged
    seconds: float = 0.0
    stop_reason: str = ""
    stopped_at_deadline: bool = False
    findings: Counter[Finding] = field(default_factory=Counter)  # distinct finding -> occurrences
    errors: list[str] = field(default_factory=list)  # the engine's own errors (a phase that crashed)

    @property
    def failures(self) -> int:
        return sum(self.findings.values())

    def by_kind(self) -> Counter[str]:
        kinds: Counter[str] = Counter()
        for finding, count in self.findings.items():
            kinds[finding.kind] += count
        return kinds

    def summary(self) -> str:
        kinds = ", ".join(f"{kind}: {count}" for kind, count in sorted(self.by_kind().items())) or "none"
        statuses = " ".join(f"{code}x{count}" for code, count in sorted(self.statuses.items()))
        line = (
            f"schemathesis {self.profile} run as {self.caller}: {len(self.operations_tested)} of "
            f"{self.operations} operations, {self.requests} requests in {self.seconds:.0f} s "
            f"({self.stop_reason}); failures {self.failures} ({kinds}); statuses {statuses}"
        )
        line += "; checks " + " ".join(f"{name}x{count}" for name, count in sorted(self.checks.items()))
        if self.stopped_at_deadline:
            line += "; STOPPED AT THE DEADLINE: later operations and phases did not run"
        return line

    def report(self, limit: int = 200) -> str:
        """The summary, then each distinct failure (most frequent first) with one example."""
        lines = [self.summary()]
        lines += [f"engine error: {error}" for error in self.errors]
        for finding, count in self.findings.most_common(limit):
            lines.append(
                f"\n[{finding.kind}] {finding.check} x{count}: {finding.operation}: {finding.title}\n"
                f"  {_indent(finding.message)}\n  got: {_indent(finding.response, 400)}\n"
                f"  reproduce: {_indent(finding.curl, 1500)}"
            )
        if len(self.findings) > limit:
            lines.append(f"\n... and {len(self.findings) - limit} more distinct failures")
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        return {
            "summary": self.summary(),
            "findings": [
                {**finding.__dict__, "count": count} for finding, count in self.findings.most_common()
            ],
            "errors": self.errors,
        }


def _indent(text: str, width: int = 1500) -> str:
    text = text if len(text) <= width else text[:width] + " ..."
    return text.replace("\n", "\n  ")


def kind_of(check: str) -> str:
    if check in SERVER_ERROR_CHECKS:
        return "server error"
    if check in SCHEMA_CHECKS:
        return "schema"
    return "behaviour"


def _normalised(message: str) -> str:
    """A failure's message without what varies between occurrences of the same failure (ids)."""
    return re.sub(r"[0-9a-f]{32}", "<uuid>", message)


OPERATION_LABEL = re.compile(r"^[A-Z]+ /")


def _record(outcome: Outcome, recorder: Any) -> None:
    if OPERATION_LABEL.match(recorder.label):  # not the stateful phase's scenario label
        outcome.operations_tested.add(recorder.label)
    for interaction in recorder.interactions.values():
        outcome.requests += 1
        if interaction.response is not None:
            outcome.statuses[interaction.response.status_code] += 1
    for case_id, nodes in recorder.checks.items():
        for node in nodes:
            outcome.checks[node.name] += 1
            if node.failure_info is None:
                continue
            failure = node.failure_info.failure
            finding = Finding(
                kind=kind_of(node.name),
                check=node.name,
                operation=failure.operation or recorder.label,
                title=failure.title,
                message=_normalised(failure.message),
                curl=node.failure_info.code_sample,
                response=_response(recorder, failure.case_id or case_id),
            )
            # The same failure met again (another case, another id) counts, not lists.
            same = next((f for f in outcome.findings if _same(f, finding)), finding)
            outcome.findings[same] += 1


def _response(recorder: Any, case_id: str) -> str:
    interaction = recorder.interactions.get(case_id)
    if interaction is None or interaction.response is None:
        return "no response"
    response = interaction.response
    body = (response.content or b"")[:400].decode("utf-8", "replace")
    return f"{response.status_code} {body}"


def _same(a: Finding, b: Finding) -> bool:
    return (a.check, a.operation, a.title, a.message) == (b.check, b.operation, b.title, b.message)


def run(
    base_url: str,
    caller: Caller,
    profile: Profile,
    progress: Callable[[str], None] | None = None,
) -> Outcome:
    """One schemathesis run (every enabled phase, once) against the API at `base_url`."""
    from schemathesis.engine import events, from_schema

    schema = load(base_url, caller, profile)
    outcome = Outcome(caller=caller.label, profile=profile.name, operations=schema.statistic.operations.total)
    started = time.monotonic()
    stream = from_schema(schema).execute()
    for event in stream:
        if isinstance(event, events.ScenarioFinished):
            _record(outcome, event.recorder)
        elif isinstance(event, events.NonFatalError):
            outcome.errors.append(f"{event.label}: {event.info.title}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            outcome.errors.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.PhaseFinished) and progress is not None:
            progress(
                f"{caller.label}: {event.phase.name.value} {event.status.value}, {outcome.requests} requests"
                f" by {time.monotonic() - started:.0f} s"
            )
        elif isinstance(event, events.EngineFinished):
            outcome.stop_reason = str(event.stop_reason.value)
        if time.monotonic() - started > profile.deadline and not outcome.stopped_at_deadline:
            outcome.stopped_at_deadline = True
            stream.stop()
    outcome.seconds = time.monotonic() - started
    return outcome


def dump(outcomes: Iterable[Outcome], path: str) -> None:
    with open(path, "w", encoding="utf-8") as out:
        json.dump([outcome.as_json() for outcome in outcomes], out, indent=1)
