"""A local stand-in for Bedrock runtime's Converse and ConverseStream.

It verifies SigV4 signatures against the access keys of moto's IAM backend (or a dict),
evaluates the caller's IAM policies (what `stacks.bedrock_policy.build_statements` deploys) for
the inference profile and the foundation model in the destination drawn from the catalog's routes,
answers deterministically (`Hello from <model id>: <last user text>`), and takes injected faults
through a control API. See :mod:`local.bedrock_double.server` for the routes.

    server = start_double(host="127.0.0.1", port=0)   # inside the moto server process
    server.url, server.port; server.stop()
"""

from local.bedrock_double.client import DoubleClient
from local.bedrock_double.errors import BedrockError
from local.bedrock_double.model import Router
from local.bedrock_double.server import DoubleServer, start_double
from local.bedrock_double.stores import (
    DictKeyStore,
    DictPolicyStore,
    KeyRecord,
    KeyStore,
    MotoKeyStore,
    MotoPolicyStore,
    PolicyStore,
)

__all__ = [
    "BedrockError",
    "DictKeyStore",
    "DictPolicyStore",
    "DoubleClient",
    "DoubleServer",
    "KeyRecord",
    "KeyStore",
    "MotoKeyStore",
    "MotoPolicyStore",
    "PolicyStore",
    "Router",
    "start_double",
]
