"""portkey-bedrock-access runtime: Claude on AWS Bedrock through the Portkey gateway.

Imports only the standard library. The catalog (``runtime/catalog.json``) is the one list of
models; everything here derives from it.

>>> import runtime
>>> runtime.resolve_model("claude-sonnet-4", "us-east-1")
'us.anthropic.claude-sonnet-4-20250514-v1:0'
"""

from runtime.catalog import Catalog, Model, load_catalog, normalize_name
from runtime.constants import DEFAULT_GATEWAY_URL, DEFAULT_REGION
from runtime.credentials import Credentials
from runtime.errors import (
    ConfigError,
    CredentialsError,
    ModelNotAllowedError,
    PortkeyBedrockError,
    RegionError,
    UnknownModelError,
)
from runtime.portkey import (
    DEFAULT_RETRY,
    chat_request,
    config_header,
    gateway_url,
    portkey_config,
    portkey_headers,
)
from runtime.resolve import allowed_models, pick_region, resolve_model

__all__ = [
    "DEFAULT_GATEWAY_URL",
    "DEFAULT_REGION",
    "DEFAULT_RETRY",
    "Catalog",
    "ConfigError",
    "Credentials",
    "CredentialsError",
    "Model",
    "ModelNotAllowedError",
    "PortkeyBedrockError",
    "RegionError",
    "UnknownModelError",
    "allowed_models",
    "chat_request",
    "config_header",
    "gateway_url",
    "load_catalog",
    "normalize_name",
    "pick_region",
    "portkey_config",
    "portkey_headers",
    "resolve_model",
]
