"""`make demo`: the whole chain on one machine, with no AWS account.

local AWS (moto + the Bedrock double) -> `cdk deploy` with the real CLI -> `secrets pull` into an
age-encrypted SOPS file under `.local/` -> the real Portkey gateway -> one chat per catalog model and
one streamed reply -> `doctor` -> `catalog check` -> stop what it started (`--keep` leaves local AWS running for
`make rotate`; `make down` stops it later). Ctrl-C at any step stops what the demo started, prints
one line and exits 130.

Prints steps with timings and a table; never a secret.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from local.aws import DEFAULT_STATE_DIR
from runtime.catalog import load_catalog
from runtime.cli import format_table
from runtime.constants import (
    DEFAULT_STACK_NAME,
    ENV_SOPS_AGE_KEY_FILE,
    EXIT_INTERRUPTED,
    OUTPUT_KMS_KEY_ARN,
    OUTPUT_POLICY_ARN,
    OUTPUT_SECRET_ARN,
    OUTPUT_USER_ARN,
    OUTPUT_USER_NAME,
    REDACTED,
)
from runtime.errors import PortkeyBedrockError
from stacks.config import REPO_ROOT
from stacks.pins import gateway_version


class Paths:
    """The demo's files under its state dir (``.local/``): age identity, SOPS config and env file."""

    def __init__(self, state_dir: Path) -> None:
        from local.aws import AGE_KEYS_PATH, SOPS_FILE_PATH

        self.state_dir = state_dir
        self.sops_file = state_dir / SOPS_FILE_PATH
        self.age_keys = state_dir / AGE_KEYS_PATH
        self.sops_config = state_dir / ".sops.yaml"


class DemoFailed(Exception):
    """A step failed; its message is the one line to show."""


@contextmanager
def step(title: str) -> Iterator[None]:
    print(f"==> {title}", flush=True)
    started = time.perf_counter()
    yield
    print(f"    done in {time.perf_counter() - started:.1f} s", flush=True)


def run(cmd: list[str], env: dict[str, str], *, capture: bool = False) -> str:
    done = subprocess.run(cmd, env=env, cwd=REPO_ROOT, text=True, capture_output=capture, check=False)
    if done.returncode != 0:
        tail = (done.stderr or "").strip().splitlines()[-1:] if capture else []
        raise DemoFailed(f"{' '.join(cmd[1:4])} failed (exit {done.returncode}) {' '.join(tail)}".strip())
    return done.stdout if capture else ""


def redact_dotenv(text: str) -> str:
    """dotenv lines with every value replaced, so the output shows which keys exist.

    >>> redact_dotenv("AWS_REGION=us-east-1\\nAWS_SECRET_ACCESS_KEY=abc\\n")
    'AWS_REGION=<redacted>\\nAWS_SECRET_ACCESS_KEY=<redacted>'
    """
    return "\n".join(
        f"{line.split('=', 1)[0]}={REDACTED}" for line in text.splitlines() if "=" in line and line.strip()
    )


def stack_outputs(stack: str) -> dict[str, str]:
    from stacks.cdk_cli import Target
    from stacks.deploy import read_deployed

    deployed = read_deployed(Target.from_environ(), stack)
    if deployed is None:
        raise DemoFailed(f"stack {stack} is not deployed after cdk deploy; see the CLI output above")
    return deployed.outputs


def policy_brief(policy_arn: str) -> list[str]:
    """One line per statement of the deployed policy: effect, actions, resource count, condition."""
    import boto3

    iam = boto3.client("iam")
    version = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
    document: Any = iam.get_policy_version(PolicyArn=policy_arn, VersionId=version)["PolicyVersion"]["Document"]
    if isinstance(document, str):
        import json
        import urllib.parse

        document = json.loads(urllib.parse.unquote(document))
    lines = []
    for statement in document["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        equals = (statement.get("Condition") or {}).get("StringEquals") or {}
        if resources == ["*"] and equals:  # the short-term API key statement (api_keys=short-term)
            pairs = ", ".join(f"{key} = {value}" for key, value in equals.items())
            lines.append(f"{statement['Effect']} {', '.join(actions)} only if {pairs}")
            continue
        keys = [key for test in statement.get("Condition", {}).values() for key in test]
        condition = f" if {', '.join(keys)} match" if keys else ""
        lines.append(
            f"{statement['Effect']} {', '.join(actions)} on {len(resources)} ARN(s){condition}: "
            + ", ".join(r.rsplit("/", 1)[-1] for r in resources[:1])
            + (" …" if len(resources) > 1 else "")
        )
    return lines


def chat_table(gateway_base_url: str, bedrock_url: str, sops_file: Path) -> tuple[list[dict[str, str]], bool]:
    """One chat per catalog model, one streamed reply and one chat in apiKey mode (a short-term
    Bedrock API key instead of the secret), through the real gateway."""
    from openai import OpenAI, OpenAIError

    import runtime

    credentials = runtime.Credentials.from_sops(str(sops_file))
    rows, ok = [], True
    models = load_catalog().names(include_eol=False)  # an end-of-life model would only fail
    runs = [*((n, False, "sigv4") for n in models), (models[0], True, "sigv4"), (models[0], False, "api-key")]
    for name, stream, auth in runs:
        headers = runtime.portkey_headers(name, credentials, custom_host=bedrock_url, auth=auth)
        client = OpenAI(base_url=gateway_base_url, api_key="unused", default_headers=headers, max_retries=0)
        body = runtime.chat_request(
            name, [{"role": "user", "content": "Say hello"}], credentials=credentials, max_tokens=64
        )
        try:
            started = time.perf_counter()
            if stream:
                pieces = [
                    chunk.choices[0].delta.content or ""
                    for chunk in client.chat.completions.create(**body, stream=True)
                    if chunk.choices
                ]
                text, status = "".join(pieces), "200 (streamed)"
            else:
                reply = client.chat.completions.create(**body)
                text, status = reply.choices[0].message.content or "", "200"
            latency = (time.perf_counter() - started) * 1000
        except OpenAIError as err:
            ok, text, status, latency = False, str(err).splitlines()[0][:80], "error", 0.0
        rows.append(
            {
                "name": name if auth == "sigv4" else f"{name} (apiKey)",
                "bedrock_id": body["model"],
                "status": status,
                "latency_ms": f"{latency:.0f}",
                "reply": text[:48],
            }
        )
    return rows, ok


def lifecycle_examples() -> tuple[str | None, str | None]:
    """A model that is Legacy today and one past end of life today (None where the catalog has none)."""
    from runtime.catalog import EOL, LEGACY, load_catalog

    models = load_catalog().models
    legacy = next((m.name for m in models if m.status_on() == LEGACY), None)
    retired = next((m.name for m in models if m.status_on() == EOL), None)
    return legacy, retired


def lifecycle_demo(env: dict[str, str], legacy: str | None = None, retired: str | None = None) -> bool:
    """`runtime models --all`, then resolve a Legacy model (resolves, one warning line) and an
    end-of-life one (refused in one line, exit 2); by default today's examples from the catalog.
    True when both behave so."""
    if legacy is None and retired is None:
        legacy, retired = lifecycle_examples()
    cli = [sys.executable, "-m", "runtime"]
    shown = subprocess.run(
        [*cli, "models", "--all"], env=env, cwd=REPO_ROOT, text=True, capture_output=True, check=False
    )
    print("    " + shown.stdout.rstrip().replace("\n", "\n    "))
    ok = shown.returncode == 0
    for name, expected_rc, expected_text in ((legacy, 0, "Legacy"), (retired, 2, "end of life")):
        if name is None:
            continue
        done = subprocess.run(
            [*cli, "resolve", name], env=env, cwd=REPO_ROOT, text=True, capture_output=True, check=False
        )
        print(f"    $ python -m runtime resolve {name}   (exit {done.returncode})")
        for line in (done.stdout + done.stderr).splitlines():
            print(f"      {line}")
        ok = ok and done.returncode == expected_rc and expected_text in done.stderr
    return ok


def catalog_check(env: dict[str, str]) -> bool:
    """Run `python -m runtime catalog check` (local AWS's throw-away operator credentials); print
    its lines (the drifts, then the result line). True when clean."""
    cmd = [sys.executable, "-m", "runtime", "catalog", "check"]
    done = subprocess.run(cmd, env=env, cwd=REPO_ROOT, text=True, capture_output=True, check=False)
    for line in (done.stdout + done.stderr).splitlines():
        print(f"    {line}")
    return done.returncode == 0


def main(argv: list[str] | None = None) -> int:
    from runtime.cli_parser import plain_text

    parser = argparse.ArgumentParser(prog="python -m local.demo", description=plain_text(__doc__.splitlines()[0]))
    parser.add_argument("--keep", action="store_true", help="leave local AWS running (stop with make down)")
    parser.add_argument(
        "--state-dir", type=Path, default=DEFAULT_STATE_DIR, help="where local AWS and the demo's files live"
    )
    args = parser.parse_args(argv)
    from local.aws import LocalAws

    started = time.perf_counter()
    aws = LocalAws(state_dir=args.state_dir)
    gateway: list[Any] = []
    interrupted = False
    outcome = 1
    try:
        outcome = _run(aws, Paths(args.state_dir), gateway)
    except KeyboardInterrupt:
        interrupted = True
    except (DemoFailed, PortkeyBedrockError) as err:
        print(f"demo failed: {err}", file=sys.stderr)
    except Exception as err:  # boto3/botocore and the like: still one line, never a secret
        print(f"demo failed: {type(err).__name__}: {str(err).splitlines()[0][:200]}", file=sys.stderr)
    finally:
        # A second Ctrl-C (or the first, landing here) must not cut the clean-up short: note it, go on.
        def note(signum: int, frame: object) -> None:
            nonlocal interrupted
            interrupted = True

        previous = signal.signal(signal.SIGINT, note)
        try:
            for gw in gateway:
                gw.stop()
            if not args.keep and aws.started_here:  # a server someone else started stays up
                aws.stop()
        finally:
            signal.signal(signal.SIGINT, previous)
    if interrupted:
        left = "; local AWS left running (make down stops it)" if args.keep or not aws.started_here else ""
        print(f"demo interrupted: stopped the gateway and local AWS it had started{left}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if outcome != 0 and outcome != 2:
        return outcome
    verdict = "ok" if outcome == 0 else "FAILED"
    kept = "; local AWS left running (make down stops it)" if args.keep or not aws.started_here else ""
    print(f"demo {verdict} in {time.perf_counter() - started:.1f} s{kept}")
    return 0 if verdict == "ok" else 1


def _run(aws: Any, paths: Paths, gateways: list[Any]) -> int:
    """The demo's steps; 0 when every chat, doctor and the catalog check passed, 2 when they ran but some failed."""
    from local.gateway import start_gateway

    with step("local AWS (moto server + Bedrock double)"):
        state = aws.start()
        os.environ.update(state.env())
        env = dict(os.environ)
        print(f"    AWS_ENDPOINT_URL={state.endpoint}  bedrock double={state.bedrock_url}")
    with step("cdk bootstrap + cdk deploy (real CDK CLI)"):
        # api_keys=short-term: the chat table's apiKey row sends a short-term Bedrock API key
        run([sys.executable, "-m", "stacks.deploy", "--quiet", "-c", "api_keys=short-term"], env)
        outputs = stack_outputs(DEFAULT_STACK_NAME)
    with step(f"secrets pull into an age-encrypted SOPS file under {paths.state_dir.name}/"):
        if not paths.age_keys.exists():
            run([sys.executable, "-m", "runtime", "secrets", "keygen", "--output", str(paths.age_keys)], env)
        recipient = next(
            line.split(":", 1)[1].strip()
            for line in paths.age_keys.read_text().splitlines()
            if line.startswith("# public key:")
        )
        init = [sys.executable, "-m", "runtime", "secrets", "init", "--config", str(paths.sops_config)]
        run([*init, "--age", recipient], env)
        os.environ[ENV_SOPS_AGE_KEY_FILE] = str(paths.age_keys)
        env = dict(os.environ)
        pull = [sys.executable, "-m", "runtime", "secrets", "pull", "--stack", DEFAULT_STACK_NAME]
        pull += ["--file", str(paths.sops_file), "--config", str(paths.sops_config)]
        print(run(pull, env, capture=True).rstrip())
        decrypt = [sys.executable, "-m", "runtime", "secrets", "decrypt", str(paths.sops_file)]
        dotenv = run([*decrypt, "--output-type", "dotenv"], env, capture=True)
        print("    " + redact_dotenv(dotenv).replace("\n", "\n    "))
    print(f"    user {outputs.get(OUTPUT_USER_NAME)} ({outputs.get(OUTPUT_USER_ARN)})")
    print(f"    secret {outputs.get(OUTPUT_SECRET_ARN)}  KMS key {outputs.get(OUTPUT_KMS_KEY_ARN)}")
    for line in [ln for arn in outputs[OUTPUT_POLICY_ARN].split(",") for ln in policy_brief(arn)]:
        print(f"    policy: {line}")
    with step("model lifecycle: the catalog today (a Legacy model warns, an end-of-life one is refused)"):
        lifecycle_ok = lifecycle_demo(env)
    with step(
        f"Portkey gateway {gateway_version()} (npm) -> Bedrock double, "
        "one chat per model + one stream + one apiKey chat"
    ):
        gateway = start_gateway()
        gateways.append(gateway)
        if state.bedrock_url is None:
            raise DemoFailed("local AWS started without the Bedrock double; see .local/aws.log")
        rows, chats_ok = chat_table(gateway.base_url, state.bedrock_url, paths.sops_file)
        print(format_table(rows))
    with step("doctor"):
        doctor = [sys.executable, "-m", "runtime", "doctor", "--sops", str(paths.sops_file), "--live"]
        doctor += ["--gateway-url", gateway.base_url, "--custom-host", state.bedrock_url]
        doctor_ok = subprocess.run(doctor, env=env, cwd=REPO_ROOT, check=False).returncode == 0
    with step("catalog check: the catalog against Bedrock's control plane (served by local AWS)"):
        check_ok = catalog_check(env)
    return 0 if chats_ok and doctor_ok and check_ok and lifecycle_ok else 2


if __name__ == "__main__":
    sys.exit(main())
