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
import fnmatch
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from runtime.cli.parser import OneLineParser
from runtime.constants import (
    DEFAULT_SECRETS_FILE,
    DEFAULT_STACK_NAME,
    SECRETS_DIR,
    SECRETS_PATH_REGEX,
    SOPS_CONFIG_FILE,
)
from runtime.credentials.secrets_pull import pull
from runtime.errors import PortkeyBedrockError
from runtime.redact import redact

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
        if "=" in key or "\0" in key or not key:
            raise SecretsCliError(f"cannot use the key {key!r} (empty, or holds '=' or NUL) as an environment variable")
        if value is None:
            continue
        text = env_string(value)
        if "\0" in text:  # never echo the value: it is a secret
            raise SecretsCliError(f"the value of {key!r} holds a NUL byte, which an environment variable cannot")
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
    # always 0600, missing parents 0700, a symlink's target replaced (runtime/atomicfile.py)
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
