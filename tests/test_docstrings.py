"""The Examples sections of the public docstrings run as doctests."""

import doctest
import importlib
import warnings

import pytest

MODULES = [
    "skrnn._recurrent",
    "skrnn.inspection",
    "skrnn.preprocessing",
    "skrnn.datasets._pbcseq",
    "skrnn.datasets._synthetic",
    "skrnn.plotting",
    "skrnn._echo_state",
    "skrnn._em_recurrent",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
