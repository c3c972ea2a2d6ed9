"""Recurrent neural networks as scikit-learn estimators."""

from ._recurrent import RNNClassifier, RNNRegressor

__all__ = ["RNNClassifier", "RNNRegressor"]
__version__ = "0.1.0"
