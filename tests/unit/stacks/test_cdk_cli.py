"""stacks/cdk_cli.py: pure helpers, cases beyond their doctests."""

import pytest

from stacks.cdk_cli import context_args, error_tail


@pytest.mark.parametrize(
    ("context", "expected"),
    [({}, [])],
)
def test_context_args(context, expected):
    assert context_args(context) == expected


def test_error_tail_drops_node_banners():
    output = "!! node 20 !!\nb'!! x'\n(node:1) Warning\nreal line\n\n❌ failed\nError: boom\n"
    assert error_tail(output, lines=3) == "real line\n❌ failed\nError: boom"
