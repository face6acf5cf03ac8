"""`make demo`: the whole chain on one machine, with no AWS account.

local AWS (moto + the Bedrock double) -> `cdk deploy` with the real CLI -> `secrets pull` into an
age-encrypted SOPS file under `.local/` -> the real Portkey gateway -> one chat per catalog model,
one streamed reply, one apiKey chat and one chat as the invoke role (temporary credentials) ->
`doctor` -> `catalog check` / `catalog sync` -> `usage` (the demo's own tokens) -> stop what it
started (`--keep` leaves local AWS running for `make rotate`; `make down` stops it later). Ctrl-C at
any step stops what the demo started, prints one line and exits 130.

Prints steps with timings and a table; never a secret.
"""

import argparse
import json
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
from runtime.catalog.model import load_catalog
from runtime.cli import format_table
from runtime.constants import (
    DEFAULT_STACK_NAME,
    ENV_SOPS_AGE_KEY_FILE,
    EXIT_INTERRUPTED,
    OUTPUT_KMS_KEY_ARN,
    OUTPUT_POLICY_ARN,
    OUTPUT_ROLE_ARN,
    OUTPUT_SECRET_ARN,
    OUTPUT_USER_ARN,
    OUTPUT_USER_NAME,
    REDACTED,
)
from runtime.errors import PortkeyBedrockError
from stacks.config import REPO_ROOT
from stacks.pins import gateway_version

STEP_STOP_TIMEOUT_S = 15.0  # a step's own clean-up (stacks.deploy stopping the CDK CLI) before SIGKILL


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
    pipe = subprocess.PIPE if capture else None
    with subprocess.Popen(cmd, env=env, cwd=REPO_ROOT, text=True, stdout=pipe, stderr=pipe) as proc:
        try:
            stdout, stderr = proc.communicate()
        except BaseException:  # Ctrl-C or SIGTERM: the step stops its own children (stacks.deploy: the CDK CLI)
            stop_step(proc)
            raise
    if proc.returncode != 0:
        tail = (stderr or "").strip().splitlines()[-1:] if capture else []
        raise DemoFailed(f"{' '.join(cmd[1:4])} failed (exit {proc.returncode}) {' '.join(tail)}".strip())
    return stdout if capture else ""


def stop_step(proc: subprocess.Popen[str], timeout_s: float = STEP_STOP_TIMEOUT_S) -> None:
    """SIGTERM a step (never SIGKILL first: it must get to stop what it started), SIGKILL after `timeout_s`."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def interrupt_on_sigterm() -> Any:
    """SIGTERM (``timeout 300 make demo``, a CI runner) stops the demo as Ctrl-C does: clean-up runs.
    Returns the previous handler."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, interrupt)


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
    import warnings

    from openai import OpenAI, OpenAIError

    import runtime

    # every catalog model is called on purpose; the lifecycle step shows the Legacy warning
    warnings.filterwarnings("ignore", category=runtime.LegacyModelWarning)
    credentials = runtime.Credentials.from_sops(str(sops_file))
    rows, ok = [], True
    # an end-of-life model would only fail, and so would one with no offer from this region yet
    from runtime.catalog.resolve import pick_region

    models = load_catalog().names(include_eol=False, offered_from=pick_region(credentials.region))
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


DEMO_APP_USER = "demo-app"  # the app's own identity (think: an ECS task role); trusted by the invoke role


def demo_app_credentials() -> tuple[str, Any]:
    """(ARN, credentials) of the demo's app identity in local AWS: an IAM user with no Bedrock
    rights whose key only ever goes to STS (created on first use, a fresh key each run)."""
    import boto3

    import runtime

    iam = boto3.client("iam")
    try:
        arn = iam.get_user(UserName=DEMO_APP_USER)["User"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        arn = iam.create_user(UserName=DEMO_APP_USER)["User"]["Arn"]
    for old in iam.list_access_keys(UserName=DEMO_APP_USER)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=DEMO_APP_USER, AccessKeyId=old["AccessKeyId"])
    key = iam.create_access_key(UserName=DEMO_APP_USER)["AccessKey"]
    return str(arn), runtime.Credentials(key["AccessKeyId"], key["SecretAccessKey"])


def role_chat_row(gateway_base_url: str, bedrock_url: str, role_arn: str, app: Any) -> tuple[dict[str, str], bool]:
    """One chat as the invoke role: temporary credentials from STS, refreshed by botocore, sent per
    request by `runtime.gateway_http_client(role_arn=...)`; no IAM user key involved."""
    import runtime

    name = load_catalog().names(include_eol=False)[0]
    body = runtime.chat_request(name, [{"role": "user", "content": "Say hello"}], max_tokens=64)
    started = time.perf_counter()
    with runtime.gateway_http_client(lambda: app, role_arn=role_arn, custom_host=bedrock_url) as client:
        reply = client.post(f"{gateway_base_url}/chat/completions", json=body)
    latency = (time.perf_counter() - started) * 1000
    ok = reply.status_code == 200
    if ok:
        text, status = str(reply.json()["choices"][0]["message"]["content"] or ""), "200"
    else:
        from runtime.cli.doctor import describe_http_error

        text, status = describe_http_error(reply.status_code, reply.content, name)[:80], str(reply.status_code)
    row = {"name": f"{name} (role)", "bedrock_id": body["model"], "status": status, "latency_ms": f"{latency:.0f}"}
    return {**row, "reply": text[:48]}, ok


def lifecycle_examples() -> tuple[str | None, str | None]:
    """A model that is Legacy today and one past end of life today (None where the catalog has none)."""
    from runtime.catalog.model import EOL, LEGACY, load_catalog

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


DEMO_DESTINATION = ("us.anthropic.claude-sonnet-4-6", "ca-central-1")


def inject_demo_destination(served: Path) -> str:
    """Write one destination the catalog lacks into the served control-plane copy (the demo's own
    data, not an AWS fact); returns the line saying so."""
    from local.moto_patches.bedrock_control import LIST_PROFILES
    from runtime.atomicfile import atomic_write_text

    profile_id, region = DEMO_DESTINATION
    data = json.loads(served.read_text(encoding="utf-8"))
    for profile in data["regions"]["us-east-1"][LIST_PROFILES]["inferenceProfileSummaries"]:
        if profile["inferenceProfileId"] == profile_id:
            model_id = profile_id.split(".", 1)[1]
            profile["models"].append({"modelArn": f"arn:aws:bedrock:{region}::foundation-model/{model_id}"})
    atomic_write_text(served, json.dumps(data), mode=0o644)
    return f"(the fixture holds nothing the catalog lacks: injected {region} as a destination of {profile_id})"


def catalog_sync_demo(env: dict[str, str], state_dir: Path) -> bool:
    """`catalog check` (drift), `catalog sync --write` into the demo's own overlay, `check` again
    (clean on the merged catalog). The committed fixture lists Claude Fable 5, which the shipped
    catalog may lack; when it has it, one destination is injected into the served copy instead."""
    from local.moto_patches.bedrock_control import DATA_FILE_NAME
    from runtime.constants import ENV_CATALOG_OVERLAY

    overlay = state_dir / "catalog.local.json"
    overlay.unlink(missing_ok=True)
    env = {**env, ENV_CATALOG_OVERLAY: str(overlay)}
    cli = [sys.executable, "-m", "runtime", "catalog"]

    def show(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([*cli, *args], env=env, cwd=REPO_ROOT, text=True, capture_output=True, check=False)
        print(f"    $ python -m runtime catalog {' '.join(args)}   (exit {done.returncode})")
        for line in (done.stdout + done.stderr).splitlines():
            if not line.endswith(" is callable now"):  # one access line per model: only the steps
                print(f"      {line}")
        return done

    show("check")
    synced = show("sync", "--write", str(overlay))
    if "nothing new" in synced.stdout:
        print(f"    {inject_demo_destination(state_dir / DATA_FILE_NAME)}")
        synced = show("sync", "--write", str(overlay))
    after = show("check")
    return synced.returncode == 0 and "nothing new" not in synced.stdout and after.returncode == 0


def show_usage(env: dict[str, str]) -> bool:
    """Run `python -m runtime usage --since 1d` against local AWS; print its table. True on exit 0."""
    cmd = [sys.executable, "-m", "runtime", "usage", "--since", "1d"]
    done = subprocess.run(cmd, env=env, cwd=REPO_ROOT, text=True, capture_output=True, check=False)
    for line in (done.stdout + done.stderr).splitlines():
        print(f"    {line}")
    return done.returncode == 0


def main(argv: list[str] | None = None) -> int:
    from runtime.cli.parser import plain_text

    parser = argparse.ArgumentParser(prog="python -m local.demo", description=plain_text(__doc__.splitlines()[0]))
    parser.add_argument("--keep", action="store_true", help="leave local AWS running (stop with make down)")
    parser.add_argument(
        "--state-dir", type=Path, default=DEFAULT_STATE_DIR, help="where local AWS and the demo's files live"
    )
    args = parser.parse_args(argv)
    from local.aws import LocalAws

    previous_sigterm = interrupt_on_sigterm()

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
            signal.signal(signal.SIGTERM, previous_sigterm)
    if interrupted:
        print(f"demo interrupted: stopped the gateway and local AWS it had started{left_running(aws)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if outcome != 0 and outcome != 2:
        return outcome
    verdict = "ok" if outcome == 0 else "FAILED"
    print(f"demo {verdict} in {time.perf_counter() - started:.1f} s{left_running(aws)}")
    return 0 if verdict == "ok" else 1


def left_running(aws: Any) -> str:
    """The note for a local AWS that is up after the demo (--keep, or someone else's server); never
    for one a Ctrl-C stopped while it was starting (it asks the server, not the flags)."""
    return "; local AWS left running (make down stops it)" if aws.status() is not None else ""


def _run(aws: Any, paths: Paths, gateways: list[Any]) -> int:
    """The demo's steps; 0 when every chat, doctor and the catalog check passed, 2 when they ran but some failed."""
    from local.gateway import start_gateway

    with step("local AWS (moto server + Bedrock double)"):
        state = aws.start()
        os.environ.update(state.env())
        env = dict(os.environ)
        print(f"    AWS_ENDPOINT_URL={state.endpoint}  bedrock double={state.bedrock_url}")
    with step("cdk bootstrap + cdk deploy (real CDK CLI): the user and its key, and the invoke role"):
        app_arn, app = demo_app_credentials()
        # api_keys=short-term: the chat table's apiKey row sends a short-term Bedrock API key;
        # principal=both: the "(role)" row chats as the invoke role, which trusts the demo app only
        deploy = [sys.executable, "-m", "stacks.deploy", "--quiet", "-c", "api_keys=short-term"]
        run([*deploy, "-c", "principal=both", "-c", f"role_trust={app_arn}"], env)
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
    print(f"    role {outputs.get(OUTPUT_ROLE_ARN)} (trusts {app_arn})")
    for line in [ln for arn in outputs[OUTPUT_POLICY_ARN].split(",") for ln in policy_brief(arn)]:
        print(f"    policy: {line}")
    with step("model lifecycle: the catalog today (a Legacy model warns, an end-of-life one is refused)"):
        lifecycle_ok = lifecycle_demo(env)
    with step(
        f"Portkey gateway {gateway_version()} (npm) -> Bedrock double, one chat per model, a stream, apiKey, the role"
    ):
        gateway = start_gateway()
        gateways.append(gateway)
        if state.bedrock_url is None:
            raise DemoFailed("local AWS started without the Bedrock double; see .local/aws.log")
        rows, chats_ok = chat_table(gateway.base_url, state.bedrock_url, paths.sops_file)
        role_row, role_ok = role_chat_row(gateway.base_url, state.bedrock_url, outputs[OUTPUT_ROLE_ARN], app)
        print(format_table([*rows, role_row]))
        chats_ok = chats_ok and role_ok
    with step("doctor"):
        doctor = [sys.executable, "-m", "runtime", "doctor", "--sops", str(paths.sops_file), "--live"]
        doctor += ["--gateway-url", gateway.base_url, "--custom-host", state.bedrock_url]
        doctor_ok = subprocess.run(doctor, env=env, cwd=REPO_ROOT, check=False).returncode == 0
    with step("catalog check + sync: the catalog against Bedrock's control plane (served by local AWS)"):
        check_ok = catalog_sync_demo(env, paths.state_dir)
    with step("usage: the demo's own tokens (AWS/Bedrock metrics the double published into local CloudWatch)"):
        usage_ok = show_usage(env)
    return 0 if chats_ok and doctor_ok and check_ok and lifecycle_ok and usage_ok else 2


if __name__ == "__main__":
    sys.exit(main())
