"""The one request-rule checker: each rule kind with a compliant and a breaking request, and the
runtime's (OpenAI-shaped) and the double's (Converse) adapters agreeing case by case.

The Converse bodies below are written by hand as the gateway sends them (FIELD-NOTES: ``max_tokens``
-> ``inferenceConfig.maxTokens``, ``thinking`` and ``additional_model_request_fields`` ->
``additionalModelRequestFields``), not derived from the OpenAI bodies by the code under test.
"""

import pytest

from local.bedrock_double.errors import BedrockError
from local.bedrock_double.model import check_request_rules
from runtime import RejectedParameterError, chat_request, load_catalog
from runtime.catalog.model import Model
from runtime.catalog.request_rules import RequestView, converse_view, first_violation, openai_view
from runtime.gateway.headers import check_request_params


def adaptive_only_words(mode: str) -> str:
    """Anthropic's words for a thinking type an adaptive-only model refuses (What's new in Claude Opus 5.5)."""
    return (
        f'"thinking.type.{mode}" is not supported for this model. '
        'Use "thinking.type.adaptive" and "output_config.effort" to control thinking behavior.'
    )


# Anthropic's words for disabled thinking where between_tools turns thinking off (Claude Sonnet 5.5
# migration guide, https://platform.claude.com/docs/en/models/sonnet-5-5/migration-guide)
BETWEEN_TOOLS_WORDS = (
    'To turn thinking off on this model, send "thinking": {"type": "between_tools"} instead of '
    '{"type": "disabled"}. The model does not think before responding. The short updates it writes '
    "between tool calls come back as thinking blocks."
)
FORCED_TOOL_WORDS = 'tool_choice: type "tool" and "any" are not supported for this model.'

SOURCE = "https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle.html"


def model(**rules: object) -> Model:
    """A catalog entry with the given request rules and a 1,000-token output limit."""
    return Model(
        {
            "name": "claude-test",
            "aliases": [],
            "provider": "anthropic",
            "family": "claude-test",
            "model_id": "anthropic.claude-test",
            "lifecycle": {"status": "active", "source": SOURCE},
            "limits": {"max_output_tokens": 1000, "default_max_tokens": 100},
            "request_rules": rules,
            "capabilities": {"prompt_caching": True, "vision": True, "streaming": True},
            "sources": [SOURCE],
            "offers": [],
        }
    )


REJECTS_TOP_K = model(rejected_params=["top_k"])
TEMPERATURE_ONE = model(param_ranges={"temperature": {"min": 1.0, "max": 1.0}, "top_p": {"min": 0.99, "below": 1.0}})
EXCLUSIVE = model(exclusive_params=[["temperature", "top_p"]])
ADAPTIVE_ONLY = model(thinking=["adaptive"])
BETWEEN_TOOLS = model(thinking=["adaptive", "between_tools"], tool_choice=["auto", "none"])
NO_RULES = model()

# (case, model, OpenAI-shaped params, the same request as a Converse body, expected message or None)
CASES = [
    ("rejected param absent", REJECTS_TOP_K, {"temperature": 0.5}, {"inferenceConfig": {"temperature": 0.5}}, None),
    (
        "rejected param sent",
        REJECTS_TOP_K,
        {"additional_model_request_fields": {"top_k": 5}},
        {"additionalModelRequestFields": {"top_k": 5}},
        "`top_k` is deprecated for this model.",
    ),
    ("value in range", TEMPERATURE_ONE, {"temperature": 1.0}, {"inferenceConfig": {"temperature": 1.0}}, None),
    (
        "value out of range",
        TEMPERATURE_ONE,
        {"temperature": 0.7},
        {"inferenceConfig": {"temperature": 0.7}},
        "`temperature` must be 1.0, or unset, for this model.",
    ),
    ("value below an open bound", TEMPERATURE_ONE, {"top_p": 0.995}, {"inferenceConfig": {"topP": 0.995}}, None),
    (
        "value at an open bound",
        TEMPERATURE_ONE,
        {"top_p": 1.0},
        {"inferenceConfig": {"topP": 1.0}},
        "`top_p` must be >= 0.99 and < 1.0, or unset, for this model.",
    ),
    ("one of an exclusive group", EXCLUSIVE, {"top_p": 0.9}, {"inferenceConfig": {"topP": 0.9}}, None),
    (
        "both of an exclusive group",
        EXCLUSIVE,
        {"temperature": 0.5, "top_p": 0.9},
        {"inferenceConfig": {"temperature": 0.5, "topP": 0.9}},
        "`temperature` and `top_p` cannot both be specified for this model. Please use only one.",
    ),
    (
        "accepted thinking type",
        ADAPTIVE_ONLY,
        {"thinking": {"type": "adaptive"}},
        {"additionalModelRequestFields": {"thinking": {"type": "adaptive"}}},
        None,
    ),
    (
        "disabled thinking on an adaptive-only model",
        ADAPTIVE_ONLY,
        {"thinking": {"type": "disabled"}},
        {"additionalModelRequestFields": {"thinking": {"type": "disabled"}}},
        adaptive_only_words("disabled"),
    ),
    (
        "budgeted thinking on an adaptive-only model",
        ADAPTIVE_ONLY,
        {"thinking": {"type": "enabled", "budget_tokens": 1024}},
        {"additionalModelRequestFields": {"thinking": {"type": "enabled", "budget_tokens": 1024}}},
        adaptive_only_words("enabled"),
    ),
    (
        "between_tools thinking",
        BETWEEN_TOOLS,
        {"thinking": {"type": "between_tools"}},
        {"additionalModelRequestFields": {"thinking": {"type": "between_tools"}}},
        None,
    ),
    (
        "disabled thinking where between_tools turns it off",
        BETWEEN_TOOLS,
        {"thinking": {"type": "disabled"}},
        {"additionalModelRequestFields": {"thinking": {"type": "disabled"}}},
        BETWEEN_TOOLS_WORDS,
    ),
    (
        "between_tools at high effort",
        BETWEEN_TOOLS,
        {
            "thinking": {"type": "between_tools"},
            "additional_model_request_fields": {"output_config": {"effort": "high"}},
        },
        {"additionalModelRequestFields": {"thinking": {"type": "between_tools"}, "output_config": {"effort": "high"}}},
        None,
    ),
    (
        "between_tools at xhigh effort",
        BETWEEN_TOOLS,
        {
            "thinking": {"type": "between_tools"},
            "additional_model_request_fields": {"output_config": {"effort": "xhigh"}},
        },
        {"additionalModelRequestFields": {"thinking": {"type": "between_tools"}, "output_config": {"effort": "xhigh"}}},
        """thinking.type "between_tools" is not supported at effort 'xhigh'; it takes low, medium or high.""",
    ),
    (
        "between_tools with another field",
        BETWEEN_TOOLS,
        {"thinking": {"type": "between_tools", "budget_tokens": 1024}},
        {"additionalModelRequestFields": {"thinking": {"type": "between_tools", "budget_tokens": 1024}}},
        'thinking.type "between_tools" takes no other field (sent: budget_tokens).',
    ),
    (
        "adaptive thinking at max effort (only between_tools is capped)",
        BETWEEN_TOOLS,
        {"thinking": {"type": "adaptive"}, "additional_model_request_fields": {"output_config": {"effort": "max"}}},
        {"additionalModelRequestFields": {"thinking": {"type": "adaptive"}, "output_config": {"effort": "max"}}},
        None,
    ),
    (
        "auto tool choice",
        BETWEEN_TOOLS,
        {"tool_choice": "auto"},
        {"toolConfig": {"tools": [], "toolChoice": {"auto": {}}}},
        None,
    ),
    (
        "forced tool choice (required / any)",
        BETWEEN_TOOLS,
        {"tool_choice": "required"},
        {"toolConfig": {"tools": [], "toolChoice": {"any": {}}}},
        FORCED_TOOL_WORDS,
    ),
    (
        "forced tool choice (a named tool)",
        BETWEEN_TOOLS,
        {"tool_choice": {"type": "function", "function": {"name": "lookup"}}},
        {"toolConfig": {"tools": [], "toolChoice": {"tool": {"name": "lookup"}}}},
        FORCED_TOOL_WORDS,
    ),
    ("max_tokens at the limit", NO_RULES, {"max_tokens": 1000}, {"inferenceConfig": {"maxTokens": 1000}}, None),
    (
        "max_tokens above the limit",
        NO_RULES,
        {"max_tokens": 1001},
        {"inferenceConfig": {"maxTokens": 1001}},
        "max_tokens: 1001 > 1000, which is the maximum allowed number of output tokens for this model",
    ),
    (
        "no rules, anything goes",
        NO_RULES,
        {"temperature": 0.1, "top_p": 0.5, "thinking": {"type": "disabled"}, "tool_choice": "required"},
        {
            "inferenceConfig": {"temperature": 0.1, "topP": 0.5},
            "additionalModelRequestFields": {"thinking": {"type": "disabled"}},
            "toolConfig": {"tools": [], "toolChoice": {"any": {}}},
        },
        None,
    ),
]
IDS = [case[0] for case in CASES]


@pytest.mark.parametrize(("case", "entry", "openai", "converse", "expected"), CASES, ids=IDS)
def test_each_rule_kind_through_the_runtime_adapter(case, entry, openai, converse, expected):
    violation = first_violation(entry, openai_view(openai))
    assert (violation.message if violation else None) == expected
    if violation is not None:
        assert violation.status == 400
        assert violation.fix


@pytest.mark.parametrize(("case", "entry", "openai", "converse", "expected"), CASES, ids=IDS)
def test_the_double_adapter_agrees_with_the_runtime_adapter(case, entry, openai, converse, expected):
    assert first_violation(entry, converse_view(converse)) == first_violation(entry, openai_view(openai))


def test_the_views_normalize_both_shapes_alike():
    openai = openai_view({"temperature": 0.2, "max_completion_tokens": 50, "tool_choice": "none"})
    assert openai == RequestView({"temperature": 0.2}, None, "none", 50)
    converse = converse_view({"inferenceConfig": {"stopSequences": ["x"], "maxTokens": 7}})
    assert converse == RequestView({"stop": ["x"], "stop_sequences": ["x"]}, None, None, 7)
    assert converse_view({"inferenceConfig": "garbage", "toolConfig": {"toolChoice": {"weird": {}}}}).params == {}
    effort = {"output_config": {"effort": "low"}}
    assert openai_view({"additional_model_request_fields": effort}).effort == "low"
    assert converse_view({"additionalModelRequestFields": effort}).effort == "low"


# -- the real catalog, through the runtime's chat_request and the double's check_request_rules --

REAL_CASES = [
    # the example: the double used to accept disabled thinking on Claude Opus 4.7
    (
        "claude-opus-4.7",
        {"thinking": {"type": "disabled"}},
        {"additionalModelRequestFields": {"thinking": {"type": "disabled"}}},
    ),
    # ...and ignored exclusive_params
    ("claude-haiku-4.5", {"temperature": 0.5, "top_p": 0.9}, {"inferenceConfig": {"temperature": 0.5, "topP": 0.9}}),
    ("claude-opus-4.7", {"temperature": 0.2}, {"inferenceConfig": {"temperature": 0.2}}),
]


@pytest.mark.parametrize(("name", "openai", "converse"), REAL_CASES)
def test_runtime_and_double_refuse_with_the_same_words(name, openai, converse):
    catalog = load_catalog()
    entry = catalog.model(name)
    with pytest.raises(RejectedParameterError) as refused:
        chat_request(name, [{"role": "user", "content": "Hi"}], region="us-east-1", **openai)
    with pytest.raises(BedrockError) as answered:
        check_request_rules(catalog, catalog.offer_for(entry, "us-east-1").invoke_id, converse)
    assert (answered.value.status, answered.value.error_type) == (400, "ValidationException")
    assert f"{name} on Amazon Bedrock: {answered.value.message} (HTTP 400); " in str(refused.value)


def test_a_default_request_passes_every_model_rules_in_both_shapes():
    """What chat_request builds by default (and what the gateway makes of it) is valid for every
    model, adaptive-only ones included: e2e and the demo chat with every allowed model."""
    catalog = load_catalog()
    for entry in catalog:
        body = {"max_tokens": entry.default_max_tokens, "messages": []}
        assert first_violation(entry, openai_view(body)) is None, entry.name
        assert first_violation(entry, converse_view({"inferenceConfig": {"maxTokens": body["max_tokens"]}})) is None


# Claude Sonnet 5.5 has no profile on an AWS page yet (offers_from_sync), so chat_request stops at
# resolving it; the runtime's checker (check_request_params, what chat_request calls) and the
# double's (on the foundation-model id) are called directly. Rules: Anthropic's "What's new in
# Claude Sonnet 5.5" and its migration guide.
SONNET_55_REFUSALS = [
    (
        "disabled thinking",
        {"thinking": {"type": "disabled"}},
        {"additionalModelRequestFields": {"thinking": {"type": "disabled"}}},
        BETWEEN_TOOLS_WORDS,
    ),
    (
        "manual thinking budget",
        {"thinking": {"type": "enabled", "budget_tokens": 2048}},
        {"additionalModelRequestFields": {"thinking": {"type": "enabled", "budget_tokens": 2048}}},
        adaptive_only_words("enabled"),
    ),
    (
        "tool_choice any",
        {"tool_choice": "required"},
        {"toolConfig": {"tools": [], "toolChoice": {"any": {}}}},
        FORCED_TOOL_WORDS,
    ),
    (
        "tool_choice tool",
        {"tool_choice": {"type": "function", "function": {"name": "lookup"}}},
        {"toolConfig": {"tools": [], "toolChoice": {"tool": {"name": "lookup"}}}},
        FORCED_TOOL_WORDS,
    ),
]


@pytest.mark.parametrize(
    ("case", "openai", "converse", "words"), SONNET_55_REFUSALS, ids=[c[0] for c in SONNET_55_REFUSALS]
)
def test_claude_sonnet_5_5_refusals_in_the_runtime_and_the_double(case, openai, converse, words):
    catalog = load_catalog()
    with pytest.raises(RejectedParameterError) as refused:
        check_request_params(catalog.model("claude-sonnet-5.5"), openai)
    assert str(refused.value).startswith(f"claude-sonnet-5.5 on Amazon Bedrock: {words} (HTTP 400); ")
    with pytest.raises(BedrockError) as answered:
        check_request_rules(catalog, "anthropic.claude-sonnet-5-5", converse)
    assert (answered.value.status, answered.value.message) == (400, words)


def test_claude_sonnet_5_5_takes_between_tools_and_auto():
    catalog = load_catalog()
    sonnet = catalog.model("claude-sonnet-5.5")
    fine = {"thinking": {"type": "between_tools"}, "tool_choice": "auto"}
    assert check_request_params(sonnet, fine) is None
    body = {
        "additionalModelRequestFields": {"thinking": {"type": "between_tools"}},
        "toolConfig": {"toolChoice": {"auto": {}}},
    }
    assert check_request_rules(catalog, "anthropic.claude-sonnet-5-5", body) is None
