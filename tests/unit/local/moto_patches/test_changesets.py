"""local/moto_patches/changesets.py: cases beyond the doctest."""

import pytest

from local.moto_patches.changesets import previous_inputs


@pytest.mark.parametrize(
    ("template", "inputs", "expected"),
    [
        ({"Parameters": {"V": {"Default": "/p"}}}, {}, {"V": "/p"}),
        ({"Parameters": {"V": {"Default": "/p"}}}, {"V": "/q"}, {"V": "/q"}),
        ({}, None, {}),
    ],
)
def test_previous_inputs(template, inputs, expected):
    assert previous_inputs(template, inputs) == expected
