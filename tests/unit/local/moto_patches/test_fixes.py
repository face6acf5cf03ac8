"""local/moto_patches/fixes.py: cases beyond the doctest."""

import pytest

from local.moto_patches.fixes import policy_text


@pytest.mark.parametrize(("policy", "expected"), [({"a": 1}, '{"a": 1}'), ('{"a": 1}', '{"a": 1}'), (None, None)])
def test_policy_text(policy, expected):
    assert policy_text(policy) == expected
