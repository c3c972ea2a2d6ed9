"""Ma & Ji's EM training of a recurrent network of sigmoid units."""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.linalg
from scipy.special import logit
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from . import _em, _memory, _network
from ._contract import SequenceModel
from ._data import validate_for_predict
from ._layout import make_chunking, to_chunks
from ._network import ACTIVATIONS, Network, chunked_weights
from ._recurrent import ELMAN
from ._task_mixins import RecurrentRegressorMixin
from ._threads import blas_single_threaded, effective_n_threads

EPS = 1e-3


class EMRecurrentRegressor(RecurrentRegressorMixin, SequenceModel, BaseEstimator):
    """Recurrent network of sigmoid units trained by EM (Ma & Ji, 1998).

    The model is ``z(n) = sigmoid(W u(n))``, ``u(n) = [x(n); z(n-1); 1]``,
    ``z(-1) = 0``, with a linear read-out ``y(n) = V z(n) + c``; the hidden
    states are the missing data. Each iteration runs:

    1. E-step, a mean-field forward filter per sequence (compiled, parallel
       over sequences): predict ``h(n) = sigmoid(W [x(n); zt(n-1); 1])``,
       correct it with the residual ``zt(n) = h(n) + K (d(n) - V h(n) - c)``,
       ``K = V' (V V' + (lambda1/lambda2) I)^-1`` (no correction at steps
       without a target), clip into ``[1e-3, 1 - 1e-3]``; the next step is
       predicted from the corrected state.
    2. M-step for the hidden units: neuron j solves the weighted least squares
       ``min_w sum_n s_j(n) (w' u(n) - logit(zt_j(n)))^2 + mu ||w - w_old||^2``
       with ``s_j(n) = (zt_j (1 - zt_j))^2``, from one BLAS-3 product for all
       neurons' Gram matrices and one Cholesky solve (SciPy) per neuron.
    3. M-step for the read-out: run the network on its own states (no
       correction) and solve ``V, c`` by least squares (SciPy). Its residual
       is the training loss, ``0.5 x`` mean squared error.

    The choices the paper leaves open, each the one measured to make EM learn
    (random sigmoid teacher networks, 8 hidden units, T=30):

    - the read-out for the E-step comes from the network's own forward states
      (step 3), never from the E-step's targets: fitted to the corrected states
      it stalled worse than a random reservoir;
    - full correction by default (``lambda1/lambda2`` tiny); ``lambda1 =
      lambda2 = 1`` fits about as well with the read-out done right;
    - W (bias column included) starts uniform in ``+-6/sqrt(n_hidden)``, six
      times PyTorch's scale, and ``V ~ N(0, 0.1^2)``, ``c = mean(y)``: with
      small weights the units sit in the sigmoid's linear middle, the read-out
      grows huge and the corrections vanish;
    - the ridge pulls toward the previous weights, ``mu = 1e-6 mean(diag
      G_j)``: a ridge toward zero stalls the fit;
    - over-relaxation ``W = W_old + omega (W_em - W_old)``: omega grows 1.5x
      after every step that lowers the loss, and a step that raises it is
      replaced in the same iteration by the plain EM step (omega back to 1);
      it halves the iterations needed;
    - EM is not monotone: the best iterate is kept (``best_loss_``), and
      ``n_init`` restarts (as ``GaussianMixture``'s) keep the best fit, since
      the result depends on the initial draw.

    EM is for small networks and quick fits: one iteration costs a few
    gradient epochs and grows as ``n_hidden^3``; it reaches a random
    reservoir's level within a few iterations and ends below it, but Adam
    keeps going and ends lower. Sequence-to-one data (one target at each
    sequence's last step) gains little from EM: the filter corrects only the
    last state.

    Parameters
    ----------
    n_hidden : int, default=8
        Hidden sigmoid units.
    lambda1, lambda2 : float, default=1e-6, 1.0
        Precisions of the noise on the hidden units and on the targets; only
        their ratio matters (the correction's strength).
    max_iter : int, default=100
        EM iterations per initialisation.
    tol : float, default=1e-4
        Improvement of the best loss below which an iteration counts as none.
    n_iter_no_change : int, default=10
        Iterations without improvement before stopping.
    n_init : int, default=1
        Initialisations; the best fit is kept. ``n_init=3`` is more robust
        over ``random_state``: on six teachers (benchmarks/bench_em.py
        --spread) the worst of six seeds' final loss per teacher fell from
        0.28-0.90x the best random reservoir's to 0.20-0.80x, at 2.3-3.8x the
        fit time. It is not the default because picking the best of several
        fits breaks scikit-learn's sample-weight equivalence (weights and
        repeated rows then select different fits).
    return_sequences : bool, default=False
        Per-step targets (the paper's setting) or one per sequence.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights and read-out of each initialisation.
    n_jobs : int or None, default=None
        OpenMP threads over sequences; results are identical for any value.
    verbose : bool, default=False
        Print the loss after each iteration.

    Attributes
    ----------
    coefs_ : list of one dict
        The hidden weights in ``torch.nn.RNN``'s layout: ``weight_ih`` (the
        columns of W for x), ``weight_hh`` (for z), ``bias_ih`` (the constant
        column), ``bias_hh`` zeros; an ``RNNRegressor(activation='logistic')``
        with these weights computes the same.
    output_coef_ : ndarray of shape (`n_outputs_`, n_hidden)
    output_intercept_ : ndarray of shape (`n_outputs_`,)
    loss_curve_ : list of float
        0.5 x training MSE after each iteration (of the kept initialisation).
    best_loss_ : float
        The lowest, that of the fitted model.
    loss_ : float
    n_iter_ : int
    n_outputs_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)

    See Also
    --------
    RNNRegressor : The same network trained by gradient descent.
    EchoStateRegressor : A fixed random reservoir, only the read-out trained.

    References
    ----------
    Ma, S. and Ji, C. (1998). Fast training of recurrent networks based on the
    EM algorithm. IEEE Transactions on Neural Networks 9(1), 11-26.

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import EMRecurrentRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, size=(200, 15, 2))
    >>> y = np.cumsum(X[:, :, 0], axis=1) / 4  # per-step targets
    >>> em = EMRecurrentRegressor(8, return_sequences=True, max_iter=30,
    ...                           random_state=0).fit(X, y)
    >>> em.score(X, y) > 0.8
    True
    """

    _parameter_constraints: dict = {
        "n_hidden": [Interval(Integral, 1, None, closed="left")],
        "lambda1": [Interval(Real, 0, None, closed="neither")],
        "lambda2": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "return_sequences": ["boolean"],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_hidden=8,
        *,
        lambda1=1e-6,
        lambda2=1.0,
        max_iter=100,
        tol=1e-4,
        n_iter_no_change=10,
        n_init=1,
        return_sequences=False,
        random_state=None,
        n_jobs=None,
        verbose=False,
    ):
        self.n_hidden = n_hidden
        self.lambda1 = lambda1
        self.lambda2 = lambda2
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.n_init = n_init
        self.return_sequences = return_sequences
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    # -------------------------------------------------------------- weights
    @staticmethod
    def _layer(W):
        """Hidden weights W (H, F + H + 1) in PyTorch's layout."""
        F = W.shape[1] - W.shape[0] - 1
        H = W.shape[0]
        return {
            "weight_ih": np.ascontiguousarray(W[:, :F]),
            "weight_hh": np.ascontiguousarray(W[:, F : F + H]),
            "bias_ih": np.ascontiguousarray(W[:, -1]),
            "bias_hh": np.zeros(H, dtype=W.dtype),
        }

    def _network(self, coefs=None, V=None, c=None):
        """The network as the engine runs it: the fitted one, or the one with
        the given weights."""
        return Network(
            cell=ELMAN,
            activation=ACTIVATIONS["logistic"],
            coefs=self.coefs_ if coefs is None else coefs,
            output_coef=self.output_coef_ if V is None else V,
            output_intercept=self.output_intercept_ if c is None else c,
            return_sequences=self.return_sequences,
        )

    # ---------------------------------------------------------------- steps
    def _readout(self, data, W, n_threads):
        """Run the network on its own states, fit V, c by least squares; the
        training loss is 0.5 x the residual's mean square."""
        X, lengths, _, Yt, entries, w, _, _ = data
        net = self._network(
            [self._layer(W)],
            np.zeros((Yt.shape[1], W.shape[0]), W.dtype),
            np.zeros(Yt.shape[1], W.dtype),
        )
        trace = _network.forward(net, X, lengths, n_threads)
        states = (
            trace.states[0][entries]
            if trace.rows is None
            else trace.states[0][trace.rows]
        )
        A = np.column_stack([states, np.ones(len(states))]) * np.sqrt(w)[:, None]
        sol, *_ = scipy.linalg.lstsq(A, Yt * np.sqrt(w)[:, None])
        V, c = sol[:-1].T.astype(W.dtype), sol[-1].astype(W.dtype)
        residual = states @ V.T + c - Yt
        loss = 0.5 * float(np.dot(w, np.mean(residual**2, axis=1))) / w.sum()
        return V, c, loss

    def _e_step(self, data, W, V, c, n_threads):
        X, lengths, ch, _, _, _, Dc, has = data
        H = W.shape[0]
        F = X.shape[2]
        # pinv: with collinear outputs V V' is singular to rounding, and the
        # default lambda1/lambda2 = 1e-6 does not always lift it
        gain = V.T @ np.linalg.pinv(
            V.astype(np.float64) @ V.T
            + (self.lambda1 / self.lambda2) * np.eye(V.shape[0]),
            hermitian=True,
        )
        dtype = W.dtype
        Xc = to_chunks(X, ch, dtype=dtype)
        Zt = np.empty(Xc.shape[:3] + (H,), dtype=dtype)
        work = np.empty((ch.n_chunks, ch.chunk_size, V.shape[0]), dtype=dtype)
        _em.filter(
            Xc,
            ch.lengths,
            np.ascontiguousarray(W[:, :F]),
            np.ascontiguousarray(W[:, F : F + H]),
            np.ascontiguousarray(W[:, -1]),
            V,
            c,
            np.ascontiguousarray(gain, dtype=dtype),
            Dc,
            has,
            dtype.type(EPS),
            Zt,
            work,
            n_threads,
        )
        return Xc, Zt

    def _m_step(self, data, W, Xc, Zt):
        """One weighted least-squares problem per hidden neuron."""
        ch = data[2]
        mask = ch.mask
        prev = np.zeros_like(Zt)
        prev[:, 1:] = Zt[:, :-1]
        U = np.concatenate(
            [Xc[mask], prev[mask], np.ones((mask.sum(), 1), Zt.dtype)], axis=1
        )
        z = Zt[mask]
        targets = logit(z)
        weights = (z * (1 - z)) ** 2
        D = U.shape[1]
        outer = (U[:, :, None] * U[:, None, :]).reshape(len(U), D * D)
        grams = (weights.T @ outer).reshape(-1, D, D)
        rhs = (weights * targets).T @ U
        W_new = np.empty_like(W)
        for j in range(W.shape[0]):
            mu = 1e-6 * np.mean(np.diag(grams[j]))
            gram = grams[j] + mu * np.eye(D)
            try:
                W_new[j] = scipy.linalg.cho_solve(
                    scipy.linalg.cho_factor(gram), rhs[j] + mu * W[j]
                )
            except (scipy.linalg.LinAlgError, ValueError):
                # singular, or not finite (huge inputs overflow float32 Grams)
                W_new[j] = W[j]
        return W_new

    # -------------------------------------------------------------- fitting
    def _prepare(self, X, lengths, Y, sw):
        ch = make_chunking(lengths)
        if self.return_sequences:
            Yc = to_chunks(Y, ch)
            entries = ch.mask & ~np.isnan(Yc).any(axis=-1)
        else:
            entries = np.zeros(ch.mask.shape, dtype=bool)
            rows = np.flatnonzero(ch.order >= 0)
            c_idx, s_idx = np.divmod(rows, ch.chunk_size)
            entries[c_idx, ch.lengths[c_idx, s_idx] - 1, s_idx] = True
            Yc = np.zeros(ch.mask.shape + (Y.shape[2],))
            Yc[c_idx, ch.lengths[c_idx, s_idx] - 1, s_idx] = Y[ch.order[rows], 0]
        has = entries.astype(X.dtype)
        Dc = np.where(entries[..., None], np.nan_to_num(Yc), 0).astype(X.dtype)
        w = chunked_weights(sw, ch)[entries]
        if self.return_sequences:
            Yt = Yc[entries]
        else:
            Yt = Y[:, 0]
            w = sw
        with np.errstate(over="ignore"):
            Yt = Yt.astype(X.dtype)
        if not np.isfinite(Yt).all():
            raise ValueError(
                f"The targets do not fit in {X.dtype.name} (largest |y|: "
                f"{np.nanmax(np.abs(Y)):.3g}); scale y, or pass X as float64."
            )
        return (X, lengths, ch, Yt, entries, w, Dc, has)

    def _fit_once(self, data, rng, n_threads, results):
        """One initialisation's EM iterations; ``results`` are the earlier
        initialisations', which an interrupted fit keeps if they are better."""
        X = data[0]
        F, H, n_out = X.shape[2], self.n_hidden, data[3].shape[1]
        bound = 6 / np.sqrt(H)
        W = rng.uniform(-bound, bound, (H, F + H + 1)).astype(X.dtype)
        V = rng.normal(0, 0.1, (n_out, H)).astype(X.dtype)
        c = np.average(data[3], axis=0, weights=data[5]).astype(X.dtype)
        _, _, loss = self._readout(data, W, n_threads)
        best = (loss, W, V, c)
        curve = []
        omega = 1.0
        no_improvement = 0
        converged = False
        for it in range(self.max_iter):
            Xc, Zt = self._e_step(data, W, V, c, n_threads)
            W_em = self._m_step(data, W, Xc, Zt)
            W_try = W + omega * (W_em - W)
            V_try, c_try, loss_try = self._readout(data, W_try, n_threads)
            if omega > 1 and not loss_try < loss:
                omega = 1.0
                W_try = W_em
                V_try, c_try, loss_try = self._readout(data, W_try, n_threads)
            elif loss_try < loss:
                omega *= 1.5
            W, V, c, loss = W_try, V_try, c_try, loss_try
            if not np.isfinite(loss):
                break
            curve.append(loss)
            if self.verbose:
                print(f"Iteration {it + 1}, loss = {loss:.8f}")
            if loss > best[0] - self.tol:
                no_improvement += 1
            else:
                no_improvement = 0
            if loss < best[0]:
                best = (loss, W, V, c)
            self._set_fitted(results + [(best, curve, False)])
            init = f" of initialisation {len(results) + 1}" if self.n_init > 1 else ""
            self._checkpoint(f"iteration {it + 1}{init}")
            if no_improvement > self.n_iter_no_change:
                converged = True
                break
        return best, curve, converged

    def _resets(self, incremental):
        return True

    def _fit_encoded(self, X, lengths, Y, sample_weight, task, *, incremental):
        rng = check_random_state(self.random_state)
        n_threads = effective_n_threads(self.n_jobs)
        _memory.check(
            _memory.em_fit_bytes(
                X.shape[0],
                X.shape[1],
                X.shape[2],
                self.n_hidden,
                Y.shape[2],
                X.dtype.itemsize,
            ),
            "EMRecurrentRegressor.fit",
            "EM's M-step holds the outer products of every step's inputs, "
            "(n_steps_total, (n_features + n_hidden + 1)^2): fit on fewer or "
            "shorter sequences or with fewer n_hidden",
        )
        results = []
        with blas_single_threaded():
            data = self._prepare(X, lengths, Y, sample_weight)
            for _ in range(self.n_init):
                results.append(self._fit_once(data, rng, n_threads, results))
        if not self._set_fitted(results):
            warnings.warn(
                f"EM: maximum iterations ({self.max_iter}) reached and the loss is "
                "still improving.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def _set_fitted(self, results):
        """The fitted attributes from the best of ``results``; returns whether
        that fit converged."""
        (loss, W, V, c), curve, converged = min(results, key=lambda r: r[0][0])
        self.coefs_ = [self._layer(W)]
        self.output_coef_ = np.ascontiguousarray(V)
        self.output_intercept_ = np.ascontiguousarray(c)
        self.best_loss_ = loss
        self.loss_curve_ = curve
        self.loss_ = curve[-1] if curve else loss
        self.n_iter_ = len(curve)
        self.n_outputs_ = V.shape[0]
        return converged

    # ------------------------------------------------------------ prediction
    def _validate_for_predict(self, X):
        return validate_for_predict(self, X, dtype_of="output_coef_")

    def _raw_outputs(self, X, lengths):
        with blas_single_threaded():
            return _network.raw_outputs(
                self._network(), X, lengths, effective_n_threads(self.n_jobs)
            )
