"""Recurrent neural networks as scikit-learn estimators."""

from importlib.metadata import version as _version

from ._echo_state import EchoStateClassifier, EchoStateRegressor
from ._em_recurrent import EMRecurrentRegressor
from ._grud_estimators import GRUDClassifier, GRUDRegressor
from ._recurrent import (
    GRUClassifier,
    GRURegressor,
    LSTMClassifier,
    LSTMRegressor,
    RNNClassifier,
    RNNRegressor,
)

__all__ = [
    "EchoStateClassifier",
    "EchoStateRegressor",
    "EMRecurrentRegressor",
    "GRUClassifier",
    "GRUDClassifier",
    "GRUDRegressor",
    "GRURegressor",
    "LSTMClassifier",
    "LSTMRegressor",
    "RNNClassifier",
    "RNNRegressor",
]
__version__ = _version("skrnn")
