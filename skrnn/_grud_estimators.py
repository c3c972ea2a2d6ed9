"""GRU-D estimators: the GRU of Che et al. (2018) for visit records with
missing values and irregular times (the math is in :mod:`skrnn._grud`).

``X`` may hold NaN inside a sequence for "not measured"; trailing all-NaN
steps are padding, as everywhere. The column ``time_column`` of ``X``, when
named, holds each step's time and is not an input feature. The first layer is
GRU-D (the GRU kernel with the state decay; a bidirectional layer's backward
direction without it), the layers above are the GRU's.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.utils.validation import check_is_fitted

from . import _grud, _network
from ._data import (
    as_model_dtype,
    check_not_empty,
    step_times,
    time_column_index,
    validate_sequences,
)
from ._docs import format_docstring
from ._recurrent import GRU, BaseRecurrentClassifier, BaseRecurrentRegressor
from ._threads import blas_single_threaded, effective_n_threads

PREDICT_BLOCK = 1024


class _GRUD:
    """The GRU-D model behind both tasks: the decay of the inputs and of the
    first layer's state around the GRU kernel (its ``state_decay`` option),
    the layers, the loss and the outputs through the engine."""

    _cell = GRU
    _accepts_missing = True
    # 'auto': the pooling GRU-D was measured with (bench_clinical); 'mean'
    # and 'max' work but were not measured for it
    _auto_pooling = "last"

    # ------------------------------------------------------------- the data
    def _time_index(self):
        """Index of the time column in X's features, or None."""
        return time_column_index(
            self.time_column,
            self.n_features_in_,
            getattr(self, "feature_names_in_", None),
        )

    def _observed(self, X, lengths):
        """GRU-D's inputs of a batch: values, mask, scaled time since each
        feature's last measurement, last measured values."""
        k = self._time_index()
        times = None
        if k is not None:
            real = np.arange(X.shape[1]) < lengths[:, None]
            names = getattr(self, "feature_names_in_", None)
            name = f"(feature {k})" if names is None else repr(str(names[k]))
            times = step_times(X[:, :, k], real, name) / self.time_scale_
            X = np.delete(X, k, axis=2)
        return _grud.observed_inputs(X, times)

    def _sub_batch_rows(self, X, Y, sw, *, step_shares):
        """None: GRU-D's passes take the whole minibatch at once."""
        return None

    def _training_inputs(self, X, lengths):
        """What of ``X`` depends on no parameter (see
        :func:`skrnn._grud.static_inputs`): once per fit in training, per
        block in prediction."""
        data = self._observed(X, lengths)
        return _grud.static_inputs(*data, lengths, self.x_mean_)

    def _learn_data(self, X, lengths):
        """The training data's means and time scale, set on a fresh fit."""
        k = self._time_index()
        real = np.arange(X.shape[1]) < lengths[:, None]
        features = X if k is None else np.delete(X, k, axis=2)
        observed = ~np.isnan(features) & real[..., None]
        counts = observed.sum(axis=(0, 1))
        if (counts == 0).any():
            j = int(np.flatnonzero(counts == 0)[0])
            raise ValueError(
                f"Feature {j} (of the features after removing the time column) is "
                "never observed in the training data, so GRU-D has no mean to "
                "decay it toward; drop it or give data where it is measured."
            )
        sums = np.where(observed, features, 0).sum(axis=(0, 1), dtype=np.float64)
        self.x_mean_ = (sums / counts).astype(X.dtype)
        self.time_scale_ = X.dtype.type(1)
        if k is not None:
            gaps = np.diff(X[:, :, k], axis=1)[real[:, 1:]]
            positive = gaps[gaps > 0]
            # decay rates are learned per unit of the mean gap, so the time
            # column's unit (days, hours) does not change the start
            if positive.size:
                self.time_scale_ = X.dtype.type(positive.mean())

    def _fit_encoded(self, X, lengths, Y, sample_weight, task, *, incremental):
        check_not_empty(lengths)
        if self._resets(incremental):
            self._learn_data(X, lengths)
        return super()._fit_encoded(
            X, lengths, Y, sample_weight, task, incremental=incremental
        )

    # ----------------------------------------------------------- parameters
    def _initialize(self, n_features, n_outputs, dtype, rng, *, logistic_output):
        F = n_features - (self._time_index() is not None)
        # the GRU layers on [xhat, mask] and the read-out, drawn as the GRU's
        super()._initialize(
            2 * F, n_outputs, dtype, rng, logistic_output=logistic_output
        )
        H = self._layer_sizes()[0]
        bound = 1.0 / np.sqrt(F)  # torch.nn.Linear's, as Che et al.'s code
        layer = self.coefs_[0]
        layer["decay_x_weight"] = rng.uniform(-bound, bound, F).astype(dtype)
        layer["decay_x_bias"] = rng.uniform(-bound, bound, F).astype(dtype)
        layer["decay_h_weight"] = rng.uniform(-bound, bound, (H, F)).astype(dtype)
        layer["decay_h_bias"] = rng.uniform(-bound, bound, H).astype(dtype)

    # The solver's view: every GRU layer's arrays (as the engine orders them),
    # then the decay parameters (on the first layer), then the read-out.
    def _params(self):
        layer = self.coefs_[0]
        recurrent = _network.parameters(self._network())
        return (
            recurrent[:-2]
            + [layer[name] for name in _grud.DECAY_PARAMETERS]
            + recurrent[-2:]
        )

    def _set_params_arrays(self, arrays):
        names = _network.parameter_names(self._network())
        for (k, name), a in zip(names, arrays, strict=False):
            self.coefs_[k][name] = a
        decay = arrays[len(names) : len(names) + len(_grud.DECAY_PARAMETERS)]
        for name, a in zip(_grud.DECAY_PARAMETERS, decay, strict=True):
            self.coefs_[0][name] = a
        self.output_coef_, self.output_intercept_ = arrays[-2], arrays[-1]

    def _penalised(self):
        """For each array of :meth:`_params`, whether the L2 term takes it."""
        weights = _network.is_weight_matrix(len(self.coefs_), self._bidirectional())
        decay = [name.endswith("weight") for name in _grud.DECAY_PARAMETERS]
        return weights[:-2] + decay + weights[-2:]

    def _share_rows(self):
        # the decay parameters' shares (after the layers') count with the
        # first layer's forward direction, whose state they decay
        rows = super()._share_rows()
        n = rows[-1][-1] + 1
        rows[0] = rows[0] + list(range(n, n + len(_grud.DECAY_PARAMETERS)))
        return rows

    # ----------------------------------------------------------------- loss
    def _decayed(self, S):
        return _grud.decayed_inputs(self.coefs_[0], S)

    def _entry_outputs(self, X, lengths, Y, sw):
        inputs, gamma_h, _ = self._decayed(self._training_inputs(X, lengths))
        trace = _network.forward(
            self._network(),
            inputs,
            lengths,
            effective_n_threads(self.n_jobs),
            state_decay=gamma_h,
        )
        return _network.targets_at_entries(trace, Y, sw)[:3]

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
        """The base's, on :meth:`_training_inputs` ``X``: the GRU layers'
        passes on the decayed inputs, then the decay parameters' gradients
        (in the order of :meth:`_params`); ``step_grads`` receives the GRU
        layers' per-step shares, then the decay parameters'. Dropout masks
        multiply the kernel's inputs [xhat, m] and, recurrent, the decayed
        state in W_hh hhat_{t-1}."""
        inputs, gamma_h, saved = self._decayed(X)
        trace = _network.forward(
            net,
            inputs,
            lengths,
            n_threads,
            masks=masks,
            recurrent_masks=recurrent_masks,
            workspace=workspace,
            state_decay=gamma_h,
        )
        value, dZ = _network.loss_and_output_grad(trace, Y, sw, loss, total=total)
        chained = {}
        grads = _network.backward(
            net,
            trace,
            dZ.astype(trace.Z.dtype),
            n_threads,
            bptt_steps=self.bptt_steps,
            step_norms=step_norms,
            step_grads=step_grads,
            workspace=workspace,
            input_grads=chained,
        )
        decay_inputs = (X, saved, chained["X"], chained["state_decay"])
        decay = _grud.decay_gradients(*decay_inputs)
        grads[-2:-2] = [decay[name] for name in _grud.DECAY_PARAMETERS]
        if step_grads is not None:
            shares = _grud.decay_gradients(*decay_inputs, by_step=True)
            step_grads += [shares[name] for name in _grud.DECAY_PARAMETERS]
        return value, grads

    # ------------------------------------------------------------ prediction
    def _validate_for_predict(self, X):
        check_is_fitted(self)
        X, lengths = validate_sequences(self, X, reset=False, check_nan=False)
        check_not_empty(lengths)
        return as_model_dtype(X, self.output_coef_.dtype), lengths

    def _blocks(self, X, lengths, *, pooled):
        """Outputs (or, ``pooled``, the read-out's inputs) by the kernels'
        inference path, ``PREDICT_BLOCK`` sequences at a time."""
        net = self._network()
        n_threads = effective_n_threads(self.n_jobs)
        blocks = []
        with blas_single_threaded():
            for start in range(0, X.shape[0], PREDICT_BLOCK):
                part = slice(start, start + PREDICT_BLOCK)
                L = lengths[part]
                Xb = X[part, : L.max()]
                inputs, gamma_h, _ = self._decayed(self._training_inputs(Xb, L))
                if pooled:
                    ch = _network.infer_chunking(net, L)
                    blocks.append(
                        _network.infer_states(
                            net, inputs, ch, n_threads, state_decay=gamma_h
                        )
                    )
                    continue
                Z = _network.infer(net, inputs, L, n_threads, state_decay=gamma_h)
                if self.return_sequences:
                    pad = X.shape[1] - Z.shape[1]
                    Z = np.pad(Z, ((0, 0), (0, pad), (0, 0)), constant_values=np.nan)
                blocks.append(Z)
        return np.concatenate(blocks)

    def _pooled_states(self, X, lengths):
        return self._blocks(X, lengths, pooled=True)

    def _raw_outputs(self, X, lengths):
        return self._blocks(X, lengths, pooled=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def to_torch(self):
        """The equivalent ``torch.nn.Module`` (needs PyTorch).

        ``torch.nn`` has no GRU-D cell, so the module is one of ours, looping
        over the steps in Python with the estimator's parameter names.

        Returns
        -------
        module : torch.nn.Module
            See :func:`skrnn._torch.grud_to_torch`: ``module(x)`` takes the raw
            batch-first tensor as ``predict`` takes ``X`` (NaN for "not
            measured", the time column among the features) and gives the
            read-out's raw values.
        """
        from ._torch import grud_to_torch

        check_is_fitted(self)
        return grud_to_torch(self)


@format_docstring
class GRUDRegressor(_GRUD, BaseRecurrentRegressor):
    """GRU-D network for regression: missing values and irregular times.

    {grud_math}

    Parameters
    ----------
    {hidden_layers}
    {training_parameters}
    {grud_parameters}

    Attributes
    ----------
    {common_attributes}
    {grud_attributes}

    See Also
    --------
    skrnn.preprocessing.SequenceImputer : Carry values forward and add the mask
        and times as inputs, for any estimator.
    GRURegressor : The plain GRU.

    References
    ----------
    {grud_references}

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import GRUDRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 8, 2))
    >>> y = X[:, 0, 0]  # the first visit's value
    >>> X[:, 1:][rng.random(X[:, 1:].shape) < 0.3] = np.nan
    >>> model = GRUDRegressor(hidden_layer_sizes=8, learning_rate_init=0.01,
    ...                       batch_size=20, max_iter=30, random_state=0).fit(X, y)
    >>> model.score(X, y) > 0.8
    True
    """

    _parameter_constraints: dict = {
        **BaseRecurrentRegressor._parameter_constraints,
        "time_column": [Integral, str, None],
    }

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
        time_column=None,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            scoring=scoring,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            clip_norm=clip_norm,
            averaging=averaging,
            simplex_threshold=simplex_threshold,
            spectral_radius=spectral_radius,
            bptt_steps=bptt_steps,
            return_sequences=return_sequences,
            pooling=pooling,
            bidirectional=bidirectional,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            n_jobs=n_jobs,
        )
        self.time_column = time_column


@format_docstring
class GRUDClassifier(_GRUD, BaseRecurrentClassifier):
    """GRU-D network for classification: missing values and irregular times.

    {grud_math}

    Parameters
    ----------
    {hidden_layers}
    {classifier_loss}
    {training_parameters}
    {class_weight}
    {grud_parameters}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    {common_attributes}
    {grud_attributes}

    See Also
    --------
    skrnn.preprocessing.SequenceImputer : Carry values forward and add the mask
        and times as inputs, for any estimator.
    GRUClassifier : The plain GRU.

    References
    ----------
    {grud_references}

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import GRUDClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 8, 2))
    >>> y = (X[:, 0, 0] > 0).astype(int)
    >>> X[rng.random(X.shape) < 0.3] = np.nan  # labs not measured
    >>> X[:, 0, 0] = np.where(y == 1, 1.0, -1.0)
    >>> clf = GRUDClassifier(hidden_layer_sizes=8, learning_rate_init=0.01,
    ...                      batch_size=20, max_iter=20, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
    """

    _parameter_constraints: dict = {
        **BaseRecurrentClassifier._parameter_constraints,
        "time_column": [Integral, str, None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(32,),
        *,
        loss="log_loss",
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
        class_weight=None,
        time_column=None,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            scoring=scoring,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            clip_norm=clip_norm,
            averaging=averaging,
            simplex_threshold=simplex_threshold,
            spectral_radius=spectral_radius,
            bptt_steps=bptt_steps,
            return_sequences=return_sequences,
            pooling=pooling,
            bidirectional=bidirectional,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            n_jobs=n_jobs,
        )
        self.loss = loss
        self.class_weight = class_weight
        self.time_column = time_column
