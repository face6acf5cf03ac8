"""The SigV4 verifier against AWS's published known answers, not only against botocore itself.

Vectors: the AWS Signature Version 4 test suite ("get-vanilla", "get-vanilla-query-order-key-case"),
https://docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html (credentials AKIDEXAMPLE /
wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 2015-08-30T12:36:00Z, us-east-1, service "service").
"""

from datetime import UTC, datetime

import pytest

from local.bedrock_double.errors import BedrockError
from local.bedrock_double.sigv4 import verify
from local.bedrock_double.stores import DictKeyStore, KeyRecord

KEY_ID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SIGNED_AT = datetime(2015, 8, 30, 12, 36, tzinfo=UTC)
GET_VANILLA = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
GET_VANILLA_QUERY_ORDER = "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"


def headers(signature: str) -> list[tuple[str, str]]:
    return [
        ("host", "example.amazonaws.com"),
        ("x-amz-date", "20150830T123600Z"),
        (
            "authorization",
            f"AWS4-HMAC-SHA256 Credential={KEY_ID}/20150830/us-east-1/service/aws4_request, "
            f"SignedHeaders=host;x-amz-date, Signature={signature}",
        ),
    ]


@pytest.fixture
def store() -> DictKeyStore:
    return DictKeyStore({KEY_ID: KeyRecord("example", "arn:aws:iam::111122223333:user/example", SECRET)})


def check(store: DictKeyStore, path: str, signature: str, secret_store: DictKeyStore | None = None) -> str:
    caller = verify(
        method="GET",
        path=path,
        headers=headers(signature),
        body=b"",
        key_store=secret_store or store,
        service="service",
        now=SIGNED_AT,
    )
    return caller.access_key_id


@pytest.mark.parametrize(
    ("path", "signature"),
    [("/", GET_VANILLA), ("/?Param2=value2&Param1=value1", GET_VANILLA_QUERY_ORDER)],
    ids=["get-vanilla", "get-vanilla-query-order-key-case"],
)
def test_published_signatures_verify(store, path, signature):
    assert check(store, path, signature) == KEY_ID


@pytest.mark.parametrize(
    ("path", "signature"),
    [
        ("/", GET_VANILLA_QUERY_ORDER),  # the other vector's signature
        ("/?Param2=value2&Param1=value1", GET_VANILLA),
        ("/", GET_VANILLA[:-1] + "0"),  # one hex digit off
    ],
)
def test_a_signature_for_another_request_is_refused(store, path, signature):
    with pytest.raises(BedrockError) as err:
        check(store, path, signature)
    assert (err.value.status, err.value.error_type) == (403, "InvalidSignatureException")


def test_the_published_signature_with_another_secret_is_refused(store):
    other = DictKeyStore({KEY_ID: KeyRecord("example", "arn:aws:iam::111122223333:user/example", SECRET[:-1] + "Z")})
    with pytest.raises(BedrockError) as err:
        check(store, "/", GET_VANILLA, secret_store=other)
    assert err.value.error_type == "InvalidSignatureException"
