#!/usr/bin/env python3
"""CDK entry point (cdk.json "app"): `npx cdk synth`, `npx cdk diff`, `npx cdk deploy`."""

from stacks.app import build_app

if __name__ == "__main__":
    build_app().synth()
