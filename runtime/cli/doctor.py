"""`python -m runtime doctor`: is everything in place to call Claude through the gateway?

Checks, each one line, each failure with its fix: the gateway answers; credentials are found
(``--sops FILE``, else ``$PORTKEY_BEDROCK_SOPS_FILE``, else the environment) and accepted by STS
(endpoint-aware: honours AWS_ENDPOINT_URL, so it works against local AWS) as the stack's user (its
UserArn output, when the stack can be read); every allowed catalog model resolves for the region;
with ``--live``, one tiny chat per model the deployed stack allows (its ModelIds output, when the
key can read the stack; else the catalog's) through the gateway, a refusal classified (rejected
key, policy denial, model access not enabled, throttling).
Exit status 1 when any check fails, 2 on bad arguments.
"""

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence

from runtime.catalog.model import load_catalog
from runtime.catalog.resolve import allowed_models, lifecycle_warning, pick_region, resolve_model
from runtime.cli.parser import OneLineParser
from runtime.constants import (
    AUTH_MODES,
    AUTH_SIGV4,
    DEFAULT_GATEWAY_URL,
    DEFAULT_STACK_NAME,
    ENV_AWS_ENDPOINT_URL,
    ENV_GATEWAY_URL,
    ENV_SOPS_FILE,
    EXIT_USAGE,
    GATEWAY_GREETING,
    OUTPUT_MODEL_IDS,
    OUTPUT_USER_ARN,
)
from runtime.credentials.keys import Credentials
from runtime.errors import PortkeyBedrockError, aws_error_code
from runtime.gateway.headers import chat_request, check_http_url, gateway_url, portkey_headers
from runtime.redact import mask_key_id
from runtime.spend import budget_stop_fix

TIMEOUT_SECONDS = 10.0
AUTH_ROLE = "role"  # doctor only: temporary credentials of the stack's invoke role
# The project's own launcher binds to loopback and runs headless (npx @portkey-ai/gateway listens
# on every interface and serves a log UI that shows provider keys).
START_GATEWAY = "start it: make gateway (or python -m local.gateway up)"

# What to do about a refused request, by kind (see classify_refusal).
FIX_REJECTED_KEY = (
    "the key was rejected (invalid, or rotated away); re-pull the SOPS file "
    "(python -m runtime secrets pull) or check the key"
)
FIX_MODEL_ACCESS = (
    "an account admin must enable the model in the Bedrock console (Model access; "
    "Anthropic: complete the use-case form)"
)
FIX_THROTTLED = "throttled; retry later or add retry/fallback (runtime.portkey_config)"
# auth="api-key" (short-term Bedrock API keys, runtime.credentials.api_key)
FIX_API_KEY_EXPIRED = (
    "the short-term Bedrock API key expired; mint a fresh one per request with runtime.bedrock_api_key "
    "(cached, renewed before expiry) instead of keeping a key longer than its ttl_seconds"
)
FIX_API_KEYS_OFF = (
    "the stack does not allow short-term Bedrock API keys; redeploy with -c api_keys=short-term "
    "(python -m stacks.deploy) or use auth=sigv4"
)
# an STS session (a role's temporary credentials) used after its expiry
FIX_SESSION_EXPIRED = (
    "the role session expired; let botocore refresh it: Credentials.from_role(...) or "
    "gateway_http_client(role_arn=...) instead of credentials frozen once"
)
_SESSION_EXPIRED_MARKS = ("security token included in the request is expired", "expiredtokenexception")
_API_KEY_EXPIRED_MARKS = ("bearer token has expired",)
_API_KEYS_OFF_MARKS = ("bedrock:callwithbearertoken",)
# Marks of each kind in Bedrock's / STS's error code or message (lower case).
_REJECTED_KEY_MARKS = (
    "unrecognizedclientexception",
    "invalidsignatureexception",
    "invalidclienttokenid",
    "signaturedoesnotmatch",
    "security token included in the request is invalid",
    "signature we calculated does not match",
    "expiredtoken",
)
_MODEL_ACCESS_MARKS = ("aws-marketplace", "model access", "use case", "use-case", "don't have access to the model")
_POLICY_DENIAL_MARKS = ("accessdenied", "not authorized to perform")
# The stack's own grants are all Allow: an explicit deny on the access user is the budget stop.
_BUDGET_STOP_MARKS = ("with an explicit deny",)


class Check:
    """The outcome of one check: ok or not, and one line for the person reading."""

    __slots__ = ("line", "ok")

    def __init__(self, ok: bool, line: str) -> None:
        self.ok = ok
        self.line = line


def gateway_root(url: str) -> str:
    """The gateway's root URL from its OpenAI base URL.

    >>> gateway_root("http://localhost:8787/v1")
    'http://localhost:8787/'
    >>> gateway_root("http://gw.internal:8787/v1/")
    'http://gw.internal:8787/'
    """
    base = url.rstrip("/")
    if base.endswith("/v1"):
        base = base[: -len("/v1")]
    return base + "/"


def check_gateway(url: str) -> Check:
    root = gateway_root(url)
    try:
        with urllib.request.urlopen(root, timeout=TIMEOUT_SECONDS) as reply:  # noqa: S310 - our own gateway URL
            body = reply.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        return Check(False, f"gateway {root} not reachable ({reason}); {START_GATEWAY}, or set {ENV_GATEWAY_URL}")
    if GATEWAY_GREETING not in body:
        return Check(False, f"{root} answered but is not a Portkey gateway; check PORTKEY_GATEWAY_URL")
    return Check(True, f"gateway {root} answers")


def check_sts(credentials: Credentials, region: str, stack: str = DEFAULT_STACK_NAME) -> Check:
    """STS accepts the key, and names the stack's user when the stack's outputs can be read."""
    import boto3  # lazy: only doctor and secrets need the AWS SDK
    import botocore.exceptions

    session = boto3.session.Session(
        region_name=region,
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
    )
    key = mask_key_id(credentials.access_key_id)
    try:
        identity = session.client("sts").get_caller_identity()
    except botocore.exceptions.ClientError as err:
        code = aws_error_code(err)
        return Check(False, f"STS rejected key {key} ({code}); {FIX_REJECTED_KEY}")
    except botocore.exceptions.BotoCoreError as err:
        return Check(False, f"STS not reachable ({type(err).__name__}); check network or {ENV_AWS_ENDPOINT_URL}")
    caller = str(identity["Arn"])
    expected, why_not = stack_user_arn(session, stack)
    if expected is None:
        return Check(True, f"credentials {key} accepted by STS as {caller} (not compared with {why_not})")
    if caller != expected:
        return Check(
            False,
            f"credentials {key} belong to {caller}, not to stack {stack}'s user {expected}; "
            "re-pull the SOPS file (python -m runtime secrets pull) or pass --stack",
        )
    return Check(True, f"credentials {key} accepted by STS as {caller}, the user of stack {stack}")


def stack_user_arn(session: object, stack: str) -> tuple[str | None, str]:
    """The stack's ``UserArn`` output read with the checked key, else None and why not.

    The least-privilege user may not call CloudFormation at all: that is normal, not a failure.
    """
    outputs, why_not = stack_outputs(session, stack)
    if outputs is None:
        return None, f"stack {stack}'s {OUTPUT_USER_ARN}: {why_not}"
    arn = outputs.get(OUTPUT_USER_ARN)
    if not arn:
        return None, f"stack {stack}'s {OUTPUT_USER_ARN}: the stack has no such output"
    return str(arn), ""


def stack_outputs(session: object, stack: str) -> tuple[dict[str, str] | None, str]:
    """The stack's outputs read with the checked key, else None and why not."""
    import botocore.exceptions

    try:
        reply = session.client("cloudformation").describe_stacks(StackName=stack)  # type: ignore[attr-defined]
    except botocore.exceptions.ClientError as err:
        code = aws_error_code(err)
        if "denied" in code.lower() or "unauthorized" in code.lower():
            return None, "this key may not read the stack"
        if "does not exist" in str(err):
            return None, "no such stack here; pass --stack NAME to compare"
        return None, f"stack not readable ({code}); pass --stack NAME"
    except botocore.exceptions.BotoCoreError as err:
        return None, f"CloudFormation not reachable ({type(err).__name__})"
    stacks = reply.get("Stacks") or [{}]
    return {str(item.get("OutputKey")): str(item.get("OutputValue")) for item in stacks[0].get("Outputs") or []}, ""


def stack_allowed_models(credentials: Credentials, region: str, stack: str) -> list[str] | None:
    """The catalog names the deployed stack allows (its ``ModelIds`` output), when the stack can be
    read with the checked key; None otherwise (then the catalog's allow-list is checked)."""
    import boto3  # lazy: only doctor and secrets need the AWS SDK

    session = boto3.session.Session(
        region_name=region,
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
    )
    outputs, _ = stack_outputs(session, stack)
    ids = (outputs or {}).get(OUTPUT_MODEL_IDS)
    if not ids:
        return None
    catalog = load_catalog()
    names = []
    for bedrock_id in ids.split(","):
        found = catalog.lookup_id(bedrock_id.strip())
        if found is not None:
            names.append(found[0].name)
    return names or None


def check_models(region: str, stack_allows: Sequence[str] | None = None) -> tuple[list[Check], list[str]]:
    """Each allowed model resolves for `region`: the models the deployed stack allows when they
    are known (`stack_allows`), else the catalog's allow-list."""
    catalog = load_catalog()
    admitted = allowed_models(None, catalog) if stack_allows is None else list(stack_allows)
    checks, names = [], []
    for model in catalog:
        if (admitted is not None and model.name not in admitted) or (
            admitted is None and (model.is_eol() or not model.offers)
        ):
            # an end-of-life model, or one whose profiles only `catalog sync` knows (no offer in the
            # shipped catalog), is checked (and fails) only when the allow-list names it
            continue
        try:
            bedrock_id = resolve_model(model.name, region)
        except PortkeyBedrockError as err:
            checks.append(Check(False, f"{model.name}: {err}"))
            continue
        checks.append(Check(True, f"{model.name} -> {bedrock_id}"))
        names.append(model.name)
    return checks, names


def check_lifecycle(names: Sequence[str]) -> list[Check]:
    """One line per Legacy model among `names` (they still resolve): its end-of-life date and
    replacement, from the catalog's lifecycle data. Warnings, not failures."""
    catalog = load_catalog()
    warnings = (lifecycle_warning(catalog.model(name), catalog=catalog) for name in names)
    return [Check(True, f"warning: {warning}") for warning in warnings if warning]


def check_live(
    name: str,
    credentials: Credentials,
    region: str,
    url: str,
    custom_host: str | None,
    auth: str = "sigv4",
    stack: str = DEFAULT_STACK_NAME,
) -> Check:
    headers = portkey_headers(name, credentials, region, custom_host=custom_host, auth=auth)
    body = chat_request(name, [{"role": "user", "content": "ping"}], region=region, max_tokens=8)
    request = urllib.request.Request(  # noqa: S310 - http(s) gateway URL from config
        url.rstrip("/") + "/chat/completions",
        data=json.dumps(body).encode(),
        headers={**headers, "content-type": "application/json"},
        method="POST",
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS * 3) as reply:  # noqa: S310
            json.load(reply)
    except urllib.error.HTTPError as err:
        return Check(False, f"{name}: {describe_http_error(err.code, err.read(), name, stack)}")
    except (urllib.error.URLError, OSError) as err:
        return Check(False, f"{name}: gateway not reachable ({getattr(err, 'reason', err)}); {START_GATEWAY}")
    return Check(True, f"{name} answered in {(time.perf_counter() - started) * 1000:.0f} ms")


def classify_refusal(status: int, text: str) -> str | None:
    """The kind of a refused Bedrock/STS call from its status and error code or message:
    ``rejected-key``, ``model-access``, ``policy-denial``, ``throttled``, ``api-key-expired``,
    ``api-keys-off`` (no bedrock:CallWithBearerToken: the stack option is off), ``session-expired``,
    ``budget-stop`` (an explicit deny: the stack grants only Allow, so it is the budget stop's policy), or None.

    >>> classify_refusal(403, "bedrock error: The security token included in the request is invalid.")
    'rejected-key'
    >>> classify_refusal(403, "User: arn:aws:iam::1:user/u is not authorized to perform: bedrock:InvokeModel")
    'policy-denial'
    >>> classify_refusal(403, "Model access is denied ... (aws-marketplace:Subscribe)")
    'model-access'
    >>> classify_refusal(403, "bedrock error: The security token included in the request is expired")
    'session-expired'
    >>> classify_refusal(403, "User: u is not authorized to perform: bedrock:InvokeModel on resource: r "
    ...                  "with an explicit deny in an identity-based policy")
    'budget-stop'
    >>> classify_refusal(429, ""), classify_refusal(500, "boom")
    ('throttled', None)
    """
    lowered = text.lower()
    if status == 429 or "throttlingexception" in lowered:
        return "throttled"
    if any(mark in lowered for mark in _API_KEY_EXPIRED_MARKS):
        return "api-key-expired"
    if any(mark in lowered for mark in _API_KEYS_OFF_MARKS):
        return "api-keys-off"
    if any(mark in lowered for mark in _SESSION_EXPIRED_MARKS):
        return "session-expired"
    if any(mark in lowered for mark in _REJECTED_KEY_MARKS):
        return "rejected-key"
    # before the policy test: Bedrock's model-access denial also says "not authorized to perform"
    if any(mark in lowered for mark in _MODEL_ACCESS_MARKS):
        return "model-access"
    if any(mark in lowered for mark in _BUDGET_STOP_MARKS):
        return "budget-stop"
    if status == 403 or any(mark in lowered for mark in _POLICY_DENIAL_MARKS):
        return "policy-denial"
    return None


def describe_http_error(status: int, body: bytes, name: str, stack: str = DEFAULT_STACK_NAME) -> str:
    """One line for a failed chat: what Bedrock said and what to do.

    >>> describe_http_error(403, b'{"error": {"message": "bedrock error: not authorized"}}', "opus")
    'HTTP 403 (bedrock error: not authorized); add opus to allowed_models and redeploy (python -m stacks.deploy)'
    >>> describe_http_error(429, b"", "claude-large")
    'HTTP 429 (throttled); retry later or add retry/fallback (runtime.portkey_config)'
    >>> describe_http_error(500, b"not json", "opus")
    'HTTP 500 (no details); check the gateway log and the Bedrock service status'
    """
    try:
        message = str(json.loads(body)["error"]["message"])
    except (ValueError, KeyError, TypeError):
        message = "throttled" if status == 429 else "no details"
    fixes = {
        "rejected-key": FIX_REJECTED_KEY,
        "model-access": FIX_MODEL_ACCESS,
        "policy-denial": f"add {name} to allowed_models and redeploy (python -m stacks.deploy)",
        "throttled": "retry later or add retry/fallback (runtime.portkey_config)",
        "api-key-expired": FIX_API_KEY_EXPIRED,
        "api-keys-off": FIX_API_KEYS_OFF,
        "session-expired": FIX_SESSION_EXPIRED,
        "budget-stop": budget_stop_fix(stack),
    }
    kind = classify_refusal(status, message)
    fix = fixes[kind] if kind else "check the gateway log and the Bedrock service status"
    first_line = (message.splitlines() or [""])[0][:200]
    return f"HTTP {status} ({first_line}); {fix}"


def run_checks(args: argparse.Namespace, emit: Callable[[Check], None]) -> bool:
    results: list[Check] = []

    def record(check: Check) -> None:
        results.append(check)
        emit(check)

    url = gateway_url(args.gateway_url)  # already checked in main()
    record(check_gateway(url))
    credentials: Credentials | None = None
    sops = args.sops or os.environ.get(ENV_SOPS_FILE) or None  # before the AWS_* variables
    where = "environment"
    if sops:
        where = f"SOPS file {sops}" + ("" if args.sops else f" (${ENV_SOPS_FILE})")
    try:
        credentials = Credentials.load(sops)
        record(Check(True, f"credentials found ({where})"))
    except PortkeyBedrockError as err:
        if args.auth == AUTH_ROLE and not args.sops:
            record(Check(True, "no key in the environment: the role is assumed with botocore's default chain"))
        else:
            record(Check(False, str(err)))
    try:
        region = pick_region(args.region or (credentials.region if credentials else None))
    except PortkeyBedrockError as err:
        record(Check(False, str(err)))
        return False
    stack_allows = None
    if credentials is not None and args.auth != AUTH_ROLE:
        record(check_sts(credentials, region, args.stack))
        if args.live:
            stack_allows = stack_allowed_models(credentials, region, args.stack)
            if stack_allows is not None:
                record(
                    Check(True, f"stack {args.stack} allows {len(stack_allows)} model(s): {', '.join(stack_allows)}")
                )
    model_checks, names = check_models(region, stack_allows)
    for check in [*model_checks, *check_lifecycle(names)]:
        record(check)
    if args.auth == AUTH_ROLE:  # assume the stack's role, compare its trust, one chat as the role
        from runtime.cli.doctor_role import role_checks

        def live(role: Credentials) -> Check:
            return check_live(names[0], role, region, url, args.custom_host)

        for check in role_checks(credentials, region, args.stack, args.role_arn, live):
            record(check)
    elif args.live and credentials is not None:
        for name in names:
            record(check_live(name, credentials, region, url, args.custom_host, args.auth, args.stack))
    if args.live and args.operator:
        for check in check_access(names, region, args.operator_profile):
            record(check)
    return all(check.ok for check in results)


def check_access(names: Sequence[str], region: str, profile: str | None) -> list[Check]:
    """GetFoundationModelAvailability per model, with operator credentials (the default AWS chain
    or `profile`; the portkey-bedrock-access user is not granted it): callable now, or the step."""
    from runtime.catalog import check as catalog_check

    catalog = load_catalog()
    try:
        client = catalog_check.bedrock_client(region, profile)
        answers = catalog_check.fetch_availability(client, catalog, names)
    except PortkeyBedrockError as err:
        return [Check(False, f"model access: {err}")]
    except Exception as exc:
        return [Check(False, f"model access: {catalog_check.explain_error(exc, region)}")]
    steps = {d.subject for d in catalog_check.access_drifts(catalog, region, answers)}
    lines = catalog_check.access_lines(catalog, region, answers)
    return [Check(name not in steps, line) for name, line in zip(answers, lines, strict=True)]


def main(argv: Sequence[str]) -> int:
    parser = OneLineParser(prog="python -m runtime doctor", description=__doc__)
    parser.add_argument(
        "--sops",
        metavar="FILE",
        help=f"SOPS env file with the credentials (default: ${ENV_SOPS_FILE}, else environment)",
    )
    parser.add_argument("--region", help="default: the credentials' AWS_REGION, else us-east-1")
    parser.add_argument("--gateway-url", help=f"default: {ENV_GATEWAY_URL} or {DEFAULT_GATEWAY_URL}")
    parser.add_argument("--custom-host", help="send Bedrock calls to this host (local double)")
    parser.add_argument("--stack", default=DEFAULT_STACK_NAME, help="stack whose UserArn the key must belong to")
    parser.add_argument("--live", action="store_true", help="send one tiny chat per model")
    parser.add_argument(
        "--operator",
        action="store_true",
        help="with --live: also ask GetFoundationModelAvailability per model (operator credentials: AWS chain)",
    )
    parser.add_argument("--operator-profile", help="AWS profile of the operator credentials for --operator")
    parser.add_argument(
        "--auth",
        choices=(*AUTH_MODES, AUTH_ROLE),
        default=AUTH_SIGV4,
        help="sigv4 (the secret key), api-key (a short-term Bedrock API key; stack option api_keys=short-term) "
        "or role (assume the stack's invoke role with these credentials, else the default chain)",
    )
    parser.add_argument("--role-arn", help="with --auth role: the role to assume (default: the stack's RoleArn)")
    try:
        args = parser.parse_args(list(argv))
        if args.gateway_url is not None:
            check_http_url(args.gateway_url, "--gateway-url", DEFAULT_GATEWAY_URL)
        gateway_url(args.gateway_url)  # PORTKEY_GATEWAY_URL=garbage: one line here, not a traceback later
    except PortkeyBedrockError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE

    def emit(check: Check) -> None:
        print(f"{'ok  ' if check.ok else 'FAIL'} {check.line}")

    ok = run_checks(args, emit)
    print("doctor: all checks passed" if ok else "doctor: some checks failed (see FAIL lines)")
    return 0 if ok else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
