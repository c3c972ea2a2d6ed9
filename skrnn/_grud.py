"""GRU-D (Che et al., Scientific Reports 8:6085, 2018): a GRU for series with
missing values, in NumPy.

For each step ``t`` of a sequence, with ``m_t`` the mask of the features
measured at ``t``, ``delta_t`` the time since each feature was last measured,
``x_last`` its last measured value (the training mean before its first
measurement) and ``x_mean`` its training mean::

    gamma_x = exp(-max(0, w_gx * delta_t + b_gx))                 (per feature)
    xhat_t  = m_t x_t + (1 - m_t) (gamma_x x_last + (1 - gamma_x) x_mean)
    gamma_h = exp(-max(0, W_gh delta_t + b_gh))                   (H, F) weights
    hhat    = gamma_h * h_{t-1}
    GRU step of torch.nn.GRU on the input [xhat_t, m_t] from hhat:
    r = sigmoid(W_ir u + b_ir + W_hr hhat + b_hr), z likewise,
    n = tanh(W_in u + b_in + r (W_hn hhat + b_hn)),
    h_t = (1 - z) n + z hhat

so ``weight_ih`` is ``(3 H, 2 F)`` (values, then the mask) and the other GRU
arrays are PyTorch's. A padded step (``t >= length``) keeps ``h``.

:func:`forward` and :func:`backward` are the NumPy reference: the input side
(decay of the inputs, their projection, the hidden decay factors) depends on
no state and is computed for all steps at once; only the recurrence runs step
by step. Arrays are batch-major ``(n, T, ...)``.

The reference is one layer, one direction; the estimators stack plain GRU
layers above it and may add a backward direction without decay. They run on
the kernels (the GRU's time loop with its
``state_decay`` option, through :mod:`skrnn._network`): :func:`static_inputs`
once per fit, then per pass :func:`decayed_inputs` gives the kernel's input
``u = [xhat, m]`` and ``gamma_h``, and :func:`decay_gradients` chains the
kernel's dL/du and dL/dgamma_h to the decay parameters.
"""

from dataclasses import dataclass

import numpy as np

PARAMETERS = (
    "weight_ih",
    "weight_hh",
    "bias_ih",
    "bias_hh",
    "decay_x_weight",
    "decay_x_bias",
    "decay_h_weight",
    "decay_h_bias",
)

# The decay parameters (on an estimator's first layer, beside its GRU arrays).
DECAY_PARAMETERS = PARAMETERS[4:]


def observed_inputs(X, times=None):
    """The mask, the time since each feature's last measurement and the last
    measured values of a batch with NaN for "not measured".

    ``X`` is ``(n, T, F)``; ``times`` ``(n, T)`` (None: steps 0, 1, 2, ...).
    Returns ``values`` (NaN replaced by 0), ``mask`` (1 where measured),
    ``delta`` (Che et al.'s: the time since the feature's last measurement,
    counted from the first step) and ``last`` (the last measured value
    before or at each step, NaN before the first one).
    """
    n, T, F = X.shape
    mask = ~np.isnan(X)
    if times is None:
        times = np.broadcast_to(np.arange(T, dtype=X.dtype), (n, T))
    gaps = np.zeros((n, T), dtype=X.dtype)
    gaps[:, 1:] = np.diff(times, axis=1)
    delta = np.zeros_like(X)
    last = np.full_like(X, np.nan)
    for t in range(T):
        if t > 0:
            delta[:, t] = gaps[:, t, None] + np.where(
                mask[:, t - 1], 0, delta[:, t - 1]
            )
            last[:, t] = last[:, t - 1]
        last[:, t] = np.where(mask[:, t], X[:, t], last[:, t])
    values = np.where(mask, X, 0).astype(X.dtype)
    return values, mask.astype(X.dtype), delta, last


@dataclass
class Trace:
    """What :func:`backward` needs of a forward pass."""

    inputs: np.ndarray  # (n, T, 2F): [xhat, mask]
    fill_gap: np.ndarray  # (n, T, F): (1 - m) (x_last - x_mean)
    gamma_x: np.ndarray
    pre_gx: np.ndarray
    gamma_h: np.ndarray
    pre_gh: np.ndarray
    delta: np.ndarray
    gates: np.ndarray  # (n, T, 4H): r, z, n, W_hn hhat + b_hn
    states: np.ndarray  # (n, T + 1, H): h_{-1} = 0, then h_t
    active: np.ndarray  # (n, T) bool


def forward(p, values, mask, delta, last, lengths, x_mean):
    """States ``(n, T, H)`` of every step (a padded step repeats the last
    real one) and the :class:`Trace` for :func:`backward`."""
    n, T, F = values.shape
    H = p["weight_hh"].shape[1]
    active = np.arange(T) < lengths[:, None]
    # padded steps may hold anything (NaN times): they must not reach a sum
    delta = np.where(active[..., None], delta, 0)
    last = np.where(np.isnan(last), x_mean, last)
    pre_gx = p["decay_x_weight"] * delta + p["decay_x_bias"]
    gamma_x = np.exp(-np.maximum(pre_gx, 0))
    fill_gap = (1 - mask) * (last - x_mean)
    xhat = mask * values + (1 - mask) * x_mean + gamma_x * fill_gap
    inputs = np.concatenate([xhat, mask], axis=2)
    proj = inputs @ p["weight_ih"].T + p["bias_ih"]
    pre_gh = delta @ p["decay_h_weight"].T + p["decay_h_bias"]
    gamma_h = np.exp(-np.maximum(pre_gh, 0))
    gates = np.empty((n, T, 4 * H), dtype=values.dtype)
    states = np.zeros((n, T + 1, H), dtype=values.dtype)
    W_hh, b_hh = p["weight_hh"], p["bias_hh"]
    for t in range(T):
        h_prev = states[:, t]
        hhat = gamma_h[:, t] * h_prev
        hp = hhat @ W_hh.T + b_hh
        a = proj[:, t]
        rz = _sigmoid(a[:, : 2 * H] + hp[:, : 2 * H])
        r, z = rz[:, :H], rz[:, H:]
        cand = np.tanh(a[:, 2 * H :] + r * hp[:, 2 * H :])
        h = (1 - z) * cand + z * hhat
        states[:, t + 1] = np.where(active[:, t, None], h, h_prev)
        gates[:, t] = np.concatenate([rz, cand, hp[:, 2 * H :]], axis=1)
    trace = Trace(
        inputs, fill_gap, gamma_x, pre_gx, gamma_h, pre_gh, delta, gates, states, active
    )
    return states[:, 1:], trace


def backward(p, trace, dHs, bptt_steps=None):
    """Gradients of the parameters (a dict keyed as :data:`PARAMETERS`)
    given dLoss/dh_t ``(n, T, H)``.

    ``bptt_steps`` (truncated BPTT, None = full): at the real steps ``t > 0``
    that are multiples of it, no gradient flows to ``h_{t-1}``; the hidden
    decay factor ``gamma_h`` of such a step keeps its gradient (as the
    kernels truncate).
    """
    n, T, H = dHs.shape
    F = trace.delta.shape[2]
    W_ih, W_hh = p["weight_ih"], p["weight_hh"]
    d_in = np.zeros((n, T, 3 * H), dtype=dHs.dtype)
    d_hid = np.zeros((n, T, 3 * H), dtype=dHs.dtype)
    d_gh = np.zeros((n, T, H), dtype=dHs.dtype)
    carry = np.zeros((n, H), dtype=dHs.dtype)
    for t in range(T - 1, -1, -1):
        d = dHs[:, t] + carry
        g = trace.gates[:, t]
        r, z, cand, hn = g[:, :H], g[:, H : 2 * H], g[:, 2 * H : 3 * H], g[:, 3 * H :]
        h_prev = trace.states[:, t]
        gamma = trace.gamma_h[:, t]
        hhat = gamma * h_prev
        dn = d * (1 - z) * (1 - cand * cand)
        dr = dn * hn * r * (1 - r)
        dz = d * (hhat - cand) * z * (1 - z)
        d_in[:, t] = np.concatenate([dr, dz, dn], axis=1)
        d_hid[:, t] = np.concatenate([dr, dz, dn * r], axis=1)
        dhhat = d * z + d_hid[:, t] @ W_hh
        d_gh[:, t] = dhhat * h_prev
        active = trace.active[:, t, None]
        d_in[:, t] *= active
        d_hid[:, t] *= active
        d_gh[:, t] *= active
        cut = bptt_steps is not None and t > 0 and t % bptt_steps == 0
        carry = np.where(active, 0 if cut else dhhat * gamma, d)
    hhat_all = trace.gamma_h * trace.states[:, :-1]
    du = -d_gh * trace.gamma_h * (trace.pre_gh > 0)
    d_inputs = d_in @ W_ih
    dv = -d_inputs[..., :F] * trace.fill_gap * trace.gamma_x * (trace.pre_gx > 0)
    return {
        "weight_ih": _outer_sum(d_in, trace.inputs),
        "weight_hh": _outer_sum(d_hid, hhat_all),
        "bias_ih": d_in.sum(axis=(0, 1)),
        "bias_hh": d_hid.sum(axis=(0, 1)),
        "decay_x_weight": (dv * trace.delta).sum(axis=(0, 1)),
        "decay_x_bias": dv.sum(axis=(0, 1)),
        "decay_h_weight": _outer_sum(du, trace.delta),
        "decay_h_bias": du.sum(axis=(0, 1)),
    }


# ------------------------------------------------------ the kernel path
def static_inputs(values, mask, delta, last, lengths, x_mean):
    """What of a batch depends on no parameter, ``(n, T, 4 F)``: the input
    without decay ``m x + (1 - m) x_mean``, the mask, ``delta`` (0 at padded
    steps) and the gap ``(1 - m) (x_last - x_mean)`` that ``gamma_x`` scales.

    Arguments as :func:`observed_inputs` returns them, the lengths and the
    training means.
    """
    active = np.arange(values.shape[1]) < lengths[:, None]
    delta = np.where(active[..., None], delta, 0)
    last = np.where(np.isnan(last), x_mean, last)
    base = mask * values + (1 - mask) * x_mean
    gap = (1 - mask) * (last - x_mean)
    return np.concatenate([base, mask, delta, gap], axis=2)


def _split_static(S):
    F = S.shape[2] // 4
    return [S[..., k * F : (k + 1) * F] for k in range(4)]


def decayed_inputs(p, S):
    """The kernel's input ``u = [xhat, m]`` ``(n, T, 2 F)``, the state decay
    ``gamma_h`` ``(n, T, H)`` and what :func:`decay_gradients` needs, from
    :func:`static_inputs` ``S``."""
    base, mask, delta, gap = _split_static(S)
    pre_gx = p["decay_x_weight"] * delta + p["decay_x_bias"]
    gamma_x = np.exp(-np.maximum(pre_gx, 0))
    inputs = np.concatenate([base + gamma_x * gap, mask], axis=2)
    pre_gh = delta @ p["decay_h_weight"].T + p["decay_h_bias"]
    gamma_h = np.exp(-np.maximum(pre_gh, 0))
    return inputs, gamma_h, (gamma_x, pre_gx, gamma_h, pre_gh)


def decay_gradients(S, saved, d_inputs, d_gamma_h, *, by_step=False):
    """Gradients of the decay parameters (a dict) from dL/du ``(n, T, 2 F)``
    and dL/dgamma_h ``(n, T, H)`` (both zero at padded steps).

    ``by_step``: each step's share instead, arrays ``(T, *shape)`` summed
    over the batch only (what ``solver='simplex'`` mixes); their sums over
    T are the gradients.
    """
    _, _, delta, gap = _split_static(S)
    gamma_x, pre_gx, gamma_h, pre_gh = saved
    F = delta.shape[2]
    dv = -d_inputs[..., :F] * gap * gamma_x * (pre_gx > 0)
    du = -d_gamma_h * gamma_h * (pre_gh > 0)
    if by_step:
        return {
            "decay_x_weight": (dv * delta).sum(axis=0),
            "decay_x_bias": dv.sum(axis=0),
            "decay_h_weight": du.transpose(1, 2, 0) @ delta.transpose(1, 0, 2),
            "decay_h_bias": du.sum(axis=0),
        }
    return {
        "decay_x_weight": (dv * delta).sum(axis=(0, 1)),
        "decay_x_bias": dv.sum(axis=(0, 1)),
        "decay_h_weight": _outer_sum(du, delta),
        "decay_h_bias": du.sum(axis=(0, 1)),
    }


def _outer_sum(A, B):
    """``sum over n, t of A[n, t]' B[n, t]``."""
    return A.reshape(-1, A.shape[-1]).T @ B.reshape(-1, B.shape[-1])


def _sigmoid(a):
    return 0.5 * (1 + np.tanh(0.5 * a))
