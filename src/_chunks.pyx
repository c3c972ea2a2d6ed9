"""Data movement of the chunked layout, and the scan of NaN padding.

Each is one pass over the data, where NumPy takes several passes and
temporaries of the data's size (skrnn._layout and skrnn._data call these and
keep the reference semantics in their docstrings). A chunk is a block of S
sequences sorted by length; ``(n_chunks, T, S, W)`` holds step t of its rows
together (see skrnn._layout).
"""
from cython.parallel cimport prange
from libc.float cimport DBL_MAX, FLT_MAX
from libc.math cimport fabs
from libc.string cimport memcpy, memset

from _common cimport floating


def scan_padding(const floating[:, :, ::1] X, Py_ssize_t[::1] lengths):
    """Each sequence's length and the first value that does not belong.

    Sets ``lengths[i]`` to one past the last step of sequence i that is not
    all NaN (0 if none) and returns ``(infinite, nan_inside)``: the flat index
    into X of the first infinite value and of the first NaN before its
    sequence's last real step, in C order, each -1 if there is none. Steps at
    or after a sequence's length are all NaN, so both can only lie before it.
    """
    cdef Py_ssize_t B = X.shape[0], T = X.shape[1], F = X.shape[2]
    if lengths.shape[0] != B:
        raise ValueError(f"lengths has {lengths.shape[0]} entries for {B} sequences")
    cdef Py_ssize_t i, t, f, L, n_nan, n_bad
    cdef Py_ssize_t infinite = -1, nan_inside = -1
    cdef floating v
    # the largest finite value: |v| <= big is False for inf and NaN alike
    cdef floating big = DBL_MAX if floating is double else FLT_MAX
    cdef const floating* row
    with nogil:
        for i in range(B):
            L = 0
            t = T - 1
            while t >= 0:
                row = &X[i, t, 0]
                n_nan = 0
                for f in range(F):
                    n_nan += row[f] != row[f]
                if n_nan < F:
                    L = t + 1
                    break
                t -= 1
            lengths[i] = L
            if infinite >= 0 and nan_inside >= 0:
                continue
            for t in range(L):
                row = &X[i, t, 0]
                n_bad = 0
                for f in range(F):
                    n_bad += not (fabs(row[f]) <= big)
                if n_bad == 0:
                    continue
                for f in range(F):
                    v = row[f]
                    if v != v:
                        if nan_inside < 0:
                            nan_inside = (i * T + t) * F + f
                    elif not (fabs(v) <= big) and infinite < 0:
                        infinite = (i * T + t) * F + f
    return infinite, nan_inside


def gather(const floating[:, :, ::1] A, const Py_ssize_t[::1] order,
           const int[:, ::1] lengths, floating[:, :, :, ::1] out,
           int n_threads=1):
    """``out[c, t, s] = A[order[c * S + s], t]`` at the row's real steps
    ``t < lengths[c, s]``, 0 elsewhere and at filler rows (``order < 0``);
    chunks over ``n_threads`` OpenMP threads (a copy: the same for any)."""
    cdef Py_ssize_t C = out.shape[0], T = out.shape[1], S = out.shape[2]
    cdef Py_ssize_t W = out.shape[3], B = A.shape[0]
    if lengths.shape[0] != C or lengths.shape[1] != S or order.shape[0] != C * S:
        raise ValueError(
            f"out {(out.shape[0], out.shape[1], out.shape[2], out.shape[3])}, "
            f"order {order.shape[0]} and lengths "
            f"{(lengths.shape[0], lengths.shape[1])} disagree on the chunks")
    if A.shape[2] != W:
        raise ValueError(f"A has {A.shape[2]} columns, out {W}")
    cdef Py_ssize_t c, s, t, L, k
    for k in range(C * S):
        c, s = k // S, k % S
        L = lengths[c, s]
        if L < 0 or L > T or L > A.shape[1] or order[k] >= B or (order[k] < 0 and L):
            raise ValueError(
                f"row {k}: length {L} or sequence {order[k]} out of range "
                f"({B} sequences of {A.shape[1]} steps, {T} steps out)")
    cdef size_t row = W * sizeof(floating)
    for c in prange(C, nogil=True, schedule='static', num_threads=n_threads):
        for t in range(T):
            for s in range(S):
                if t < lengths[c, s]:
                    memcpy(&out[c, t, s, 0], &A[order[c * S + s], t, 0], row)
                elif W:
                    memset(&out[c, t, s, 0], 0, row)


def reverse(const floating[:, :, :, ::1] A, const int[:, ::1] lengths,
            floating[:, :, :, ::1] out):
    """``out[c, t, s] = A[c, L - 1 - t, s]`` at the row's real steps
    ``t < L = lengths[c, s]``; its padded steps are copied as they are."""
    cdef Py_ssize_t C = A.shape[0], T = A.shape[1], S = A.shape[2], W = A.shape[3]
    if (out.shape[0] != C or out.shape[1] != T or out.shape[2] != S
            or out.shape[3] != W):
        raise ValueError(
            f"out {(out.shape[0], out.shape[1], out.shape[2], out.shape[3])} "
            f"is not A's {(C, T, S, W)}")
    if lengths.shape[0] != C or lengths.shape[1] != S:
        raise ValueError(
            f"lengths {(lengths.shape[0], lengths.shape[1])} is not {(C, S)}")
    cdef Py_ssize_t c, s, t, L
    for c in range(C):
        for s in range(S):
            if lengths[c, s] < 0 or lengths[c, s] > T:
                raise ValueError(f"length {lengths[c, s]} out of range 0..{T}")
    cdef size_t row = W * sizeof(floating)
    with nogil:
        for c in range(C):
            for t in range(T):
                for s in range(S):
                    L = lengths[c, s]
                    L = L - 1 - t if t < L else t
                    memcpy(&out[c, t, s, 0], &A[c, L, s, 0], row)
