"""An HTTP client for the OpenAI / portkey-ai SDKs that puts the *current* AWS key on every request.

Headers given once (``OpenAI(default_headers=portkey_headers(...))``) keep the key a long-running app
started with; after a rotation deletes that key, every request gets 403. Here the credential headers
are set per request by an httpx event hook, from a SOPS file (``Credentials.from_sops`` decrypts it
again only when the file changes, so this costs one ``stat`` per request) or from any callable::

    client = OpenAI(base_url=runtime.gateway_url(), api_key="unused",
                    http_client=runtime.gateway_http_client("secrets/env.json"))

Importing this module is cheap; ``httpx`` (a dependency of both SDKs) is imported when a client is made.
"""

from __future__ import annotations

import os

from runtime.constants import AUTH_SIGV4, DEFAULT_API_KEY_TTL_SECONDS
from runtime.credentials.keys import Credentials
from runtime.errors import CredentialsError
from runtime.gateway.headers import bedrock_auth_headers, check_auth

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    import httpx

    CredentialsSource = str | os.PathLike[str] | Callable[[], Credentials]


class FreshHeaders:
    """An httpx ``request`` event hook: sets the gateway's Bedrock headers (provider, key, secret,
    token, region, custom host) from the credentials `source` returns now.

    `source` is a SOPS env file path or a callable returning :class:`Credentials` (for example
    ``Credentials.from_env``). The region is `region`, else the credentials', else ``AWS_REGION``...;
    the custom host is `custom_host`, else ``PORTKEY_BEDROCK_CUSTOM_HOST``.

    >>> hook = FreshHeaders(lambda: Credentials("AKIAIOSFODNN7EXAMPLE", "s3cr3t", region="eu-west-1"))
    >>> sorted(hook.headers().items())[:2]
    [('x-portkey-aws-access-key-id', 'AKIAIOSFODNN7EXAMPLE'), ('x-portkey-aws-region', 'eu-west-1')]
    >>> hook
    FreshHeaders(source=<lambda>)
    """

    __slots__ = ("_auth", "_custom_host", "_load", "_region", "_source_name", "_ttl_seconds")

    def __init__(
        self,
        source: CredentialsSource,
        *,
        region: str | None = None,
        custom_host: str | None = None,
        auth: str = AUTH_SIGV4,
        ttl_seconds: int = DEFAULT_API_KEY_TTL_SECONDS,
    ) -> None:
        if callable(source):
            self._load: Callable[[], Credentials] = source
            self._source_name = str(getattr(source, "__qualname__", type(source).__name__))
        else:
            path = os.fspath(source)
            self._load = lambda: Credentials.from_sops(path)
            self._source_name = repr(path)
        self._region = region
        self._custom_host = custom_host
        self._auth = check_auth(auth)  # "api-key": a short-term Bedrock API key, cached, instead of the secret
        self._ttl_seconds = ttl_seconds
        self.headers()  # a missing file or unusable key fails here, at start-up, not on the first request

    def __repr__(self) -> str:
        return f"FreshHeaders(source={self._source_name})"

    def credentials(self) -> Credentials:
        """The credentials as of now (the SOPS file re-read if it changed)."""
        return self._load()

    def headers(self) -> dict[str, str]:
        """The credential headers as of now."""
        return bedrock_auth_headers(
            self._load(), self._region, custom_host=self._custom_host, auth=self._auth, ttl_seconds=self._ttl_seconds
        )

    def __call__(self, request: httpx.Request) -> None:
        request.headers.update(self.headers())

    async def async_hook(self, request: httpx.Request) -> None:
        """The same hook for ``httpx.AsyncClient`` (``AsyncOpenAI``, ``AsyncPortkey``)."""
        request.headers.update(self.headers())


def role_source(
    source: CredentialsSource | None, role_arn: str, region: str | None = None, **role_options: Any
) -> Callable[[], Credentials]:
    """A callable giving the role's current credentials: `source` (a SOPS file, a callable, or
    None for the default chain) supplies the base credentials once; botocore refreshes the role's."""
    if source is None:
        base = None
    elif callable(source):
        base = source()
    else:
        base = Credentials.from_sops(os.fspath(source))
    return Credentials.from_role(role_arn, source=base, region=region, **role_options).frozen


def _fresh_headers(
    caller: str,
    source: CredentialsSource | None,
    region: str | None,
    custom_host: str | None,
    auth: str,
    role_arn: str | None,
    role_options: dict[str, Any] | None,
) -> FreshHeaders:
    """The request hook both clients install: the role's credentials when `role_arn` is given."""
    if role_arn is not None:
        source = role_source(source, role_arn, region, **(role_options or {}))
    elif source is None:
        raise CredentialsError(f"{caller} needs a source (SOPS file or callable) or role_arn=")
    return FreshHeaders(source, region=region, custom_host=custom_host, auth=auth)


def _with_request_hook(httpx_options: dict[str, Any], hook: Callable[..., Any]) -> dict[str, Any]:
    """`httpx_options` with `hook` appended to the request hooks and the SDKs' own default timeout."""
    import httpx

    hooks = dict(httpx_options.pop("event_hooks", None) or {})
    hooks["request"] = [*hooks.get("request", []), hook]
    httpx_options.setdefault("timeout", httpx.Timeout(600.0, connect=5.0))  # the SDKs' own default
    return {"event_hooks": hooks, **httpx_options}


def gateway_http_client(
    source: CredentialsSource | None = None,
    *,
    region: str | None = None,
    custom_host: str | None = None,
    auth: str = AUTH_SIGV4,
    role_arn: str | None = None,
    role_options: dict[str, Any] | None = None,
    **httpx_options: Any,
) -> httpx.Client:
    """An ``httpx.Client`` for ``OpenAI(http_client=...)`` or ``Portkey(http_client=...)`` that sends
    the current key with every request: a rotated key is picked up without a restart.

    ``auth="api-key"`` sends a short-term Bedrock API key (``Authorization: Bearer …``, re-minted
    before it expires and after a rotation) instead of the secret access key. `httpx_options` go to
    ``httpx.Client`` (``timeout=``, ``limits=``...).

    `role_arn` (the stack's ``RoleArn`` output): every request carries the role's temporary
    credentials and session token as of now, assumed with `source` (or the default chain when
    `source` is None) and refreshed by botocore before they expire. `role_options` go to
    :meth:`Credentials.from_role` (``session_name=``, ``duration=``, ``external_id=``).
    """
    import httpx

    hook = _fresh_headers("gateway_http_client", source, region, custom_host, auth, role_arn, role_options)
    return httpx.Client(**_with_request_hook(httpx_options, hook))


def gateway_async_http_client(
    source: CredentialsSource | None = None,
    *,
    region: str | None = None,
    custom_host: str | None = None,
    auth: str = AUTH_SIGV4,
    role_arn: str | None = None,
    role_options: dict[str, Any] | None = None,
    **httpx_options: Any,
) -> httpx.AsyncClient:
    """:func:`gateway_http_client` for ``AsyncOpenAI`` / ``AsyncPortkey`` (``role_arn=`` too)."""
    import httpx

    hook = _fresh_headers("gateway_async_http_client", source, region, custom_host, auth, role_arn, role_options)
    return httpx.AsyncClient(**_with_request_hook(httpx_options, hook.async_hook))
