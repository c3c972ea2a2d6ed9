"""The engine: a stack of recurrent layers and a linear read-out.

Forward pass, backpropagation through time and the read-out's raw outputs,
as functions of explicit inputs (a :class:`Network` and the data), on the
chunked layout of :mod:`skrnn._layout`. The estimators decide (parameters,
initialisation, the loss, the epoch loop); this module runs the passes; the
cell kernels (``skrnn._elman``, ``skrnn._lstm``, ``skrnn._gru``) compute.
"""

from dataclasses import dataclass
from types import ModuleType

import numpy as np

from . import _elman, _memory
from ._layout import (
    INFER_CHUNK_SIZE,
    from_chunks,
    last_step_index,
    make_chunking,
    to_chunks,
    training_chunk_size,
)

# Codes of the kernels' activations, as the compiled modules define them.
ACTIVATIONS = dict(_elman.ACTIVATIONS)

# Sequences per block when predicting, to bound memory on large inputs.
PREDICT_BLOCK = 4096

LAYER_PARAMETERS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")

# The skip connection's weights (G * H, H), in a layer's dict when
# ``skip_steps`` is set; they follow LAYER_PARAMETERS in the solver's view.
SKIP_PARAMETER = "weight_skip"


def layer_parameter_names(layer):
    """The trainable arrays' names of one layer's dict, in the solver's order."""
    if SKIP_PARAMETER in layer:
        return LAYER_PARAMETERS + (SKIP_PARAMETER,)
    return LAYER_PARAMETERS


@dataclass(frozen=True)
class Cell:
    """What the engine needs to know of a recurrent cell.

    Attributes
    ----------
    kernel : module
        Compiled module with ``forward``, ``infer`` and ``backward`` (see
        ``src/_time_loop.pxi`` for the signatures).
    n_gates : int
        Row blocks of the weight matrices (G in DESIGN.md).
    cache_width : int
        Per hidden unit, the width of the cache that ``forward`` fills for
        ``backward``.
    torch_name : str
        The ``torch.nn`` module with the same equations ('RNN', 'LSTM', 'GRU').
    forget_gate : int or None
        Index of the gate block whose bias starts at 1 (the LSTM forget gate).
    hidden_side_grad : bool
        ``backward``'s ``dA`` holds the gradients of the hidden-side
        pre-activations beside the input-side ones (the GRU, whose r gate
        multiplies ``W_hn h + b_hn``); otherwise one serves both sides.
    """

    kernel: ModuleType
    n_gates: int
    cache_width: int
    torch_name: str
    forget_gate: int | None = None
    hidden_side_grad: bool = False


@dataclass(frozen=True)
class Network:
    """The weights and settings of one network, as the passes read them.

    Attributes
    ----------
    cell : Cell
    activation : int
        Code of the recurrent units' activation (see ``ACTIVATIONS``).
    coefs : list of dict
        One dict of ``LAYER_PARAMETERS`` arrays per layer, PyTorch's layout.
    output_coef : ndarray of shape (n_outputs, H_last)
    output_intercept : ndarray of shape (n_outputs,)
    return_sequences : bool
        Read out every step (True) or each sequence's last real step.
    leak_rate : float
        Leaky units' rate (1 = the plain cell), as the kernels take it.
    skip_steps : int or None
        Steps back of the skip connection (None = none); each layer's dict
        then holds ``SKIP_PARAMETER``.
    """

    cell: Cell
    activation: int
    coefs: list
    output_coef: np.ndarray
    output_intercept: np.ndarray
    return_sequences: bool
    leak_rate: float = 1.0
    skip_steps: int | None = None

    def options(self, layer):
        """The kernels' keyword arguments for leaky units and skip connections."""
        kwargs = {}
        if self.leak_rate != 1.0:
            kwargs["leak_rate"] = float(self.leak_rate)
        if self.skip_steps:
            kwargs["skip_steps"] = int(self.skip_steps)
            kwargs["W_skip"] = layer[SKIP_PARAMETER]
        return kwargs


@dataclass
class Trace:
    """What one forward pass keeps for the backward pass.

    ``Z`` is ``(B, n_outputs)`` in batch order for sequence-to-one (``rows``
    index each sequence's last step in the chunked layout), and
    ``(n_chunks, T, S, n_outputs)`` per step (``rows`` is None).
    """

    chunking: object
    inputs: list
    states: list
    caches: list
    Z: np.ndarray
    rows: tuple | None
    cell_outputs: list | None = None


def forward(net, X, lengths, n_threads):
    """Run every layer and the read-out on a batch; returns a :class:`Trace`."""
    cell = net.cell
    sizes = [layer["weight_hh"].shape[1] for layer in net.coefs]
    ch = make_chunking(lengths, training_chunk_size(sizes))
    dtype = net.output_coef.dtype
    inputs = [to_chunks(X, ch, dtype=dtype)]
    states, caches, cell_outputs = [], [], []
    for layer in net.coefs:
        H = layer["weight_hh"].shape[1]
        shape = inputs[-1].shape[:3]
        Hs = np.empty(shape + (H,), dtype=dtype)
        cache = np.empty(shape + (cell.cache_width * H,), dtype=dtype)
        options = net.options(layer)
        if net.leak_rate != 1.0:
            options["cell_out"] = np.empty(shape + (H,), dtype=dtype)
        cell.kernel.forward(
            inputs[-1],
            ch.lengths,
            *(layer[name] for name in LAYER_PARAMETERS),
            Hs,
            cache,
            net.activation,
            n_threads,
            **options,
        )
        states.append(Hs)
        caches.append(cache)
        cell_outputs.append(options.get("cell_out"))
        inputs.append(Hs)
    last = states[-1]
    if net.return_sequences:
        rows = None
        Z = last @ net.output_coef.T + net.output_intercept
    else:
        rows = last_step_index(ch)
        Z = last[rows] @ net.output_coef.T + net.output_intercept
    return Trace(ch, inputs[:-1], states, caches, Z, rows, cell_outputs)


def backward(
    net, trace, dZ, n_threads, *, bptt_steps=None, step_norms=None, step_grads=None
):
    """Gradients of every parameter given dLoss/dZ (same layout as ``Z``).

    Returns the gradients in the order of :func:`parameters`. With a list
    ``step_norms``, it receives each layer's norm of dLoss/dh_t per step; with
    a list ``step_grads``, each step's share of the recurrent parameters'
    gradients (see :func:`step_contributions`).
    """
    cell = net.cell
    ch = trace.chunking
    last = trace.states[-1]
    if trace.rows is None:
        flat_Z = dZ.reshape(-1, dZ.shape[-1])
        dV = flat_Z.T @ last.reshape(-1, last.shape[-1])
        dc = flat_Z.sum(axis=0)
        dHs = dZ @ net.output_coef
    else:
        dV = dZ.T @ last[trace.rows]
        dc = dZ.sum(axis=0)
        dHs = np.zeros_like(last)
        dHs[trace.rows] = dZ @ net.output_coef
    C, T = ch.n_chunks, ch.n_steps
    grads = []
    for k in range(len(net.coefs) - 1, -1, -1):
        layer = net.coefs[k]
        Xc = trace.inputs[k]
        W_ih = layer["weight_ih"]
        GH, F = W_ih.shape
        H = layer["weight_hh"].shape[1]
        dtype = W_ih.dtype
        dX = np.empty(Xc.shape if k > 0 else (0, 0, 0, 0), dtype=dtype)
        dW_ih = np.empty((C, GH, F), dtype=dtype)
        dW_hh = np.empty((C, GH, H), dtype=dtype)
        db_ih = np.empty((C, GH), dtype=dtype)
        db_hh = np.empty((C, GH), dtype=dtype)
        sq = np.empty((C, T), dtype=dtype)
        dA = np.empty(
            Xc.shape[:3] + (GH * (2 if cell.hidden_side_grad else 1),), dtype=dtype
        )
        options = net.options(layer)
        if net.leak_rate != 1.0:
            options["cell_out"] = trace.cell_outputs[k]
        if net.skip_steps:
            options["dW_skip"] = np.empty((C, GH, H), dtype=dtype)
        cell.kernel.backward(
            Xc,
            ch.lengths,
            W_ih,
            layer["weight_hh"],
            trace.states[k],
            trace.caches[k],
            dHs,
            dX,
            dW_ih,
            dW_hh,
            db_ih,
            db_hh,
            dA,
            sq,
            net.activation,
            bptt_steps or 0,
            n_threads,
            **options,
        )
        layer_grads = [dW_ih.sum(0), dW_hh.sum(0), db_ih.sum(0), db_hh.sum(0)]
        if net.skip_steps:
            layer_grads.append(options["dW_skip"].sum(0))
        grads = layer_grads + grads
        if step_norms is not None:
            step_norms.insert(0, np.sqrt(sq.sum(axis=0, dtype=np.float64)))
        if step_grads is not None:
            step_grads[:0] = step_contributions(
                Xc, trace.states[k], dA, GH, skip_steps=net.skip_steps
            )
        dHs = dX
    return grads + [dV, dc]


def step_contributions(X, Hs, dA, GH, *, skip_steps=None):
    """Each step's share of one layer's gradients, summed over the batch.

    ``X`` (n_chunks, T, S, F) are the layer's inputs, ``Hs`` its states and
    ``dA`` the pre-activation gradients its kernel's ``backward`` wrote.
    Returns arrays ``(T, *shape)`` for ``weight_ih``, ``weight_hh``,
    ``bias_ih``, ``bias_hh`` (and ``weight_skip`` with ``skip_steps``); their
    sums over T are the layer's gradients.
    """
    C, T, S, _ = X.shape

    def by_step(A):  # (C, T, S, W) -> (T, C * S, W)
        return A.transpose(1, 0, 2, 3).reshape(T, C * S, -1)

    d_in, d_hid = by_step(dA[..., :GH]), by_step(dA[..., -GH:])
    H = by_step(Hs)
    H_prev = np.zeros_like(H)
    H_prev[1:] = H[:-1]
    shares = [
        d_in.transpose(0, 2, 1) @ by_step(X),
        d_hid.transpose(0, 2, 1) @ H_prev,
        d_in.sum(axis=1),
        d_hid.sum(axis=1),
    ]
    if skip_steps:
        H_skip = np.zeros_like(H)
        H_skip[skip_steps:] = H[:-skip_steps]
        shares.append(d_in.transpose(0, 2, 1) @ H_skip)
    return shares


def targets_at_entries(trace, Y, sw):
    """The entries of a batch that have a target.

    Returns the read-out's outputs, the targets and the normalised weights of
    those entries, and the boolean index that puts a gradient back into
    ``Z``'s layout (None for sequence-to-one, where ``Z`` is in batch order).
    """
    if trace.rows is not None:
        return trace.Z, Y[:, 0, :], sw / sw.sum(), None
    ch = trace.chunking
    Yc = to_chunks(Y, ch)
    wc = np.zeros(ch.n_chunks * ch.chunk_size, dtype=sw.dtype)
    wc[ch.order >= 0] = sw[ch.order[ch.order >= 0]]
    entries = ch.mask & ~np.isnan(Yc).any(axis=-1)
    w = np.broadcast_to(wc.reshape(ch.n_chunks, 1, ch.chunk_size), entries.shape)
    w = w[entries]
    return trace.Z[entries], Yc[entries], w / w.sum(), entries


def infer(net, X, lengths, n_threads):
    """The read-out of :func:`forward`, by the kernels' inference path.

    No cache, and for sequence-to-one only each sequence's last state of the
    last layer. Returns ``(B, n_outputs)``, or per step ``(B, T, n_outputs)``
    with NaN at padded steps, in batch order.
    """
    ch = make_chunking(lengths, INFER_CHUNK_SIZE)
    dtype = net.output_coef.dtype
    Xc = to_chunks(X, ch, dtype=dtype)
    for k, layer in enumerate(net.coefs):
        H = layer["weight_hh"].shape[1]
        every_step = net.return_sequences or k < len(net.coefs) - 1
        Hs = np.empty(Xc.shape[:3] + (H,) if every_step else (0,) * 4, dtype)
        last = np.empty(
            (0,) * 3 if every_step else Xc.shape[:1] + (ch.chunk_size, H), dtype
        )
        net.cell.kernel.infer(
            Xc,
            ch.lengths,
            *(layer[name] for name in LAYER_PARAMETERS),
            Hs,
            last,
            net.activation,
            n_threads,
            **net.options(layer),
        )
        Xc = Hs
    if net.return_sequences:
        Z = Hs @ net.output_coef.T + net.output_intercept
        return from_chunks(Z, ch, X.shape[0])
    c, _, s = last_step_index(ch)
    return last[c, s] @ net.output_coef.T + net.output_intercept


def raw_outputs(net, X, lengths, n_threads):
    """Read-out outputs in batch order: ``(n, n_outputs)``, or per step
    ``(n, T, n_outputs)`` with NaN at padded steps.

    Runs :func:`infer` in blocks of ``PREDICT_BLOCK`` sequences to bound
    memory.
    """
    n, T = X.shape[:2]
    n_out = net.output_coef.shape[0]
    _memory.check(
        _memory.forward_bytes(
            net.cell,
            [layer["weight_hh"].shape[1] for layer in net.coefs],
            X.shape[2],
            min(n, PREDICT_BLOCK),
            T,
            n_out,
            net.output_coef.dtype.itemsize,
        )
        # the per-step result, gathered from the layout and padded
        + (3 * n * T * n_out * 8 if net.return_sequences else 0),
        "predict",
        _memory.PREDICT_FIX,
    )
    blocks = []
    for start in range(0, X.shape[0], PREDICT_BLOCK):
        part = slice(start, start + PREDICT_BLOCK)
        Xb = X[part, : lengths[part].max()]
        Z = infer(net, Xb, lengths[part], n_threads)
        if net.return_sequences:
            Z = np.pad(
                Z,
                ((0, 0), (0, X.shape[1] - Z.shape[1]), (0, 0)),
                constant_values=np.nan,
            )
        blocks.append(Z)
    return np.concatenate(blocks)


def parameters(net):
    """All trainable arrays of ``net`` in a fixed order (the solver's view):
    each layer's ``LAYER_PARAMETERS``, then the read-out's coefficients and
    intercept."""
    params = [
        layer[name] for layer in net.coefs for name in layer_parameter_names(layer)
    ]
    return params + [net.output_coef, net.output_intercept]


def is_weight_matrix(n_layers, *, skip=False):
    """For each array of :func:`parameters`, whether it is a weight matrix
    (L2-penalised) rather than a bias; ``skip``: each layer has
    ``SKIP_PARAMETER`` (a weight matrix) too."""
    per_layer = [True, True, False, False] + ([True] if skip else [])
    return per_layer * n_layers + [True, False]
