"""`python -m runtime secrets ...`: SOPS-encrypted credentials files.

  init      write the .sops.yaml creation rule for secrets/*.json (age and/or KMS recipients)
  pull      copy the stack's Secrets Manager credentials into secrets/env.json (encrypted)
  decrypt   print a SOPS file in clear (like `sops -d`)
  exec-env  run a command with the file's values as environment variables
  check     fail if a file under secrets/ is not a valid SOPS document (pre-commit hook)
  keygen    create an age identity file and print its public recipient

Errors are one line on stderr and exit status 2. No command but `decrypt` and `exec-env`
(whose job it is) ever prints a secret value.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from runtime.cli_parser import OneLineParser
from runtime.constants import (
    DEFAULT_SECRETS_FILE,
    DEFAULT_STACK_NAME,
    ENV_AWS_ENDPOINT_URL,
    OUTPUT_SECRET_ARN,
    SECRET_ENV_KEYS,
    SECRETS_DIR,
    SECRETS_PATH_REGEX,
    SOPS_CONFIG_FILE,
)
from runtime.errors import PortkeyBedrockError, aws_error_code
from runtime.redact import redact
from runtime.resolve import pick_region

EXIT_ERROR = 2
CHECK_SKIP = ("*.example.*", "README*", ".gitkeep", ".gitignore")


class SecretsCliError(PortkeyBedrockError):
    """A `secrets` command cannot proceed (stack or output missing, bad arguments...)."""


# --- init -----------------------------------------------------------------------------------


def _cmd_init(args: argparse.Namespace) -> int:
    from runtime.sops.config import find_config, set_rule

    config = Path(args.config) if args.config else (find_config() or Path.cwd() / SOPS_CONFIG_FILE)
    change = set_rule(config, args.path_regex, args.age or [], args.kms_arn or [], replace=args.replace)
    print(f"{config}: {'added' if change.created else 'updated'} the creation rule for {args.path_regex}")
    if change.kept:
        print(f"kept the rule's earlier recipient(s) {', '.join(change.kept)}; pass --replace to drop them")
    if change.dropped:
        print(f"dropped recipient(s) {', '.join(change.dropped)} (--replace)")
    return 0


# --- pull -----------------------------------------------------------------------------------


def stack_secret_arn(cfn: Any, stack: str, region: str) -> str:
    """The ``SecretArn`` output of ``stack``."""
    from botocore.exceptions import ClientError

    try:
        stacks = cfn.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc) or aws_error_code(exc) == "ValidationError":
            raise SecretsCliError(
                f"stack {stack!r} not found in {region}; deploy it first (npx cdk deploy) "
                "or pass --stack NAME / --region REGION"
            ) from None
        raise SecretsCliError(f"cannot describe stack {stack!r} ({aws_error_code(exc)})") from None
    for output in (stacks[0].get("Outputs") or []) if stacks else []:
        if output.get("OutputKey") == OUTPUT_SECRET_ARN:
            return str(output["OutputValue"])
    raise SecretsCliError(
        f"stack {stack!r} has no output {OUTPUT_SECRET_ARN}; redeploy the current version of the stack"
    )


def read_secret(secrets_manager: Any, arn: str) -> dict[str, str]:
    """The flat env JSON kept in Secrets Manager, reduced to :data:`SECRET_ENV_KEYS`."""
    from botocore.exceptions import ClientError

    try:
        raw = secrets_manager.get_secret_value(SecretId=arn).get("SecretString")
    except ClientError as exc:
        raise SecretsCliError(f"cannot read secret {arn} ({aws_error_code(exc)})") from None
    try:
        value = json.loads(raw or "")
    except json.JSONDecodeError:
        raise SecretsCliError(
            f"secret {arn} is not a JSON object; expected keys {', '.join(SECRET_ENV_KEYS)}"
        ) from None
    if not isinstance(value, dict):
        raise SecretsCliError(f"secret {arn} is not a JSON object; expected keys {', '.join(SECRET_ENV_KEYS)}")
    missing = [key for key in SECRET_ENV_KEYS if not isinstance(value.get(key), str) or not value.get(key)]
    if missing:
        raise SecretsCliError(f"secret {arn} lacks {', '.join(missing)}; redeploy the stack")
    return {key: value[key] for key in SECRET_ENV_KEYS}


def _endpoint_hint(client: Any) -> str:
    """Where a failed AWS call went: ``AWS_ENDPOINT_URL`` when it is set, else the client's URL."""
    configured = os.environ.get(ENV_AWS_ENDPOINT_URL)
    if configured:
        return f"{ENV_AWS_ENDPOINT_URL}={configured}; is local AWS running (python -m local.aws up)? else unset it"
    url = getattr(getattr(client, "meta", None), "endpoint_url", None) or "the AWS endpoint"
    return f"{url}; check the network, AWS_REGION, or set {ENV_AWS_ENDPOINT_URL}"


def pull(
    stack: str,
    path: Path,
    *,
    region: str | None = None,
    config: Path | None = None,
    profile: str | None = None,
    cloudformation: Any = None,
    secretsmanager: Any = None,
) -> dict[str, str]:
    """Write the stack's credentials into the SOPS file `path`; returns each key's change
    (added/changed/unchanged). Clients default to boto3's for `region` (and `profile`) from the
    environment; callers that target another account or endpoint pass their own (no ``os.environ``
    edits). A new file needs a ``.sops.yaml`` creation rule: checked before any AWS call."""
    import boto3
    from botocore.exceptions import BotoCoreError, NoCredentialsError, ProfileNotFound

    from runtime.sops import files
    from runtime.sops.config import rule_for

    rule = None if path.exists() else rule_for(path, config)  # fails here, before AWS and before any write
    region = pick_region(region)
    cfn = cloudformation
    try:
        session = boto3.Session(profile_name=profile, region_name=region) if profile else boto3
        cfn = cfn or session.client("cloudformation", region_name=region)
        arn = stack_secret_arn(cfn, stack, region)
        values = read_secret(secretsmanager or session.client("secretsmanager", region_name=region), arn)
    except ProfileNotFound:
        raise SecretsCliError(f"AWS profile {profile!r} not found; check ~/.aws/config or drop --profile") from None
    except NoCredentialsError:
        raise SecretsCliError("no AWS credentials found; set AWS_PROFILE or AWS_ACCESS_KEY_ID") from None
    except BotoCoreError as exc:
        raise SecretsCliError(f"AWS call failed ({type(exc).__name__}) at {_endpoint_hint(cfn)}") from None

    if rule is None:
        return files.update(path, values)
    missing_dirs = [parent for parent in reversed(path.parents) if not parent.exists()]
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        files.write(path, values, age=rule.age, kms=rule.kms, crypt=rule.crypt,
                    mac_only_encrypted=rule.mac_only_encrypted)  # fmt: skip
    except BaseException:
        for directory in reversed(missing_dirs):  # leave the tree as it was
            with contextlib.suppress(OSError):
                directory.rmdir()
        raise
    return dict.fromkeys(values, "added")


def _cmd_pull(args: argparse.Namespace) -> int:
    path = Path(args.file)
    config = Path(args.config) if args.config else None
    changes = pull(args.stack, path, region=args.region, config=config, profile=args.profile)
    for key, state in changes.items():
        print(f"{key}: {state}")
    changed = any(state != "unchanged" for state in changes.values())
    print(f"{path}: {'written' if changed else 'already up to date'} (from stack {args.stack})")
    return 0


# --- decrypt / exec-env ---------------------------------------------------------------------


def _flat_env(plain: dict[str, Any], *, dotenv: bool) -> list[tuple[str, str]]:
    from runtime.sops.values import env_string

    pairs = []
    for key, value in plain.items():
        if isinstance(value, dict | list):
            raise SecretsCliError(f"cannot use the nested value of {key!r} as an environment variable; flatten it")
        if "=" in key:
            raise SecretsCliError(f"cannot use the key {key!r} (contains '=') as an environment variable")
        if value is None:
            continue
        text = env_string(value)
        pairs.append((key, text.replace("\n", "\\n") if dotenv and isinstance(value, str) else text))
    return pairs


def _cmd_decrypt(args: argparse.Namespace) -> int:
    from runtime.sops import files, gojson

    plain = files.load(args.file)
    if args.output_type == "dotenv":
        text = "".join(f"{key}={value}\n" for key, value in _flat_env(plain, dotenv=True))
    else:
        text = gojson.dumps(plain)
    sys.stdout.write(text)
    return 0


def _cmd_exec_env(args: argparse.Namespace) -> int:
    from runtime.sops import files

    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise SecretsCliError("exec-env needs a command: exec-env FILE -- CMD [ARGS...]")
    env = dict(os.environ)
    env.update(_flat_env(files.load(args.file), dotenv=False))
    try:
        code = subprocess.run(command, env=env, check=False).returncode
    except FileNotFoundError:
        print(redact(f"error: command not found: {command[0]}"), file=sys.stderr)
        return 127
    return 128 - code if code < 0 else code


# --- check ----------------------------------------------------------------------------------


def _skipped(path: Path) -> bool:
    return any(fnmatch.fnmatch(path.name, pattern) for pattern in CHECK_SKIP)


def _check_targets(paths: list[str]) -> list[Path]:
    if paths:
        return [Path(p) for p in paths if not _skipped(Path(p))]
    root = Path(SECRETS_DIR)
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and not _skipped(p))


def _cmd_check(args: argparse.Namespace) -> int:
    from runtime.sops.files import check_file

    targets = _check_targets(args.paths)
    bad = 0
    for path in targets:
        try:
            check_file(path)
        except PortkeyBedrockError as exc:
            bad += 1
            print(f"error: {redact(str(exc))}", file=sys.stderr)
    print(f"checked {len(targets)} file(s): {len(targets) - bad} valid SOPS, {bad} not")
    return EXIT_ERROR if bad else 0


# --- keygen ---------------------------------------------------------------------------------


def _cmd_keygen(args: argparse.Namespace) -> int:
    from runtime.atomicfile import atomic_write_text
    from runtime.sops.age import default_keys_file, generate_identity, keys_file_text

    path = Path(args.output) if args.output else default_keys_file()
    if path.exists() and not args.force:
        raise SecretsCliError(f"{path} already exists; pass --force to replace it (the old identity is lost)")
    identity, recipient = generate_identity()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write_text(path, keys_file_text(identity, recipient), mode=0o600)
    print(f"wrote age identity to {path}")
    print(f"public key: {recipient}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m runtime secrets", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    init = sub.add_parser("init", help="write the .sops.yaml creation rule for secrets/*.json")
    init.add_argument("--config", help=f"config file (default: nearest {SOPS_CONFIG_FILE}, else ./{SOPS_CONFIG_FILE})")
    init.add_argument("--kms-arn", nargs="+", action="extend", metavar="ARN", help="KMS key ARN(s)")
    init.add_argument("--age", nargs="+", action="extend", metavar="RECIPIENT", help="age recipient(s) age1...")
    init.add_argument("--path-regex", default=SECRETS_PATH_REGEX, help="files the rule covers")
    init.add_argument("--replace", action="store_true",
                      help="drop the rule's earlier recipients (default: keep them and add these)")  # fmt: skip
    init.set_defaults(func=_cmd_init)

    pull = sub.add_parser("pull", help="write the stack's credentials into the SOPS file")
    pull.add_argument("--stack", default=DEFAULT_STACK_NAME, help=f"stack name (default {DEFAULT_STACK_NAME})")
    pull.add_argument("--file", default=DEFAULT_SECRETS_FILE, help=f"SOPS file (default {DEFAULT_SECRETS_FILE})")
    pull.add_argument("--config", help=f"{SOPS_CONFIG_FILE} to use for a new file")
    pull.add_argument("--region", help="stack region (default AWS_REGION)")
    pull.add_argument("--profile", help="AWS profile to read the stack and secret with (default AWS_PROFILE)")
    pull.set_defaults(func=_cmd_pull)

    decrypt = sub.add_parser("decrypt", help="print a SOPS file in clear")
    decrypt.add_argument("file")
    decrypt.add_argument("--output-type", choices=("json", "dotenv"), default="json")
    decrypt.set_defaults(func=_cmd_decrypt)

    exec_env = sub.add_parser("exec-env", help="run a command with the file's values in its environment")
    exec_env.add_argument("file")
    exec_env.add_argument("command", nargs=argparse.REMAINDER, help="-- CMD [ARGS...]")
    exec_env.set_defaults(func=_cmd_exec_env)

    check = sub.add_parser("check", help="fail unless every file is a valid SOPS document")
    check.add_argument("paths", nargs="*", help=f"files (default: everything under {SECRETS_DIR}/)")
    check.set_defaults(func=_cmd_check)

    keygen = sub.add_parser("keygen", help="create an age identity file, print its recipient")
    keygen.add_argument("--output", help="identity file (default: the sops default keys file)")
    keygen.add_argument("--force", action="store_true", help="replace an existing file")
    keygen.set_defaults(func=_cmd_keygen)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one `secrets` command; errors are one line on stderr and exit status 2."""
    try:
        args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
        return int(args.func(args))
    except PortkeyBedrockError as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:  # disk full, permission denied...: the old file is left as it was
        where = f" ({exc.filename})" if exc.filename else ""
        print(redact(f"error: {exc.strerror or exc}{where}; nothing was changed"), file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    raise SystemExit(main())
