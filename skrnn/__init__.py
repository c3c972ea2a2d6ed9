"""Recurrent neural networks as scikit-learn estimators."""

from ._recurrent import (
    GRUClassifier,
    GRURegressor,
    LSTMClassifier,
    LSTMRegressor,
    RNNClassifier,
    RNNRegressor,
)

__all__ = [
    "GRUClassifier",
    "GRURegressor",
    "LSTMClassifier",
    "LSTMRegressor",
    "RNNClassifier",
    "RNNRegressor",
]
__version__ = "0.1.0"
