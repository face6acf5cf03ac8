"""stacks/synth.py: the -c KEY=VALUE parser (its doctest shows the plain case)."""

import pytest

from runtime.errors import PortkeyBedrockError
from stacks.synth import parse_context


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [(["a=1"], {"a": "1"}), (["k=a=b"], {"k": "a=b"}), ([], {})],
)
def test_parse_context(pairs, expected):
    assert parse_context(pairs) == expected


@pytest.mark.parametrize("bad", ["novalue", "=x"])
def test_parse_context_rejects(bad):
    with pytest.raises(PortkeyBedrockError, match="key=value"):
        parse_context([bad])
