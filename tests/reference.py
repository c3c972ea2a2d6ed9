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


def gru_init(H):
    return (np.zeros(H),)


def gru_step(x, state, W_ih, W_hh, b_ih, b_hh, activation=None):
    """torch.nn.GRU, gate rows r, z, n; ``activation`` is ignored."""
    (h,) = state
    W_ir, W_iz, W_in = np.split(W_ih, 3)
    W_hr, W_hz, W_hn = np.split(W_hh, 3)
    b_ir, b_iz, b_in = np.split(b_ih, 3)
    b_hr, b_hz, b_hn = np.split(b_hh, 3)
    r = sigmoid(W_ir @ x + b_ir + W_hr @ h + b_hr)
    z = sigmoid(W_iz @ x + b_iz + W_hz @ h + b_hz)
    n = np.tanh(W_in @ x + b_in + r * (W_hn @ h + b_hn))
    return ((1 - z) * n + z * h,)


def run_layer(step, init, X, length, weights, **kw):
    """Hidden outputs ``(length, H)`` of one layer on one sequence."""
    H = weights[1].shape[1]
    state = init(H)
    out = []
    for t in range(length):
        state = step(X[t], state, *weights, **kw)
        out.append(state[0])
    return np.array(out).reshape(length, H)


def lstm_init(H):
    return (np.zeros(H), np.zeros(H))


def lstm_step(x, state, W_ih, W_hh, b_ih, b_hh, activation=None):
    """torch.nn.LSTM: gate rows i, f, g, o."""
    h, c = state
    H = h.shape[0]
    a = W_ih @ x + b_ih + W_hh @ h + b_hh
    i, f = sigmoid(a[:H]), sigmoid(a[H : 2 * H])
    g, o = np.tanh(a[2 * H : 3 * H]), sigmoid(a[3 * H :])
    c = f * c + i * g
    return (o * np.tanh(c), c)


def run_layer_long(
    step, init, X, length, weights, leak_rate=1.0, skip_steps=None, W_skip=None, **kw
):
    """:func:`run_layer` with leaky units and a skip connection through time.

    Leaky: ``h_t = (1 - a) h_{t-1} + a cell(x_t, h_{t-1})`` (the other state
    entries, the LSTM's cell state, as the cell leaves them). Skip: the input
    side of every gate receives ``W_skip h_{t-k}``, written here as a second
    input, ``[W_ih, W_skip] [x_t; h_{t-k}]`` (``h_{t-k} = 0`` for ``t < k``).
    """
    W_ih, W_hh, b_ih, b_hh = weights
    H = W_hh.shape[1]
    state = init(H)
    out = []
    for t in range(length):
        x, W_in = X[t], W_ih
        if skip_steps:
            h_skip = out[t - skip_steps] if t >= skip_steps else np.zeros(H)
            x, W_in = np.concatenate([x, h_skip]), np.hstack([W_ih, W_skip])
        new = step(x, state, W_in, W_hh, b_ih, b_hh, **kw)
        h = (1 - leak_rate) * state[0] + leak_rate * new[0]
        state = (h,) + tuple(new[1:])
        out.append(h)
    return np.array(out).reshape(length, H)
