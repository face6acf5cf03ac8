"""Requests for the Portkey gateway's native `bedrock` provider: headers, `x-portkey-config`,
and OpenAI-format chat bodies."""

from __future__ import annotations

from runtime.catalog.model import Model, load_catalog
from runtime.catalog.resolve import find_model, pick_region, resolve_model
from runtime.constants import (
    AUTH_API_KEY,
    AUTH_MODES,
    AUTH_SIGV4,
    AWS_AUTH_TYPE_API_KEY,
    DEFAULT_API_KEY_TTL_SECONDS,
    DEFAULT_GATEWAY_URL,
    DEFAULT_RETRY_ATTEMPTS,
    DEFAULT_RETRY_STATUS_CODES,
    ENV_ALLOWED_MODELS,
    ENV_CUSTOM_HOST,
    ENV_GATEWAY_URL,
    HEADER_AUTHORIZATION,
    HEADER_AWS_ACCESS_KEY_ID,
    HEADER_AWS_AUTH_TYPE,
    HEADER_AWS_REGION,
    HEADER_AWS_SECRET_ACCESS_KEY,
    HEADER_AWS_SESSION_TOKEN,
    HEADER_CONFIG,
    HEADER_CUSTOM_HOST,
    HEADER_METADATA,
    HEADER_PREFIX,
    HEADER_PROVIDER,
    HEADER_TRACE_ID,
    MAX_RETRY_ATTEMPTS,
    PROVIDER_BEDROCK,
)
from runtime.credentials.api_key import bedrock_api_key  # stdlib only: the token generator is imported on first mint
from runtime.credentials.keys import Credentials
from runtime.env import environ_region, getenv
from runtime.errors import ConfigError, RejectedParameterError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from typing import Any

DEFAULT_RETRY: Mapping[str, object] = {
    "attempts": DEFAULT_RETRY_ATTEMPTS,
    "on_status_codes": list(DEFAULT_RETRY_STATUS_CODES),
}


def gateway_url(url: str | None = None) -> str:
    """The gateway's OpenAI-compatible base URL: the argument, else ``PORTKEY_GATEWAY_URL``,
    else ``http://localhost:8787/v1``; a value that is not an http(s) URL raises ConfigError.

    >>> gateway_url("http://gw.internal:8787/v1")
    'http://gw.internal:8787/v1'
    >>> gateway_url("not-a-url")
    Traceback (most recent call last):
    ...
    runtime.errors.ConfigError: the gateway URL (argument) has no http:// or https:// scheme; use one like http://localhost:8787/v1
    """
    if url:
        return check_http_url(url, "the gateway URL (argument)", DEFAULT_GATEWAY_URL)
    from_env = getenv(ENV_GATEWAY_URL)
    if from_env:
        return check_http_url(from_env, ENV_GATEWAY_URL, DEFAULT_GATEWAY_URL)
    return DEFAULT_GATEWAY_URL


def check_http_url(url: str, what: str, example: str) -> str:
    """`url` when it is an absolute http(s) URL with a host (and a numeric port, if any); else a
    ConfigError naming `what` was wrong. The value itself is not repeated: it may be a pasted secret.

    >>> check_http_url("https://gw:443/v1", "X", "http://h/v1")
    'https://gw:443/v1'
    >>> check_http_url("http://gw:port/v1", "PORTKEY_GATEWAY_URL", "http://localhost:8787/v1")
    Traceback (most recent call last):
    ...
    runtime.errors.ConfigError: PORTKEY_GATEWAY_URL has a port that is not a number from 1 to 65535; use one like http://localhost:8787/v1
    """
    scheme, sep, rest = url.partition("://")
    authority = rest.split("/", 1)[0].split("?", 1)[0].rpartition("@")[2]
    if authority.startswith("["):  # an IPv6 literal: [::1]:8787
        literal, _, tail = authority.partition("]")
        host, colon, port = literal[1:], tail[:1], tail[1:]
    else:
        host, colon, port = authority.partition(":")
    problem = None
    if not sep or scheme.lower() not in ("http", "https"):
        problem = "has no http:// or https:// scheme"
    elif any(char.isspace() for char in url):
        problem = "contains white space"
    elif not host:
        problem = "has no host name"
    elif colon and not (colon == ":" and port.isdigit() and 0 < int(port) < 65536):
        problem = "has a port that is not a number from 1 to 65535"
    if problem:
        raise ConfigError(f"{what} {problem}; use one like {example}")
    return url


def check_header_value(value: str, what: str) -> str:
    """`value` when it is printable ASCII (what an HTTP header may carry); else one ConfigError line.
    CR/LF would split the header (httpx refuses it mid-request), other control characters and
    non-ASCII are refused as well. The value is not repeated: it may be a pasted secret.

    >>> check_header_value("run-42", "the trace id")
    'run-42'
    >>> check_header_value("a\\r\\nx-evil: 1", "the trace id")
    Traceback (most recent call last):
    ...
    runtime.errors.ConfigError: the trace id holds a control character or non-ASCII text; use printable ASCII only
    """
    if not all(" " <= char <= "~" for char in value):
        raise ConfigError(f"{what} holds a control character or non-ASCII text; use printable ASCII only")
    return value


def _custom_host(custom_host: str | None) -> str | None:
    """The argument, else ``PORTKEY_BEDROCK_CUSTOM_HOST``, checked; None when neither is set.

    >>> _custom_host("http://localhost:9000/")
    'http://localhost:9000'
    >>> _custom_host("http://localhost:9000\\r\\nx: y")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    runtime.errors.ConfigError: the custom host (argument) holds a control character or non-ASCII text; ...
    """
    what = "the custom host (argument)"
    if not custom_host:
        custom_host, what = getenv(ENV_CUSTOM_HOST), ENV_CUSTOM_HOST
    if not custom_host:
        return None
    check_header_value(custom_host, what)
    return check_http_url(custom_host, what, "http://localhost:9000").rstrip("/")


# (arguments, environment) -> the checked source region of portkey_headers (no credentials in it);
# this and the config plans below are bounded by the distinct calls an app makes
_checked_headers: dict[tuple[object, ...], str] = {}
_MAX_PLANS = 1024


def portkey_headers(
    name: str,
    credentials: Credentials,
    region: str | None = None,
    *,
    trace_id: str | None = None,
    metadata: Mapping[str, str] | None = None,
    custom_host: str | None = None,
    allowed: Iterable[str] | str | None = None,
    auth: str = AUTH_SIGV4,
    ttl_seconds: int = DEFAULT_API_KEY_TTL_SECONDS,
) -> dict[str, str]:
    """Headers that make the gateway call Bedrock with these credentials.

    `name` is resolved (region and allow-list checked) so a bad model fails here, before any
    request; the model itself travels in the body (see :func:`chat_request`). The region is
    the argument, else the credentials' region, else ``AWS_REGION``, else ``us-east-1``.
    ``auth="api-key"`` sends a short-term Bedrock API key (see :mod:`runtime.credentials.api_key`,
    lifetime `ttl_seconds`) instead of the secret access key.
    """
    key = None
    if allowed is None or isinstance(allowed, str):
        key = (
            name,
            region,
            credentials.region,
            allowed,
            custom_host,
            auth,
            environ_region(),
            getenv(ENV_ALLOWED_MODELS),
        )
        checked = _checked_headers.get(key)
    else:
        checked = None
    if checked is None:
        checked = pick_region(region or credentials.region)
        resolve_model(name, checked, allowed=allowed)
        check_auth(auth)
        if key is not None:
            if len(_checked_headers) >= _MAX_PLANS:
                _checked_headers.clear()
            _checked_headers[key] = checked
    headers = bedrock_auth_headers(credentials, checked, custom_host=custom_host, auth=auth, ttl_seconds=ttl_seconds)
    if trace_id:
        headers[HEADER_TRACE_ID] = check_header_value(trace_id, "the trace id")
    if metadata:
        headers[HEADER_METADATA] = _metadata_json(metadata)
    return headers


def check_auth(auth: str) -> str:
    """`auth` when it is a known mode (``sigv4`` or ``api-key``); else one ConfigError line.

    >>> check_auth("api-key")
    'api-key'
    >>> check_auth("apikey")
    Traceback (most recent call last):
    ...
    runtime.errors.ConfigError: unknown auth mode 'apikey'; use one of sigv4, api-key
    """
    if auth not in AUTH_MODES:
        raise ConfigError(f"unknown auth mode {auth!r}; use one of {', '.join(AUTH_MODES)}")
    return auth


def bedrock_auth_headers(
    credentials: Credentials,
    region: str | None = None,
    *,
    custom_host: str | None = None,
    auth: str = AUTH_SIGV4,
    ttl_seconds: int = DEFAULT_API_KEY_TTL_SECONDS,
) -> dict[str, str]:
    """The model-independent part of :func:`portkey_headers`: provider, key, region, custom host.

    What :class:`runtime.gateway.client.FreshHeaders` sets on every request. With ``auth="api-key"`` the
    secret access key stays here: the gateway gets a short-term Bedrock API key as a bearer token.

    >>> creds = Credentials("AKIAIOSFODNN7EXAMPLE", "secret", region="eu-west-1")
    >>> bedrock_auth_headers(creds)["x-portkey-aws-region"]
    'eu-west-1'
    """
    credentials = credentials.frozen()  # one consistent key/secret/token (a role's are refreshed)
    resolved_region = pick_region(region or credentials.region)
    if check_auth(auth) == AUTH_API_KEY:
        headers = {
            HEADER_PROVIDER: PROVIDER_BEDROCK,
            HEADER_AWS_AUTH_TYPE: AWS_AUTH_TYPE_API_KEY,
            HEADER_AUTHORIZATION: "Bearer " + bedrock_api_key(credentials, resolved_region, ttl_seconds),
            HEADER_AWS_REGION: resolved_region,
        }
    else:
        headers = {
            HEADER_PROVIDER: PROVIDER_BEDROCK,
            HEADER_AWS_ACCESS_KEY_ID: credentials.access_key_id,
            HEADER_AWS_SECRET_ACCESS_KEY: credentials.secret_access_key,
            HEADER_AWS_REGION: resolved_region,
        }
        if credentials.session_token:
            headers[HEADER_AWS_SESSION_TOKEN] = credentials.session_token
    host = _custom_host(custom_host)
    if host:
        headers[HEADER_CUSTOM_HOST] = host
    return headers


def portkey_sdk_options(
    name: str,
    credentials: Credentials,
    region: str | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Keyword arguments for ``portkey_ai.Portkey(...)``: the same values as
    :func:`portkey_headers`, named as the SDK names them (``x-portkey-aws-region`` -> ``aws_region``).

    >>> creds = Credentials("AKIAIOSFODNN7EXAMPLE", "secret", region="us-east-1")
    >>> sorted(portkey_sdk_options("claude-large", creds))
    ['aws_access_key_id', 'aws_region', 'aws_secret_access_key', 'provider']
    """
    headers = portkey_headers(name, credentials, region, **options)
    sdk = {
        # the SDK sends an `Authorization` keyword as is (auth="api-key": the short-term key)
        "Authorization" if key == HEADER_AUTHORIZATION else key[len(HEADER_PREFIX) :].replace("-", "_"): value
        for key, value in headers.items()
    }
    if HEADER_METADATA in headers:
        import json

        sdk["metadata"] = json.loads(headers[HEADER_METADATA])
    return sdk


def _metadata_json(metadata: Mapping[str, str]) -> str:
    bad = [key for key, value in metadata.items() if not isinstance(value, str)]
    if bad:
        raise ConfigError(f"Portkey metadata values must be strings; convert {', '.join(sorted(bad))} with str()")
    import json

    return json.dumps(dict(metadata), separators=(",", ":"), sort_keys=True)


def _retry_block(retry: Mapping[str, object] | None) -> dict[str, object] | None:
    if retry is None:
        return None
    if retry is DEFAULT_RETRY:  # the common case, validated once below
        return {"attempts": DEFAULT_RETRY_ATTEMPTS, "on_status_codes": list(DEFAULT_RETRY_STATUS_CODES)}
    attempts = retry.get("attempts", DEFAULT_RETRY_ATTEMPTS)
    codes = retry.get("on_status_codes", DEFAULT_RETRY_STATUS_CODES)
    if not isinstance(attempts, int) or not 0 <= attempts <= MAX_RETRY_ATTEMPTS:
        raise ConfigError(f"retry attempts must be a whole number from 0 to {MAX_RETRY_ATTEMPTS}, got {attempts!r}")
    status_codes = list(codes)  # type: ignore[call-overload]
    if not all(isinstance(code, int) and 400 <= code <= 599 for code in status_codes):
        raise ConfigError(f"retry on_status_codes must be HTTP error codes (400-599), got {codes!r}")
    return {"attempts": attempts, "on_status_codes": status_codes}


def _target(
    region: str, model_id: str, credentials: Credentials, host: str | None, api_key: str | None
) -> dict[str, Any]:
    """One gateway target: the credential-free parts of a plan filled with this call's keys."""
    target: dict[str, Any] = {"provider": PROVIDER_BEDROCK}
    if api_key is not None:
        target.update(aws_auth_type=AWS_AUTH_TYPE_API_KEY, api_key=api_key)
    else:
        target.update(aws_access_key_id=credentials.access_key_id, aws_secret_access_key=credentials.secret_access_key)
    target["aws_region"] = region
    target["override_params"] = {"model": model_id}
    if credentials.session_token and api_key is None:
        target["aws_session_token"] = credentials.session_token
    if host:
        target["custom_host"] = host
    return target


class _Plan:
    """The credential-free part of a config: which (region, Bedrock id) targets, custom host,
    retries and timeout. Built (and every rule checked) once per distinct arguments and
    environment; no key, secret or token is ever part of it."""

    __slots__ = ("host", "last_retry", "pairs", "regions", "retry", "timeout")

    def __init__(
        self,
        pairs: tuple[tuple[str, str], ...],
        host: str | None,
        retry: dict[str, Any] | None,
        last_retry: dict[str, Any] | None,
        timeout: int | None,
    ) -> None:
        self.pairs = pairs
        self.regions = tuple(dict.fromkeys(region for region, _ in pairs))
        self.host = host
        self.retry = retry
        self.last_retry = last_retry
        self.timeout = timeout


# (arguments, environment) -> _Plan; bounded by the distinct configs an app asks for
_plans: dict[tuple[object, ...], _Plan] = {}


def _plan(
    ordered: Sequence[str],
    credentials_region: str | None,
    region: str | None,
    regions: Sequence[str] | None,
    request_timeout: int | None,
    retry: Mapping[str, object] | None,
    fallback: bool,
    custom_host: str | None,
    allowed: Iterable[str] | str | None,
) -> _Plan:
    from runtime.gateway.fallback import chain_pairs, check_request_timeout, retry_codes

    if not ordered:
        raise ConfigError("portkey_config needs at least one model name")
    if regions is not None and not list(regions):
        raise ConfigError("regions is empty; name at least one source region (e.g. us-east-1) or leave it out")
    if regions and region:
        raise ConfigError("pass region or regions, not both; regions lists every source region in order")
    chosen = [pick_region(r) for r in regions] if regions else [pick_region(region or credentials_region)]
    pairs = chain_pairs(ordered, chosen)
    if len(pairs) > 1 and not fallback:
        raise ConfigError(
            "several models or regions need fallback=True (a fallback chain); "
            "pass one name and one region for a single target"
        )
    host = _custom_host(custom_host)
    resolved = tuple((r, resolve_model(n, r, allowed=allowed)) for n, r in pairs)
    timeout = check_request_timeout(request_timeout)
    retry_block = _retry_block(retry)
    last_retry = None
    if retry_block is not None:
        codes = list(retry_block["on_status_codes"])  # type: ignore[call-overload]
        default_codes = retry is DEFAULT_RETRY or (retry is not None and "on_status_codes" not in retry)
        if len(pairs) > 1 and default_codes:
            # 429 moves on to the next source region at once; the last target still retries it
            last_retry = {**retry_block, "on_status_codes": retry_codes(codes, timeout=timeout is not None)}
            codes = retry_codes(codes, timeout=timeout is not None, throttled=False)
        else:
            codes = retry_codes(codes, timeout=timeout is not None)
        retry_block = {**retry_block, "on_status_codes": codes}
    return _Plan(resolved, host, retry_block, last_retry, timeout)


def portkey_config(
    names: str | Sequence[str],
    credentials: Credentials,
    region: str | None = None,
    *,
    regions: Sequence[str] | None = None,
    request_timeout: int | None = None,
    retry: Mapping[str, object] | None = DEFAULT_RETRY,
    fallback: bool = True,
    custom_host: str | None = None,
    allowed: Iterable[str] | str | None = None,
    auth: str = AUTH_SIGV4,
    ttl_seconds: int = DEFAULT_API_KEY_TTL_SECONDS,
) -> dict[str, Any]:
    """An ``x-portkey-config`` object for one model, or a fallback chain over (model, region) pairs.

    Every target carries its own ``aws_*`` keys, ``aws_region`` and the region-correct
    ``override_params.model``: once a config has targets the gateway ignores header credentials.
    `regions` (source regions, e.g. the stack's ``source_regions``) makes a chain over every
    region of the first model, then of the next (see `runtime.gateway.fallback`); without it every target
    uses `region`. A chain falls back only on 429 / 408 / 5xx. `request_timeout` (ms) makes the
    gateway answer 408 after that long, and 408 is retried. ``retry=None`` leaves retries out; with
    the default status codes a chain's targets move on at a 429 and only the last retries it.

    ``auth="api-key"``: each target carries ``aws_auth_type: "apiKey"`` and a short-term Bedrock
    API key (``api_key``) for its region instead of the access key pair.

    The credential-free part (targets' regions and ids, retries; every rule checked) is built once
    per distinct arguments and environment and reused; the keys are filled in on every call, so a
    rotated key or a renewed API key shows in the next config.

    >>> creds = Credentials("AKIAIOSFODNN7EXAMPLE", "secret", region="us-east-1")
    >>> chain = portkey_config(["claude-sonnet-4.6", "claude-haiku-4.5"], creds, regions=["us-east-1", "us-west-2"])
    >>> [(t["aws_region"], t["override_params"]["model"]) for t in chain["targets"]]  # doctest: +NORMALIZE_WHITESPACE
    [('us-east-1', 'us.anthropic.claude-sonnet-4-6'), ('us-west-2', 'us.anthropic.claude-sonnet-4-6'),
     ('us-east-1', 'us.anthropic.claude-haiku-4-5-20251001-v1:0'),
     ('us-west-2', 'us.anthropic.claude-haiku-4-5-20251001-v1:0')]
    >>> chain["strategy"]["on_status_codes"]
    [429, 408, 500, 502, 503, 504]
    """
    from runtime.gateway.fallback import FALLBACK_STATUS_CODES

    credentials = credentials.frozen()  # one consistent key/secret/token (a role's are refreshed)
    ordered = (names,) if isinstance(names, str) else tuple(names)
    api = check_auth(auth) == AUTH_API_KEY
    key: tuple[object, ...] | None = None
    if (retry is DEFAULT_RETRY or retry is None) and (allowed is None or isinstance(allowed, str)):
        key = (
            ordered,
            credentials.region,
            region,
            None if regions is None else tuple(regions),
            request_timeout,
            retry is None,
            fallback,
            custom_host,
            allowed,
            environ_region(),
            getenv(ENV_ALLOWED_MODELS),
            getenv(ENV_CUSTOM_HOST),
        )
        plan = _plans.get(key)
    else:
        plan = None
    if plan is None:
        plan = _plan(
            ordered, credentials.region, region, regions, request_timeout, retry, fallback, custom_host, allowed
        )
        if key is not None:
            if len(_plans) >= _MAX_PLANS:
                _plans.clear()
            _plans[key] = plan
    # one short-term key per target region, from runtime.credentials.api_key's cache (renewed before expiry)
    api_keys = {r: bedrock_api_key(credentials, r, ttl_seconds) for r in plan.regions} if api else {}
    host = plan.host
    targets = [_target(r, model_id, credentials, host, api_keys.get(r)) for r, model_id in plan.pairs]
    config: dict[str, Any]
    if len(targets) == 1:
        config = targets[0]
    else:
        config = {
            "strategy": {"mode": "fallback", "on_status_codes": list(FALLBACK_STATUS_CODES)},
            "targets": targets,
        }
    if plan.last_retry is not None:
        targets[-1]["retry"] = {**plan.last_retry, "on_status_codes": list(plan.last_retry["on_status_codes"])}
    if plan.retry is not None:
        config["retry"] = {**plan.retry, "on_status_codes": list(plan.retry["on_status_codes"])}
    if plan.timeout is not None:
        config["request_timeout"] = plan.timeout
    return config


def config_header(config: Mapping[str, Any]) -> dict[str, str]:
    """The ``x-portkey-config`` header carrying `config` (compact JSON)."""
    import json

    return {HEADER_CONFIG: json.dumps(config, separators=(",", ":"))}


def chat_request(
    name: str,
    messages: Sequence[Mapping[str, Any]],
    *,
    credentials: Credentials | None = None,
    region: str | None = None,
    allowed: Iterable[str] | str | None = None,
    **params: Any,
) -> dict[str, Any]:
    """An OpenAI-format chat body for `name`; ``max_tokens`` defaults to the catalog's value.

    The region is chosen as for :func:`portkey_headers` (argument, else the credentials' region,
    else ``AWS_REGION``...), so the body's model always matches the headers' region. Messages
    (content arrays, ``cache_control`` blocks) are passed through untouched. A parameter the model
    rejects on Bedrock (see the catalog's ``request_rules``) raises :class:`RejectedParameterError`
    here instead of an HTTP 400 later.

    >>> chat_request("claude-large", [{"role": "user", "content": "Hi"}], region="us-east-1")["max_tokens"]
    8192
    """
    region = pick_region(region or (credentials.region if credentials is not None else None))
    body: dict[str, Any] = {"model": resolve_model(name, region, allowed=allowed), "messages": messages}
    model = find_model(name, load_catalog())[0]
    if params:
        check_request_params(model, params)
    body.update(params)
    if "max_tokens" not in body and "max_completion_tokens" not in body:
        body["max_tokens"] = model.default_max_tokens
    return body


def check_request_params(model: Model, params: Mapping[str, Any]) -> None:
    """Raise :class:`RejectedParameterError`, one line naming the model, Bedrock's words and the
    fix, for what Bedrock answers with HTTP 400 for `model` (its catalog ``request_rules``: a
    rejected or out-of-range sampling parameter, two parameters of an exclusive group, a thinking
    type or tool choice it does not take, more output tokens than it can produce). The rules are
    checked by :func:`runtime.catalog.request_rules.first_violation`, the same function the Bedrock double
    uses; parameters count at the top level and in ``additional_model_request_fields``.
    """
    from runtime.catalog.request_rules import first_violation, openai_view  # only when parameters are sent

    violation = first_violation(model, openai_view(params))
    if violation is not None:
        raise RejectedParameterError(
            f"{model.name} on Amazon Bedrock: {violation.message} (HTTP {violation.status}); {violation.fix}"
        )
