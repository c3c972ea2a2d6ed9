"""Helpers shared by the tests (fixtures stay in conftest.py)."""

import numpy as np


def ragged_problem(rng, n=30, max_steps=9, n_features=3):
    """Sequences of random lengths as a NaN-padded array, with their lengths."""
    lengths = rng.integers(1, max_steps + 1, size=n)
    lengths[0] = max_steps
    X = rng.normal(size=(n, max_steps, n_features))
    for i, length in enumerate(lengths):
        X[i, length:] = np.nan
    return X, lengths
