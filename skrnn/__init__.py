"""Recurrent neural networks as scikit-learn estimators."""

from ._echo_state import EchoStateClassifier, EchoStateRegressor
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
    "GRUClassifier",
    "GRURegressor",
    "LSTMClassifier",
    "LSTMRegressor",
    "RNNClassifier",
    "RNNRegressor",
]
__version__ = "0.1.0"
