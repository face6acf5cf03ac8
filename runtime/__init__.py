"""portkey-bedrock-access runtime: Claude on AWS Bedrock through the Portkey gateway.

Quick start (after ``cdk deploy`` and ``python -m runtime secrets pull``; a gateway listening at
``PORTKEY_GATEWAY_URL``, default ``http://localhost:8787/v1``; ``pip install
'portkey-bedrock-access[sops,client]'``)::

    import runtime
    from openai import OpenAI

    client = OpenAI(
        base_url=runtime.gateway_url(),
        api_key="unused",  # the gateway signs for Bedrock with the AWS key from the SOPS file
        http_client=runtime.gateway_http_client("secrets/env.json"),  # the current key, every request
    )
    credentials = runtime.Credentials.from_sops("secrets/env.json")
    reply = client.chat.completions.create(
        **runtime.chat_request("claude-sonnet-4.6", [{"role": "user", "content": "Hi"}], credentials=credentials)
    )

Friendly names resolve to the Bedrock id for a region (the catalog, ``runtime/catalog/catalog.json``, is
the one list of models); bad input raises :class:`PortkeyBedrockError` subclasses with one line;
a Legacy model warns once (:class:`LegacyModelWarning`). The command line: ``portkey-bedrock``
(or ``python -m runtime``) ``models``, ``resolve``, ``headers``, ``config``, ``doctor``, ``secrets``.

>>> import runtime
>>> runtime.resolve_model("claude-sonnet-4.5", "us-east-1")
'us.anthropic.claude-sonnet-4-5-20250929-v1:0'

Imports only the standard library, and each submodule only when one of its names is first used
(PEP 562), so that ``import runtime`` costs next to nothing.
"""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from runtime.catalog.model import Catalog as Catalog
    from runtime.catalog.model import Model as Model
    from runtime.catalog.model import load_catalog as load_catalog
    from runtime.catalog.model import normalize_name as normalize_name
    from runtime.catalog.resolve import allowed_models as allowed_models
    from runtime.catalog.resolve import lifecycle_warning as lifecycle_warning
    from runtime.catalog.resolve import pick_region as pick_region
    from runtime.catalog.resolve import resolve_model as resolve_model
    from runtime.constants import DEFAULT_GATEWAY_URL as DEFAULT_GATEWAY_URL
    from runtime.constants import DEFAULT_REGION as DEFAULT_REGION
    from runtime.credentials.api_key import bedrock_api_key as bedrock_api_key
    from runtime.credentials.keys import Credentials as Credentials
    from runtime.errors import (
        ConfigError as ConfigError,
    )
    from runtime.errors import (
        CredentialsError as CredentialsError,
    )
    from runtime.errors import (
        EndOfLifeError as EndOfLifeError,
    )
    from runtime.errors import (
        LegacyModelWarning as LegacyModelWarning,
    )
    from runtime.errors import (
        ModelNotAllowedError as ModelNotAllowedError,
    )
    from runtime.errors import (
        PortkeyBedrockError as PortkeyBedrockError,
    )
    from runtime.errors import (
        ProfileRequiredError as ProfileRequiredError,
    )
    from runtime.errors import (
        RegionError as RegionError,
    )
    from runtime.errors import (
        RejectedParameterError as RejectedParameterError,
    )
    from runtime.errors import (
        UnknownModelError as UnknownModelError,
    )
    from runtime.errors import (
        UnsupportedPartitionError as UnsupportedPartitionError,
    )
    from runtime.gateway.client import FreshHeaders as FreshHeaders
    from runtime.gateway.client import gateway_async_http_client as gateway_async_http_client
    from runtime.gateway.client import gateway_http_client as gateway_http_client
    from runtime.gateway.headers import (
        DEFAULT_RETRY as DEFAULT_RETRY,
    )
    from runtime.gateway.headers import (
        chat_request as chat_request,
    )
    from runtime.gateway.headers import (
        config_header as config_header,
    )
    from runtime.gateway.headers import (
        gateway_url as gateway_url,
    )
    from runtime.gateway.headers import (
        portkey_config as portkey_config,
    )
    from runtime.gateway.headers import (
        portkey_headers as portkey_headers,
    )
    from runtime.gateway.headers import (
        portkey_sdk_options as portkey_sdk_options,
    )


# public name -> submodule that defines it
_EXPORTS = {
    "bedrock_api_key": "credentials.api_key",
    "Catalog": "catalog.model",
    "Model": "catalog.model",
    "load_catalog": "catalog.model",
    "normalize_name": "catalog.model",
    "DEFAULT_GATEWAY_URL": "constants",
    "DEFAULT_REGION": "constants",
    "FreshHeaders": "gateway.client",
    "gateway_async_http_client": "gateway.client",
    "gateway_http_client": "gateway.client",
    "Credentials": "credentials.keys",
    "ConfigError": "errors",
    "CredentialsError": "errors",
    "EndOfLifeError": "errors",
    "LegacyModelWarning": "errors",
    "ModelNotAllowedError": "errors",
    "ProfileRequiredError": "errors",
    "RejectedParameterError": "errors",
    "UnsupportedPartitionError": "errors",
    "PortkeyBedrockError": "errors",
    "RegionError": "errors",
    "UnknownModelError": "errors",
    "DEFAULT_RETRY": "gateway.headers",
    "chat_request": "gateway.headers",
    "config_header": "gateway.headers",
    "gateway_url": "gateway.headers",
    "portkey_config": "gateway.headers",
    "portkey_headers": "gateway.headers",
    "portkey_sdk_options": "gateway.headers",
    "allowed_models": "catalog.resolve",
    "lifecycle_warning": "catalog.resolve",
    "pick_region": "catalog.resolve",
    "resolve_model": "catalog.resolve",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> object:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'runtime' has no attribute {name!r}")
    import sys

    qualified = f"runtime.{module_name}"
    __import__(qualified)  # plain __import__: importlib itself would cost a millisecond
    value = getattr(sys.modules[qualified], name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
