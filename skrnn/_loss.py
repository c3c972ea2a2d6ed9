"""Losses of the read-out and their gradients.

Each takes the read-out's raw outputs ``Z (n_entries, n_outputs)`` at the
entries that have a target, the targets ``Y`` of the same shape and the
weights ``w (n_entries,)`` of those entries, summing to 1, and returns the
weighted mean loss and its gradient with respect to ``Z``.
"""

import numpy as np
from scipy.special import expit, log_softmax, softmax


def squared_error(Z, Y, w):
    """0.5 x mean squared error over every (entry, output)."""
    R = Z - Y
    n_outputs = Z.shape[1]
    loss = 0.5 * float(np.dot(w, np.einsum("ij,ij->i", R, R))) / n_outputs
    return loss, R * (w[:, None] / n_outputs)


def binary_log_loss(Z, Y, w):
    """Cross-entropy of one logistic unit; ``Y`` holds 0 or 1."""
    z = Z[:, 0]
    per_entry = np.logaddexp(0, z) - Y[:, 0] * z
    loss = float(np.dot(w, per_entry))
    return loss, ((expit(z) - Y[:, 0]) * w)[:, None]


def multiclass_log_loss(Z, Y, w):
    """Cross-entropy of a softmax; ``Y`` is one-hot."""
    per_entry = -np.einsum("ij,ij->i", Y, log_softmax(Z, axis=1))
    loss = float(np.dot(w, per_entry))
    return loss, (softmax(Z, axis=1) - Y) * w[:, None]


def hinge(Z, Y, w):
    """Hinge loss of one decision value; ``Y`` holds 0 or 1 (read as -1, +1)."""
    sign = 2 * Y[:, 0] - 1
    margin = 1 - sign * Z[:, 0]
    active = margin > 0
    loss = float(np.dot(w, np.where(active, margin, 0)))
    return loss, (-sign * active * w)[:, None]
