"""Run the double standalone: ``python -m local.bedrock_double --port 9000 --model claude-sonnet-4.5``.

The one accepted key is AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from the environment (the
secret is never printed); its user gets the policy the stack deploys for `--model` in AWS_REGION
(`stacks.bedrock_policy.build_statements`), or an allow-all Bedrock policy with ``--allow-all``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading

from local.bedrock_double.server import DEFAULT_MAX_BODY_BYTES, start_double
from local.bedrock_double.stores import DEFAULT_ACCOUNT, DictKeyStore, DictPolicyStore
from runtime.catalog.model import load_catalog
from runtime.constants import DEFAULT_REGION, ENV_AWS_ACCESS_KEY_ID, ENV_AWS_REGION, ENV_AWS_SECRET_ACCESS_KEY
from runtime.errors import PortkeyBedrockError
from stacks.bedrock_policy import build_statements, policy_document

ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "bedrock:*", "Resource": "*"}]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.bedrock_double", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--model", default=None, help="catalog model the key may call (least privilege)")
    parser.add_argument("--allow-all", action="store_true", help="allow every bedrock action instead")
    parser.add_argument("--max-body-bytes", type=int, default=DEFAULT_MAX_BODY_BYTES,
                        help=f"larger request bodies get 413 (default {DEFAULT_MAX_BODY_BYTES})")  # fmt: skip
    args = parser.parse_args(argv)
    key_id, secret = os.environ.get(ENV_AWS_ACCESS_KEY_ID), os.environ.get(ENV_AWS_SECRET_ACCESS_KEY)
    if not key_id or not secret:
        print(
            f"error: set {ENV_AWS_ACCESS_KEY_ID} and {ENV_AWS_SECRET_ACCESS_KEY} to the key the double accepts",
            file=sys.stderr,
        )
        return 2
    if not args.allow_all and not args.model:
        print("error: pass --model NAME (least-privilege policy) or --allow-all", file=sys.stderr)
        return 2
    keys = DictKeyStore()
    record = keys.add(key_id, secret)
    try:
        region = os.environ.get(ENV_AWS_REGION) or DEFAULT_REGION
        policy = (
            ALLOW_ALL
            if args.allow_all
            else policy_document(build_statements(load_catalog(), region, DEFAULT_ACCOUNT, [args.model]))
        )
        server = start_double(
            args.host,
            args.port,
            key_store=keys,
            policy_store=DictPolicyStore({record.user_arn: [policy]}),
            max_body_bytes=args.max_body_bytes,
        )
    except (PortkeyBedrockError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Bedrock double at {server.url} (key {key_id}); Ctrl-C stops it", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
