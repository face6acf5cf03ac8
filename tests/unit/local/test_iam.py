import pytest

from local.bedrock_double.iam import Decision, arn_match, condition_holds, evaluate, wildcard_match

PROFILE = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.m-v1:0"
OTHER_PROFILE = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.other-v1:0"
MODEL = "arn:aws:bedrock:us-east-2::foundation-model/anthropic.m-v1:0"
INVOKE = "bedrock:InvokeModel"
STREAM = "bedrock:InvokeModelWithResponseStream"


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action, resource, condition=None, sid=None):
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    if sid:
        statement["Sid"] = sid
    return statement


@pytest.mark.parametrize(
    ("pattern", "value", "case_sensitive", "expected"),
    [
        ("bedrock:InvokeModel*", STREAM, True, True),
        ("bedrock:invoke?odel", INVOKE, False, True),
        ("arn:aws:bedrock:us-east-1::*", "arn:aws:bedrock:us-west-2::x", True, False),
        ("bedrock:InvokeModel", STREAM, True, False),
        ("a?c", "abc", True, True),
        ("a?c", "abbc", True, False),
        ("a.c", "abc", True, False),  # regex characters are literal
        ("ABC", "abc", True, False),
    ],
)
def test_wildcard_match(pattern, value, case_sensitive, expected):
    assert wildcard_match(pattern, value, case_sensitive=case_sensitive) is expected


@pytest.mark.parametrize(
    ("pattern", "arn", "expected"),
    [
        ("arn:aws:bedrock:*::foundation-model/*", MODEL, True),
        ("arn:aws:bedrock:*", MODEL, False),
        ("*", MODEL, True),
        ("arn:aws:bedrock:us-*::foundation-model/anthropic.m-v1:0", MODEL, True),
        ("arn:aws:bedrock:eu-*::foundation-model/anthropic.m-v1:0", MODEL, False),
        ("arn:aws:bedrock:::foundation-model/anthropic.m-v1:0", MODEL, False),  # region-less != regional
    ],
)
def test_arn_match(pattern, arn, expected):
    assert arn_match(pattern, arn) is expected


def test_allow_exact_action_and_resource():
    result = evaluate([doc(allow(INVOKE, PROFILE, sid="P"))], INVOKE, PROFILE)
    assert result.decision is Decision.ALLOW
    assert result.sid == "P"
    assert result.allowed


def test_implicit_deny_for_other_action_or_resource():
    documents = [doc(allow(INVOKE, PROFILE))]
    assert evaluate(documents, STREAM, PROFILE).decision is Decision.IMPLICIT_DENY
    assert evaluate(documents, INVOKE, OTHER_PROFILE).decision is Decision.IMPLICIT_DENY
    assert evaluate([], INVOKE, PROFILE).decision is Decision.IMPLICIT_DENY


def test_explicit_deny_wins_over_allow_in_any_document():
    documents = [
        doc(allow("bedrock:*", "*")),
        doc({"Sid": "NoStream", "Effect": "Deny", "Action": STREAM, "Resource": "*"}),
    ]
    result = evaluate(documents, STREAM, PROFILE)
    assert result.decision is Decision.EXPLICIT_DENY
    assert result.sid == "NoStream"
    assert evaluate(documents, INVOKE, PROFILE).decision is Decision.ALLOW


def test_action_is_case_insensitive_resource_is_not():
    assert evaluate([doc(allow("BEDROCK:invokemodel", PROFILE))], INVOKE, PROFILE).allowed
    assert not evaluate([doc(allow(INVOKE, PROFILE.upper()))], INVOKE, PROFILE).allowed


def test_wildcards_in_action_and_resource():
    documents = [doc(allow("bedrock:InvokeModel*", "arn:aws:bedrock:us-east-?::foundation-model/anthropic.*"))]
    assert evaluate(documents, STREAM, MODEL).allowed
    assert not evaluate(documents, STREAM, MODEL.replace("us-east-2", "us-west-2")).allowed
    assert not evaluate(documents, "bedrock:CreateInferenceProfile", MODEL).allowed


@pytest.mark.parametrize("operator", ["StringEquals", "StringLike", "ArnEquals", "ArnLike"])
def test_profile_condition_honoured(operator):
    documents = [doc(allow(INVOKE, MODEL, {operator: {"bedrock:InferenceProfileArn": PROFILE}}))]
    assert evaluate(documents, INVOKE, MODEL, {"bedrock:InferenceProfileArn": PROFILE}).allowed
    mismatch = evaluate(documents, INVOKE, MODEL, {"bedrock:InferenceProfileArn": OTHER_PROFILE})
    assert mismatch.decision is Decision.IMPLICIT_DENY
    # called directly, not through a profile: the key is absent, the condition fails
    assert evaluate(documents, INVOKE, MODEL, {}).decision is Decision.IMPLICIT_DENY


def test_condition_wildcards_and_value_lists():
    like = [
        doc(
            allow(
                INVOKE,
                MODEL,
                {"ArnLike": {"bedrock:InferenceProfileArn": "arn:aws:bedrock:*:*:inference-profile/us.*"}},
            )
        )
    ]
    assert evaluate(like, INVOKE, MODEL, {"bedrock:InferenceProfileArn": PROFILE}).allowed
    listed = [doc(allow(INVOKE, MODEL, {"StringEquals": {"bedrock:InferenceProfileArn": [OTHER_PROFILE, PROFILE]}}))]
    assert evaluate(listed, INVOKE, MODEL, {"bedrock:InferenceProfileArn": PROFILE}).allowed


def test_all_conditions_must_hold():
    condition = {
        "StringEquals": {"bedrock:InferenceProfileArn": PROFILE},
        "StringLike": {"aws:RequestedRegion": "eu-*"},
    }
    documents = [doc(allow(INVOKE, MODEL, condition))]
    context = {"bedrock:InferenceProfileArn": PROFILE, "aws:RequestedRegion": "us-east-1"}
    assert not evaluate(documents, INVOKE, MODEL, context).allowed
    context["aws:RequestedRegion"] = "eu-west-1"
    assert evaluate(documents, INVOKE, MODEL, context).allowed


def test_deny_with_condition_only_when_it_holds():
    documents = [
        doc(allow("bedrock:*", "*")),
        doc(
            {
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {"StringNotEquals": {"bedrock:InferenceProfileArn": PROFILE}},
            }
        ),
    ]
    assert evaluate(documents, INVOKE, MODEL, {"bedrock:InferenceProfileArn": PROFILE}).allowed
    assert (
        evaluate(documents, INVOKE, MODEL, {"bedrock:InferenceProfileArn": OTHER_PROFILE}).decision
        is Decision.EXPLICIT_DENY
    )
    # a negated operator holds when the key is missing
    assert evaluate(documents, INVOKE, MODEL, {}).decision is Decision.EXPLICIT_DENY


def test_not_action_and_not_resource():
    documents = [doc({"Effect": "Allow", "NotAction": STREAM, "NotResource": OTHER_PROFILE})]
    assert evaluate(documents, INVOKE, PROFILE).allowed
    assert not evaluate(documents, STREAM, PROFILE).allowed
    assert not evaluate(documents, INVOKE, OTHER_PROFILE).allowed


def test_unknown_operator_is_strict():
    unknown = {"NumericLessThan": {"x": "1"}}
    assert not evaluate([doc(allow(INVOKE, PROFILE, unknown))], INVOKE, PROFILE, {"x": "0"}).allowed
    deny = {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": unknown}
    assert evaluate([doc(allow(INVOKE, PROFILE)), doc(deny)], INVOKE, PROFILE).decision is Decision.EXPLICIT_DENY


@pytest.mark.parametrize(
    ("operator", "key", "expected", "context", "holds"),
    [
        ("StringEquals", "bedrock:inferenceprofilearn", PROFILE, {"bedrock:InferenceProfileArn": PROFILE}, True),
        ("StringEqualsIfExists", "k", "v", {}, True),
        ("StringEquals", "k", "v", {}, False),
        ("StringNotLike", "k", "v*", {}, True),
        ("StringEqualsIgnoreCase", "k", "ABC", {"k": "abc"}, True),
        ("Null", "k", "true", {}, True),
        ("Null", "k", "true", {"k": "x"}, False),
        ("Bool", "aws:SecureTransport", True, {"aws:SecureTransport": "true"}, True),
        ("ForAllValues:StringLike", "k", "a*", {"k": ["ab", "ac"]}, True),
        ("ForAllValues:StringLike", "k", "a*", {"k": ["ab", "b"]}, False),
        ("ForAnyValue:StringEquals", "k", "b", {"k": ["a", "b"]}, True),
    ],
)
def test_condition_holds(operator, key, expected, context, holds):
    assert condition_holds(operator, key, expected, context) is holds


def test_lone_statement_object_is_read():
    assert evaluate([{"Statement": allow(INVOKE, PROFILE)}], INVOKE, PROFILE).allowed
