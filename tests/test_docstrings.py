"""The public docstrings: their Examples run as doctests, and numpydoc
validates them."""

import doctest
import importlib
import inspect
import warnings

import pytest

MODULES = [
    "skrnn._recurrent",
    "skrnn.inspection",
    "skrnn.preprocessing",
    "skrnn._imputer",
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


PUBLIC_MODULES = [
    "skrnn",
    "skrnn.preprocessing",
    "skrnn.datasets",
    "skrnn.inspection",
    "skrnn.plotting",
]

# numpydoc checks that are style, not content: the summary's placement (GL01,
# GL02), its mood (SS05), an extended summary (ES01), See Also (SA01) and
# Examples (EX01) everywhere (the classes and functions have them; methods need
# not), and a Returns line with only the type (RT02: scikit-learn writes
# "self : object")
IGNORED_CHECKS = {"GL01", "GL02", "SS05", "ES01", "SA01", "EX01", "RT02"}


def _public_names():
    names = []
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if not callable(obj):  # constants such as PBCSEQ_FEATURES
                continue
            names.append(f"{module_name}.{name}")
            if not inspect.isclass(obj):
                continue
            for member, value in inspect.getmembers(obj):
                defined_here = getattr(value, "__module__", "") or ""
                if (
                    not member.startswith("_")
                    and callable(value)
                    and defined_here.startswith("skrnn")
                ):
                    names.append(f"{module_name}.{name}.{member}")
    return names


@pytest.mark.parametrize("name", _public_names())
def test_public_docstrings_pass_numpydoc_validation(name):
    numpydoc_validate = pytest.importorskip("numpydoc.validate")
    result = numpydoc_validate.validate(name)
    errors = [
        f"{code}: {message}"
        for code, message in result["errors"]
        if code not in IGNORED_CHECKS
    ]
    assert not errors, "\n".join(errors)


def test_every_module_lists_the_public_names_it_defines():
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        defined = {
            name
            for name, value in vars(module).items()
            if not name.startswith("_")
            and (inspect.isclass(value) or inspect.isfunction(value))
            and value.__module__ == module_name
        }
        assert defined <= set(module.__all__), module_name
