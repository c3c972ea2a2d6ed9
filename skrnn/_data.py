"""Checks and conversions of sequence data: X, lengths, padding, y.

The conventions (DESIGN.md, "Data"):

- ``X`` is ``(n_sequences, n_steps, n_features)``; a 2-D table
  ``(n_samples, n_features)`` is a set of one-step sequences; a list of NumPy
  arrays is a set of sequences of their own lengths (2-D arrays are
  ``(n_steps_i, n_features)``, 1-D arrays univariate series), padded with NaN.
- A sequence ends at its last step that is not all-NaN; trailing all-NaN steps
  are padding. A NaN before that is an error, and so is a sequence with no
  observed step.
"""

import numpy as np
from sklearn.utils.validation import (
    _check_feature_names,
    _check_sample_weight,
    check_array,
    check_is_fitted,
    validate_data,
)

from . import _chunks

FLOAT_DTYPES = (np.float64, np.float32)

IMPUTE_HINT = (
    "impute it in a Pipeline, e.g. with skrnn.preprocessing.SequenceImputer() "
    "(each sequence's last observed value carried forward) or "
    "TimestepTransformer(SimpleImputer()) (the mean over all steps)"
)


def _is_sequence_list(X):
    return (
        isinstance(X, (list, tuple))
        and len(X) > 0
        and all(isinstance(x, np.ndarray) for x in X)
    )


def pad_sequences(sequences, dtype=None):
    """Stack arrays of different lengths into a NaN-padded 3-D array.

    Parameters
    ----------
    sequences : list of ndarray
        Each of shape ``(n_steps_i, n_features)``, or ``(n_steps_i,)`` for a
        univariate series.
    dtype : dtype, default=None
        Result dtype; float64 unless every sequence is float32.

    Returns
    -------
    X : ndarray of shape (n_sequences, max n_steps_i, n_features)
    """
    arrays = []
    for i, seq in enumerate(sequences):
        a = np.asarray(seq)
        if a.ndim == 1:
            a = a[:, None]
        if a.ndim != 2:
            raise ValueError(
                f"Sequence {i} has {a.ndim} dimensions; each sequence in a list "
                "must be 2-D (n_steps, n_features) or 1-D (a univariate series)."
            )
        arrays.append(a)
    n_features = {a.shape[1] for a in arrays}
    if len(n_features) > 1:
        raise ValueError(
            "All sequences must have the same number of features; got "
            f"{sorted(n_features)}."
        )
    if dtype is None:
        all32 = all(a.dtype == np.float32 for a in arrays)
        dtype = np.float32 if all32 else np.float64
    n_steps = max(a.shape[0] for a in arrays)
    out = np.full((len(arrays), n_steps, n_features.pop()), np.nan, dtype=dtype)
    for i, a in enumerate(arrays):
        out[i, : a.shape[0]] = a
    return out


def sequence_lengths(X):
    """Real length of each sequence of a NaN-padded 3-D array.

    Parameters
    ----------
    X : ndarray of shape (n_sequences, n_steps, n_features)

    Returns
    -------
    lengths : ndarray of shape (n_sequences,), int
        One past each sequence's last step that is not all-NaN (0 if none).
    """
    return _scan(X)[0]


def _scan(X):
    """``(lengths, infinite, nan_inside)`` of ``X`` in one pass: the lengths
    and the flat indices of the first infinite value and of the first NaN
    before a sequence's last real step (-1 if none), by ``_chunks.scan_padding``."""
    X = np.ascontiguousarray(X)
    if X.dtype not in FLOAT_DTYPES:
        X = X.astype(np.float64)
    lengths = np.empty(X.shape[0], dtype=np.intp)
    infinite, nan_inside = _chunks.scan_padding(X, lengths)
    return lengths, infinite, nan_inside


def check_not_empty(lengths):
    """Raise if a sequence has no observed step."""
    empty = np.flatnonzero(lengths == 0)
    if empty.size:
        raise ValueError(
            f"Sequence {empty[0]} has no observed step (every value is NaN); "
            "drop it before fitting or predicting."
        )


def check_lengths(X, lengths, nan_inside):
    """Raise if a sequence is empty or has a NaN before its last real step
    (``nan_inside``: the flat index of the first such NaN, -1 if none)."""
    check_not_empty(lengths)
    if nan_inside >= 0:
        i, t, f = np.unravel_index(nan_inside, X.shape)
        raise ValueError(
            f"Sequence {i} has NaN at step {t} (feature {f}) before its last "
            f"observed step; {IMPUTE_HINT}. Input X contains NaN."
        )


def as_padded_array(X):
    """Bring ``X`` to a NaN-padded 3-D float array, without the NaN and
    infinity checks (:func:`validate_sequences` makes them).

    Parameters
    ----------
    X : array-like of shape (n_sequences, n_steps, n_features) or \
            (n_samples, n_features), or list of ndarray

    Returns
    -------
    X : ndarray of shape (n_sequences, n_steps, n_features), float32 or float64
    was_table : bool
        True when ``X`` was a 2-D table (one-step sequences).
    """
    if _is_sequence_list(X):
        X = pad_sequences(X)
    ndim = getattr(X, "ndim", None)
    if ndim is None:
        ndim = np.asarray(X, dtype=object).ndim
    if ndim != 3:
        return X, True
    # infinite values are found by the scan of validate_sequences
    X = check_array(
        X, allow_nd=True, dtype=FLOAT_DTYPES, ensure_all_finite=False, input_name="X"
    )
    if X.shape[1] == 0 or X.shape[2] == 0:
        raise ValueError(
            f"Found array with shape {X.shape}: sequences need at least one "
            "step and one feature."
        )
    return X, False


def validate_sequences(estimator, X, *, reset, check_nan=True):
    """Check ``X`` and bring it to a NaN-padded 3-D float array.

    Sets (``reset=True``) or checks ``n_features_in_`` and
    ``feature_names_in_`` the way :func:`sklearn.utils.validation.validate_data`
    does, with ``n_features_in_`` counting the features of one step.

    Parameters
    ----------
    estimator : BaseEstimator
    X : array-like of shape (n_sequences, n_steps, n_features) or \
            (n_samples, n_features), or list of ndarray
    reset : bool
        True in ``fit``, False in ``predict``.
    check_nan : bool, default=True
        Raise for a NaN before a sequence's last observed step, or a sequence
        with no observed step. Transformers that impute pass False.

    Returns
    -------
    X : ndarray of shape (n_sequences, n_steps, n_features), float32 or float64
        NaN at padded steps.
    lengths : ndarray of shape (n_sequences,)
    """
    X, was_table = as_padded_array(X)
    if was_table:
        X = validate_data(
            estimator,
            X,
            reset=reset,
            dtype=FLOAT_DTYPES,
            ensure_all_finite="allow-nan",
        )
        X = X[:, None, :]
    else:
        _check_feature_names(estimator, X, reset=reset)
        n_features = X.shape[2]
        if reset:
            estimator.n_features_in_ = n_features
        elif n_features != estimator.n_features_in_:
            raise ValueError(
                f"X has {n_features} features, but {type(estimator).__name__} is "
                f"expecting {estimator.n_features_in_} features as input."
            )
    X = np.ascontiguousarray(X)
    lengths, infinite, nan_inside = _scan(X)
    if infinite >= 0:
        raise ValueError(
            f"Input X contains infinity or a value too large for {X.dtype!r}."
        )
    if check_nan:
        check_lengths(X, lengths, nan_inside)
    return X, lengths


def validate_for_predict(estimator, X, *, dtype_of):
    """Check that ``estimator`` is fitted and ``X`` fits it.

    Returns ``(X, lengths)`` as :func:`validate_sequences` does, ``X`` in the
    dtype of the fitted attribute named ``dtype_of``.
    """
    check_is_fitted(estimator)
    X, lengths = validate_sequences(estimator, X, reset=False)
    return as_model_dtype(X, getattr(estimator, dtype_of).dtype), lengths


def as_model_dtype(X, dtype):
    """``X`` in the fitted model's dtype; raise where a value does not fit it
    (float64 data beyond float32's range would become inf)."""
    if X.dtype == dtype:
        return X
    cast = X.astype(dtype)
    if np.isinf(cast).any():
        raise ValueError(
            f"X has values beyond the range of {np.dtype(dtype).name} (largest "
            f"{np.finfo(dtype).max:.3g}), the dtype the model was fitted in; "
            "scale X, e.g. with TimestepTransformer(StandardScaler())."
        )
    return cast


def validate_targets(y, lengths, n_steps, *, return_sequences):
    """Check regression targets against the sequences; bring them to 3-D.

    Parameters
    ----------
    y : array-like or list of ndarray
        Sequence-to-one: ``(n_sequences,)`` or ``(n_sequences, n_outputs)``.
        Per step: ``(n_sequences, n_steps)`` or
        ``(n_sequences, n_steps, n_outputs)``, or a list of per-sequence arrays.
    lengths : ndarray of shape (n_sequences,)
    n_steps : int
        Padded length of ``X``.
    return_sequences : bool

    Returns
    -------
    y : ndarray of shape (n_sequences, 1, n_outputs) or \
            (n_sequences, n_steps, n_outputs)
        For sequence-to-one the single step is the target of the last real step.
    """
    n = lengths.shape[0]
    if return_sequences and _is_sequence_list(y):
        y = pad_sequences(y)
    y = check_array(
        y,
        ensure_2d=False,
        allow_nd=True,
        dtype=FLOAT_DTYPES,
        ensure_all_finite="allow-nan" if return_sequences else True,
        input_name="y",
    )
    if y.shape[0] != n:
        raise ValueError(
            f"X has {n} sequences but y has {y.shape[0]} entries; give one target "
            "per sequence."
        )
    if not return_sequences:
        if y.ndim > 2:
            raise ValueError(
                f"y has shape {y.shape}; with return_sequences=False give one "
                "target per sequence, (n_sequences,) or (n_sequences, n_outputs), "
                "or set return_sequences=True for one target per step."
            )
        y = y.reshape(n, 1, -1)
        if y.shape[2] == 0:
            raise ValueError("y has no output column.")
        return y
    if y.ndim not in (2, 3):
        raise ValueError(
            f"y has shape {y.shape}; with return_sequences=True give one target "
            "per step, (n_sequences, n_steps) or (n_sequences, n_steps, n_outputs)."
        )
    if y.shape[1] < n_steps:
        raise ValueError(
            f"y has {y.shape[1]} steps but X has sequences of {n_steps} steps; "
            "give a target for every step (NaN at padded steps)."
        )
    y = y[:, :n_steps]
    if y.ndim == 2:
        y = y[:, :, None]
    real = np.arange(n_steps)[None, :] < lengths[:, None]
    y = np.where(real[:, :, None], y, np.nan)  # anything at padded steps
    has_target = ~np.all(np.isnan(y), axis=2) & real
    if not has_target.any():
        raise ValueError("y has no target at any real step (all NaN).")
    partial = np.isnan(y).any(axis=2) & has_target
    if partial.any():
        i, t = np.argwhere(partial)[0]
        raise ValueError(
            f"y of sequence {i} at step {t} is NaN for some outputs but not "
            "all; give all outputs of a step or none."
        )
    return y


def validate_sample_weight(sample_weight, X, lengths, *, return_sequences):
    """Check sample weights: one per sequence, or one per step.

    Parameters
    ----------
    sample_weight : array-like of shape (n_sequences,) or \
            (n_sequences, n_steps), or None
        Per-step weights need ``return_sequences=True``; any value at padded
        steps is ignored (set to 0).
    X : ndarray of shape (n_sequences, n_steps, n_features)
    lengths : ndarray of shape (n_sequences,)
    return_sequences : bool

    Returns
    -------
    sample_weight : ndarray of shape (n_sequences,) or (n_sequences, n_steps)
        float64, finite and non-negative (0 at padded steps).
    """
    if sample_weight is None or np.isscalar(sample_weight):
        return _check_sample_weight(sample_weight, X, ensure_non_negative=True)
    sw = check_array(
        sample_weight,
        ensure_2d=False,
        allow_nd=True,
        dtype=np.float64,
        ensure_all_finite=False,
        input_name="sample_weight",
    )
    if sw.ndim < 2:
        return _check_sample_weight(sw, X, ensure_non_negative=True)
    n, n_steps = X.shape[:2]
    if not return_sequences:
        raise ValueError(
            f"sample_weight has shape {sw.shape}, one weight per step, but "
            "return_sequences=False fits one target per sequence: give "
            "(n_sequences,) weights, or set return_sequences=True."
        )
    if sw.ndim != 2 or sw.shape[0] != n or sw.shape[1] < n_steps:
        raise ValueError(
            f"sample_weight has shape {sw.shape}; give one weight per sequence, "
            f"({n},), or one per step, ({n}, {n_steps}) (any value at padded "
            "steps)."
        )
    sw = np.array(sw[:, :n_steps])
    real = np.arange(n_steps)[None, :] < lengths[:, None]
    for bad, what in (
        (real & ~np.isfinite(sw), "not finite"),
        (real & (sw < 0), "negative"),
    ):
        if bad.any():
            i, t = np.argwhere(bad)[0]
            raise ValueError(
                f"sample_weight of sequence {i} at step {t} is {what} "
                f"({sw[i, t]}); weights at real steps must be finite and "
                "non-negative (only padded steps may hold anything)."
            )
    sw[~real] = 0.0
    return sw


def entry_weights(sample_weight, entries):
    """The weights of the entries ``(n, T)`` (a boolean mask) that have a
    target, from per-sequence or per-step sample weights."""
    if sample_weight.ndim == 2:
        return sample_weight[:, : entries.shape[1]][entries]
    return np.broadcast_to(sample_weight[:, None], entries.shape)[entries]


def weight_total(sample_weight, Y):
    """The number of sequences, weighted: the sum of per-sequence weights, or
    of each sequence's mean weight over its steps with a target (so that
    per-step weights constant within each sequence scale the L2 term as
    per-sequence weights do)."""
    if sample_weight.ndim == 1:
        return sample_weight.sum()
    has = ~np.isnan(Y).any(axis=-1)
    counts = has.sum(axis=1)
    sums = np.where(has, sample_weight, 0).sum(axis=1)
    return (sums[counts > 0] / counts[counts > 0]).sum()


def time_column_index(column, n_features, names=None):
    """The index among ``n_features`` of the feature that ``column`` (an
    index or, with feature ``names``, a name) designates as each step's time,
    or None when ``column`` is None."""
    if column is None:
        return None
    if isinstance(column, str):
        if names is None or column not in names:
            known = (
                f"the features are {[str(name) for name in names]}"
                if names is not None
                else "X has no feature names (it is not a DataFrame); give the "
                "column's index instead"
            )
            raise ValueError(
                f"time_column={column!r} names no feature: X has no column of "
                f"that name; {known}."
            )
        return int(np.flatnonzero(np.asarray(names) == column)[0])
    if not -n_features <= column < n_features:
        raise ValueError(
            f"time_column={column} is out of range for {n_features} features."
        )
    return int(column) % n_features


def step_times(column, real, name, *, gaps=False):
    """The time of each step ``(n, T)``, zero at padded steps, from a time
    column, after checking it.

    ``column`` ``(n, T)`` holds the column's values and ``real`` (boolean,
    same shape) marks the real steps; ``name`` is how the messages call the
    column. ``gaps``: the column holds the time since the previous step (its
    value at a sequence's first step is not read) instead of the time.
    """
    first = np.arange(column.shape[1])[None, :] == 0
    needed = real & ~first if gaps else real
    bad = needed & ~np.isfinite(column)
    if bad.any():
        i, t = np.argwhere(bad)[0]
        raise ValueError(
            f"The time column {name} is {column[i, t]} in sequence {i} at step "
            f"{t}; every real step needs a finite time (not NaN or infinite): "
            "fill it, or drop the visit."
        )
    if gaps:
        steps = np.where(needed, column, 0)
        negative = steps < 0
        if negative.any():
            i, t = np.argwhere(negative)[0]
            raise ValueError(
                f"The time column {name} holds gaps (time_kind='gap') and the gap "
                f"of sequence {i} at step {t} is negative ({steps[i, t]:g}); a "
                "step cannot come before the previous one: order the steps by "
                "time."
            )
        return np.cumsum(steps, axis=1)
    times = np.where(real, column, 0)
    decreasing = (np.diff(times, axis=1) < 0) & real[:, 1:]
    if decreasing.any():
        i, t = np.argwhere(decreasing)[0]
        raise ValueError(
            f"The time column {name} decreases in sequence {i} from step {t} "
            f"({times[i, t]:g}) to step {t + 1} ({times[i, t + 1]:g}); order each "
            "sequence's steps by time (to_sequences does)."
        )
    return times
