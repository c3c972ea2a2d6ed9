"""The chunked time-major layout that the kernels work on.

A batch of ``B`` padded sequences ``(B, T, F)`` is sorted by length (longest
first, ties kept in order), cut into chunks of ``CHUNK_SIZE`` sequences and
stored as ``(n_chunks, T, CHUNK_SIZE, F)``. The last chunk is filled up with
empty rows of length 0. Chunks are the unit of parallel work; their size is
fixed by the model (training) or by the model, the kernels' build and the BLAS
(prediction), never by the number of threads, so that results never depend on
it.
"""

from dataclasses import dataclass

import numpy as np

from . import _chunks

CHUNK_SIZE = 16


def training_chunk_size(hidden_sizes):
    """Sequences per chunk in training, fixed by the model (never by threads).

    From hidden size 128 on, chunks of 32: the per-step products are twice as
    tall for the same packing of ``W_hh`` (measured faster at LSTM-128 and
    LSTM-256, minibatch 64). Smaller models keep 16.
    """
    return 2 * CHUNK_SIZE if max(hidden_sizes) >= 128 else CHUNK_SIZE


# Prediction has no gradient sums to keep in order: larger chunks, larger
# per-step products. A row's sums do not depend on the chunk size where the
# per-step product is the time loop's own (H <= 64, or H <= 128 in the
# AVX-512 build: src/_small_gemm.h); at larger H, BLAS may sum a row
# differently for 16 and 64 rows (OpenBLAS's Haswell sgemm does), so
# prediction then agrees with training to rounding.
INFER_CHUNK_SIZE = 64
# Where BLAS does the per-step products, taller ones run nearer its peak:
# LSTM-256 float32 predict 6 % faster with 128 rows than with 64 (1 thread,
# AMD EPYC Zen 5, OpenBLAS's SkylakeX kernels; 1 % in float64).
BLAS_INFER_CHUNK_SIZE = 128


def inference_chunk_size(cell, hidden_sizes):
    """Sequences per chunk in prediction, fixed by the model, the kernels'
    build and the BLAS it calls (never by the number of threads).

    ``INFER_CHUNK_SIZE`` where the small product does every per-step product.
    Where it covers only training-size chunks (hidden 129-256 in the AVX-512
    build), chunks of that size, so that prediction runs the small product
    too, unless the cell prefers BLAS (``Cell.blas_inference``) and BLAS has
    AVX-512 kernels: there, and where BLAS does every per-step product,
    ``BLAS_INFER_CHUNK_SIZE``. Measured at hidden 256, 2048 sequences x 50
    steps, 1 thread, AMD EPYC Zen 5 (benchmarks/RESULTS.md, issue 13): the
    small product against OpenBLAS's SkylakeX kernels in chunks of 64, GRU
    float32 249.5 against 267.0-298.6 ms, float64 458.0 against 608.8-635.9,
    Elman RNN 76.2 against 86.8, but LSTM float64 761-850 against 725-804;
    against its Haswell kernels 39-57 % less time for all three.
    """
    from . import _threads

    H = max(hidden_sizes)
    rows = cell.kernel.small_forward_rows(H)
    if rows >= INFER_CHUNK_SIZE:
        return INFER_CHUNK_SIZE
    if rows > 0 and not (cell.blas_inference and _threads.blas_has_avx512()):
        return rows
    return BLAS_INFER_CHUNK_SIZE


@dataclass(frozen=True)
class Chunking:
    """Where each sequence of a batch sits in the chunked layout.

    Attributes
    ----------
    order : ndarray of shape (n_chunks * chunk_size,)
        Batch index of the sequence in each chunk row (row-major over
        ``(chunk, row)``), -1 for filler rows.
    lengths : ndarray of shape (n_chunks, chunk_size), int32
        Length of each chunk row, non-increasing within a chunk.
    n_steps : int
        Padded length ``T`` of the layout (the longest sequence).
    """

    order: np.ndarray
    lengths: np.ndarray
    n_steps: int

    @property
    def n_chunks(self):
        return self.lengths.shape[0]

    @property
    def chunk_size(self):
        return self.lengths.shape[1]

    @property
    def mask(self):
        """Boolean ``(n_chunks, T, chunk_size)``: True at real steps."""
        steps = np.arange(self.n_steps)[None, :, None]
        return steps < self.lengths[:, None, :]


def make_chunking(lengths, chunk_size=CHUNK_SIZE):
    """Sort a batch by length and cut it into chunks.

    Parameters
    ----------
    lengths : ndarray of shape (B,)
        Real length of each sequence (at least 1).
    chunk_size : int
        Sequences per chunk (fewer when the batch is smaller).

    Returns
    -------
    Chunking
    """
    lengths = np.asarray(lengths, dtype=np.intp)
    n = lengths.shape[0]
    # a batch smaller than a chunk is one chunk of its own size: no filler rows
    chunk_size = max(1, min(chunk_size, n))
    n_chunks = -(-n // chunk_size)
    sorted_idx = np.argsort(-lengths, kind="stable")
    order = np.full(n_chunks * chunk_size, -1, dtype=np.intp)
    order[:n] = sorted_idx
    chunk_lengths = np.zeros(n_chunks * chunk_size, dtype=np.int32)
    chunk_lengths[:n] = lengths[sorted_idx]
    n_steps = int(lengths.max()) if n else 0
    return Chunking(order, chunk_lengths.reshape(n_chunks, chunk_size), n_steps)


def to_chunks(A, chunking, dtype=None, *, out=None, n_threads=1):
    """Gather a padded batch ``(B, T', W)`` into ``(n_chunks, T, S, W)``.

    Steps beyond each sequence's length are set to 0 (they may hold NaN
    padding); steps beyond ``A.shape[1]`` do not occur since ``T <= T'``.
    ``out``: an array of the result's shape and dtype to write it to.
    ``n_threads``: OpenMP threads over the chunks.
    """
    dtype = A.dtype if dtype is None else np.dtype(dtype)
    A = np.ascontiguousarray(A, dtype=dtype)
    C, S, T = chunking.n_chunks, chunking.chunk_size, chunking.n_steps
    if out is None:
        out = np.empty((C, T, S, A.shape[2]), dtype=dtype)
    _chunks.gather(A, chunking.order, chunking.lengths, out, n_threads)
    return out


def from_chunks(Ac, chunking, n_sequences, fill=np.nan):
    """Scatter ``(n_chunks, T, S, W)`` back to ``(B, T, W)``, ``fill`` at padding."""
    C, T, S, W = Ac.shape
    mask = chunking.mask[..., None]
    flat = np.where(mask, Ac, fill).transpose(0, 2, 1, 3).reshape(C * S, T, W)
    rows = chunking.order >= 0
    out = np.empty((n_sequences, T, W), dtype=flat.dtype)
    out[chunking.order[rows]] = flat[rows]
    return out


def last_step_index(chunking):
    """Index arrays into ``(n_chunks, T, S)`` of each sequence's last real step.

    Returns ``(c, t, s)`` for the sequences in batch order ``0 .. B-1``.
    """
    S = chunking.chunk_size
    rows = np.flatnonzero(chunking.order >= 0)
    batch = chunking.order[rows]
    inverse = np.empty_like(rows)
    inverse[batch] = rows
    c, s = np.divmod(inverse, S)
    t = chunking.lengths[c, s] - 1
    return c, t, s


def reverse_steps(A, chunking, out=None):
    """Each row's real steps of ``(n_chunks, T, S, W)`` in reverse order.

    Row ``s`` of chunk ``c`` with length ``L`` gets ``A[c, L - 1 - t, s]`` at
    its real steps ``t < L``; padded steps stay where they are. The map is its
    own inverse. The backward direction of a bidirectional layer runs the
    kernels on the reversed rows, so that every row starts at step 0.
    ``out``: an array of ``A``'s shape and dtype to write the result to.
    """
    A = np.ascontiguousarray(A)
    if out is None:
        out = np.empty_like(A)
    _chunks.reverse(A, chunking.lengths, out)
    return out


def rows_to_chunks(A, chunking):
    """Per-sequence rows ``(B, W)`` in batch order to ``(n_chunks, S, W)``,
    0 at filler rows."""
    out = np.zeros((chunking.order.shape[0], A.shape[1]), dtype=A.dtype)
    rows = chunking.order >= 0
    out[rows] = A[chunking.order[rows]]
    return out.reshape(chunking.n_chunks, chunking.chunk_size, -1)
