#!/usr/bin/env python3
"""CDK entry point (cdk.json "app"): `npx cdk synth`, `npx cdk diff`, `npx cdk deploy`."""

import sys

from runtime.errors import PortkeyBedrockError
from stacks.app import build_app

if __name__ == "__main__":
    try:
        build_app().synth()
    except PortkeyBedrockError as err:  # bad context: one line, not a traceback
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
