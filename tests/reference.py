"""Plain NumPy references of the recurrent cells, one sequence at a time.

Each ``*_step`` takes the input ``x (F,)``, the state tuple, the layer's
weights in PyTorch's layout and returns the new state tuple whose first entry
is the hidden output ``h``. They are written from PyTorch's documented
equations, independently of the kernels, and are slow on purpose.
"""

import numpy as np


def act(a, kind):
    if kind == "tanh":
        return np.tanh(a)
    if kind == "logistic":
        return 1.0 / (1.0 + np.exp(-a))
    if kind == "relu":
        return np.maximum(a, 0.0)
    return a


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def elman_init(H):
    return (np.zeros(H),)


def elman_step(x, state, W_ih, W_hh, b_ih, b_hh, activation="tanh"):
    (h,) = state
    return (act(W_ih @ x + b_ih + W_hh @ h + b_hh, activation),)


def run_layer(step, init, X, length, weights, **kw):
    """Hidden outputs ``(length, H)`` of one layer on one sequence."""
    H = weights[1].shape[1]
    state = init(H)
    out = []
    for t in range(length):
        state = step(X[t], state, *weights, **kw)
        out.append(state[0])
    return np.array(out).reshape(length, H)
