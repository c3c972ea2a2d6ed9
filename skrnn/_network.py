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
    from_chunks,
    inference_chunk_size,
    last_step_index,
    make_chunking,
    reverse_steps,
    rows_to_chunks,
    to_chunks,
    training_chunk_size,
)
from ._memory import empty

# Codes of the kernels' activations, as the compiled modules define them.
ACTIVATIONS = dict(_elman.ACTIVATIONS)

# Sequences per block when predicting, to bound memory on large inputs.
PREDICT_BLOCK = 4096

LAYER_PARAMETERS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")

# The skip connection's weights (G * H, H), in a layer's dict when
# ``skip_steps`` is set; they follow LAYER_PARAMETERS in the solver's view
# (each direction's with its suffix).
SKIP_PARAMETER = "weight_skip"


def layer_parameter_names(layer, suffix=""):
    """The names of one direction's trainable arrays in a layer's dict, in
    the solver's order."""
    names = LAYER_PARAMETERS
    if SKIP_PARAMETER + suffix in layer:
        names = names + (SKIP_PARAMETER,)
    return [name + suffix for name in names]


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
    blas_inference : bool
        Where the kernels' small product covers only training-size chunks
        (see :func:`skrnn._layout.inference_chunk_size`), predict in larger
        chunks through BLAS when BLAS has AVX-512 kernels (measured faster
        for the LSTM only).
    """

    kernel: ModuleType
    n_gates: int
    cache_width: int
    torch_name: str
    forget_gate: int | None = None
    hidden_side_grad: bool = False
    blas_inference: bool = False


POOLINGS = ("last", "mean", "max")


@dataclass(frozen=True)
class Network:
    """The weights and settings of one network, as the passes read them.

    Attributes
    ----------
    cell : Cell
    activation : int
        Code of the recurrent units' activation (see ``ACTIVATIONS``).
    coefs : list of dict
        One dict of ``LAYER_PARAMETERS`` arrays per layer, PyTorch's layout;
        bidirectional layers add the same names with ``_reverse``.
    output_coef : ndarray of shape (n_outputs, W_last)
        ``W_last`` is the last layer's H, or 2H when bidirectional.
    output_intercept : ndarray of shape (n_outputs,)
    return_sequences : bool
        Read out every step (True) or one pooled state per sequence.
    pooling : {'last', 'mean', 'max'}
        Sequence-to-one: the last layer's state at each sequence's last real
        step (bidirectional: the backward direction's at the first step, its
        own last one), or the mean or maximum over the real steps.
    bidirectional : bool
        Every layer runs forward and over each sequence's real steps
        reversed; its output is ``[forward; backward]``, 2H wide.
    leak_rate : float
        Leaky units' rate (1 = the plain cell), as the kernels take it.
    skip_steps : int or None
        Steps back of the skip connection (None = none); each layer's dict
        then holds ``SKIP_PARAMETER`` (and, bidirectional, its ``_reverse``).
    """

    cell: Cell
    activation: int
    coefs: list
    output_coef: np.ndarray
    output_intercept: np.ndarray
    return_sequences: bool
    pooling: str = "last"
    bidirectional: bool = False
    leak_rate: float = 1.0
    skip_steps: int | None = None

    @property
    def directions(self):
        """Suffixes of the parameter names of each direction."""
        return ("", "_reverse") if self.bidirectional else ("",)

    def options(self, layer, suffix="", state_decay=None):
        """The kernels' keyword arguments for leaky units, skip connections
        and (the first layer of GRU-D) the decay of the previous state
        (chunked, ``(n_chunks, T, S, H)``), for one direction of a layer.
        The decay runs forward in time: the backward direction (suffix
        ``"_reverse"``) of a bidirectional layer is a plain cell."""
        kwargs = {}
        if self.leak_rate != 1.0:
            kwargs["leak_rate"] = float(self.leak_rate)
        if self.skip_steps:
            kwargs["skip_steps"] = int(self.skip_steps)
            kwargs["W_skip"] = layer[SKIP_PARAMETER + suffix]
        if state_decay is not None and not suffix:
            kwargs["state_decay"] = state_decay
        return kwargs


def layer_weights(layer, suffix=""):
    """One direction's arrays of a layer, in the kernels' argument order."""
    return [layer[name + suffix] for name in LAYER_PARAMETERS]


@dataclass
class Trace:
    """What one forward pass keeps for the backward pass.

    ``Z`` is ``(B, n_outputs)`` in batch order for sequence-to-one (``rows``
    index each sequence's last step in the chunked layout, ``pooled`` holds
    the read-out's inputs and ``argmax`` the steps that max pooling took), and
    ``(n_chunks, T, S, n_outputs)`` per step (``rows`` is None). ``inputs``
    are each layer's (dropped-out) inputs in time order; ``states`` and
    ``caches`` one array per layer and direction (``k * D + d``) in the time
    order its kernel ran (reversed for the backward direction); ``output`` the
    last layer's states in time order, 2H wide when bidirectional.
    ``state_decay`` and ``decayed`` (chunked) are the first layer's decay of
    the previous state and the decayed states its kernel read, or None.
    ``recurrent_masks`` (chunked, ``(n_chunks, S, H)``) and ``masked`` (the
    masked previous states each kernel's recurrent product read) are per
    layer and direction, as ``states``, or None without recurrent dropout.
    """

    chunking: object
    inputs: list
    states: list
    caches: list
    Z: np.ndarray
    rows: tuple | None
    output: np.ndarray = None
    masks: list | None = None
    pooled: np.ndarray | None = None
    argmax: np.ndarray | None = None
    cell_outputs: list | None = None
    state_decay: np.ndarray | None = None
    decayed: np.ndarray | None = None
    recurrent_masks: list | None = None
    masked: list | None = None


def _chunked_masks(masks, ch):
    """Dropout masks ``(B, F_k)`` per layer to ``(n_chunks, 1, S, F_k)``."""
    if masks is None:
        return None
    return [rows_to_chunks(m, ch)[:, None] for m in masks]


def _pool(net, H, ch):
    """The read-out's input per sequence, ``(B, W)`` in batch order, and
    for max pooling the step of each maximum ``(n_chunks, S, W)``."""
    c, t, s = last_step_index(ch)
    if net.pooling == "last":
        P = H[c, t, s]
        if net.bidirectional:
            half = H.shape[-1] // 2
            P[:, half:] = H[c, 0, s, half:]
        return P, None
    real = ch.mask[..., None]
    if net.pooling == "mean":
        total = np.where(real, H, 0).sum(axis=1)
        return total[c, s] / ch.lengths[c, s][:, None].astype(H.dtype), None
    masked = np.where(real, H, -np.inf)
    argmax = masked.argmax(axis=1)
    P = np.take_along_axis(masked, argmax[:, None], axis=1)[:, 0]
    return P[c, s], argmax


def _unpool(net, dP, trace):
    """dLoss/d(last layer's states) ``(n_chunks, T, S, W)`` from dLoss/dP."""
    ch = trace.chunking
    shape = trace.output.shape
    dH = np.zeros(shape, dtype=dP.dtype)
    c, t, s = trace.rows
    if net.pooling == "last":
        if net.bidirectional:
            half = shape[-1] // 2
            dH[c, t, s, :half] = dP[:, :half]
            dH[c, 0, s, half:] = dP[:, half:]
        else:
            dH[c, t, s] = dP
        return dH
    dPc = np.zeros((ch.n_chunks, ch.chunk_size, shape[-1]), dtype=dP.dtype)
    if net.pooling == "mean":
        dPc[c, s] = dP / ch.lengths[c, s][:, None].astype(dP.dtype)
        return np.where(ch.mask[..., None], dPc[:, None], 0).astype(dP.dtype)
    dPc[c, s] = dP
    np.put_along_axis(dH, trace.argmax[:, None], dPc[:, None], axis=1)
    return dH


def forward(
    net,
    X,
    lengths,
    n_threads,
    *,
    masks=None,
    recurrent_masks=None,
    state_decay=None,
    workspace=None,
):
    """Run every layer and the read-out on a batch; returns a :class:`Trace`.

    ``masks`` (training with dropout): one array ``(B, F_k)`` per layer in
    batch order that multiplies the layer's inputs at every step.
    ``recurrent_masks`` (training with recurrent dropout): one array
    ``(B, H_k)`` per layer and direction (``k * D + d``) in batch order that
    multiplies the previous state where it enters ``W_hh h_{t-1}``.
    ``state_decay`` (GRU-D): ``(B, T, H)`` in batch order, the factor of the
    first layer's previous state at each step (see ``src/_time_loop.pxi``).
    ``workspace`` (a :class:`skrnn._memory.Workspace`): where the large
    arrays are taken from, as :func:`backward` takes its own.
    """
    cell = net.cell
    sizes = [layer["weight_hh"].shape[1] for layer in net.coefs]
    ch = make_chunking(lengths, training_chunk_size(sizes))
    dtype = net.output_coef.dtype
    ws = workspace
    x = to_chunks(
        X,
        ch,
        dtype,
        out=empty(ws, "x", (ch.n_chunks, ch.n_steps, ch.chunk_size, X.shape[2]), dtype),
        n_threads=n_threads,
    )
    chunk_masks = _chunked_masks(masks, ch)
    rmasks = masked = None
    if recurrent_masks is not None:
        rmasks = [
            rows_to_chunks(m.astype(dtype, copy=False), ch) for m in recurrent_masks
        ]
        masked = []
    decay = decayed = None
    if state_decay is not None:
        decay = to_chunks(state_decay, ch, dtype=dtype)
    inputs, states, caches, cell_outputs = [], [], [], []
    for k, layer in enumerate(net.coefs):
        if chunk_masks is not None:
            x = x * chunk_masks[k]
        inputs.append(x)
        H = layer["weight_hh"].shape[1]
        outputs = []
        for d, suffix in enumerate(net.directions):
            shape = x.shape[:3]
            x_dir = x
            if suffix:
                x_dir = reverse_steps(x, ch, empty(ws, ("x_rev", k), x.shape, dtype))
            Hs = empty(ws, ("Hs", k, d), shape + (H,), dtype)
            cache = empty(ws, ("cache", k, d), shape + (cell.cache_width * H,), dtype)
            options = net.options(layer, suffix, decay if k == 0 else None)
            if net.leak_rate != 1.0:
                options["cell_out"] = np.empty(shape + (H,), dtype=dtype)
            if "state_decay" in options:
                decayed = options["decayed"] = np.empty(shape + (H,), dtype=dtype)
            if rmasks is not None:
                options["recurrent_mask"] = rmasks[k * len(net.directions) + d]
                options["masked"] = np.empty(shape + (H,), dtype=dtype)
                masked.append(options["masked"])
            cell.kernel.forward(
                x_dir,
                ch.lengths,
                *layer_weights(layer, suffix),
                Hs,
                cache,
                net.activation,
                n_threads,
                **options,
            )
            states.append(Hs)
            caches.append(cache)
            cell_outputs.append(options.get("cell_out"))
            if suffix:
                Hs = reverse_steps(Hs, ch, empty(ws, ("Hs_rev", k, d), Hs.shape, dtype))
            outputs.append(Hs)
        if len(outputs) == 1:
            x = outputs[0]
        else:
            both = empty(ws, ("both", k), shape + (len(outputs) * H,), dtype)
            x = np.concatenate(outputs, axis=-1, out=both)
    trace = Trace(
        ch,
        inputs,
        states,
        caches,
        None,
        None,
        x,
        chunk_masks,
        None,
        None,
        cell_outputs,
        decay,
        decayed,
        rmasks,
        masked,
    )
    if net.return_sequences:
        trace.Z = x @ net.output_coef.T + net.output_intercept
    else:
        trace.rows = last_step_index(ch)
        trace.pooled, trace.argmax = _pool(net, x, ch)
        trace.Z = trace.pooled @ net.output_coef.T + net.output_intercept
    return trace


def backward(
    net,
    trace,
    dZ,
    n_threads,
    *,
    bptt_steps=None,
    step_norms=None,
    step_grads=None,
    input_grads=None,
    workspace=None,
):
    """Gradients of every parameter given dLoss/dZ (same layout as ``Z``).

    Returns the gradients in the order of :func:`parameters`. With a dict
    ``input_grads``, it receives, in batch order ``(B, T, width)`` and zero at
    padded steps, dLoss/d(the first layer's inputs) as ``"X"`` and, when the
    forward pass had a ``state_decay``, dLoss/d(state_decay) under that name
    (GRU-D chains them to its decay parameters). With a list
    ``step_norms``, it receives each layer's (and direction's) norm of
    dLoss/dh_t per step; with a list ``step_grads``, each step's share of the
    recurrent parameters' gradients (see :func:`step_contributions`). The
    backward direction's steps count from each sequence's last real step, the
    order its kernel runs them in (and ``bptt_steps`` windows with them).
    ``workspace``: where the large arrays are taken from (see :func:`forward`).
    """
    cell = net.cell
    ws = workspace
    ch = trace.chunking
    last = trace.output
    if trace.rows is None:
        flat_Z = dZ.reshape(-1, dZ.shape[-1])
        dV = flat_Z.T @ last.reshape(-1, last.shape[-1])
        dc = flat_Z.sum(axis=0)
        dHs = dZ @ net.output_coef
    else:
        dV = dZ.T @ trace.pooled
        dc = dZ.sum(axis=0)
        dHs = _unpool(net, dZ @ net.output_coef, trace)
    C, T = ch.n_chunks, ch.n_steps
    B = int(np.count_nonzero(ch.order >= 0))
    n_dir = len(net.directions)
    grads = []
    for k in range(len(net.coefs) - 1, -1, -1):
        layer = net.coefs[k]
        x = trace.inputs[k]
        H = layer["weight_hh"].shape[1]
        layer_grads, norms, shares = [], [], []
        dX_total = None
        for d, suffix in enumerate(net.directions):
            W_ih = layer["weight_ih" + suffix]
            GH, F = W_ih.shape
            dtype = W_ih.dtype
            dH = dHs if n_dir == 1 else dHs[..., d * H : (d + 1) * H]
            x_dir = x
            if suffix:
                x_dir = reverse_steps(x, ch, empty(ws, ("x_rev", k), x.shape, dtype))
                dH = reverse_steps(dH, ch, empty(ws, "dH_rev", dH.shape, dtype))
            dH = np.ascontiguousarray(dH)
            need_dX = k > 0 or input_grads is not None
            # layer k's dX is layer k - 1's dH: alternate two buffers
            dX_shape = x.shape if need_dX else (0, 0, 0, 0)
            dX = empty(ws, ("dX", k % 2, d), dX_shape, dtype)
            dW_ih = empty(ws, "dW_ih", (C, GH, F), dtype)
            dW_hh = empty(ws, "dW_hh", (C, GH, H), dtype)
            db_ih = np.empty((C, GH), dtype=dtype)
            db_hh = np.empty((C, GH), dtype=dtype)
            # the per-step norms cost a serial pass per step: only when asked
            sq = np.empty((C, T if step_norms is not None else 0), dtype=dtype)
            dA_width = GH * (2 if cell.hidden_side_grad else 1)
            dA = empty(ws, "dA", x.shape[:3] + (dA_width,), dtype)
            Hs = trace.states[k * n_dir + d]
            options = net.options(layer, suffix, trace.state_decay if k == 0 else None)
            if net.leak_rate != 1.0:
                options["cell_out"] = trace.cell_outputs[k * n_dir + d]
            if net.skip_steps:
                options["dW_skip"] = np.empty((C, GH, H), dtype=dtype)
            if "state_decay" in options:
                options["decayed"] = trace.decayed
                options["decay_grad"] = np.empty(x.shape[:3] + (H,), dtype=dtype)
            if trace.recurrent_masks is not None:
                options["recurrent_mask"] = trace.recurrent_masks[k * n_dir + d]
                options["masked"] = trace.masked[k * n_dir + d]
            cell.kernel.backward(
                x_dir,
                ch.lengths,
                W_ih,
                layer["weight_hh" + suffix],
                Hs,
                trace.caches[k * n_dir + d],
                dH,
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
            layer_grads += [dW_ih.sum(0), dW_hh.sum(0), db_ih.sum(0), db_hh.sum(0)]
            if net.skip_steps:
                layer_grads.append(options["dW_skip"].sum(0))
            if step_norms is not None:
                norms.append(np.sqrt(sq.sum(axis=0, dtype=np.float64)))
            if step_grads is not None:
                shares += step_contributions(
                    x_dir,
                    Hs,
                    dA,
                    GH,
                    skip_steps=net.skip_steps,
                    previous=options.get("masked", options.get("decayed")),
                )
            if "decay_grad" in options and input_grads is not None:
                input_grads["state_decay"] = from_chunks(
                    options["decay_grad"], ch, B, fill=0
                )
            if need_dX:
                if suffix:
                    dX = reverse_steps(dX, ch, empty(ws, "dX_rev", dX.shape, dtype))
                dX_total = dX if dX_total is None else dX_total + dX
        grads = layer_grads + grads
        if step_norms is not None:
            step_norms[:0] = norms
        if step_grads is not None:
            step_grads[:0] = shares
        if dX_total is not None and trace.masks is not None:
            # through the dropout of this layer's inputs
            dX_total = dX_total * trace.masks[k]
        if k == 0 and input_grads is not None:
            input_grads["X"] = from_chunks(dX_total, ch, B, fill=0)
        dHs = dX_total
    return grads + [dV, dc]


def step_contributions(X, Hs, dA, GH, *, skip_steps=None, previous=None):
    """Each step's share of one layer's gradients, summed over the batch.

    ``X`` (n_chunks, T, S, F) are the layer's inputs, ``Hs`` its states and
    ``dA`` the pre-activation gradients its kernel's ``backward`` wrote.
    ``previous`` (same shape as ``Hs``) is the previous state the recurrent
    product read at each step when that is not the previous step's state
    (GRU-D: the decayed state, the kernel's ``decayed``; recurrent dropout:
    the masked one, the kernel's ``masked``). Returns arrays ``(T, *shape)``
    for ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh`` (and
    ``weight_skip`` with ``skip_steps``); their sums over T are the layer's
    gradients.
    """
    C, T, S, _ = X.shape

    def by_step(A):  # (C, T, S, W) -> (T, C * S, W)
        return A.transpose(1, 0, 2, 3).reshape(T, C * S, -1)

    d_in, d_hid = by_step(dA[..., :GH]), by_step(dA[..., -GH:])
    H = by_step(Hs)
    if previous is None:
        H_prev = np.zeros_like(H)
        H_prev[1:] = H[:-1]
    else:
        H_prev = by_step(previous)
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


def targets_at_entries(trace, Y, sw, total=None):
    """The entries of a batch that have a target.

    Returns the read-out's outputs, the targets and the weights of those
    entries normalised by their sum (sequence-to-one: or by ``total``, the
    weight of the minibatch a sub-batch is part of), and the boolean index
    that puts a gradient back into ``Z``'s layout (None for sequence-to-one,
    where ``Z`` is in batch order).
    """
    if trace.rows is not None:
        return trace.Z, Y[:, 0, :], sw / (sw.sum() if total is None else total), None
    ch = trace.chunking
    Yc = to_chunks(Y, ch)
    entries = ch.mask & ~np.isnan(Yc).any(axis=-1)
    w = chunked_weights(sw, ch)[entries]
    return trace.Z[entries], Yc[entries], w / w.sum(), entries


def loss_and_output_grad(trace, Y, sw, loss, total=None):
    """The loss of a traced batch and its gradient with respect to the
    read-out's outputs, in ``trace.Z``'s layout (zero where there is no
    target)."""
    Z, Yt, w, entries = targets_at_entries(trace, Y, sw, total)
    value, dZ = loss(Z, Yt.astype(Z.dtype), w.astype(Z.dtype))
    if entries is not None:
        full = np.zeros_like(trace.Z)
        full[entries] = dZ
        dZ = full
    return value, dZ


def chunked_weights(sw, ch):
    """Sample weights, per sequence ``(B,)`` or per step ``(B, T')``, in the
    chunked layout ``(n_chunks, T, chunk_size)`` (0 at filler rows)."""
    if sw.ndim == 2:
        return to_chunks(sw[:, :, None], ch, dtype=sw.dtype)[..., 0]
    wc = np.zeros(ch.n_chunks * ch.chunk_size, dtype=sw.dtype)
    wc[ch.order >= 0] = sw[ch.order[ch.order >= 0]]
    shape = (ch.n_chunks, ch.n_steps, ch.chunk_size)
    return np.broadcast_to(wc.reshape(ch.n_chunks, 1, ch.chunk_size), shape)


def infer_chunking(net, lengths):
    """The chunked layout of a batch for the inference path
    (:func:`skrnn._layout.inference_chunk_size`)."""
    sizes = [layer["weight_hh"].shape[1] for layer in net.coefs]
    return make_chunking(lengths, inference_chunk_size(net.cell, sizes))


def infer(net, X, lengths, n_threads, *, state_decay=None):
    """The read-out of :func:`forward`, by the kernels' inference path.

    No cache, and where the read-out needs no more (last-step pooling) only
    each sequence's last state of the last layer. Returns ``(B, n_outputs)``,
    or per step ``(B, T, n_outputs)`` with NaN at padded steps, in batch
    order. ``state_decay`` as in :func:`forward`.
    """
    ch = infer_chunking(net, lengths)
    states = infer_states(net, X, ch, n_threads, state_decay=state_decay)
    if net.return_sequences:
        Z = states @ net.output_coef.T + net.output_intercept
        return from_chunks(Z, ch, X.shape[0])
    return states @ net.output_coef.T + net.output_intercept


def infer_states(net, X, ch, n_threads, *, state_decay=None):
    """The last layer's states by the inference path: per step
    ``(n_chunks, T, S, W)`` with ``return_sequences``, else pooled per
    sequence ``(B, W)`` in batch order (what the read-out reads).
    ``state_decay`` as in :func:`forward`."""
    dtype = net.output_coef.dtype
    x = to_chunks(X, ch, dtype=dtype, n_threads=n_threads)
    decay = None if state_decay is None else to_chunks(state_decay, ch, dtype=dtype)
    n_layers = len(net.coefs)
    for k, layer in enumerate(net.coefs):
        H = layer["weight_hh"].shape[1]
        every_step = net.return_sequences or k < n_layers - 1 or net.pooling != "last"
        outputs = []
        for suffix in net.directions:
            x_dir = reverse_steps(x, ch) if suffix else x
            Hs = np.empty(x.shape[:3] + (H,) if every_step else (0,) * 4, dtype)
            last = np.empty(
                (0,) * 3 if every_step else x.shape[:1] + (ch.chunk_size, H), dtype
            )
            net.cell.kernel.infer(
                x_dir,
                ch.lengths,
                *layer_weights(layer, suffix),
                Hs,
                last,
                net.activation,
                n_threads,
                **net.options(layer, suffix, decay if k == 0 else None),
            )
            if every_step:
                outputs.append(reverse_steps(Hs, ch) if suffix else Hs)
            else:
                # the backward direction's last step is the sequence's first
                outputs.append(last)
        x = outputs[0] if len(outputs) == 1 else np.concatenate(outputs, axis=-1)
    if net.return_sequences:
        return x
    if net.pooling == "last":
        c, _, s = last_step_index(ch)
        return x[c, s]
    return _pool(net, x, ch)[0]


def raw_outputs(net, X, lengths, n_threads, *, pooled_states=False):
    """Read-out outputs in batch order: ``(n, n_outputs)``, or per step
    ``(n, T, n_outputs)`` with NaN at padded steps.

    Runs :func:`infer` in blocks of ``PREDICT_BLOCK`` sequences to bound
    memory. With ``pooled_states`` (sequence-to-one), the read-out's inputs
    ``(n, W)`` instead of its outputs.
    """
    n, T = X.shape[:2]
    n_out = net.output_coef.shape[0]
    _memory.check(
        _memory.forward_bytes(
            net.cell,
            [layer["weight_hh"].shape[1] * len(net.directions) for layer in net.coefs],
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
        if pooled_states:
            ch = infer_chunking(net, lengths[part])
            blocks.append(infer_states(net, Xb, ch, n_threads))
            continue
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
    each layer's ``LAYER_PARAMETERS`` (and ``SKIP_PARAMETER``), then
    (bidirectional) the same names with ``_reverse``, as PyTorch orders them;
    then the read-out's coefficients and intercept."""
    params = [layer[name] for _, name, layer in _named_arrays(net)]
    return params + [net.output_coef, net.output_intercept]


def _named_arrays(net):
    return [
        (k, name, layer)
        for k, layer in enumerate(net.coefs)
        for suffix in net.directions
        for name in layer_parameter_names(layer, suffix)
    ]


def parameter_names(net):
    """``(layer, name)`` of each recurrent array of :func:`parameters`."""
    return [(k, name) for k, name, _ in _named_arrays(net)]


def is_weight_matrix(n_layers, bidirectional=False, *, skip=False):
    """For each array of :func:`parameters`, whether it is a weight matrix
    (L2-penalised) rather than a bias; ``skip``: each direction of a layer
    has ``SKIP_PARAMETER`` (a weight matrix) too."""
    per_direction = [True, True, False, False] + ([True] if skip else [])
    per_layer = per_direction * (2 if bidirectional else 1)
    return per_layer * n_layers + [True, False]
