"""Echo state networks: a fixed random reservoir, a ridge read-out."""

from numbers import Integral, Real

import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._openmp_helpers import _openmp_effective_n_threads
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from . import _reservoir
from ._base import PREDICT_BLOCK, _blas_single_threaded
from ._data import validate_sequences
from ._layout import from_chunks, last_step_index, make_chunking, to_chunks
from ._tasks import RecurrentClassifierMixin, RecurrentRegressorMixin


class BaseEchoState(BaseEstimator):
    """Reservoir, states and ridge read-out shared by the two tasks."""

    _parameter_constraints: dict = {
        "n_reservoir": [Interval(Integral, 1, None, closed="left")],
        "spectral_radius": [Interval(Real, 0, None, closed="left")],
        "input_scaling": [Interval(Real, 0, None, closed="left")],
        "leak_rate": [Interval(Real, 0, 1, closed="right")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "washout": [Interval(Integral, 0, None, closed="left")],
        "sparsity": [Interval(Real, 0, 1, closed="left")],
        "random_state": ["random_state"],
        "return_sequences": ["boolean"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        n_reservoir=100,
        *,
        spectral_radius=0.9,
        input_scaling=1.0,
        leak_rate=1.0,
        alpha=1e-6,
        washout=0,
        sparsity=0.9,
        random_state=None,
        return_sequences=False,
        n_jobs=None,
    ):
        self.n_reservoir = n_reservoir
        self.spectral_radius = spectral_radius
        self.input_scaling = input_scaling
        self.leak_rate = leak_rate
        self.alpha = alpha
        self.washout = washout
        self.sparsity = sparsity
        self.random_state = random_state
        self.return_sequences = return_sequences
        self.n_jobs = n_jobs

    def _init_reservoir(self, n_features, dtype, rng):
        N = self.n_reservoir
        signs = rng.choice([-1.0, 1.0], size=(N, n_features + 1))
        self.input_weights_ = (self.input_scaling * signs[:, 1:]).astype(dtype)
        self.input_bias_ = (self.input_scaling * signs[:, 0]).astype(dtype)
        # every unit gets the same number of inputs from the reservoir
        K = int(round((1 - self.sparsity) * N))
        columns = (
            np.argpartition(rng.uniform(size=(N, N)), K - 1, axis=1)[:, :K]
            if K
            else np.empty((N, 0), dtype=np.intp)
        )
        values = rng.normal(size=(N, K))
        W = scipy.sparse.csr_matrix(
            (values.ravel(), (np.repeat(np.arange(N), K), columns.ravel())),
            shape=(N, N),
        )
        radius = _spectral_radius(W)
        if radius > 0:
            values *= self.spectral_radius / radius
        self.reservoir_weights_ = np.ascontiguousarray(values.T, dtype=dtype)
        self.reservoir_columns_ = np.ascontiguousarray(columns.T, dtype=np.int32)

    def _states(self, X, lengths, n_threads):
        """Reservoir states ``(n_chunks, T, S, N)`` and the chunking."""
        ch = make_chunking(lengths)
        dtype = self.input_weights_.dtype
        U = to_chunks(X, ch, dtype=dtype)
        Xs = np.empty(U.shape[:3] + (self.n_reservoir,), dtype=dtype)
        work = np.empty((U.shape[0], U.shape[2], self.n_reservoir), dtype=dtype)
        _reservoir.run(
            U,
            ch.lengths,
            self.input_weights_,
            self.input_bias_,
            self.reservoir_weights_,
            self.reservoir_columns_,
            dtype.type(self.leak_rate),
            Xs,
            work,
            n_threads,
        )
        return ch, Xs

    def _fit(self, X, y, sample_weight, *, incremental, classes=None):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        X, lengths = validate_sequences(self, X, reset=True)
        Y = self._encode_targets(y, lengths, X.shape[1], True, classes)
        if isinstance(self, RecurrentClassifierMixin):
            Y = 2 * Y - 1  # +-1 targets, as RidgeClassifier
        sw = _check_sample_weight(sample_weight, X, ensure_non_negative=True)
        self._init_reservoir(X.shape[2], X.dtype, check_random_state(self.random_state))
        n_threads = _openmp_effective_n_threads(self.n_jobs)
        with _blas_single_threaded():
            ch, Xs = self._states(X, lengths, n_threads)
        if self.return_sequences:
            Yc = to_chunks(Y, ch)
            steps = np.arange(ch.n_steps)[None, :, None]
            entries = ch.mask & (steps >= self.washout) & ~np.isnan(Yc).any(axis=-1)
            if not entries.any():
                raise ValueError(
                    f"No step with a target is left after washout={self.washout}; "
                    "lower washout or give longer sequences."
                )
            rows = np.zeros(ch.n_chunks * ch.chunk_size)
            rows[ch.order >= 0] = sw[ch.order[ch.order >= 0]]
            weights = np.broadcast_to(rows.reshape(ch.n_chunks, 1, -1), entries.shape)
            states, targets, weights = Xs[entries], Yc[entries], weights[entries]
        else:
            states, targets, weights = Xs[last_step_index(ch)], Y[:, 0, :], sw
        self.coef_, self.intercept_ = _ridge(states, targets, weights, self.alpha)
        self.n_outputs_ = self.coef_.shape[0]
        return self

    def _validate_for_predict(self, X):
        check_is_fitted(self)
        X, lengths = validate_sequences(self, X, reset=False)
        return X.astype(self.input_weights_.dtype, copy=False), lengths

    def _raw_outputs(self, X, lengths):
        n_threads = _openmp_effective_n_threads(self.n_jobs)
        blocks = []
        with _blas_single_threaded():
            for start in range(0, X.shape[0], PREDICT_BLOCK):
                part = slice(start, start + PREDICT_BLOCK)
                Xb = X[part, : lengths[part].max()]
                ch, Xs = self._states(Xb, lengths[part], n_threads)
                if self.return_sequences:
                    Z = from_chunks(
                        Xs @ self.coef_.T + self.intercept_, ch, Xb.shape[0]
                    )
                    Z = np.pad(
                        Z,
                        ((0, 0), (0, X.shape[1] - Z.shape[1]), (0, 0)),
                        constant_values=np.nan,
                    )
                else:
                    Z = Xs[last_step_index(ch)] @ self.coef_.T + self.intercept_
                blocks.append(Z)
        return np.concatenate(blocks)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags


def _spectral_radius(W):
    """Largest eigenvalue modulus: ARPACK on large sparse matrices, else dense."""
    n = W.shape[0]
    if n > 100:
        try:
            values = scipy.sparse.linalg.eigs(
                W, k=1, which="LM", v0=np.ones(n), return_eigenvectors=False
            )
            return float(np.abs(values).max())
        except scipy.sparse.linalg.ArpackNoConvergence:
            pass
    return float(np.abs(np.linalg.eigvals(W.toarray())).max()) if n else 0.0


def _ridge(states, targets, weights, alpha):
    """Weighted ridge with an unpenalised intercept, solved by SciPy.

    Minimises ``sum_i w_i ||y_i - W x_i - b||^2 + alpha ||W||^2`` through the
    centred normal equations (Cholesky).
    """
    total = weights.sum()
    w = weights / total
    mean_x = w @ states
    mean_y = w @ targets
    rooted = states * np.sqrt(w)[:, None]
    gram = rooted.T @ rooted - np.outer(mean_x, mean_x)
    gram[np.diag_indices_from(gram)] += alpha / total
    rhs = rooted.T @ (targets * np.sqrt(w)[:, None]) - np.outer(mean_x, mean_y)
    try:
        coef = scipy.linalg.cho_solve(scipy.linalg.cho_factor(gram, lower=False), rhs)
    except scipy.linalg.LinAlgError:  # singular without a ridge: least squares
        root = np.sqrt(w)[:, None]
        coef = scipy.linalg.lstsq((states - mean_x) * root, (targets - mean_y) * root)[
            0
        ]
    coef = coef.T.astype(states.dtype)
    return coef, (mean_y - coef @ mean_x).astype(states.dtype)


_PARAMETERS = """n_reservoir : int, default=100
        Reservoir units.
    spectral_radius : float, default=0.9
        The recurrent matrix is rescaled to this spectral radius (below 1 gives
        the echo state property for most inputs; tune it).
    input_scaling : float, default=1.0
        Input weights and the input bias are +-input_scaling with random signs
        (as reservoirpy draws them).
    leak_rate : float in (0, 1], default=1.0
        a in ``x(t) = (1 - a) x(t-1) + a tanh(W_in u(t) + b + W x(t-1))``.
    alpha : float, default=1e-6
        Ridge penalty of the read-out (on the mean-weighted scale: the penalty
        on the sum of squared errors is ``alpha``).
    washout : int, default=0
        With ``return_sequences=True``, the first ``washout`` steps of each
        sequence are left out of the read-out's fit (the reservoir forgets its
        zero start). Unused for sequence-to-one.
    sparsity : float in [0, 1), default=0.9
        Fraction of zeros in the recurrent matrix; every unit gets the same
        number of recurrent inputs, at random columns, with normal weights.
    random_state : int, RandomState instance or None, default=None
        Seeds the reservoir.
    return_sequences : bool, default=False
        One target per sequence (read at its last real step), or per step.
    n_jobs : int or None, default=None
        OpenMP threads over sequences; results are identical for any value."""

_ATTRIBUTES = """input_weights_ : ndarray of shape (n_reservoir, n_features_in_)
    input_bias_ : ndarray of shape (n_reservoir,)
    reservoir_weights_, reservoir_columns_ : ndarray of shape (K, n_reservoir)
        The recurrent matrix, K = round((1 - sparsity) n_reservoir) nonzeros in
        every row: ``W[r, reservoir_columns_[k, r]] = reservoir_weights_[k,
        r]``.
    coef_ : ndarray of shape (n_outputs_, n_reservoir)
    intercept_ : ndarray of shape (n_outputs_,)
        The ridge read-out.
    n_outputs_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)"""

_REFERENCES = """Jaeger, H. (2001). The "echo state" approach to analysing and training
    recurrent neural networks. GMD Report 148.

    Lukoševičius, M. (2012). A practical guide to applying echo state networks.
    Neural Networks: Tricks of the Trade, Springer."""


class EchoStateRegressor(RecurrentRegressorMixin, BaseEchoState):
    pass


class EchoStateClassifier(RecurrentClassifierMixin, BaseEchoState):
    pass


EchoStateRegressor.__doc__ = f"""Echo state network for regression.

    A fixed random reservoir of leaky tanh units, run from a zero state; only
    the linear read-out is trained, by ridge least squares (SciPy). The
    reservoir runs in a compiled kernel, in parallel over sequences.

    Parameters
    ----------
    {_PARAMETERS}

    Attributes
    ----------
    {_ATTRIBUTES}

    See Also
    --------
    EchoStateClassifier : The same reservoir for classification.
    RNNRegressor : A recurrent network whose every weight is trained.

    References
    ----------
    {_REFERENCES}

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

EchoStateClassifier.__doc__ = f"""Echo state network for classification.

    A fixed random reservoir of leaky tanh units, run from a zero state; the
    read-out is a ridge regression on +-1 targets (as ``RidgeClassifier``):
    the class of the largest decision value. No ``predict_proba``.

    Parameters
    ----------
    {_PARAMETERS}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    {_ATTRIBUTES}

    See Also
    --------
    EchoStateRegressor : The same reservoir for regression.

    References
    ----------
    {_REFERENCES}

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
