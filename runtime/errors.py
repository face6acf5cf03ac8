"""Errors raised by the runtime. Every message is one line naming the problem and the fix,
and never contains a secret value."""


class PortkeyBedrockError(Exception):
    """Base class of every error this package raises on bad input."""


class UnknownModelError(PortkeyBedrockError, ValueError):
    """A model name that is not in the catalog."""


class ModelNotAllowedError(PortkeyBedrockError, ValueError):
    """A catalog model that the allow-list excludes."""


class RegionError(PortkeyBedrockError, ValueError):
    """A malformed region, or a region where the model has no inference profile."""


class UnsupportedPartitionError(RegionError):
    """A region of a partition the project does not support yet (GovCloud, China, isolated)."""


class EndOfLifeError(PortkeyBedrockError, ValueError):
    """A catalog model that has reached end of life on Amazon Bedrock (calls would fail)."""


class ProfileRequiredError(PortkeyBedrockError, ValueError):
    """A bare foundation-model id of a model Bedrock only serves through an inference profile."""


class CredentialsError(PortkeyBedrockError):
    """Credentials missing or unusable."""


class ConfigError(PortkeyBedrockError, ValueError):
    """A bad option passed to a builder (retry, metadata, custom host, ...)."""


class RejectedParameterError(ConfigError):
    """A request parameter the model rejects on Bedrock (e.g. ``temperature`` on Claude Opus 4.7)."""


class LegacyModelWarning(FutureWarning):
    """A Legacy model was resolved: calls still work, but Bedrock ends it on a known date.

    A FutureWarning (shown by default, meant for an application's users), not a
    DeprecationWarning (hidden outside ``__main__``): whoever runs the app should see it. Emitted
    once per model per process by :func:`runtime.catalog.resolve.resolve_model`; silence it with
    ``warnings.filterwarnings("ignore", category=runtime.LegacyModelWarning)``.
    """


def aws_error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError`` (else the exception's class name).

    >>> class ClientError(Exception):
    ...     response = {"Error": {"Code": "AccessDeniedException"}}
    >>> aws_error_code(ClientError()), aws_error_code(TimeoutError())
    ('AccessDeniedException', 'TimeoutError')
    """
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code") or type(exc).__name__)
    return type(exc).__name__
