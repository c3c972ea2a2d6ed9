"""Echo state networks: a fixed random reservoir, a ridge read-out."""

from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from numbers import Integral, Real

import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from . import _memory, _reservoir
from ._contract import SequenceModel
from ._data import validate_for_predict
from ._docs import format_docstring
from ._layout import from_chunks, last_step_index, make_chunking, to_chunks
from ._task_mixins import RecurrentClassifierMixin, RecurrentRegressorMixin
from ._threads import blas_single_threaded, effective_n_threads

# States held at once while the reservoir runs (see _state_blocks). Blocks of
# 1 MB stay in a core's L2 cache and below NumPy's 4 MB threshold for huge
# pages, whose first touch cost 5 us a step here; Mackey-Glass fit + predict
# took 100 ms with 1 MB blocks, 124 ms with 4 MB.
STATE_BLOCK_BYTES = 2**20

POOLINGS = ("last", "mean", "max")

# The ridge strengths alpha='auto' chooses from (on the sum-of-squares scale).
ALPHAS = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0, 1000.0)

# The leak rates leak_rate='auto' chooses from (benchmarks/RESULTS.md, round 3).
LEAK_RATES = (1.0, 0.3, 0.1, 0.03)

# Folds of sequences that alpha='auto' scores a per-step read-out on.
N_FOLDS = 5


class BaseEchoState(SequenceModel, TransformerMixin, BaseEstimator):
    """Reservoir, states and ridge read-out shared by the two tasks.

    Subclasses say what the read-out is fitted to (``_readout_targets``).
    """

    _parameter_constraints: dict = {
        "n_reservoir": [Interval(Integral, 1, None, closed="left")],
        "spectral_radius": [Interval(Real, 0, None, closed="left")],
        "input_scaling": [Interval(Real, 0, None, closed="left")],
        "leak_rate": [Interval(Real, 0, 1, closed="right"), StrOptions({"auto"})],
        "alpha": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "alphas": ["array-like"],
        "washout": [Interval(Integral, 0, None, closed="left")],
        "sparsity": [Interval(Real, 0, 1, closed="left")],
        "pooling": [StrOptions(set(POOLINGS)), tuple, list],
        "random_state": ["random_state"],
        "return_sequences": ["boolean"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        n_reservoir=500,
        *,
        spectral_radius=0.9,
        input_scaling=0.3,
        leak_rate="auto",
        alpha="auto",
        alphas=ALPHAS,
        washout=0,
        sparsity=0.9,
        pooling="mean",
        random_state=None,
        return_sequences=False,
        n_jobs=None,
    ):
        self.n_reservoir = n_reservoir
        self.spectral_radius = spectral_radius
        self.input_scaling = input_scaling
        self.leak_rate = leak_rate
        self.alpha = alpha
        self.alphas = alphas
        self.washout = washout
        self.sparsity = sparsity
        self.pooling = pooling
        self.random_state = random_state
        self.return_sequences = return_sequences
        self.n_jobs = n_jobs

    def _init_reservoir(self, n_features, dtype, rng):
        # 'auto': fit runs the reservoir at each of LEAK_RATES in turn
        auto_leak = isinstance(self.leak_rate, str)
        self.leak_rate_ = LEAK_RATES[0] if auto_leak else self.leak_rate
        N = self.n_reservoir
        signs = rng.choice([-1.0, 1.0], size=(N, n_features + 1))
        self.input_weights_ = (self.input_scaling * signs[:, 1:]).astype(dtype)
        self.input_bias_ = (self.input_scaling * signs[:, 0]).astype(dtype)
        # K cyclic diagonals at distinct random offsets: every unit reads K
        # others, and the product runs on contiguous memory (see _dia.h)
        K = int(round((1 - self.sparsity) * N))
        offsets = np.sort(rng.choice(N, size=K, replace=False)).astype(np.int32)
        values = rng.normal(size=(K, N))
        radius = _spectral_radius(_recurrent_matrix(values, offsets))
        if radius > 0:
            values *= self.spectral_radius / radius
        self.reservoir_weights_ = values.astype(dtype)
        self.reservoir_offsets_ = offsets

    def _state_blocks(self, X, ch, n_threads):
        """Run the reservoir over consecutive blocks of steps.

        Yields ``(t0, Xs)``: the states ``(n_chunks, Tb, S, N)`` of steps
        ``t0 .. t0 + Tb - 1`` (zero at padded steps). ``Xs`` is overwritten
        by the next block, so that memory stays bounded on long sequences and
        the states are used while they are still in cache.
        """
        dtype = self.input_weights_.dtype
        N = self.n_reservoir
        U = to_chunks(X, ch, dtype=dtype)
        C, T, S, _ = U.shape
        block = int(np.clip(STATE_BLOCK_BYTES // (C * S * N * dtype.itemsize), 1, T))
        buffer = np.empty(C * block * S * N, dtype=dtype)
        X0 = np.zeros((C, S, N), dtype=dtype)
        work = np.empty((C, S, N), dtype=dtype)
        for t0 in range(0, T, block):
            steps = min(block, T - t0)
            Xs = buffer[: C * steps * S * N].reshape(C, steps, S, N)
            _reservoir.run(
                np.ascontiguousarray(U[:, t0 : t0 + steps]),
                np.clip(ch.lengths - t0, 0, steps).astype(np.int32),
                self.input_weights_,
                self.input_bias_,
                self.reservoir_weights_,
                self.reservoir_offsets_,
                dtype.type(self.leak_rate_),
                X0,
                Xs,
                work,
                min(n_threads, C),
            )
            yield t0, Xs
            X0 = Xs[:, -1].copy()  # the buffer is overwritten next

    def _read_out_steps(self, ch, Y, sw):
        """The steps the per-step read-out is fitted on, in order of time.

        Returns index arrays ``(c, t, s)`` into the chunked layout, the
        targets and sample weights of those steps, and the fold of each step
        that ``alpha='auto'`` scores it in (see :func:`_step_folds`).
        """
        steps = np.arange(ch.n_steps)[None, :, None]
        entries = ch.mask & (steps >= self.washout)
        c, t, s = np.nonzero(entries)
        batch = ch.order[c * ch.chunk_size + s]
        targets = Y[batch, t]
        labelled = ~np.isnan(targets).any(axis=1)
        if not labelled.any():
            raise ValueError(
                f"No step with a target is left after washout={self.washout}; "
                "lower washout or give longer sequences."
            )
        c, t, s, batch = c[labelled], t[labelled], s[labelled], batch[labelled]
        targets = targets[labelled]
        weights = sw[batch, t] if sw.ndim == 2 else sw[batch]
        order = np.argsort(t, kind="stable")
        folds = _step_folds(batch[order])
        return (c[order], t[order], s[order]), targets[order], weights[order], folds

    def _readout_targets(self, Y):
        """The read-out's targets from the task's encoded ``Y``."""
        raise NotImplementedError

    def _loo_loss(self, targets, predictions, weights):
        """What ``alpha='auto'`` minimises over the leave-one-out predictions
        ``(n_samples, n_outputs)`` of one alpha: a tuple, compared in order."""
        return (_weighted_squared_errors(targets, predictions, weights),)

    def _resets(self, incremental):
        return True

    def _alpha_grid(self):
        try:
            alphas = np.asarray(self.alphas, dtype=np.float64)
        except (TypeError, ValueError):
            alphas = None
        if (
            alphas is None
            or alphas.ndim != 1
            or alphas.size == 0
            or not (np.isfinite(alphas) & (alphas > 0)).all()
        ):
            raise ValueError(
                "alphas must be a non-empty 1-D sequence of positive, finite ridge "
                f"strengths for alpha='auto' to choose from, got {self.alphas!r}; "
                "e.g. alphas=np.logspace(-6, 3, 10)."
            )
        return alphas

    def _fit_encoded(self, X, lengths, Y, sample_weight, task, *, incremental):
        Y = self._readout_targets(Y)
        sw = sample_weight
        grid = self._alpha_grid()
        alphas = grid if isinstance(self.alpha, str) else np.array([self.alpha])
        auto_leak = isinstance(self.leak_rate, str)
        leaks = LEAK_RATES if auto_leak else (self.leak_rate,)
        # (alpha, leak rate) scored only when there is a choice to make
        choose = len(alphas) > 1 or auto_leak
        self._check_memory(X, Y.shape[2], f"{type(self).__name__}.fit")
        self._init_reservoir(X.shape[2], X.dtype, check_random_state(self.random_state))
        best = None
        if not self.return_sequences:
            targets = Y[:, 0, :]
            for leak in leaks:
                self.leak_rate_ = leak
                features = self._pooled_states(X, lengths)
                if not choose:
                    best = (None, leak, alphas[0], features)
                    break
                loo = _loo_predictions(features, targets, sw, alphas)
                for alpha, predictions in zip(alphas, loo, strict=True):
                    loss = self._loo_loss(targets, predictions, sw)
                    if best is None or loss < best[0]:  # the first of equals wins
                        best = (loss, leak, alpha, features)
            _, self.leak_rate_, alpha, features = best
            ridge = _RidgeSums(features.shape[1], Y.shape[2])
            ridge.add(features, targets, sw)
            return self._set_readout(*ridge.solve(alpha), Y, alpha)
        ch = make_chunking(lengths)
        steps, targets, weights, folds = self._read_out_steps(ch, Y, sw)
        n_folds = folds.max() + 1 if choose else 1
        for leak in leaks:
            self.leak_rate_ = leak
            sums = self._step_sums(X, ch, steps, targets, weights, folds, n_folds)
            if not choose:
                best = (None, leak, alphas[0], sums)
                break
            errors = _fold_errors(sums, alphas)
            j = int(np.argmin(errors))
            if best is None or errors[j] < best[0]:
                best = (errors[j], leak, alphas[j], sums)
        _, self.leak_rate_, alpha, sums = best
        with blas_single_threaded():
            coef, intercept = _RidgeSums.combine(sums).solve(alpha)
        return self._set_readout(coef, intercept, targets, alpha)

    def _step_sums(self, X, ch, steps, targets, weights, folds, n_folds):
        """The per-step read-out's ridge sums, one per fold of sequences
        (one in all when ``n_folds`` is 1), at ``leak_rate_``."""
        c, t, s = steps
        sums = [_RidgeSums(self.n_reservoir, targets.shape[1]) for _ in range(n_folds)]

        def add(states, part):
            if n_folds == 1:
                sums[0].add(states, targets[part], weights[part])
                return
            fold = folds[part]
            for k, ridge in enumerate(sums):
                rows = np.flatnonzero(fold == k)
                entries = rows + part.start
                ridge.add(states[rows], targets[entries], weights[entries])

        n_threads = effective_n_threads(self.n_jobs)
        # With fewer chunks than threads, a thread the reservoir leaves idle
        # sums one block's read-out products while the next block runs; the
        # sums are taken in block order, so the fit does not depend on timing.
        overlap = n_threads > ch.n_chunks
        with (
            blas_single_threaded(),
            ThreadPoolExecutor(1) if overlap else nullcontext() as pool,
        ):
            pending = None
            for t0, Xs in self._state_blocks(X, ch, n_threads):
                part = slice(*np.searchsorted(t, [t0, t0 + Xs.shape[1]]))
                block = (Xs[c[part], t[part] - t0, s[part]], part)
                if pending is not None:
                    pending.result()
                if overlap:
                    pending = pool.submit(add, *block)
                else:
                    add(*block)
            if pending is not None:
                pending.result()
        return sums

    def _set_readout(self, coef, intercept, targets, alpha):
        dtype = self.input_weights_.dtype
        with np.errstate(over="ignore"):
            coef, intercept = coef.astype(dtype), intercept.astype(dtype)
        if not (np.isfinite(coef).all() and np.isfinite(intercept).all()):
            raise ValueError(
                f"The ridge read-out does not fit in {dtype.name} (largest |y|: "
                f"{np.nanmax(np.abs(targets)):.3g}); scale y, or pass X as float64."
            )
        self.coef_, self.intercept_ = coef, intercept
        self.alpha_ = float(alpha)
        self.n_outputs_ = self.coef_.shape[0]
        return self

    def _validate_for_predict(self, X):
        return validate_for_predict(self, X, dtype_of="input_weights_")

    def _check_memory(self, X, n_outputs, what):
        n, T, F = X.shape
        estimate = _memory.echo_state_bytes(n, T, F, n_outputs, X.dtype.itemsize)
        _memory.check(estimate, what, "use fewer or shorter sequences per call")

    def _raw_outputs(self, X, lengths):
        self._check_memory(X, self.n_outputs_, "predict")
        n_threads = effective_n_threads(self.n_jobs)
        ch = make_chunking(lengths)
        C, S, T = ch.n_chunks, ch.chunk_size, ch.n_steps
        coef, intercept = self.coef_.T, self.intercept_
        with blas_single_threaded():
            if self.return_sequences:
                Zc = np.empty((C, T, S, self.n_outputs_), dtype=coef.dtype)
                for t0, Xs in self._state_blocks(X, ch, n_threads):
                    Zc[:, t0 : t0 + Xs.shape[1]] = Xs @ coef + intercept
                Z = from_chunks(Zc, ch, X.shape[0])
                return np.pad(
                    Z, ((0, 0), (0, X.shape[1] - T), (0, 0)), constant_values=np.nan
                )
        return self._pooled_states(X, lengths) @ coef + intercept

    def _poolings(self):
        names = (self.pooling,) if isinstance(self.pooling, str) else self.pooling
        if not names or any(name not in POOLINGS for name in names):
            raise ValueError(
                f"pooling must be one of {POOLINGS} or a non-empty tuple of them, "
                f"got {self.pooling!r}."
            )
        return tuple(names)

    def _pooled_states(self, X, lengths):
        """Each sequence's reservoir states pooled over its real steps.

        Returns ``(n_sequences, n_reservoir * len(pooling))``: the pools in
        the order ``pooling`` names them ('last': the state at the last real
        step, 'mean' and 'max': over every real step).
        """
        names = self._poolings()
        n_threads = effective_n_threads(self.n_jobs)
        ch = make_chunking(lengths)
        C, S, N = ch.n_chunks, ch.chunk_size, self.n_reservoir
        c, t, s = last_step_index(ch)
        last = np.zeros((X.shape[0], N))
        total = np.zeros((C, S, N))
        peak = np.full((C, S, N), -np.inf)
        mask = ch.mask[..., None]
        with blas_single_threaded():
            for t0, Xs in self._state_blocks(X, ch, n_threads):
                steps = Xs.shape[1]
                here = (t >= t0) & (t < t0 + steps)
                last[here] = Xs[c[here], t[here] - t0, s[here]]
                if "mean" in names:
                    total += Xs.sum(axis=1, dtype=np.float64)
                if "max" in names:
                    block = np.where(mask[:, t0 : t0 + steps], Xs, -np.inf)
                    np.maximum(peak, block.max(axis=1), out=peak)
        rows = ch.order >= 0
        batch = ch.order[rows]

        def in_batch_order(pooled):
            out = np.empty((X.shape[0], N))
            out[batch] = pooled.reshape(C * S, N)[rows]
            return out

        pools = {
            "last": lambda: last,
            "mean": lambda: in_batch_order(total) / lengths[:, None],
            "max": lambda: in_batch_order(peak),
        }
        dtype = self.input_weights_.dtype
        return np.hstack([pools[name]() for name in names]).astype(dtype)

    def transform(self, X: ArrayLike) -> np.ndarray:
        """The reservoir's states of each sequence, pooled as ``pooling`` says.

        What the sequence-to-one read-out sees, so that the reservoir can feed
        any tabular model in a Pipeline (``return_sequences`` is not used).

        Parameters
        ----------
        X : array-like, as in :meth:`fit`
            Sequences.

        Returns
        -------
        states : ndarray of shape (n_sequences, n_reservoir * len(pooling))
            The pools side by side, in the order ``pooling`` names them.
        """
        X, lengths = self._validate_for_predict(X)
        self._check_memory(X, self.n_reservoir, "transform")
        return self._pooled_states(X, lengths)


def _recurrent_matrix(values, offsets):
    """The sparse (N, N) matrix with ``W[r, (r + offsets[k]) % N] = values[k, r]``."""
    K, N = values.shape
    rows = np.tile(np.arange(N), K)
    columns = (rows + np.repeat(offsets, N)) % N
    return scipy.sparse.csr_matrix((values.ravel(), (rows, columns)), shape=(N, N))


def _spectral_radius(W):
    """Largest eigenvalue modulus: dense up to 200 units, else ARPACK.

    A random matrix has many eigenvalues of nearly the largest modulus:
    ARPACK asked for one of them (``k=1``) returned one up to 2% smaller in
    10-100% of seeded trials of 100 to 2000 units. Asked for six with 40
    Arnoldi vectors, to a relative tolerance of 1e-10, it found the largest
    within 1e-11 in all 125 trials.
    """
    n = W.shape[0]
    if W.nnz == 0:
        return 0.0
    if n > 200:
        try:
            values = scipy.sparse.linalg.eigs(
                W,
                k=6,
                ncv=40,
                which="LM",
                tol=1e-10,
                v0=np.ones(n),
                return_eigenvectors=False,
            )
            return float(np.abs(values).max())
        except scipy.sparse.linalg.ArpackError:
            pass
    return float(np.abs(scipy.linalg.eigvals(W.toarray())).max())


class _RidgeSums:
    """Weighted ridge with an unpenalised intercept, from sums over blocks.

    Minimises ``sum_i w_i ||y_i - W x_i - b||^2 + alpha ||W||^2``: ``add``
    accumulates the weighted sums of ``x``, ``y``, ``y * y``, ``x x'`` and
    ``x y'`` (in float64), ``solve`` solves the centred normal equations by
    Cholesky, ``squared_errors`` gives ``sum_i w_i (y_i - W x_i - b)^2`` per
    output from the sums alone.
    """

    def __init__(self, n_features, n_outputs):
        self.total = 0.0
        self.sum_x = np.zeros(n_features)
        self.sum_y = np.zeros(n_outputs)
        self.yy = np.zeros(n_outputs)
        self.xx = np.zeros((n_features, n_features))
        self.xy = np.zeros((n_features, n_outputs))

    @classmethod
    def combine(cls, parts, leave_out=None):
        """The sums of ``parts``, but for ``parts[leave_out]``."""
        out = cls(*parts[0].xy.shape)
        for k, part in enumerate(parts):
            if k != leave_out:
                for name, value in vars(part).items():
                    setattr(out, name, getattr(out, name) + value)
        return out

    def add(self, states, targets, weights):
        root = np.sqrt(weights)[:, None]
        rooted = states.astype(np.float64, copy=False) * root
        self.total += weights.sum()
        self.sum_x += root[:, 0] @ rooted
        self.sum_y += weights @ targets
        self.yy += weights @ targets**2
        self.xx += rooted.T @ rooted  # NumPy's syrk: half a general product
        self.xy += rooted.T @ (targets * root)

    def _centred(self):
        if not self.total > 0:
            raise ValueError(
                "All sample weights of the steps with a target are zero; give "
                "some positive weight."
            )
        mean_x, mean_y = self.sum_x / self.total, self.sum_y / self.total
        gram = self.xx / self.total - np.outer(mean_x, mean_x)
        rhs = self.xy / self.total - np.outer(mean_x, mean_y)
        return mean_x, mean_y, gram, rhs

    def solve(self, alpha):
        mean_x, mean_y, gram, rhs = self._centred()
        gram[np.diag_indices_from(gram)] += alpha / self.total
        try:
            coef = scipy.linalg.cho_solve(scipy.linalg.cho_factor(gram), rhs)
        except scipy.linalg.LinAlgError:  # singular without a ridge: least norm
            coef = scipy.linalg.lstsq(gram, rhs)[0]
        return coef.T, mean_y - coef.T @ mean_x

    def squared_errors(self, coef, intercept):
        """``sum_i w_i (y_i - coef x_i - intercept)^2`` per output."""
        fitted_xy = np.einsum("op,po->o", coef, self.xy)
        fitted_xx = np.einsum("op,pq,oq->o", coef, self.xx, coef)
        return (
            self.yy
            - 2 * (fitted_xy + intercept * self.sum_y)
            + fitted_xx
            + 2 * intercept * (coef @ self.sum_x)
            + self.total * intercept**2
        )


def _weighted_squared_errors(targets, predictions, weights):
    """``sum_i w_i ||y_i - p_i||^2`` (inf if it is not finite)."""
    with np.errstate(over="ignore", invalid="ignore"):
        error = float(((predictions - targets) ** 2).sum(axis=-1) @ weights)
    return error if np.isfinite(error) else np.inf


def _loo_predictions(features, targets, weights, alphas):
    """Leave-one-out predictions of the weighted ridge for every alpha.

    The ridge of :class:`_RidgeSums` (unpenalised intercept) fitted to all
    samples but ``i`` predicts sample ``i`` as ``y_i - e_i / (1 - h_i)``,
    with ``e_i`` the residual of the fit to all samples and ``h_i`` the
    diagonal of its hat matrix in the sqrt(w)-scaled problem (Allen's PRESS;
    ``RidgeCV``'s generalised cross-validation with ``cv=None``). One SVD of
    the centred, scaled features serves every alpha.

    Yields the predictions ``(n_samples, n_outputs)`` of each alpha in
    turn, float64.
    """
    X = features.astype(np.float64)
    total = weights.sum()
    mean_x, mean_y = weights @ X / total, weights @ targets / total
    centred = X - mean_x
    root = np.sqrt(weights)[:, None]
    try:
        U, sv, Vt = scipy.linalg.svd(centred * root, full_matrices=False)
    except scipy.linalg.LinAlgError:  # gesdd did not converge
        U, sv, Vt = scipy.linalg.svd(
            centred * root, full_matrices=False, lapack_driver="gesvd"
        )
    projected = centred @ Vt.T
    squares = projected**2
    scaled_targets = U.T @ ((targets - mean_y) * root)
    for alpha in alphas:
        shrink = 1 / (sv**2 + alpha)
        fitted = mean_y + projected @ ((sv * shrink)[:, None] * scaled_targets)
        leverage = weights * (squares @ shrink + 1 / total)
        with np.errstate(divide="ignore", invalid="ignore"):
            yield targets - (targets - fitted) / (1 - leverage)[:, None]


def _step_folds(batch):
    """The fold of each labelled step ``alpha='auto'`` scores it in.

    ``batch`` is each step's sequence, the steps in order of time. The
    sequences with a target in turn: the k-th goes to fold ``k % N_FOLDS``
    (fewer folds with fewer sequences); a single sequence is cut into
    ``N_FOLDS`` consecutive stretches of steps.
    """
    sequences = np.unique(batch)
    if sequences.size == 1:
        n = batch.size
        return (np.arange(n) * min(N_FOLDS, n) // n).astype(np.intp)
    n_folds = min(N_FOLDS, sequences.size)
    return (np.searchsorted(sequences, batch) % n_folds).astype(np.intp)


def _fold_errors(sums, alphas):
    """For each alpha, the summed squared error on each fold of the read-out
    fitted to all the other folds, from the sums."""
    errors = np.zeros(len(alphas))
    scored = False
    for k, held_out in enumerate(sums):
        train = _RidgeSums.combine(sums, leave_out=k)
        if not (train.total > 0 and held_out.total > 0):
            continue
        scored = True
        mean_x, mean_y, gram, rhs = train._centred()
        eigenvalues, V = scipy.linalg.eigh(gram)
        projected = V.T @ rhs
        for j, alpha in enumerate(alphas):
            shrink = 1 / (np.maximum(eigenvalues, 0) + alpha / train.total)
            coef = (V @ (shrink[:, None] * projected)).T
            intercept = mean_y - coef @ mean_x
            errors[j] += held_out.squared_errors(coef, intercept).sum()
    if not scored:
        raise ValueError(
            "alpha='auto' needs targets with positive weight in at least two "
            "sequences, or several steps of one (so does leak_rate='auto'); pass "
            "numbers instead."
        )
    return errors


@format_docstring
class EchoStateRegressor(RecurrentRegressorMixin, BaseEchoState):
    """Echo state network for regression.

    A fixed random reservoir of leaky tanh units, run from a zero state; only
    the linear read-out is trained, by ridge least squares (SciPy). The
    reservoir runs in a compiled kernel, in parallel over sequences.

    Parameters
    ----------
    {echo_state_parameters}

    Attributes
    ----------
    {echo_state_attributes}

    See Also
    --------
    EchoStateClassifier : The same reservoir for classification.
    RNNRegressor : A recurrent network whose every weight is trained.

    References
    ----------
    {echo_state_references}

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import EchoStateRegressor
    >>> t = np.arange(1200)
    >>> series = np.sin(0.1 * t) * np.cos(0.031 * t)
    >>> X, y = series[None, :-1, None], series[None, 1:]  # one step ahead
    >>> esn = EchoStateRegressor(200, spectral_radius=0.9, washout=100,
    ...                          return_sequences=True, random_state=0)
    >>> esn.fit(X[:, :1000], y[:, :1000]).score(X, y) > 0.99
    True
    """

    def _readout_targets(self, Y):
        return Y


@format_docstring
class EchoStateClassifier(RecurrentClassifierMixin, BaseEchoState):
    """Echo state network for classification.

    A fixed random reservoir of leaky tanh units, run from a zero state; the
    read-out is a ridge regression on +-1 targets (as ``RidgeClassifier``):
    the class of the largest decision value. No ``predict_proba``.

    Parameters
    ----------
    {echo_state_parameters}
    {class_weight}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    {echo_state_attributes}

    See Also
    --------
    EchoStateRegressor : The same reservoir for regression.

    References
    ----------
    {echo_state_references}

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import EchoStateClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 10, 1))
    >>> y = np.where(X[:, -3:, 0].sum(axis=1) > 0, "up", "down")
    >>> clf = EchoStateClassifier(100, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
    """

    _parameter_constraints: dict = {
        **BaseEchoState._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        n_reservoir=500,
        *,
        spectral_radius=0.9,
        input_scaling=0.3,
        leak_rate="auto",
        alpha="auto",
        alphas=ALPHAS,
        washout=0,
        sparsity=0.9,
        pooling="mean",
        random_state=None,
        return_sequences=False,
        n_jobs=None,
        class_weight=None,
    ):
        super().__init__(
            n_reservoir,
            spectral_radius=spectral_radius,
            input_scaling=input_scaling,
            leak_rate=leak_rate,
            alpha=alpha,
            alphas=alphas,
            washout=washout,
            sparsity=sparsity,
            pooling=pooling,
            random_state=random_state,
            return_sequences=return_sequences,
            n_jobs=n_jobs,
        )
        self.class_weight = class_weight

    # How alpha='auto' scores the leave-one-out decisions (benchmarks/RESULTS.md)
    _loo_scoring = "squared_error"

    def _readout_targets(self, Y):
        return 2 * Y - 1  # +-1 targets, as RidgeClassifier

    def _loo_loss(self, targets, predictions, weights):
        error = _weighted_squared_errors(targets, predictions, weights)
        if self._loo_scoring == "squared_error":
            return (error,)
        hits = self._class_index(predictions) == self._class_index(targets)
        return (-float(hits @ weights), error)  # ties: the squared error
