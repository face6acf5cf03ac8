"""Bedrock's error replies: HTTP status, `x-amzn-ErrorType` and a JSON `{"message": ...}` body."""

from __future__ import annotations

from runtime.errors import PortkeyBedrockError

# status -> (error type, message) for faults injected through the control API; the messages
# are the ones Bedrock sends.
FAULTS: dict[int, tuple[str, str]] = {
    400: ("ValidationException", "Input validation failed."),
    408: ("ModelTimeoutException", "Model has timed out in processing the request."),
    424: ("ModelErrorException", "The model returned an error."),
    429: ("ThrottlingException", "Too many requests, please wait before trying again."),
    500: (
        "InternalServerException",
        "The system encountered an unexpected error during processing. Try your request again.",
    ),
    503: ("ServiceUnavailableException", "Bedrock is unable to process your request."),
}

INVALID_TOKEN = "The security token included in the request is invalid."  # noqa: S105 - a message
BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)
INVALID_MODEL = "The provided model identifier is invalid."


class BedrockError(PortkeyBedrockError):
    """An error reply of the double, raised anywhere while handling a request."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message

    @classmethod
    def fault(cls, status: int) -> BedrockError:
        """
        >>> BedrockError.fault(429).error_type
        'ThrottlingException'
        """
        error_type, message = FAULTS[status]
        return cls(status, error_type, message)

    def body(self) -> dict[str, str]:
        return {"message": self.message}
