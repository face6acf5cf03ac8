"""`python -m runtime doctor`: is everything in place to call Claude through the gateway?

Checks, each one line, each failure with its fix: the gateway answers; credentials are found
(environment or a SOPS env file) and accepted by STS (endpoint-aware: honours AWS_ENDPOINT_URL, so it
works against local AWS); every allowed catalog model resolves for the region; with ``--live``, one
tiny chat per model through the gateway. Exit status 1 when any check fails.
"""

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence

from runtime.catalog import load_catalog
from runtime.cli_parser import OneLineParser
from runtime.constants import ENV_AWS_ENDPOINT_URL
from runtime.credentials import Credentials, mask_key_id
from runtime.errors import PortkeyBedrockError, aws_error_code
from runtime.portkey import chat_request, gateway_url, portkey_headers
from runtime.resolve import allowed_models, lifecycle_warning, pick_region, resolve_model

GATEWAY_GREETING = "AI Gateway says hey!"
TIMEOUT_SECONDS = 10.0


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
        return Check(
            False,
            f"gateway {root} not reachable ({reason}); start it (npx @portkey-ai/gateway) or set PORTKEY_GATEWAY_URL",
        )
    if GATEWAY_GREETING not in body:
        return Check(False, f"{root} answered but is not a Portkey gateway; check PORTKEY_GATEWAY_URL")
    return Check(True, f"gateway {root} answers")


def load_credentials(sops_file: str | None) -> Credentials:
    if sops_file:
        return Credentials.from_sops(sops_file)
    return Credentials.from_env()


def check_sts(credentials: Credentials, region: str) -> Check:
    import boto3  # lazy: only doctor and secrets need the AWS SDK
    import botocore.exceptions

    client = boto3.client(
        "sts",
        region_name=region,
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
    )
    try:
        identity = client.get_caller_identity()
    except botocore.exceptions.ClientError as err:
        code = aws_error_code(err)
        return Check(
            False,
            f"STS rejected key {mask_key_id(credentials.access_key_id)} ({code}); "
            "pull fresh credentials: python -m runtime secrets pull --stack PortkeyBedrockAccess",
        )
    except botocore.exceptions.BotoCoreError as err:
        return Check(False, f"STS not reachable ({type(err).__name__}); check network or {ENV_AWS_ENDPOINT_URL}")
    return Check(True, f"credentials {mask_key_id(credentials.access_key_id)} accepted by STS as {identity['Arn']}")


def check_models(region: str) -> tuple[list[Check], list[str]]:
    catalog = load_catalog()
    admitted = allowed_models(None, catalog)
    checks, names = [], []
    for model in catalog:
        if (admitted is not None and model.name not in admitted) or (admitted is None and model.is_eol()):
            continue  # an end-of-life model is checked (and fails) only when the allow-list names it
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


def check_live(name: str, credentials: Credentials, region: str, url: str, custom_host: str | None) -> Check:
    headers = portkey_headers(name, credentials, region, custom_host=custom_host)
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
        return Check(False, f"{name}: {describe_http_error(err.code, err.read(), name)}")
    except (urllib.error.URLError, OSError) as err:
        return Check(False, f"{name}: gateway not reachable ({getattr(err, 'reason', err)}); start it")
    return Check(True, f"{name} answered in {(time.perf_counter() - started) * 1000:.0f} ms")


def describe_http_error(status: int, body: bytes, name: str) -> str:
    """One line for a failed chat: what Bedrock said and what to do.

    >>> describe_http_error(403, b'{"error": {"message": "bedrock error: not authorized"}}', "claude-large")
    'HTTP 403 (bedrock error: not authorized); add claude-large to allowed_models and redeploy (cdk deploy)'
    >>> describe_http_error(429, b"", "claude-large")
    'HTTP 429 (throttled); retry later or add retry/fallback (runtime.portkey_config)'
    """
    try:
        message = json.loads(body)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = "throttled" if status == 429 else "no details"
    fixes = {
        403: f"add {name} to allowed_models and redeploy (cdk deploy)",
        429: "retry later or add retry/fallback (runtime.portkey_config)",
    }
    fix = fixes.get(status, "check the gateway log and the Bedrock service status")
    return f"HTTP {status} ({str(message).splitlines()[0][:200]}); {fix}"


def run_checks(args: argparse.Namespace, emit: Callable[[Check], None]) -> bool:
    results: list[Check] = []

    def record(check: Check) -> None:
        results.append(check)
        emit(check)

    url = gateway_url(args.gateway_url)
    record(check_gateway(url))
    credentials: Credentials | None = None
    try:
        credentials = load_credentials(args.sops)
        record(Check(True, f"credentials found ({'SOPS file ' + args.sops if args.sops else 'environment'})"))
    except PortkeyBedrockError as err:
        record(Check(False, str(err)))
    try:
        region = pick_region(args.region or (credentials.region if credentials else None))
    except PortkeyBedrockError as err:
        record(Check(False, str(err)))
        return False
    if credentials is not None:
        record(check_sts(credentials, region))
    model_checks, names = check_models(region)
    for check in [*model_checks, *check_lifecycle(names)]:
        record(check)
    if args.live and credentials is not None:
        for name in names:
            record(check_live(name, credentials, region, url, args.custom_host))
    return all(check.ok for check in results)


def main(argv: Sequence[str]) -> int:
    parser = OneLineParser(prog="python -m runtime doctor", description=__doc__)
    parser.add_argument("--sops", metavar="FILE", help="SOPS env file with the credentials (default: environment)")
    parser.add_argument("--region", help="default: the credentials' AWS_REGION, else us-east-1")
    parser.add_argument("--gateway-url", help="default: PORTKEY_GATEWAY_URL or http://localhost:8787/v1")
    parser.add_argument("--custom-host", help="send Bedrock calls to this host (local double)")
    parser.add_argument("--live", action="store_true", help="send one tiny chat per model")
    args = parser.parse_args(list(argv))

    def emit(check: Check) -> None:
        print(f"{'ok  ' if check.ok else 'FAIL'} {check.line}")

    ok = run_checks(args, emit)
    print("doctor: all checks passed" if ok else "doctor: some checks failed (see FAIL lines)")
    return 0 if ok else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
