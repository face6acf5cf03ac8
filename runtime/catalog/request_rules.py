"""The one checker of a model's request rules (the catalog's ``request_rules``).

The runtime (``runtime.gateway.headers.chat_request``, OpenAI-shaped bodies) and the Bedrock double
(``local.bedrock_double``, Converse bodies) both call :func:`first_violation` on a neutral
:class:`RequestView`, built by their thin adapter (:func:`openai_view`, :func:`converse_view`).
A violation carries Bedrock's HTTP status and words; the runtime raises them as
:class:`~runtime.errors.RejectedParameterError` (plus the model name and the fix), the double
answers them as a 400 ``ValidationException``: the same words either way.

>>> from runtime.catalog.model import load_catalog
>>> opus = load_catalog().model("claude-opus-4.7")
>>> first_violation(opus, openai_view({"thinking": {"type": "disabled"}})).fix
"use thinking={'type': 'adaptive'} or omit thinking"
>>> first_violation(opus, converse_view({"additionalModelRequestFields": {"thinking": {"type": "adaptive"}}})) is None
True
"""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from runtime.catalog.model import Model

BAD_REQUEST = 400

# tool_choice kinds as the catalog names them (Anthropic's names: auto, none, any, tool)
TOOL_CHOICES = ("auto", "none", "any", "tool")
# OpenAI tool_choice strings -> the catalog's kinds
_OPENAI_TOOL_CHOICE = {"auto": "auto", "none": "none", "required": "any"}
# Converse inferenceConfig fields -> catalog parameter names
_CONVERSE_INFERENCE = {"temperature": ("temperature",), "topP": ("top_p",), "stopSequences": ("stop", "stop_sequences")}
_PARAM_NAMES = ("temperature", "top_p", "top_k", "stop", "stop_sequences")
# Anthropic, Claude Sonnet 5.5 migration guide
# (https://platform.claude.com/docs/en/models/sonnet-5-5/migration-guide#turn-off-up-front-thinking):
# `between_tools` "takes no other field" and "At `xhigh` or `max`, it returns a 400 error."
BETWEEN_TOOLS_REFUSED_EFFORTS = ("xhigh", "max")


class RequestView:
    """What the rules look at, whatever the request's shape: ``params`` (catalog parameter name ->
    value sent), the ``thinking`` object sent (or None), the ``tool_choice`` kind sent (``auto``,
    ``none``, ``any``, ``tool``, or None), ``max_tokens`` (or None) and the ``output_config.effort``
    sent (or None). (A plain class, not a NamedTuple: `typing` stays unloaded, see
    tests/unit/runtime/test_import_hygiene.py.)"""

    __slots__ = ("effort", "max_tokens", "params", "thinking", "tool_choice")

    def __init__(
        self,
        params: "Mapping[str, Any]",
        thinking: "Any" = None,
        tool_choice: str | None = None,
        max_tokens: int | None = None,
        effort: object = None,
    ) -> None:
        self.params = params
        self.thinking = thinking
        self.tool_choice = tool_choice
        self.max_tokens = max_tokens
        self.effort = effort

    def _key(self) -> "tuple[Any, ...]":
        return (dict(self.params), self.thinking, self.tool_choice, self.max_tokens, self.effort)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RequestView) and self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]  # mutable contents: not hashable

    def __repr__(self) -> str:
        return (
            f"RequestView(params={dict(self.params)!r}, thinking={self.thinking!r}, "
            f"tool_choice={self.tool_choice!r}, max_tokens={self.max_tokens!r}, effort={self.effort!r})"
        )


class Violation:
    """The first rule a request breaks: Bedrock's HTTP ``status``, its ``message`` and the ``fix``."""

    __slots__ = ("fix", "message", "status")

    def __init__(self, status: int, message: str, fix: str) -> None:
        self.status = status
        self.message = message
        self.fix = fix

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Violation) and (self.status, self.message, self.fix) == (
            other.status,
            other.message,
            other.fix,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Violation({self.status}, {self.message!r}, fix={self.fix!r})"


def _tool_choice_kind(value: object) -> str | None:
    """The catalog kind of an OpenAI or Anthropic-style ``tool_choice`` value (None: unknown shape).

    >>> _tool_choice_kind("required"), _tool_choice_kind({"type": "function", "function": {"name": "f"}})
    ('any', 'tool')
    >>> _tool_choice_kind({"type": "auto"}), _tool_choice_kind(None)
    ('auto', None)
    """
    if isinstance(value, str):
        return _OPENAI_TOOL_CHOICE.get(value)
    if isinstance(value, dict):
        kind = value.get("type")
        if kind == "function":
            return "tool"
        return kind if kind in TOOL_CHOICES else None
    return None


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _effort(fields: "Mapping[str, Any]") -> object:
    """The ``output_config.effort`` of a request's fields (None when not sent)."""
    config = fields.get("output_config")
    return config.get("effort") if isinstance(config, dict) else None


def openai_view(body: "Mapping[str, Any]") -> RequestView:
    """The view of an OpenAI-format chat body (what ``chat_request`` builds and Portkey receives).
    Parameters count at the top level and in ``additional_model_request_fields`` (passed to
    Bedrock as ``additionalModelRequestFields``).

    >>> openai_view({"temperature": 0.2, "additional_model_request_fields": {"top_k": 5}}).params
    {'temperature': 0.2, 'top_k': 5}
    """
    extra = body.get("additional_model_request_fields")
    fields = {**extra, **body} if isinstance(extra, dict) else dict(body)
    params = {name: fields[name] for name in _PARAM_NAMES if name in fields}
    max_tokens = _int_or_none(fields.get("max_tokens"))
    if max_tokens is None:
        max_tokens = _int_or_none(fields.get("max_completion_tokens"))
    return RequestView(
        params, fields.get("thinking"), _tool_choice_kind(fields.get("tool_choice")), max_tokens, _effort(fields)
    )


def converse_view(body: "Mapping[str, Any]") -> RequestView:
    """The view of a Bedrock Converse body (what the gateway sends the double): sampling in
    ``inferenceConfig``, ``top_k`` and ``thinking`` in ``additionalModelRequestFields``, the tool
    choice in ``toolConfig.toolChoice`` (``{"auto": {}}``, ``{"any": {}}``, ``{"tool": {...}}``).

    >>> converse_view({"inferenceConfig": {"topP": 0.9, "maxTokens": 10}, "toolConfig": {"toolChoice": {"any": {}}}})
    RequestView(params={'top_p': 0.9}, thinking=None, tool_choice='any', max_tokens=10, effort=None)
    """
    inference = body.get("inferenceConfig")
    inference = inference if isinstance(inference, dict) else {}
    extra = body.get("additionalModelRequestFields")
    extra = extra if isinstance(extra, dict) else {}
    params: dict[str, Any] = {name: extra[name] for name in _PARAM_NAMES if name in extra}
    for field, names in _CONVERSE_INFERENCE.items():
        if field in inference:
            params.update(dict.fromkeys(names, inference[field]))
    tool_config = body.get("toolConfig")
    choice = tool_config.get("toolChoice") if isinstance(tool_config, dict) else None
    kind = next(iter(choice), None) if isinstance(choice, dict) and len(choice) == 1 else None
    return RequestView(
        params,
        extra.get("thinking"),
        kind if kind in TOOL_CHOICES else None,
        _int_or_none(inference.get("maxTokens")),
        _effort(extra),
    )


def _range_words(bounds: "Mapping[str, float]") -> str:
    """``{"min": 1.0, "max": 1.0}`` -> ``1.0``; ``{"min": 0.99, "below": 1.0}`` -> ``>= 0.99 and < 1.0``."""
    low, high, below = bounds.get("min"), bounds.get("max"), bounds.get("below")
    if low is not None and low == high:
        return str(low)
    words = [f">= {low}" if low is not None else "", f"<= {high}" if high is not None else ""]
    words.append(f"< {below}" if below is not None else "")
    return " and ".join(word for word in words if word)


def _in_range(value: float, bounds: "Mapping[str, float]") -> bool:
    low, high, below = bounds.get("min"), bounds.get("max"), bounds.get("below")
    return (low is None or value >= low) and (high is None or value <= high) and (below is None or value < below)


def _thinking_message(mode: object, accepted: "tuple[str, ...]") -> str:
    """Bedrock's words for a thinking type the model does not take. ``disabled`` where
    ``between_tools`` is the way to turn thinking off: Anthropic's (Claude Sonnet 5.5 migration
    guide, https://platform.claude.com/docs/en/models/sonnet-5-5/migration-guide). Where adaptive
    thinking is the way, Anthropic's (https://platform.claude.com/docs/en/models/opus-5-5/whats-new-opus-5-5
    quotes them for ``disabled`` and ``enabled``); otherwise a line naming the types it takes.

    >>> print(_thinking_message("disabled", ("adaptive",)))  # doctest: +NORMALIZE_WHITESPACE
    "thinking.type.disabled" is not supported for this model.
    Use "thinking.type.adaptive" and "output_config.effort" to control thinking behavior.
    >>> _thinking_message("adaptive", ("enabled", "disabled"))
    "thinking.type: 'adaptive' is not supported for this model; supported: enabled, disabled"
    >>> _thinking_message("disabled", ("adaptive", "between_tools")).split(". ")[0]
    'To turn thinking off on this model, send "thinking": {"type": "between_tools"} instead of {"type": "disabled"}'
    """
    if mode == "disabled" and "between_tools" in accepted:
        return (
            'To turn thinking off on this model, send "thinking": {"type": "between_tools"} instead of '
            '{"type": "disabled"}. The model does not think before responding. The short updates it writes '
            "between tool calls come back as thinking blocks."
        )
    if "adaptive" in accepted and isinstance(mode, str):
        return (
            f'"thinking.type.{mode}" is not supported for this model. '
            'Use "thinking.type.adaptive" and "output_config.effort" to control thinking behavior.'
        )
    return f"thinking.type: {mode!r} is not supported for this model; supported: {', '.join(accepted) or 'none'}"


def _thinking_fix(mode: object, accepted: "tuple[str, ...]") -> str:
    usable = [m for m in accepted if m != "disabled"]
    if mode == "disabled" and "between_tools" in usable:
        return "use thinking={'type': 'between_tools'} to turn off up-front thinking"
    if "adaptive" in usable:
        return "use thinking={'type': 'adaptive'} or omit thinking"
    return f"use thinking={{'type': '{usable[0]}'}} or omit thinking" if usable else "omit thinking"


def _between_tools_violation(thinking: "Mapping[str, Any]", effort: object) -> Violation | None:
    """What Anthropic documents ``between_tools`` refuses (HTTP 400): another field beside
    ``type``, or effort ``xhigh`` / ``max`` (see :data:`BETWEEN_TOOLS_REFUSED_EFFORTS`). The page
    gives no error text for these, so the words are the project's.

    >>> _between_tools_violation({"type": "between_tools", "display": "summarized"}, None).message
    'thinking.type "between_tools" takes no other field (sent: display).'
    >>> _between_tools_violation({"type": "between_tools"}, "max").fix
    "lower output_config.effort to high or below, or use thinking={'type': 'adaptive'}"
    >>> _between_tools_violation({"type": "between_tools"}, "high") is None
    True
    """
    extra = sorted(str(key) for key in thinking if key != "type")
    if extra:
        return Violation(
            BAD_REQUEST,
            f'thinking.type "between_tools" takes no other field (sent: {", ".join(extra)}).',
            "send thinking={'type': 'between_tools'} alone",
        )
    if effort in BETWEEN_TOOLS_REFUSED_EFFORTS:
        return Violation(
            BAD_REQUEST,
            f'thinking.type "between_tools" is not supported at effort {effort!r}; it takes low, medium or high.',
            "lower output_config.effort to high or below, or use thinking={'type': 'adaptive'}",
        )
    return None


def first_violation(model: "Model", view: RequestView) -> Violation | None:
    """The first of `model`'s request rules that `view` breaks, or None. In order: a rejected
    parameter, a parameter outside its allowed values, two parameters of an exclusive group, a
    thinking type the model does not take (or ``between_tools`` with another field or at effort
    ``xhigh`` / ``max``), a tool choice it does not take, too many output tokens.

    >>> from runtime.catalog.model import load_catalog
    >>> haiku = load_catalog().model("claude-haiku-4.5")
    >>> first_violation(haiku, RequestView({"temperature": 0.5, "top_p": 0.9})).message
    '`temperature` and `top_p` cannot both be specified for this model. Please use only one.'
    """
    rules = model.request_rules
    params = view.params
    for param in rules.rejected_params:
        if param in params:
            # Bedrock's words for Claude Opus 4.7 as reported in
            # https://github.com/RooCodeInc/Roo-Code/issues/12162 (AWS's card: "no longer supported")
            return Violation(BAD_REQUEST, f"`{param}` is deprecated for this model.", f"omit {param}")
    for param, bounds in rules.param_ranges.items():
        value = params.get(param)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and not _in_range(value, bounds):
            words = _range_words(bounds)
            return Violation(
                BAD_REQUEST,
                f"`{param}` must be {words}, or unset, for this model.",
                f"set {param} to {words} or omit it",
            )
    for group in rules.exclusive_params:
        sent = [param for param in group if param in params]
        if len(sent) > 1:
            names = " and ".join(f"`{param}`" for param in sent)
            return Violation(
                BAD_REQUEST,
                f"{names} cannot both be specified for this model. Please use only one.",
                f"drop {sent[-1]}",
            )
    thinking = view.thinking
    if rules.thinking is not None and isinstance(thinking, dict):
        mode = thinking.get("type")
        if mode not in rules.thinking:
            return Violation(BAD_REQUEST, _thinking_message(mode, rules.thinking), _thinking_fix(mode, rules.thinking))
        if mode == "between_tools":
            capped = _between_tools_violation(thinking, view.effort)
            if capped is not None:
                return capped
    if rules.tool_choice is not None and view.tool_choice is not None and view.tool_choice not in rules.tool_choice:
        # Anthropic's words name "tool" before "any"
        refused = " and ".join(f'"{kind}"' for kind in reversed(TOOL_CHOICES) if kind not in rules.tool_choice)
        usable = " or ".join(repr(kind) for kind in rules.tool_choice)
        return Violation(
            BAD_REQUEST,
            f"tool_choice: type {refused} are not supported for this model.",
            f"use tool_choice {usable}; say in the prompt when to use a tool",
        )
    limit = model.max_output_tokens
    if limit is not None and view.max_tokens is not None and view.max_tokens > limit:
        return Violation(
            BAD_REQUEST,
            f"max_tokens: {view.max_tokens} > {limit}, "
            "which is the maximum allowed number of output tokens for this model",
            f"lower max_tokens to {limit} or less",
        )
    return None
