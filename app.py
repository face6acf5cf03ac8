#!/usr/bin/env python3
"""CDK entry point (cdk.json "app"): `npx cdk synth`, `npx cdk diff`, `npx cdk deploy`.

The deployed stack is the source of truth for the access-key serials: they are looked up here
(stacks/deployed_keys.py) and fed to the app as context defaults, so a plain `npx cdk deploy`
keeps the deployed key. Only `-c access_key_serial=N` (python -m stacks.rotate) rotates.
"""

import os
import sys

from runtime.errors import PortkeyBedrockError


def main() -> int:
    from stacks.deployed_keys import BackgroundLookup

    lookup = BackgroundLookup(os.environ)  # overlaps the import of aws-cdk-lib below
    try:
        from stacks.app import build_app

        build_app(lookup.result()).synth()
    except PortkeyBedrockError as err:  # bad context, unreadable deployed serial: one line, not a traceback
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
