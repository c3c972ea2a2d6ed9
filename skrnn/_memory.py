"""Peak memory estimates of fit and predict, checked before allocating.

Each estimate counts the large arrays that one step of the work holds at
once (a minibatch's chunked inputs, states, caches and gradients; a predict
block; EM's Gram products; the echo state reservoir's inputs), in bytes. An
estimate above the memory the machine has available is a ``MemoryError``
that names the estimate and what lowers it, instead of a kill by the
operating system's out-of-memory handler half-way through.
"""

import math

import numpy as np

from ._layout import CHUNK_SIZE


class Workspace:
    """The large arrays of a minibatch's passes, kept for the next minibatch.

    A fit's minibatches need arrays of the same sizes again and again; fresh
    ones of tens of megabytes come from the operating system each time, which
    zeroes their pages (14 % of an LSTM-256 fit at minibatch 200). An array
    taken under a key is a view of that key's buffer, valid until the key is
    taken again: the training loop takes each key once per minibatch.
    """

    def __init__(self):
        self._buffers = {}

    def empty(self, key, shape, dtype):
        """An uninitialised array of ``shape`` and ``dtype`` in ``key``'s buffer."""
        dtype = np.dtype(dtype)
        size = math.prod(shape)
        buffer = self._buffers.get(key)
        if buffer is None or buffer.dtype != dtype or buffer.size < size:
            buffer = self._buffers[key] = np.empty(size, dtype=dtype)
        return buffer[:size].reshape(shape)


def empty(workspace, key, shape, dtype):
    """``workspace.empty(key, shape, dtype)``, or ``np.empty`` without one."""
    if workspace is None:
        return np.empty(shape, dtype=dtype)
    return workspace.empty(key, shape, dtype)


def available_bytes():
    """``MemAvailable`` of ``/proc/meminfo`` (Linux), None where unreadable."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def check(estimate, what, fix):
    """Raise a ``MemoryError`` if ``estimate`` bytes exceed what is available.

    ``what`` names the work (``"fit"``), ``fix`` says what lowers the estimate.
    """
    available = available_bytes()
    if available is not None and estimate > available:
        raise MemoryError(
            f"{what} needs about {_gib(estimate)} of memory at its peak but "
            f"{_gib(available)} is available; {fix}."
        )


def _gib(n_bytes):
    return f"{n_bytes / 2**30:.2f} GiB"


# A minibatch's gradient pass runs over sub-batches of whole training chunks
# whose arrays take about SUB_BATCH_BYTES, where that leaves at least
# SUB_BATCH_MIN_CHUNKS chunks a sub-batch (parallel work for as many threads):
# the backward pass then reads the states and caches that the forward pass
# left in the core's caches. LSTM-32, minibatch 200 x 50 steps, float32, one
# thread: sub-batches of 64 sequences took a 3-epoch fit from 0.17-0.27 s to
# 0.10-0.11 s with the other core busy, and 8 % faster on an idle machine
# (benchmarks/RESULTS.md). Fixed by the model and the data, never by the
# number of threads.
SUB_BATCH_BYTES = 6 * 2**20
SUB_BATCH_MIN_CHUNKS = 4


def sub_batch_rows(row_bytes, chunk_size, budget=SUB_BATCH_BYTES):
    """Sequences per sub-batch of a gradient pass whose arrays take
    ``row_bytes`` a sequence, in chunks of ``chunk_size``; None: the whole
    minibatch at once (fewer than SUB_BATCH_MIN_CHUNKS chunks fit the budget)."""
    chunks = int(budget // (row_bytes * chunk_size))
    if chunks < SUB_BATCH_MIN_CHUNKS:
        return None
    return chunks * chunk_size


def _rows(n_sequences):
    """Rows of the chunked layout: sequences rounded up to whole chunks."""
    size = max(1, min(CHUNK_SIZE, n_sequences))
    return -(-n_sequences // size) * size


def forward_bytes(
    cell,
    sizes,
    n_features,
    n_sequences,
    n_steps,
    n_outputs,
    itemsize,
    *,
    leaky=False,
    masked=False,
):
    """A forward pass over a batch: its chunked inputs (and the copy that
    makes them), each layer's states and cache (and, for the training pass of
    leaky units, the cell's outputs; with recurrent dropout, the masked
    states), the read-out's outputs."""
    steps = _rows(n_sequences) * n_steps
    per_step = 2 * n_features + n_outputs
    per_step += sum(H * (1 + cell.cache_width + leaky + masked) for H in sizes)
    return steps * per_step * itemsize


def gradient_fit_bytes(
    cell,
    sizes,
    n_features,
    batch,
    n_steps,
    n_outputs,
    itemsize,
    *,
    step_shares,
    leaky=False,
    skip=False,
    masked=False,
):
    """One minibatch's forward and backward pass.

    The backward pass adds, for the layer it is in, the gradients of its
    states and inputs and its pre-activations' (``dA``), and each chunk's
    weight gradients (with ``skip``, the skip connection's too); the simplex
    direction keeps each step's share of them. ``leaky``: the forward pass
    keeps the cell's outputs beside the states; ``masked`` (recurrent
    dropout): the masked previous states too.
    """
    steps = _rows(batch) * n_steps
    layers = list(zip([n_features, *sizes[:-1]], sizes, strict=True))
    dA_width = cell.n_gates * (2 if cell.hidden_side_grad else 1)
    n_chunks = -(-batch // CHUNK_SIZE)
    backward = max(
        steps * (H + F + dA_width * H)
        + n_chunks * cell.n_gates * H * (F + H + 2 + skip * H)
        for F, H in layers
    )
    n_recurrent = sum(cell.n_gates * H * (F + H + 2 + skip * H) for F, H in layers)
    shares = n_steps * n_recurrent if step_shares else 0
    forward = forward_bytes(
        cell,
        sizes,
        n_features,
        batch,
        n_steps,
        n_outputs,
        itemsize,
        leaky=leaky,
        masked=masked,
    )
    return forward + (backward + shares + steps * n_outputs) * itemsize


def em_fit_bytes(n_sequences, n_steps, n_features, n_hidden, n_outputs, itemsize):
    """EM's largest step, the M-step: the row-wise outer products of the
    inputs ``u(n)`` of every step, ``(n_steps_total, D^2)`` with
    ``D = n_features + n_hidden + 1``, beside the E-step's chunked states,
    inputs and targets."""
    steps = _rows(n_sequences) * n_steps
    D = n_features + n_hidden + 1
    return steps * (D * D + 2 * D + 3 * n_hidden + 2 * n_outputs) * itemsize


def echo_state_bytes(n_sequences, n_steps, n_features, n_outputs, itemsize):
    """The reservoir's chunked inputs (built whole, run in blocks) and the
    per-step outputs or read-out targets with their indices."""
    steps = _rows(n_sequences) * n_steps
    return steps * (2 * n_features * itemsize + 3 * n_outputs * itemsize + 3 * 8)


PREDICT_FIX = "predict fewer or shorter sequences per call"
