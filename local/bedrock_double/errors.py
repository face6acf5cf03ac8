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
# Bedrock's 403 ExpiredTokenException for an expired STS session, as quoted from live calls in
# https://github.com/anthropics/claude-code/issues/28032 (no final period)
EXPIRED_TOKEN = "The security token included in the request is expired"  # noqa: S105 - a message
BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)
INVALID_MODEL = "The provided model identifier is invalid."
# A bare foundation-model id whose model has no on-demand offer (Bedrock's wording, typographic
# apostrophe as quoted in https://github.com/langchain-ai/langchain-aws/issues/1019).
ON_DEMAND_NOT_SUPPORTED = (
    "Invocation of model ID {model_id} with on-demand throughput isn\u2019t supported. Retry your "
    "request with the ID or ARN of an inference profile that contains this model."
)
# A model past end of life. No AWS page quotes it; two 2026 reports of live calls show
# ResourceNotFoundException with this text
# (https://github.com/aws-solutions-library-samples/accelerated-intelligent-document-processing-on-aws/issues/708,
# https://github.com/gsd-build/gsd-2/issues/5425); one blog reports ValidationException "The
# provided model identifier is invalid." instead. We follow the two live reports.
END_OF_LIFE = (
    "This model version has reached the end of its life. Please refer to the AWS documentation for more details."
)
# The model's AWS Marketplace subscription is missing (first use in an account without the
# aws-marketplace:* permissions or Anthropic's use-case form), as Bedrock answered in 2026-08
# (quoted in https://github.com/ministryofjustice/modernisation-platform-environments/pull/18323);
# background: https://docs.aws.amazon.com/bedrock/latest/userguide/model-access.html
MARKETPLACE_ACCESS_DENIED = (
    "Model access is denied due to IAM user or service role is not authorized to perform the required "
    "AWS Marketplace actions (aws-marketplace:ViewSubscriptions, aws-marketplace:Subscribe) to enable access "
    "to this model. Refer to the Amazon Bedrock documentation for further details. Your AWS Marketplace "
    "subscription for this model cannot be completed at this time. If you recently fixed this issue, try "
    "again after 5 minutes."
)


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
