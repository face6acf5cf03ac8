"""Where the local tooling keeps its state, and where the local gateway listens: the names both
`local.aws` and `local.gateway` need, so neither imports the other.

>>> (DEFAULT_STATE_DIR / GATEWAY_STATE_FILE_NAME).name, f"http://{GATEWAY_HOST}:{GATEWAY_DEFAULT_PORT}/v1"
('gateway.json', 'http://127.0.0.1:8787/v1')
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path

from runtime.constants import DEFAULT_GATEWAY_URL
from stacks.config import REPO_ROOT

DEFAULT_STATE_DIR = REPO_ROOT / ".local"
STATE_FILE_NAME = "aws.json"  # local.aws up/down/status
LOG_FILE_NAME = "aws.log"
GATEWAY_STATE_FILE_NAME = "gateway.json"  # local.gateway up/down/status
GATEWAY_LOG_FILE_NAME = "gateway.log"
# Under the state dir: the age identity and the SOPS env file of the demo and the local flow.
AGE_KEYS_PATH = Path("age") / "keys.txt"
SOPS_FILE_PATH = Path("secrets") / "env.json"
GATEWAY_HOST = "127.0.0.1"
# `local.gateway up` listens where the runtime looks by default (PORTKEY_GATEWAY_URL unset): 8787.
GATEWAY_DEFAULT_PORT = urllib.parse.urlsplit(DEFAULT_GATEWAY_URL).port or 8787
