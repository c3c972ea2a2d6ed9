"""The shared base of the gradient-trained recurrent estimators.

Python decides, Cython computes: this module validates, initialises, runs
the epoch loop, the solver, early stopping and the read-out; the cell kernels
(``skrnn._elman``, ``skrnn._lstm``, ``skrnn._gru``) run the layers' forward
pass and backpropagation through time on the chunked layout of
:mod:`skrnn._layout`. A cell is described by a :class:`Cell`; adding one does
not touch this module.
"""

import warnings
from dataclasses import dataclass
from numbers import Integral, Real
from types import ModuleType

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._openmp_helpers import _openmp_effective_n_threads
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted
from threadpoolctl import ThreadpoolController

from . import _solvers
from ._data import validate_sequences
from ._layout import (
    INFER_CHUNK_SIZE,
    from_chunks,
    last_step_index,
    make_chunking,
    to_chunks,
    training_chunk_size,
)

ACTIVATIONS = {"identity": 0, "tanh": 1, "logistic": 2, "relu": 3}

# Sequences per block when predicting, to bound memory on large inputs.
PREDICT_BLOCK = 4096

_threadpool_controller = None


def _blas_single_threaded():
    """Hold BLAS to one thread: the kernels call it from OpenMP threads."""
    global _threadpool_controller
    if _threadpool_controller is None:
        _threadpool_controller = ThreadpoolController()
    return _threadpool_controller.limit(limits=1, user_api="blas")


def _step_contributions(X, Hs, dA, GH):
    """Each step's share of one layer's gradients, summed over the batch.

    ``X`` (n_chunks, T, S, F) are the layer's inputs, ``Hs`` its states and
    ``dA`` the pre-activation gradients its kernel's ``backward`` wrote.
    Returns arrays ``(T, *shape)`` for ``weight_ih``, ``weight_hh``,
    ``bias_ih``, ``bias_hh``; their sums over T are the layer's gradients.
    """
    C, T, S, _ = X.shape

    def by_step(A):  # (C, T, S, W) -> (T, C * S, W)
        return A.transpose(1, 0, 2, 3).reshape(T, C * S, -1)

    d_in, d_hid = by_step(dA[..., :GH]), by_step(dA[..., -GH:])
    H = by_step(Hs)
    H_prev = np.zeros_like(H)
    H_prev[1:] = H[:-1]
    return [
        d_in.transpose(0, 2, 1) @ by_step(X),
        d_hid.transpose(0, 2, 1) @ H_prev,
        d_in.sum(axis=1),
        d_hid.sum(axis=1),
    ]


@dataclass(frozen=True)
class Cell:
    """What the estimators need to know of a recurrent cell.

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


@dataclass
class _Trace:
    """What one forward pass keeps for the backward pass."""

    chunking: object
    inputs: list
    states: list
    caches: list
    Z: np.ndarray
    rows: tuple | None


class BaseRecurrent(BaseEstimator):
    """Shared machinery of RNN / LSTM / GRU regressors and classifiers.

    Subclasses set ``_cell`` (a :class:`Cell`) and implement the task:
    ``_encode_targets``, ``_loss_function``, ``_n_outputs``, ``_score_encoded``.
    """

    _cell: Cell

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "solver": [StrOptions({"sgd", "adam", "simplex"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "clip_norm": [Interval(Real, 0, None, closed="neither"), None],
        "simplex_threshold": [Interval(Real, 0, None, closed="left")],
        "spectral_radius": [Interval(Real, 0, None, closed="neither"), None],
        "bptt_steps": [Interval(Integral, 1, None, closed="left"), None],
        "return_sequences": ["boolean"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(32,),
        *,
        solver="adam",
        alpha=1e-4,
        batch_size="auto",
        learning_rate_init=1e-3,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        clip_norm=None,
        simplex_threshold=1.0,
        spectral_radius=None,
        bptt_steps=None,
        return_sequences=False,
        n_jobs=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.clip_norm = clip_norm
        self.simplex_threshold = simplex_threshold
        self.spectral_radius = spectral_radius
        self.bptt_steps = bptt_steps
        self.return_sequences = return_sequences
        self.n_jobs = n_jobs

    # ----------------------------------------------------------- parameters
    def _activation_code(self):
        return ACTIVATIONS[getattr(self, "activation", "tanh")]

    def _layer_sizes(self):
        sizes = np.atleast_1d(np.asarray(self.hidden_layer_sizes))
        if sizes.ndim != 1 or sizes.size == 0 or np.any(sizes < 1):
            raise ValueError(
                "hidden_layer_sizes must be a positive integer or a non-empty "
                f"sequence of positive integers, got {self.hidden_layer_sizes!r}."
            )
        return [int(s) for s in sizes]

    def _params(self):
        """All trainable arrays, in a fixed order (the solver's view)."""
        params = []
        for layer in self.coefs_:
            params += [
                layer["weight_ih"],
                layer["weight_hh"],
                layer["bias_ih"],
                layer["bias_hh"],
            ]
        return params + [self.output_coef_, self.output_intercept_]

    def _set_params_arrays(self, arrays):
        for k, layer in enumerate(self.coefs_):
            for j, name in enumerate(("weight_ih", "weight_hh", "bias_ih", "bias_hh")):
                layer[name] = arrays[4 * k + j]
        self.output_coef_, self.output_intercept_ = arrays[-2], arrays[-1]

    def _initialize(self, n_features, n_outputs, dtype, rng):
        cell = self._cell
        G = cell.n_gates
        self.coefs_ = []
        fan_in = n_features
        for H in self._layer_sizes():
            bound = 1.0 / np.sqrt(H)
            layer = {
                "weight_ih": rng.uniform(-bound, bound, (G * H, fan_in)),
                "weight_hh": rng.uniform(-bound, bound, (G * H, H)),
                "bias_ih": rng.uniform(-bound, bound, G * H),
                "bias_hh": rng.uniform(-bound, bound, G * H),
            }
            if cell.forget_gate is not None:
                gate = slice(cell.forget_gate * H, (cell.forget_gate + 1) * H)
                layer["bias_ih"][gate] = 1.0
                layer["bias_hh"][gate] = 0.0
            if self.spectral_radius is not None:
                for g in range(G):
                    block = layer["weight_hh"][g * H : (g + 1) * H]
                    radius = np.max(np.abs(np.linalg.eigvals(block)))
                    if radius > 0:
                        block *= self.spectral_radius / radius
            self.coefs_.append({k: v.astype(dtype) for k, v in layer.items()})
            fan_in = H
        factor = 2.0 if self._logistic_output() else 6.0
        bound = np.sqrt(factor / (fan_in + n_outputs))
        self.output_coef_ = rng.uniform(-bound, bound, (n_outputs, fan_in)).astype(
            dtype
        )
        self.output_intercept_ = rng.uniform(-bound, bound, n_outputs).astype(dtype)

    def _logistic_output(self):
        return False

    # ------------------------------------------------------- network passes
    def _forward(self, X, lengths, n_threads):
        """Run every layer and the read-out on a batch.

        Returns a :class:`_Trace`; ``Z`` is ``(B, n_outputs)`` in batch order
        for sequence-to-one, ``(n_chunks, T, S, n_outputs)`` per step.
        """
        cell = self._cell
        sizes = [layer["weight_hh"].shape[1] for layer in self.coefs_]
        ch = make_chunking(lengths, training_chunk_size(sizes))
        dtype = self.output_coef_.dtype
        inputs = [to_chunks(X, ch, dtype=dtype)]
        states, caches = [], []
        code = self._activation_code()
        for layer in self.coefs_:
            H = layer["weight_hh"].shape[1]
            shape = inputs[-1].shape[:3]
            Hs = np.empty(shape + (H,), dtype=dtype)
            cache = np.empty(shape + (cell.cache_width * H,), dtype=dtype)
            cell.kernel.forward(
                inputs[-1],
                ch.lengths,
                layer["weight_ih"],
                layer["weight_hh"],
                layer["bias_ih"],
                layer["bias_hh"],
                Hs,
                cache,
                code,
                n_threads,
            )
            states.append(Hs)
            caches.append(cache)
            inputs.append(Hs)
        last = states[-1]
        if self.return_sequences:
            rows = None
            Z = last @ self.output_coef_.T + self.output_intercept_
        else:
            rows = last_step_index(ch)
            Z = last[rows] @ self.output_coef_.T + self.output_intercept_
        return _Trace(ch, inputs[:-1], states, caches, Z, rows)

    def _backward(self, trace, dZ, n_threads, step_norms=None, step_grads=None):
        """Gradients of every parameter given dLoss/dZ (same layout as Z).

        With a list ``step_grads``, it receives each step's share of the
        recurrent parameters' gradients (see ``_step_contributions``).
        """
        cell = self._cell
        ch = trace.chunking
        last = trace.states[-1]
        if trace.rows is None:
            flat_Z = dZ.reshape(-1, dZ.shape[-1])
            dV = flat_Z.T @ last.reshape(-1, last.shape[-1])
            dc = flat_Z.sum(axis=0)
            dHs = dZ @ self.output_coef_
        else:
            dV = dZ.T @ last[trace.rows]
            dc = dZ.sum(axis=0)
            dHs = np.zeros_like(last)
            dHs[trace.rows] = dZ @ self.output_coef_
        code = self._activation_code()
        bptt = self.bptt_steps or 0
        C, T = ch.n_chunks, ch.n_steps
        grads = []
        for k in range(len(self.coefs_) - 1, -1, -1):
            layer = self.coefs_[k]
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
                code,
                bptt,
                n_threads,
            )
            grads = [dW_ih.sum(0), dW_hh.sum(0), db_ih.sum(0), db_hh.sum(0)] + grads
            if step_norms is not None:
                step_norms.insert(0, np.sqrt(sq.sum(axis=0, dtype=np.float64)))
            if step_grads is not None:
                step_grads[:0] = _step_contributions(Xc, trace.states[k], dA, GH)
            dHs = dX
        return grads + [dV, dc]

    def _targets_at_entries(self, trace, Y, sw):
        """Read-out outputs, targets and normalised weights of the entries with
        a target; and the index that puts a gradient back into ``Z``'s layout."""
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

    def _loss_grad(
        self, X, lengths, Y, sw, n_threads, step_norms=None, step_grads=None
    ):
        """Loss (with the L2 term) and gradients of all parameters on a batch."""
        trace = self._forward(X, lengths, n_threads)
        Z, Yt, w, entries = self._targets_at_entries(trace, Y, sw)
        loss, dZ = self._loss_function()(Z, Yt.astype(Z.dtype), w.astype(Z.dtype))
        if entries is not None:
            full = np.zeros_like(trace.Z)
            full[entries] = dZ
            dZ = full
        grads = self._backward(
            trace, dZ.astype(trace.Z.dtype), n_threads, step_norms, step_grads
        )
        n = sw.sum()
        weights = [p for i, p in enumerate(self._params()) if self._is_weight(i)]
        loss += 0.5 * self.alpha * sum(float(np.vdot(p, p)) for p in weights) / n
        for i, (p, g) in enumerate(zip(self._params(), grads, strict=False)):
            if self._is_weight(i):
                g += (self.alpha / n) * p
        return loss, grads

    def _is_weight(self, i):
        """True for the weight matrices (L2-penalised), False for biases."""
        n_layer_params = 4 * len(self.coefs_)
        return (i < n_layer_params and i % 4 < 2) or i == n_layer_params

    def _raw_outputs(self, X, lengths):
        """Read-out outputs in batch order: (n, n_outputs), or per step
        (n, T, n_outputs) with NaN at padded steps."""
        n_threads = _openmp_effective_n_threads(self.n_jobs)
        blocks = []
        with _blas_single_threaded():
            for start in range(0, X.shape[0], PREDICT_BLOCK):
                part = slice(start, start + PREDICT_BLOCK)
                Xb = X[part, : lengths[part].max()]
                Z = self._infer(Xb, lengths[part], n_threads)
                if self.return_sequences:
                    Z = np.pad(
                        Z,
                        ((0, 0), (0, X.shape[1] - Z.shape[1]), (0, 0)),
                        constant_values=np.nan,
                    )
                blocks.append(Z)
        return np.concatenate(blocks)

    def _infer(self, X, lengths, n_threads):
        """The read-out of :meth:`_forward`, by the kernels' inference path.

        No cache, and for sequence-to-one only each sequence's last state of
        the last layer. Returns ``(B, n_outputs)``, or per step
        ``(B, T, n_outputs)`` with NaN at padded steps, in batch order.
        """
        ch = make_chunking(lengths, INFER_CHUNK_SIZE)
        dtype = self.output_coef_.dtype
        Xc = to_chunks(X, ch, dtype=dtype)
        code = self._activation_code()
        for k, layer in enumerate(self.coefs_):
            H = layer["weight_hh"].shape[1]
            every_step = self.return_sequences or k < len(self.coefs_) - 1
            Hs = np.empty(Xc.shape[:3] + (H,) if every_step else (0,) * 4, dtype)
            last = np.empty(
                (0,) * 3 if every_step else Xc.shape[:1] + (ch.chunk_size, H), dtype
            )
            self._cell.kernel.infer(
                Xc,
                ch.lengths,
                layer["weight_ih"],
                layer["weight_hh"],
                layer["bias_ih"],
                layer["bias_hh"],
                Hs,
                last,
                code,
                n_threads,
            )
            Xc = Hs
        if self.return_sequences:
            Z = Hs @ self.output_coef_.T + self.output_intercept_
            return from_chunks(Z, ch, X.shape[0])
        c, _, s = last_step_index(ch)
        return last[c, s] @ self.output_coef_.T + self.output_intercept_

    def _validate_for_predict(self, X):
        check_is_fitted(self)
        X, lengths = validate_sequences(self, X, reset=False)
        return X.astype(self.output_coef_.dtype, copy=False), lengths

    # ------------------------------------------------------------- training
    def _fit(self, X, y, sample_weight, *, incremental, classes=None):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        first_call = not ((self.warm_start or incremental) and hasattr(self, "coefs_"))
        X, lengths = validate_sequences(self, X, reset=first_call)
        Y = self._encode_targets(y, lengths, X.shape[1], first_call, classes)
        sample_weight = _check_sample_weight(sample_weight, X, ensure_non_negative=True)
        if not sample_weight.sum() > 0:
            raise ValueError("sample_weight must have a positive sum.")
        rng = check_random_state(self.random_state)
        if not first_call:
            # a new stream for every continued fit (warm start, partial_fit), so
            # that each epoch shuffles differently, reproducibly for a seed
            rng = np.random.RandomState([rng.randint(2**31 - 1), self.t_ % 2**32])
        dtype = X.dtype
        if first_call:
            self._initialize(X.shape[2], self._n_outputs(), dtype, rng)
            self.n_outputs_ = self._n_outputs()
            self.n_iter_ = 0
            self.t_ = 0
            self.loss_curve_ = []
            self._no_improvement_count = 0
            self._solver_state = _solvers.init_state(self.solver, self._params())
            if self.early_stopping:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.best_validation_score_ = None
        elif self.output_coef_.dtype != dtype:
            self._set_params_arrays([p.astype(dtype) for p in self._params()])
            self._solver_state = _solvers.init_state(self.solver, self._params())
        elif not incremental and self._solver_state_kind() != _solvers.state_kind(
            self.solver
        ):
            self._solver_state = _solvers.init_state(self.solver, self._params())
        # a diverging fit is detected and handled below: no warnings for it here
        with _blas_single_threaded(), np.errstate(over="ignore", invalid="ignore"):
            self._fit_stochastic(X, lengths, Y, sample_weight, rng, incremental)
        return self

    def to_torch(self):
        """The equivalent ``torch.nn.Module`` (needs PyTorch).

        Returns
        -------
        module : torch.nn.Module
            See :func:`skrnn._torch.to_torch`: ``module(x, lengths)`` gives the
            read-out's raw values for a batch-first tensor.
        """
        from ._torch import to_torch

        check_is_fitted(self)
        return to_torch(self)

    def _solver_state_kind(self):
        return "adam" if "ms" in self._solver_state else "sgd"

    def _fit_stochastic(self, X, lengths, Y, sw, rng, incremental):
        n_threads = _openmp_effective_n_threads(self.n_jobs)
        early_stopping = self.early_stopping and not incremental
        val = None
        if early_stopping:
            stratify = self._stratify(Y)
            split = train_test_split(
                np.arange(X.shape[0]),
                random_state=rng,
                test_size=self.validation_fraction,
                stratify=stratify,
            )
            if split[1].shape[0] < 2:
                raise ValueError(
                    "The validation set is too small. Increase 'validation_fraction' "
                    "or the size of your dataset."
                )
            train, held = split
            val = (X[held], lengths[held], Y[held], sw[held])
            X, lengths, Y, sw = X[train], lengths[train], Y[train], sw[train]
        n = X.shape[0]
        if self.batch_size == "auto":
            batch_size = min(200, n)
        else:
            if self.batch_size > n:
                warnings.warn(
                    "Got `batch_size` less than 1 or larger than sample size. It is "
                    "going to be clipped",
                    stacklevel=2,
                )
            batch_size = int(np.clip(self.batch_size, 1, n))
        best_params = [p.copy() for p in self._params()]
        best_epoch_loss = np.inf
        for _ in range(self.max_iter):
            order = rng.permutation(n) if self.shuffle else np.arange(n)
            total = 0.0
            diverged = False
            for start in range(0, n, batch_size):
                idx = order[start : start + batch_size]
                Xb = X[idx, : lengths[idx].max()]
                step_grads = [] if self.solver == "simplex" else None
                loss, grads = self._loss_grad(
                    Xb, lengths[idx], Y[idx], sw[idx], n_threads, step_grads=step_grads
                )
                if not (
                    np.isfinite(loss) and all(np.all(np.isfinite(g)) for g in grads)
                ):
                    diverged = True
                    break
                if step_grads is not None:
                    _solvers.simplex_direction(
                        grads, step_grads, self.simplex_threshold, rng
                    )
                _solvers.clip_by_global_norm(grads, self.clip_norm)
                self._update(grads)
                total += loss * idx.shape[0]
            if diverged or not all(np.all(np.isfinite(p)) for p in self._params()):
                self._set_params_arrays(best_params)
                warnings.warn(
                    f"Training diverged in epoch {self.n_iter_ + 1} (the loss or a "
                    "gradient is not finite); the weights of the best epoch before "
                    "it are kept. Lower learning_rate_init or set clip_norm.",
                    ConvergenceWarning,
                    stacklevel=2,
                )
                break
            self.n_iter_ += 1
            self.t_ += n
            self.loss_ = total / n
            self.loss_curve_.append(self.loss_)
            if self.verbose:
                print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")
            if self.loss_ < best_epoch_loss:
                best_epoch_loss = self.loss_
                best_params = [p.copy() for p in self._params()]
            self._update_no_improvement_count(early_stopping, val, n_threads)
            if self._no_improvement_count > self.n_iter_no_change:
                if early_stopping:
                    msg = (
                        "Validation score did not improve more than "
                        f"tol={self.tol:f} for {self.n_iter_no_change} consecutive "
                        "epochs."
                    )
                else:
                    msg = (
                        "Training loss did not improve more than "
                        f"tol={self.tol:f} for {self.n_iter_no_change} consecutive "
                        "epochs."
                    )
                if self.verbose:
                    print(msg + " Stopping.")
                break
            if incremental:
                break
            if self.n_iter_ == self.max_iter:
                warnings.warn(
                    f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) "
                    "reached and the optimization hasn't converged yet.",
                    ConvergenceWarning,
                    stacklevel=2,
                )
        if early_stopping and getattr(self, "_best_params", None) is not None:
            self._set_params_arrays(self._best_params)
            self._best_params = None

    def _update(self, grads):
        params = self._params()
        if self.solver == "adam":
            _solvers.adam_update(
                params,
                grads,
                self._solver_state,
                self.learning_rate_init,
                self.beta_1,
                self.beta_2,
                self.epsilon,
            )
        else:
            _solvers.sgd_update(
                params,
                grads,
                self._solver_state,
                self.learning_rate_init,
                self.momentum,
                self.nesterovs_momentum,
            )

    def _update_no_improvement_count(self, early_stopping, val, n_threads):
        if early_stopping:
            score = self._score_encoded(*val)
            self.validation_scores_.append(score)
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_params = [p.copy() for p in self._params()]
        else:
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            self.best_loss_ = min(self.best_loss_, self.loss_curve_[-1])

    def _stratify(self, Y):
        return None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags
