"""Every copy of an estimator family's ``__init__`` agrees, and every default
is the one its docstring states."""

import ast
import inspect

import pytest
from numpydoc.docscrape import ClassDoc

import skrnn
from skrnn._base import BaseRecurrent
from skrnn._echo_state import BaseEchoState

ESTIMATORS = [getattr(skrnn, name) for name in skrnn.__all__]
FAMILIES = {
    BaseRecurrent: [Est for Est in ESTIMATORS if issubclass(Est, BaseRecurrent)],
    BaseEchoState: [Est for Est in ESTIMATORS if issubclass(Est, BaseEchoState)],
}


def _signature(cls):
    return inspect.signature(cls.__init__).parameters


@pytest.mark.parametrize("base", list(FAMILIES), ids=lambda b: b.__name__)
def test_every_init_of_a_family_has_the_bases_parameters_and_defaults(base):
    expected = _signature(base)
    extra_defaults = {}
    for Est in FAMILIES[base]:
        params = _signature(Est)
        for name, p in expected.items():
            assert name in params, (Est.__name__, name)
            assert params[name].default == p.default, (Est.__name__, name)
            assert params[name].kind == p.kind, (Est.__name__, name)
        for name in set(params) - set(expected):
            # parameters of some members only (loss, activation) agree too
            extra_defaults.setdefault(name, params[name].default)
            assert params[name].default == extra_defaults[name], (Est.__name__, name)


def _documented_defaults(cls):
    defaults = {}
    for names, type_, _ in ClassDoc(cls)["Parameters"]:
        if "default=" not in type_:
            continue
        names = [n.strip() for n in names.split(",")]
        text = type_.split("default=", 1)[1]
        values = [text] if len(names) == 1 else [v.strip() for v in text.split(",")]
        for name, value in zip(names, values, strict=True):
            defaults[name] = ast.literal_eval(value)
    return defaults


@pytest.mark.parametrize("Est", ESTIMATORS, ids=lambda e: e.__name__)
def test_documented_defaults_are_the_real_ones(Est):
    documented = _documented_defaults(Est)
    params = _signature(Est)
    for name, p in params.items():
        if name == "self":
            continue
        assert name in documented, f"{Est.__name__}: {name} has no documented default"
        assert documented[name] == p.default, (Est.__name__, name)
