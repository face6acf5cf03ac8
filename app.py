#!/usr/bin/env python3
"""CDK entry point (cdk.json "app"): `npx cdk synth`, `npx cdk diff`, `npx cdk deploy`.

The deployed stack is the baseline of every setting: its access-key serials and its recorded
settings (the `Config` output) are looked up here (stacks/deployed_keys.py) and override
cdk.json, so a plain `npx cdk deploy` keeps the deployed key and settings. A `-c key=value`, or a
cdk.json value edited since the last deploy, changes a setting; a widening of the grant stops here
(exit 2) unless `-c allow_widening=true`. Only `-c access_key_serial=N` (stacks.rotate) rotates.
"""

import os
import signal
import sys

from runtime.constants import EXIT_INTERRUPTED
from runtime.errors import PortkeyBedrockError


def interrupted(signum: int, frame: object) -> None:
    """Ctrl-C reaches the CLI's whole process group: this app and jsii's node too. One line and
    exit 130 at once: a KeyboardInterrupt would surface as a jsii traceback (its node is gone)."""
    print("interrupted: synth stopped, nothing deployed by this app", file=sys.stderr, flush=True)
    os._exit(EXIT_INTERRUPTED)  # not sys.exit: jsii's exit hooks would print their own errors


def main() -> int:
    signal.signal(signal.SIGINT, interrupted)
    try:
        from stacks.deployed_keys import BackgroundLookup

        lookup = BackgroundLookup(os.environ)  # overlaps the import of aws-cdk-lib below
        from stacks.app import build_app

        build_app(resolved=lookup.result()).synth()
    except PortkeyBedrockError as err:  # bad context, unreadable stack, a widening: one line, not a traceback
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
