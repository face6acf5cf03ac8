"""`python -m stacks.synth` (make synth): synthesize the app and print the template's path.

Context comes from cdk.json; override with ``-c key=value`` like the CDK CLI. cdk-nag gates
the synthesis; the template then passes the secret-hygiene check, cfn-lint and parliament.
Exit status 2 with one line on stderr on bad context, 1 when a scanner fails.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from runtime.errors import PortkeyBedrockError
from stacks.cdk_cli import QUIET_JSII_ENV


class ScanError(Exception):
    """The synthesized template failed the hygiene check, cfn-lint or parliament."""


def parse_context(pairs: list[str]) -> dict[str, str]:
    """``["k=v", ...]`` as a dict (the value may contain ``=``).

    >>> parse_context(["policy_mode=full", "kms_principals=a=b"])
    {'policy_mode': 'full', 'kms_principals': 'a=b'}
    """
    context = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise PortkeyBedrockError(f"-c {pair!r} is not key=value; write e.g. -c policy_mode=full")
        context[key.strip()] = value
    return context


def synth(context: dict[str, str] | None = None, outdir: str = "cdk.out") -> str:
    """Synthesize into `outdir`; returns the stack template's path."""
    for name, value in QUIET_JSII_ENV.items():
        os.environ.setdefault(name, value)
    from stacks.app import build_app
    from stacks.checks.hygiene import secret_leaks
    from stacks.checks.scanners import scan

    app = build_app(context, outdir=outdir)
    assembly = app.synth()
    (stack,) = assembly.stacks
    path = str(stack.template_full_path)
    with open(path, encoding="utf-8") as handle:
        template = json.load(handle)
    from stacks.checks.trust import trust_problems

    problems = secret_leaks(template) + trust_problems(template)
    if problems:
        raise ScanError(f"secret/trust hygiene check failed: {'; '.join(problems)}")
    try:
        problems = scan(template)
    except ImportError as err:  # the gate never switches itself off
        raise ScanError(f"cannot run the scanners: {err.name} is not installed; run make install") from None
    if problems:
        raise ScanError(f"cfn-lint/parliament: {'; '.join(problems)}")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stacks.synth", description=__doc__)
    parser.add_argument("-c", "--context", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("-o", "--output", default="cdk.out", help="cloud assembly directory")
    args = parser.parse_args(argv)
    try:
        print(synth(parse_context(args.context), args.output))
    except (PortkeyBedrockError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except ScanError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except RuntimeError as err:  # jsii: a validation plugin (cdk-nag) reported findings
        print(f"error: synthesis failed: {str(err).splitlines()[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    from stacks.missing import run_main

    sys.exit(run_main(main))
