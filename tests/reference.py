"""Plain NumPy references of the recurrent cells, one sequence at a time.

Each ``*_step`` takes the input ``x (F,)``, the state tuple, the layer's
weights in PyTorch's layout and returns the new state tuple whose first entry
is the hidden output ``h``. They are written from PyTorch's documented
equations, independently of the kernels, and are slow on purpose.

``recurrent_mask`` (recurrent dropout, Keras's ``recurrent_dropout``): a
factor ``(H,)`` on ``h`` where it enters the recurrent product ``W_hh h``
only; the rest of the cell reads ``h`` unmasked.
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


def elman_step(
    x, state, W_ih, W_hh, b_ih, b_hh, activation="tanh", recurrent_mask=None
):
    (h,) = state
    hm = h if recurrent_mask is None else recurrent_mask * h
    return (act(W_ih @ x + b_ih + W_hh @ hm + b_hh, activation),)


def gru_init(H):
    return (np.zeros(H),)


def gru_step(x, state, W_ih, W_hh, b_ih, b_hh, activation=None, recurrent_mask=None):
    """torch.nn.GRU, gate rows r, z, n; ``activation`` is ignored."""
    (h,) = state
    hm = h if recurrent_mask is None else recurrent_mask * h
    W_ir, W_iz, W_in = np.split(W_ih, 3)
    W_hr, W_hz, W_hn = np.split(W_hh, 3)
    b_ir, b_iz, b_in = np.split(b_ih, 3)
    b_hr, b_hz, b_hn = np.split(b_hh, 3)
    r = sigmoid(W_ir @ x + b_ir + W_hr @ hm + b_hr)
    z = sigmoid(W_iz @ x + b_iz + W_hz @ hm + b_hz)
    n = np.tanh(W_in @ x + b_in + r * (W_hn @ hm + b_hn))
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


def lstm_step(x, state, W_ih, W_hh, b_ih, b_hh, activation=None, recurrent_mask=None):
    """torch.nn.LSTM: gate rows i, f, g, o."""
    h, c = state
    H = h.shape[0]
    hm = h if recurrent_mask is None else recurrent_mask * h
    a = W_ih @ x + b_ih + W_hh @ hm + b_hh
    i, f = sigmoid(a[:H]), sigmoid(a[H : 2 * H])
    g, o = np.tanh(a[2 * H : 3 * H]), sigmoid(a[3 * H :])
    c = f * c + i * g
    return (o * np.tanh(c), c)


def pool(H, pooling, bidirectional=False):
    """A sequence's read-out input from its last layer's states ``(n, W)``:
    the last step (bidirectional: the backward half at the first step), the
    mean or the maximum over the steps."""
    if pooling == "mean":
        return H.mean(axis=0)
    if pooling == "max":
        return H.max(axis=0)
    out = H[-1].copy()
    if bidirectional:
        half = H.shape[1] // 2
        out[half:] = H[0, half:]
    return out


# ---------------------------------------------------------------- GRU-D
# Che, Purushotham, Cho, Sontag and Liu (2018), "Recurrent neural networks
# for multivariate time series with missing values", Scientific Reports 8:6085,
# equations (the "GRU-D" section), one sequence at a time, for the estimators
# that issue 15 asks for. The GRU inside is torch.nn.GRU's (gate rows r, z, n,
# the reset applied after W_hn, h' = (1 - z) n + z h) on the input [x_hat, m],
# so that its weights have PyTorch's layout, weight_ih (3 H, 2 F);
# ``reset_after=False`` gives Che et al.'s own candidate,
# tanh(W x_hat + U (r * h_hat) + V m + b), with the update read as theirs,
# h = (1 - z) h_hat + z h_tilde.


def grud_deltas(mask, times):
    """Che et al.'s ``delta (T, F)``: ``s_t - s_(t-1) + delta_(t-1)`` where the
    feature was missing at ``t - 1``, ``s_t - s_(t-1)`` where it was observed,
    0 at the first step. ``mask (T, F)`` is 1 where observed, ``times (T,)``."""
    T, F = mask.shape
    delta = np.zeros((T, F))
    for t in range(1, T):
        gap = times[t] - times[t - 1]
        delta[t] = np.where(mask[t - 1] == 1, gap, gap + delta[t - 1])
    return delta


def grud_init(H):
    return (np.zeros(H),)


def grud_step(
    x,
    m,
    delta,
    x_last,
    state,
    x_mean,
    W_ih,
    W_hh,
    b_ih,
    b_hh,
    w_gx,
    b_gx,
    W_gh,
    b_gh,
    reset_after=True,
):
    """One GRU-D step.

    ``x (F,)`` (any value where ``m == 0``), ``m (F,)`` the mask, ``delta
    (F,)``, ``x_last (F,)`` the last observed value before this step (the
    training mean ``x_mean`` before the first); input decay ``w_gx, b_gx (F,)``
    (Che et al.'s diagonal ``W_gamma_x``), hidden decay ``W_gh (H, F)``,
    ``b_gh (H,)``. Returns the new state ``(h,)`` and ``x_hat``.
    """
    (h,) = state
    gamma_x = np.exp(-np.maximum(0.0, w_gx * delta + b_gx))
    gamma_h = np.exp(-np.maximum(0.0, W_gh @ delta + b_gh))
    x_hat = np.where(m == 1, x, gamma_x * x_last + (1 - gamma_x) * x_mean)
    h_hat = gamma_h * h
    u = np.concatenate([x_hat, m])
    if reset_after:
        return gru_step(u, (h_hat,), W_ih, W_hh, b_ih, b_hh), x_hat
    W_ir, W_iz, W_in = np.split(W_ih, 3)
    W_hr, W_hz, W_hn = np.split(W_hh, 3)
    b_ir, b_iz, b_in = np.split(b_ih, 3)
    b_hr, b_hz, b_hn = np.split(b_hh, 3)
    r = sigmoid(W_ir @ u + b_ir + W_hr @ h_hat + b_hr)
    z = sigmoid(W_iz @ u + b_iz + W_hz @ h_hat + b_hz)
    h_tilde = np.tanh(W_in @ u + b_in + W_hn @ (r * h_hat) + b_hn)
    return ((1 - z) * h_hat + z * h_tilde,), x_hat


def grud_run(X, times, length, x_mean, weights, reset_after=True):
    """GRU-D over one sequence ``X (T, F)`` with NaN where not measured and
    step times ``times (T,)``: the hidden outputs ``(length, H)`` and the
    decayed inputs ``x_hat (length, F)``. ``weights`` = ``(W_ih, W_hh, b_ih,
    b_hh, w_gx, b_gx, W_gh, b_gh)``; steps from ``length`` on are padding."""
    X = X[:length]
    mask = (~np.isnan(X)).astype(float)
    delta = grud_deltas(mask, times[:length])
    H = weights[1].shape[1]
    state = grud_init(H)
    x_last = np.asarray(x_mean, dtype=float).copy()
    hs, x_hats = [], []
    for t in range(length):
        state, x_hat = grud_step(
            np.nan_to_num(X[t]),
            mask[t],
            delta[t],
            x_last,
            state,
            x_mean,
            *weights,
            reset_after=reset_after,
        )
        x_last = np.where(mask[t] == 1, X[t], x_last)
        hs.append(state[0])
        x_hats.append(x_hat)
    return np.array(hs).reshape(length, H), np.array(x_hats).reshape(length, -1)


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
