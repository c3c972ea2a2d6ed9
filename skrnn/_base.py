"""The gradient-trained recurrent estimators' shared base.

Python decides, Cython computes: this module keeps the parameters, the
initialisation, the loss, the epoch loop, early stopping and prediction; the
engine (:mod:`skrnn._network`) runs the passes over the layers, and the cell
kernels compute them. The solver is an object of :mod:`skrnn._solvers`; the
task (regression or classification) calls this model through
:class:`~skrnn._contract.SequenceModel`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch
import warnings
from numbers import Integral, Real

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import check_scoring
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import check_is_fitted

from . import _memory, _network, _solvers
from ._contract import SequenceModel
from ._data import validate_for_predict, weight_total
from ._layout import training_chunk_size
from ._network import ACTIVATIONS, POOLINGS, Cell, Network
from ._threads import blas_single_threaded, effective_n_threads

# pooling='auto' of the RNN / LSTM / GRU sequence-to-one models: chosen on
# benchmarks/bench_uea.py by the rule stated in benchmarks/RESULTS.md
AUTO_POOLING = "max"
# bidirectional='auto' of the LSTM / GRU sequence-to-one models: chosen the same
# way (round 5); RNN and GRU-D models keep one direction (not measured)
AUTO_BIDIRECTIONAL = True


def auto_batch_size(n_sequences):
    """``batch_size='auto'``: about 8 updates per epoch, minibatches of 8 to 200.

    ``min(n, max(8, min(200, n // 8)))``. MLPRegressor's ``min(200, n)`` makes
    an epoch one update on small sets (the default fit was then 200 steps,
    and stopped after 10 of them without improvement); measured on
    benchmarks/bench_uea.py (benchmarks/RESULTS.md).
    """
    return min(n_sequences, max(8, min(200, n_sequences // 8)))


def _variational_masks(rate, widths, n_sequences, dtype, rng):
    """One dropout mask ``(n_sequences, width)`` per width, in order from
    ``rng`` (so from ``random_state`` alone): entries 0 with probability
    ``rate``, else ``1 / (1 - rate)``."""
    keep = 1.0 - rate
    return [
        (rng.uniform(size=(n_sequences, width)) < keep).astype(dtype) / dtype.type(keep)
        for width in widths
    ]


def _average_weights(average, params, decay):
    """The running average of the epochs' weights (``averaging``) after one
    more epoch: ``decay * average + (1 - decay) * params`` per array, in
    place; copies of ``params`` when ``average`` is None (the first epoch)."""
    if average is None:
        return [p.copy() for p in params]
    for a, p in zip(average, params, strict=True):
        a *= decay
        a += (1.0 - decay) * p
    return average


class BaseRecurrent(
    SequenceModel, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Shared machinery of the RNN / LSTM / GRU regressors and classifiers.

    Subclasses set ``_cell`` (a :class:`~skrnn._network.Cell`); a task mixin
    (regression or classification) supplies ``fit``, ``predict`` and the
    targets' encoding.
    """

    _cell: Cell

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "solver": [StrOptions(set(_solvers.SOLVERS))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive", "cosine"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "scoring": [StrOptions({"loss"}), str, callable, None],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "clip_norm": [Interval(Real, 0, None, closed="neither"), None],
        "averaging": [Interval(Real, 0, 1, closed="left")],
        "simplex_threshold": [Interval(Real, 0, None, closed="left")],
        "spectral_radius": [Interval(Real, 0, None, closed="neither"), None],
        "bptt_steps": [Interval(Integral, 1, None, closed="left"), None],
        "return_sequences": ["boolean"],
        "pooling": [StrOptions(set(POOLINGS) | {"auto"})],
        "bidirectional": ["boolean", StrOptions({"auto"})],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "recurrent_dropout": [Interval(Real, 0, 1, closed="left")],
        "n_jobs": [Integral, None],
    }

    # The defaults measured on benchmarks/bench_uea.py, each by a rule fixed
    # before its runs (benchmarks/RESULTS.md, issue 14; the docstrings in
    # skrnn/_docs.py give the figures): batch_size='auto' (auto_batch_size)
    # and clip_norm=1.0 (the first round), learning_rate_init=3e-3 and
    # pooling='auto' (round 2), bidirectional='auto' (round 5), max_iter=400
    # (round 6), averaging=0.9 (round 7), n_iter_no_change=100 (round 8; 50
    # before). The estimator families repeat them in their own __init__
    # (tests/test_parameters.py checks).
    def __init__(
        self,
        hidden_layer_sizes=(32,),
        *,
        solver="adam",
        alpha=1e-4,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=3e-3,
        power_t=0.5,
        max_iter=400,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        scoring=None,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=100,
        clip_norm=1.0,
        averaging=0.9,
        simplex_threshold=1.0,
        spectral_radius=None,
        bptt_steps=None,
        return_sequences=False,
        pooling="auto",
        bidirectional="auto",
        dropout=0.0,
        recurrent_dropout=0.0,
        n_jobs=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.scoring = scoring
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.clip_norm = clip_norm
        self.averaging = averaging
        self.simplex_threshold = simplex_threshold
        self.spectral_radius = spectral_radius
        self.bptt_steps = bptt_steps
        self.return_sequences = return_sequences
        self.pooling = pooling
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.recurrent_dropout = recurrent_dropout
        self.n_jobs = n_jobs

    # ----------------------------------------------------------- parameters
    def _network(self):
        """The fitted weights as the engine reads them."""
        return Network(
            cell=self._cell,
            # only the Elman cell has an `activation`; the gated cells' kernels
            # ignore the code
            activation=ACTIVATIONS[getattr(self, "activation", "tanh")],
            coefs=self.coefs_,
            output_coef=self.output_coef_,
            output_intercept=self.output_intercept_,
            return_sequences=self.return_sequences,
            pooling=self._pooling(),
            bidirectional=self._bidirectional(),
            # leaky units and skip connections: RNN estimators' parameters
            leak_rate=getattr(self, "leak_rate", 1.0),
            skip_steps=getattr(self, "skip_steps", None),
        )

    # what pooling='auto' is for a sequence-to-one model (benchmarks/RESULTS.md)
    _auto_pooling = AUTO_POOLING

    def _pooling(self):
        """The pooling in effect: 'auto' is ``_auto_pooling`` for
        sequence-to-one models; with ``return_sequences`` nothing is pooled."""
        if self.pooling != "auto":
            return self.pooling
        return "last" if self.return_sequences else self._auto_pooling

    # what bidirectional='auto' is for a sequence-to-one model: False here (the
    # Elman RNN, GRU-D), AUTO_BIDIRECTIONAL for LSTM and GRU models
    _auto_bidirectional = False

    def _bidirectional(self):
        """Whether the layers run both ways: 'auto' is ``_auto_bidirectional``
        for sequence-to-one models and False with ``return_sequences`` (each
        step's output then depends on the steps up to it only)."""
        if self.bidirectional != "auto":
            return bool(self.bidirectional)
        return not self.return_sequences and self._auto_bidirectional

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
        return _network.parameters(self._network())

    def _set_params_arrays(self, arrays):
        names = _network.parameter_names(self._network())
        for (k, name), array in zip(names, arrays, strict=False):
            self.coefs_[k][name] = array
        self.output_coef_, self.output_intercept_ = arrays[-2], arrays[-1]

    def _share_rows(self):
        """Which of :meth:`_loss_grad`'s ``step_grads`` make each row of
        ``temporal_gradient_norms(..., of='weights')``: index lists, one per
        layer and direction."""
        rows, start = [], 0
        net = self._network()
        for layer in self.coefs_:
            for suffix in net.directions:
                n = len(_network.layer_parameter_names(layer, suffix))
                rows.append(list(range(start, start + n)))
                start += n
        return rows

    def _initialize(self, n_features, n_outputs, dtype, rng, *, logistic_output):
        cell = self._cell
        G = cell.n_gates
        self.coefs_ = []
        fan_in = n_features
        directions = ("", "_reverse") if self._bidirectional() else ("",)
        for H in self._layer_sizes():
            bound = 1.0 / np.sqrt(H)
            layer = {}
            # each direction drawn as a layer of its own, forward first
            for suffix in directions:
                part = {
                    "weight_ih": rng.uniform(-bound, bound, (G * H, fan_in)),
                    "weight_hh": rng.uniform(-bound, bound, (G * H, H)),
                    "bias_ih": rng.uniform(-bound, bound, G * H),
                    "bias_hh": rng.uniform(-bound, bound, G * H),
                }
                if cell.forget_gate is not None:
                    gate = slice(cell.forget_gate * H, (cell.forget_gate + 1) * H)
                    part["bias_ih"][gate] = 1.0
                    part["bias_hh"][gate] = 0.0
                if self.spectral_radius is not None:
                    for g in range(G):
                        block = part["weight_hh"][g * H : (g + 1) * H]
                        radius = np.max(np.abs(np.linalg.eigvals(block)))
                        if radius > 0:
                            block *= self.spectral_radius / radius
                if getattr(self, "skip_steps", None):
                    part[_network.SKIP_PARAMETER] = rng.uniform(
                        -bound, bound, (G * H, H)
                    )
                layer.update({k + suffix: v.astype(dtype) for k, v in part.items()})
            self.coefs_.append(layer)
            fan_in = H * len(directions)
        factor = 2.0 if logistic_output else 6.0
        bound = np.sqrt(factor / (fan_in + n_outputs))
        self.output_coef_ = rng.uniform(-bound, bound, (n_outputs, fan_in)).astype(
            dtype
        )
        self.output_intercept_ = rng.uniform(-bound, bound, n_outputs).astype(dtype)

    # ------------------------------------------------------------------ loss
    def _dropout_masks(self, n_sequences, dtype, rng):
        """Gal and Ghahramani's variational dropout masks of a minibatch: one
        per sequence and layer, ``(n_sequences, F_k)`` (see
        :func:`_variational_masks`); None when ``dropout`` is 0."""
        if self.dropout == 0:
            return None
        widths = [layer["weight_ih"].shape[1] for layer in self.coefs_]
        return _variational_masks(self.dropout, widths, n_sequences, dtype, rng)

    def _recurrent_dropout_masks(self, n_sequences, dtype, rng):
        """Recurrent dropout masks of a minibatch: one per sequence, layer and
        direction (``k * D + d``), ``(n_sequences, H_k)`` (see
        :func:`_variational_masks`), drawn after the input masks; None
        (nothing drawn) when ``recurrent_dropout`` is 0."""
        if self.recurrent_dropout == 0:
            return None
        directions = 2 if self._bidirectional() else 1
        widths = [
            layer["weight_hh"].shape[1]
            for layer in self.coefs_
            for _ in range(directions)
        ]
        return _variational_masks(
            self.recurrent_dropout, widths, n_sequences, dtype, rng
        )

    def _draw_masks(self, n_sequences, rng):
        """The input and recurrent dropout masks of a minibatch, in that
        order from ``rng``."""
        dtype = self.output_coef_.dtype
        masks = self._dropout_masks(n_sequences, dtype, rng)
        return masks, self._recurrent_dropout_masks(n_sequences, dtype, rng)

    def _gradient_bytes(
        self, batch, n_steps, n_features, n_outputs, itemsize, *, step_shares
    ):
        """:func:`skrnn._memory.gradient_fit_bytes` of this model's minibatch."""
        return _memory.gradient_fit_bytes(
            self._cell,
            # a bidirectional layer holds both directions' states and caches
            [H * (2 if self._bidirectional() else 1) for H in self._layer_sizes()],
            n_features,
            batch,
            n_steps,
            n_outputs,
            itemsize,
            step_shares=step_shares,
            leaky=getattr(self, "leak_rate", 1.0) != 1.0,
            skip=bool(getattr(self, "skip_steps", None)),
            masked=self.recurrent_dropout > 0,
        )

    def _sub_batch_rows(self, X, Y, sw, *, step_shares):
        """Sequences per sub-batch of :meth:`_loss_grad` on minibatches of
        ``X`` (see :data:`skrnn._memory.SUB_BATCH_BYTES`), or None: all at
        once. Only sequence-to-one models with per-sequence weights and no
        per-step gradient shares (the simplex direction) split: their loss is
        a weighted sum over sequences."""
        if self.return_sequences or sw.ndim != 1 or step_shares:
            return None
        chunk = training_chunk_size(self._layer_sizes())
        row_bytes = (
            self._gradient_bytes(
                chunk,
                X.shape[1],
                X.shape[2],
                Y.shape[2],
                X.dtype.itemsize,
                step_shares=False,
            )
            / chunk
        )
        rows = _memory.sub_batch_rows(row_bytes, chunk, self._sub_batch_bytes)
        return rows if rows is not None and rows < X.shape[0] else None

    # the byte budget of a sub-batch (the tests lower it to split small batches)
    _sub_batch_bytes = _memory.SUB_BATCH_BYTES

    def _loss_grad(
        self,
        X,
        lengths,
        Y,
        sw,
        n_threads,
        *,
        loss,
        step_norms=None,
        step_grads=None,
        rng=None,
        masks=None,
        recurrent_masks=None,
        workspace=None,
        sub_batch_rows=None,
    ):
        """Loss (with the L2 term) and gradients of all parameters on a batch.

        ``loss`` is the task's loss function (``TaskSpec.loss``); ``Y`` the
        encoded targets. ``step_norms`` and ``step_grads`` are filled as
        :func:`skrnn._network.backward` describes. In training, ``rng`` draws
        the dropout masks; ``masks`` and ``recurrent_masks`` give them instead
        (the gradient tests). Without either, no dropout (the model as it
        predicts). ``workspace``: the epoch loop's
        :class:`skrnn._memory.Workspace`, which the passes take their large
        arrays from. ``sub_batch_rows``: the epoch loop's
        :meth:`_sub_batch_rows` (None: the batch in one pass).
        """
        net = self._network()
        if masks is None and recurrent_masks is None and rng is not None:
            masks, recurrent_masks = self._draw_masks(X.shape[0], rng)
        B = X.shape[0]
        rows = sub_batch_rows or B
        parts = [slice(start, start + rows) for start in range(0, B, rows)]
        # a sub-batch's loss is normalised by the whole minibatch's weight:
        # the loss is a sum over sequences
        total = None if len(parts) == 1 else float(sw.sum())
        value, grads = 0.0, None
        for part in parts:
            part_value, part_grads = self._pass(
                net,
                X[part, : int(lengths[part].max())],
                lengths[part],
                Y[part],
                sw[part],
                n_threads,
                loss=loss,
                total=total,
                masks=None if masks is None else [m[part] for m in masks],
                recurrent_masks=None
                if recurrent_masks is None
                else [m[part] for m in recurrent_masks],
                step_norms=step_norms,
                step_grads=step_grads,
                workspace=workspace,
            )
            value += part_value
            if grads is None:
                # the next sub-batch's passes reuse the workspace
                grads = (
                    part_grads if len(parts) == 1 else [g.copy() for g in part_grads]
                )
            else:
                for g, part_g in zip(grads, part_grads, strict=True):
                    g += part_g
        n = weight_total(sw, Y)
        params = self._params()
        penalised = self._penalised()
        weights = [
            p for p, is_weight in zip(params, penalised, strict=True) if is_weight
        ]
        value += 0.5 * self.alpha * sum(float(np.vdot(p, p)) for p in weights) / n
        # a Python float: a NumPy float64 would make float32 products float64
        decay = float(self.alpha / n)
        for p, g, is_weight in zip(params, grads, penalised, strict=True):
            if is_weight:
                g += decay * p
        return value, grads

    def _penalised(self):
        """For each array of :meth:`_params`, whether the L2 term takes it."""
        return _network.is_weight_matrix(
            len(self.coefs_),
            self._bidirectional(),
            skip=bool(getattr(self, "skip_steps", None)),
        )

    def _pass(
        self,
        net,
        X,
        lengths,
        Y,
        sw,
        n_threads,
        *,
        loss,
        total,
        masks,
        recurrent_masks,
        step_norms,
        step_grads,
        workspace,
    ):
        """The forward pass, the loss and the backward pass of :meth:`_loss_grad`
        on one (sub-)batch, without the L2 term; ``total``: the weight that
        normalises the loss (None: ``sw``'s sum)."""
        trace = _network.forward(
            net,
            X,
            lengths,
            n_threads,
            masks=masks,
            recurrent_masks=recurrent_masks,
            workspace=workspace,
        )
        value, dZ = _network.loss_and_output_grad(trace, Y, sw, loss, total=total)
        grads = _network.backward(
            net,
            trace,
            dZ.astype(trace.Z.dtype),
            n_threads,
            bptt_steps=self.bptt_steps,
            step_norms=step_norms,
            step_grads=step_grads,
            workspace=workspace,
        )
        return value, grads

    # ------------------------------------------------------------ prediction
    def _raw_outputs(self, X, lengths):
        with blas_single_threaded():
            return _network.raw_outputs(
                self._network(), X, lengths, effective_n_threads(self.n_jobs)
            )

    def _validate_for_predict(self, X):
        return validate_for_predict(self, X, dtype_of="output_coef_")

    def transform(self, X: ArrayLike) -> np.ndarray:
        """The pooled last-layer state of each sequence: what the read-out reads.

        For sequence-to-one models (``return_sequences=False``), so that the
        network can feed a tabular model, e.g. in a
        :class:`~sklearn.pipeline.Pipeline`. The states are those of the
        inference path (no dropout), pooled by ``pooling``.

        Parameters
        ----------
        X : array-like, as in :meth:`fit`
            Sequences; their padded length may differ from the one seen in fit.

        Returns
        -------
        states : ndarray of shape (n_sequences, n_features_out)
            ``n_features_out`` is the last layer's hidden size, twice it when
            ``bidirectional``: the forward direction's units, then the
            backward direction's.
        """
        X, lengths = self._validate_for_predict(X)
        if self.return_sequences:
            raise ValueError(
                "transform gives one pooled state per sequence, for sequence-to-"
                "one models; this one was fitted with return_sequences=True. Fit "
                "it with return_sequences=False."
            )
        return self._pooled_states(X, lengths)

    def _pooled_states(self, X, lengths):
        """The read-out's inputs ``(n, W)`` on validated sequences."""
        with blas_single_threaded():
            return _network.raw_outputs(
                self._network(),
                X,
                lengths,
                effective_n_threads(self.n_jobs),
                pooled_states=True,
            )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # float32 input is computed, and transformed, in float32
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    @property
    def _n_features_out(self):
        """Width of :meth:`transform`'s output (for ``get_feature_names_out``)."""
        return self.output_coef_.shape[1]

    def to_torch(self) -> torch.nn.Module:
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

    # ------------------------------------------------------------- training
    def _resets(self, incremental):
        return not ((self.warm_start or incremental) and hasattr(self, "coefs_"))

    def _fit_encoded(self, X, lengths, Y, sample_weight, task, *, incremental):
        if self.return_sequences and self.pooling not in ("auto", "last"):
            raise ValueError(
                f"pooling={self.pooling!r} pools each sequence into one state for "
                "sequence-to-one models; with return_sequences=True every step is "
                "read out. Leave pooling='auto' or set return_sequences=False."
            )
        first_call = self._resets(incremental)
        fitted_bidirectional = not first_call and "weight_ih_reverse" in self.coefs_[0]
        if not first_call and fitted_bidirectional != self._bidirectional():
            raise ValueError(
                f"bidirectional={self.bidirectional!r} but the fitted model "
                f"{'is' if fitted_bidirectional else 'is not'} bidirectional; a "
                "warm start or partial_fit continues the fitted layers. Set "
                "warm_start=False to fit afresh."
            )
        rng = check_random_state(self.random_state)
        if not first_call:
            # a new stream for every continued fit (warm start, partial_fit), so
            # that each epoch shuffles differently, reproducibly for a seed
            rng = np.random.RandomState([rng.randint(2**31 - 1), self.t_ % 2**32])
        dtype = X.dtype
        solver = _solvers.SOLVERS[self.solver]
        if first_call:
            n_outputs = Y.shape[2]
            self._initialize(
                X.shape[2], n_outputs, dtype, rng, logistic_output=task.logistic_output
            )
            self.n_outputs_ = n_outputs
            self.n_iter_ = 0
            self.t_ = 0
            self.loss_curve_ = []
            self._no_improvement_count = 0
            self._solver_state = solver.init_state(self._params())
            if self.early_stopping:
                self.validation_scores_ = []
                self.validation_loss_curve_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.validation_loss_curve_ = None
                self.best_validation_score_ = None
        elif self.output_coef_.dtype != dtype:
            self._set_params_arrays([p.astype(dtype) for p in self._params()])
            self._solver_state = solver.init_state(self._params())
        elif not incremental and self._solver_state["kind"] != solver.state_kind:
            self._solver_state = solver.init_state(self._params())
        if not incremental or self._solver_state.get("learning_rate") is None:
            # every fit starts its schedule at learning_rate_init and counts
            # stalls afresh; partial_fit goes on where the last call left
            self._solver_state["learning_rate"] = float(self.learning_rate_init)
            self._no_improvement_count = 0
        # a diverging fit is detected and handled below: no warnings for it here
        with blas_single_threaded(), np.errstate(over="ignore", invalid="ignore"):
            self._fit_stochastic(X, lengths, Y, sample_weight, rng, incremental, task)
        return self

    def _training_inputs(self, X, lengths):
        """What the epoch loop cuts into minibatches for :meth:`_loss_grad`:
        ``X`` itself here; a model may put there, once per fit, what of ``X``
        depends on no parameter (GRU-D: its mask and times since observed)."""
        return X

    def _fit_stochastic(self, X, lengths, Y, sw, rng, incremental, task):
        n_threads = effective_n_threads(self.n_jobs)
        solver = _solvers.SOLVERS[self.solver]
        early_stopping = self.early_stopping and not incremental
        val = None
        if early_stopping:
            split = train_test_split(
                np.arange(X.shape[0]),
                random_state=rng,
                test_size=self.validation_fraction,
                stratify=task.stratify(Y),
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
            batch_size = auto_batch_size(n)
        else:
            if self.batch_size > n:
                warnings.warn(
                    "Got `batch_size` less than 1 or larger than sample size. It is "
                    "going to be clipped",
                    stacklevel=2,
                )
            batch_size = int(np.clip(self.batch_size, 1, n))
        _memory.check(
            self._gradient_bytes(
                batch_size,
                X.shape[1],
                X.shape[2],
                Y.shape[2],
                X.dtype.itemsize,
                step_shares=solver.needs_step_shares,
            ),
            f"{type(self).__name__}.fit with batch_size={batch_size}",
            "lower batch_size, or cut the sequences into shorter windows: the "
            "forward pass keeps every step's states and caches of a minibatch, "
            "which bptt_steps does not shorten (it truncates only the backward "
            "pass), or use fewer or smaller hidden layers",
        )
        # from the longest sequence: a bound for every minibatch
        sub_batch_rows = self._sub_batch_rows(
            X, Y, sw, step_shares=solver.needs_step_shares
        )
        X = self._training_inputs(X, lengths)
        workspace = _memory.Workspace()
        best_params = [p.copy() for p in self._params()]
        best_epoch_loss = np.inf
        # partial_fit (one epoch a call) and early stopping (its own best
        # weights) are not averaged; the average is fitted state, so that an
        # interrupted fit ends on it too (see _end_fit)
        decay = 0.0 if incremental or early_stopping else self.averaging
        self._weight_average = None
        for _ in range(self.max_iter):
            order = rng.permutation(n) if self.shuffle else np.arange(n)
            total = 0.0
            diverged = False
            for start in range(0, n, batch_size):
                idx = order[start : start + batch_size]
                if not sw[idx].any():
                    # a minibatch of zero weight has no loss to follow (its
                    # normalised weights would be 0 / 0)
                    continue
                Xb = X[idx, : lengths[idx].max()]
                step_grads = [] if solver.needs_step_shares else None
                loss, grads = self._loss_grad(
                    Xb,
                    lengths[idx],
                    Y[idx],
                    sw[idx],
                    n_threads,
                    loss=task.loss,
                    step_grads=step_grads,
                    rng=rng,
                    workspace=workspace,
                    sub_batch_rows=sub_batch_rows,
                )
                if not (
                    np.isfinite(loss) and all(np.all(np.isfinite(g)) for g in grads)
                ):
                    diverged = True
                    break
                solver.direction(grads, step_grads, self, rng)
                _solvers.clip_by_global_norm(grads, self.clip_norm)
                solver.update(self._params(), grads, self._solver_state, self)
                total += loss * idx.shape[0]
            if diverged or not all(np.all(np.isfinite(p)) for p in self._params()):
                # the best epoch's weights, not an average
                self._weight_average = None
                if self.n_iter_ == 0:
                    # nothing learned to keep: the initial weights would
                    # predict as if trained (the fit restores the old state)
                    raise ValueError(
                        "Training diverged in the first epoch (the loss or a "
                        "gradient is not finite), so no weights were learned. "
                        "Lower learning_rate_init, set clip_norm, or scale y, "
                        "e.g. with TransformedTargetRegressor(transformer="
                        "StandardScaler())."
                    )
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
            solver.iteration_ends(self._solver_state, self)
            if self.verbose:
                print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")
            if self.loss_ < best_epoch_loss:
                best_epoch_loss = self.loss_
                best_params = [p.copy() for p in self._params()]
            if decay > 0:
                self._weight_average = _average_weights(
                    self._weight_average, self._params(), decay
                )
            self._update_no_improvement_count(early_stopping, val, task)
            self._checkpoint(f"epoch {self.n_iter_}")
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
                if solver.trigger_stopping(self._solver_state, self):
                    if self.verbose:
                        print(msg + " Stopping.")
                    break
                self._no_improvement_count = 0
            if incremental:
                break
            if self.n_iter_ == self.max_iter:
                warnings.warn(
                    f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) "
                    "reached and the optimization hasn't converged yet.",
                    ConvergenceWarning,
                    stacklevel=2,
                )
        self._end_fit()

    def _end_fit(self):
        # with averaging, the average of the epochs' weights
        if getattr(self, "_weight_average", None) is not None:
            self._set_params_arrays(self._weight_average)
            self._weight_average = None
            return (
                ", with the weights averaged over the epochs so far "
                f"(averaging={self.averaging})"
            )
        # with early stopping, the weights of the best validation score
        if getattr(self, "_best_params", None) is None:
            return ""
        self._set_params_arrays(self._best_params)
        self._best_params = None
        best = int(np.argmax(self.validation_scores_)) + 1
        return (
            f", with early stopping's weights: those of epoch {best}, the best "
            "validation score so far"
        )

    def _update_no_improvement_count(self, early_stopping, val, task):
        if early_stopping:
            score = self._validation_score(val, task)
            self.validation_scores_.append(score)
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_params = [p.copy() for p in self._params()]
        else:
            if self.best_loss_ is None:
                # partial_fit after a fit with early stopping, which tracked
                # the validation score instead: the training loss starts here
                self.best_loss_ = np.inf
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            self.best_loss_ = min(self.best_loss_, self.loss_curve_[-1])

    def _entry_outputs(self, X, lengths, Y, sw):
        """The read-out's outputs (no dropout), targets and normalised weights
        of the entries of ``X`` that have a target."""
        trace = _network.forward(
            self._network(), X, lengths, effective_n_threads(self.n_jobs)
        )
        return _network.targets_at_entries(trace, Y, sw)[:3]

    def _validation_score(self, val, task):
        """Score of the held-out sequences by ``scoring``; appends their loss
        (without the L2 term) to ``validation_loss_curve_``."""
        X, lengths, Y, sw = val
        Z, Yt, w = self._entry_outputs(X, lengths, Y, sw)
        loss, _ = task.loss(Z, Yt.astype(Z.dtype), w.astype(Z.dtype))
        self.validation_loss_curve_.append(loss)
        if self.scoring is None:
            return task.score(*val)
        if self.scoring == "loss":
            return -loss
        if self.return_sequences:
            raise ValueError(
                f"scoring={self.scoring!r} needs one target per sequence; with "
                "return_sequences=True use scoring=None (the estimator's score) "
                "or scoring='loss'."
            )
        scorer = check_scoring(self, scoring=self.scoring)
        y = task.decode(Y)
        with warnings.catch_warnings():
            # the held-out part of X is an array even when X was a DataFrame
            warnings.filterwarnings("ignore", message="X does not have valid feature")
            if np.all(sw == sw[0]):
                return float(scorer(self, X, y))
            return float(scorer(self, X, y, sample_weight=sw))
