"""Fixtures for the Bedrock double's unit tests: a key store, a policy and a SigV4 signer that
signs like the Portkey gateway (service `bedrock`, `host` without the port)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from local.bedrock_double import DictKeyStore, DictPolicyStore, KeyRecord, start_double
from local.bedrock_double.server import DoubleServer
from runtime.catalog.model import load_catalog
from stacks.bedrock_policy import build_statements, policy_document

KEY_ID = "AKIAUNITTESTKEY00001"
SECRET = "unit/test+secret0123456789abcdefghijklmn"
INACTIVE_KEY_ID = "AKIAUNITTESTKEY00002"
REGION = "us-east-1"
MODEL = "claude-sonnet-4.5"

Signer = Callable[..., tuple[str, list[tuple[str, str]], bytes]]


@pytest.fixture
def catalog():
    return load_catalog()


@pytest.fixture
def profile_id(catalog) -> str:
    return catalog.offer_for(catalog.by_key["claude-sonnet-4-5"], REGION).invoke_id


@pytest.fixture
def key_store() -> DictKeyStore:
    store = DictKeyStore()
    store.add(KEY_ID, SECRET, "alice")
    store.add(INACTIVE_KEY_ID, SECRET, "alice", active=False)
    return store


@pytest.fixture
def alice(key_store) -> KeyRecord:
    record = key_store.secret_for(KEY_ID)
    assert record is not None
    return record


@pytest.fixture
def policy_store(catalog, alice) -> DictPolicyStore:
    document = policy_document(build_statements(catalog, REGION, alice.account, [MODEL]))
    return DictPolicyStore({alice.user_arn: [document]})


def sign_like_gateway(
    path: str,
    body: Any,
    *,
    key_id: str = KEY_ID,
    secret: str = SECRET,
    region: str = REGION,
    host: str = "127.0.0.1",
    port: int = 8080,
    service: str = "bedrock",
    token: str | None = None,
) -> tuple[str, list[tuple[str, str]], bytes]:
    """(path, headers as sent, body): signed over the port-less host, sent with Host:port."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = AWSRequest(
        method="POST",
        url=f"https://{host}{path}",
        data=raw,
        headers={"content-type": "application/json", "x-amz-content-sha256": hashlib.sha256(raw).hexdigest()},
    )
    SigV4Auth(Credentials(key_id, secret, token), service, region).add_auth(request)
    headers = [(k.lower(), str(v)) for k, v in request.headers.items()]
    headers.append(("host", f"{host}:{port}"))
    return path, headers, raw


@pytest.fixture
def signer() -> Signer:
    return sign_like_gateway


def model_path(model_id: str, op: str = "converse") -> str:
    return f"/model/{quote(model_id, safe='')}/{op}"


@pytest.fixture
def path_for() -> Callable[..., str]:
    return model_path


@pytest.fixture
def double(key_store, policy_store) -> Iterator[DoubleServer]:
    server = start_double(key_store=key_store, policy_store=policy_store, stream_delay_ms=0)
    yield server
    server.stop()
