"""Fixtures for end-to-end tests: the real Portkey gateway in front of the Bedrock double.

`gateway` (tests/conftest.py, shared with the integration tier) and `bedrock_double` live for the
whole session; `double` is the same double, reset
(faults, recorded requests, prompt cache) before each test. `bedrock_key` is a fake access key
the double accepts; its user holds the stack's policy for `E2E_MODEL` in `E2E_REGION`.
The double routes each profile call round-robin over the catalog's destinations for E2E_REGION.
`gateway_headers(...)` builds the native-Bedrock headers, `openai_client(...)` an OpenAI SDK
client pointed at the gateway with them.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from local.bedrock_double import DictKeyStore, DictPolicyStore, DoubleServer, start_double
from local.gateway import Gateway
from runtime import constants
from runtime.catalog.model import load_catalog
from stacks.bedrock_policy import build_statements, policy_document

E2E_MODEL = "claude-sonnet-4.5"
E2E_REGION = "us-east-1"


@dataclass(frozen=True)
class FakeKey:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    region: str
    user_arn: str


@pytest.fixture(scope="session")
def bedrock_key() -> FakeKey:
    key_id = "AKIA" + secrets.token_hex(8).upper()
    return FakeKey(key_id, secrets.token_urlsafe(30), E2E_REGION, f"arn:aws:iam::123456789012:user/e2e-{key_id[-6:]}")


@pytest.fixture(scope="session")
def bedrock_double(bedrock_key: FakeKey) -> Iterator[DoubleServer]:
    keys = DictKeyStore()
    record = keys.add(bedrock_key.access_key_id, bedrock_key.secret_access_key, bedrock_key.user_arn.rsplit("/", 1)[1])
    # exactly what the stack deploys for E2E_MODEL in E2E_REGION (one policy builder)
    policy = policy_document(build_statements(load_catalog(), E2E_REGION, record.account, [E2E_MODEL]))
    server = start_double(key_store=keys, policy_store=DictPolicyStore({record.user_arn: [policy]}))
    yield server
    server.stop()


@pytest.fixture
def double(bedrock_double: DoubleServer) -> DoubleServer:
    bedrock_double.reset()
    return bedrock_double


@pytest.fixture
def profile_id() -> str:
    catalog = load_catalog()
    return catalog.offer_for(catalog.by_key["claude-sonnet-4-5"], E2E_REGION).invoke_id


@pytest.fixture
def gateway_headers(bedrock_key: FakeKey, bedrock_double: DoubleServer) -> Callable[..., dict[str, str]]:
    def build(*, secret: str | None = None, key_id: str | None = None, region: str | None = None) -> dict[str, str]:
        return {
            constants.HEADER_PROVIDER: constants.PROVIDER_BEDROCK,
            constants.HEADER_AWS_ACCESS_KEY_ID: key_id or bedrock_key.access_key_id,
            constants.HEADER_AWS_SECRET_ACCESS_KEY: secret or bedrock_key.secret_access_key,
            constants.HEADER_AWS_REGION: region or bedrock_key.region,
            constants.HEADER_CUSTOM_HOST: bedrock_double.url,
        }

    return build


@pytest.fixture
def openai_client(gateway: Gateway, gateway_headers: Callable[..., dict[str, str]]) -> Callable[..., object]:
    from openai import OpenAI

    def build(**header_overrides: str) -> OpenAI:
        # max_retries=0: retries are the gateway's job (x-portkey-config), not the SDK's.
        return OpenAI(
            base_url=gateway.base_url,
            api_key="unused-by-the-bedrock-provider",
            default_headers=gateway_headers(**header_overrides),
            max_retries=0,
            timeout=30,
        )

    return build
