"""Recurrent neural networks as scikit-learn estimators."""

from ._recurrent import GRUClassifier, GRURegressor, RNNClassifier, RNNRegressor

__all__ = ["GRUClassifier", "GRURegressor", "RNNClassifier", "RNNRegressor"]
__version__ = "0.1.0"
