"""runtime.gateway.client: the current key on every request (a long-lived client survives a rotation)."""

import json
import subprocess
import sys

import httpx
import pytest

import runtime
from runtime import constants
from runtime.gateway.client import FreshHeaders, gateway_http_client

OLD = {"AWS_ACCESS_KEY_ID": "AKIAOLDOLDOLDOLD0001", "AWS_SECRET_ACCESS_KEY": "old-secret", "AWS_REGION": "us-east-1"}
NEW = {"AWS_ACCESS_KEY_ID": "AKIANEWNEWNEWNEW0002", "AWS_SECRET_ACCESS_KEY": "new-secret", "AWS_REGION": "us-east-1"}


@pytest.fixture
def sops_file(tmp_path, monkeypatch):
    from runtime.sops import files
    from runtime.sops.age import generate_identity

    identity, recipient = generate_identity()
    monkeypatch.setenv(constants.ENV_SOPS_AGE_KEY, identity)
    path = tmp_path / "secrets" / "env.json"
    path.parent.mkdir()
    files.write(path, OLD, age=[recipient])
    return path


class Gateway:
    """An httpx transport standing in for the gateway: accepts only the currently valid key."""

    def __init__(self, valid_key_id: str) -> None:
        self.valid_key_id = valid_key_id
        self.seen: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        headers = {k: v for k, v in request.headers.items() if k.startswith("x-portkey-")}
        self.seen.append(headers)
        if headers.get(constants.HEADER_AWS_ACCESS_KEY_ID) != self.valid_key_id:
            message = "bedrock error: The security token included in the request is invalid."
            return httpx.Response(403, json={"error": {"message": message}, "provider": "bedrock"})
        reply = {
            "id": "x",
            "object": "chat.completion",
            "created": 0,
            "model": json.loads(request.content)["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
        }
        return httpx.Response(200, json=reply)


def _rotate(path, gateway):
    from runtime.sops import files

    files.update(path, NEW)  # what `secrets pull` does in phase 1 of stacks.rotate
    gateway.valid_key_id = NEW["AWS_ACCESS_KEY_ID"]  # phase 2: the old key is deleted


def test_a_long_lived_openai_client_follows_the_rotated_file(sops_file):
    from openai import OpenAI

    gateway = Gateway(OLD["AWS_ACCESS_KEY_ID"])
    client = OpenAI(
        base_url="http://gateway.test/v1",
        api_key="unused",
        http_client=gateway_http_client(sops_file, transport=httpx.MockTransport(gateway)),
        max_retries=0,
    )
    body = runtime.chat_request("claude-sonnet-4.5", [{"role": "user", "content": "hi"}])
    assert client.chat.completions.create(**body).choices[0].message.content == "hi"
    _rotate(sops_file, gateway)
    assert client.chat.completions.create(**body).choices[0].message.content == "hi"
    used = [seen[constants.HEADER_AWS_ACCESS_KEY_ID] for seen in gateway.seen]
    assert used == [OLD["AWS_ACCESS_KEY_ID"], NEW["AWS_ACCESS_KEY_ID"]]
    assert gateway.seen[-1][constants.HEADER_AWS_SECRET_ACCESS_KEY] == "new-secret"
    assert gateway.seen[-1][constants.HEADER_PROVIDER] == "bedrock"


def test_headers_built_once_keep_the_deleted_key(sops_file):
    from openai import OpenAI, PermissionDeniedError

    gateway = Gateway(OLD["AWS_ACCESS_KEY_ID"])
    credentials = runtime.Credentials.from_sops(sops_file)
    client = OpenAI(  # the README's old usage
        base_url="http://gateway.test/v1",
        api_key="unused",
        default_headers=runtime.portkey_headers("claude-sonnet-4.5", credentials),
        http_client=httpx.Client(transport=httpx.MockTransport(gateway)),
        max_retries=0,
    )
    body = runtime.chat_request("claude-sonnet-4.5", [{"role": "user", "content": "hi"}])
    client.chat.completions.create(**body)
    _rotate(sops_file, gateway)
    with pytest.raises(PermissionDeniedError):
        client.chat.completions.create(**body)


def test_the_portkey_sdk_client_follows_the_rotated_file(sops_file):
    from portkey_ai import Portkey

    gateway = Gateway(OLD["AWS_ACCESS_KEY_ID"])
    portkey = Portkey(
        base_url="http://gateway.test/v1",
        api_key="unused",
        http_client=gateway_http_client(sops_file, transport=httpx.MockTransport(gateway)),
    )
    body = runtime.chat_request("claude-large", [{"role": "user", "content": "hi"}])
    portkey.chat.completions.create(**body)
    _rotate(sops_file, gateway)
    portkey.chat.completions.create(**body)
    assert [seen[constants.HEADER_AWS_ACCESS_KEY_ID] for seen in gateway.seen][-1] == NEW["AWS_ACCESS_KEY_ID"]
    assert gateway.seen[-1][constants.HEADER_PROVIDER] == "bedrock"


def test_custom_host_from_argument_or_environment(sops_file, monkeypatch):
    hook = FreshHeaders(sops_file, custom_host="http://127.0.0.1:9100/")
    assert hook.headers()[constants.HEADER_CUSTOM_HOST] == "http://127.0.0.1:9100"
    monkeypatch.setenv(constants.ENV_CUSTOM_HOST, "http://127.0.0.1:9200")
    assert FreshHeaders(sops_file).headers()[constants.HEADER_CUSTOM_HOST] == "http://127.0.0.1:9200"


def test_a_missing_file_fails_when_the_client_is_made(tmp_path):
    with pytest.raises(runtime.CredentialsError, match="does not exist; create it with"):
        gateway_http_client(tmp_path / "nope.json")


def test_callable_source_and_repr_never_show_the_secret(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", OLD["AWS_ACCESS_KEY_ID"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "old-secret")
    hook = FreshHeaders(runtime.Credentials.from_env)
    assert hook.headers()[constants.HEADER_AWS_ACCESS_KEY_ID] == OLD["AWS_ACCESS_KEY_ID"]
    assert "old-secret" not in repr(hook)
    assert repr(hook) == "FreshHeaders(source=Credentials.from_env)"


def test_importing_the_client_module_loads_no_http_library():
    probe = "import sys, runtime.gateway.client; print(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = set(done.stdout.split())
    assert not loaded & {"httpx", "openai", "boto3", "json", "typing"}


def test_the_async_client_follows_the_rotated_file(sops_file):
    import asyncio

    from openai import AsyncOpenAI

    from runtime.gateway.client import gateway_async_http_client

    gateway = Gateway(OLD["AWS_ACCESS_KEY_ID"])

    async def handler(request: httpx.Request) -> httpx.Response:
        await request.aread()
        return gateway(request)

    async def two_requests() -> None:
        client = AsyncOpenAI(
            base_url="http://gateway.test/v1",
            api_key="unused",
            http_client=gateway_async_http_client(sops_file, transport=httpx.MockTransport(handler)),
            max_retries=0,
        )
        body = runtime.chat_request("claude-sonnet-4.5", [{"role": "user", "content": "hi"}])
        await client.chat.completions.create(**body)
        _rotate(sops_file, gateway)
        await client.chat.completions.create(**body)

    asyncio.run(two_requests())
    assert [seen[constants.HEADER_AWS_ACCESS_KEY_ID] for seen in gateway.seen] == [
        OLD["AWS_ACCESS_KEY_ID"],
        NEW["AWS_ACCESS_KEY_ID"],
    ]
