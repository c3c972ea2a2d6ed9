"""Regression and classification on top of :class:`~skrnn._base.BaseRecurrent`.

The task decides the read-out (identity, one logistic unit, softmax or a hinge
decision value), how ``y`` is encoded into float targets (NaN where a step has
no target) and how predictions are decoded.
"""

import numpy as np
from scipy.special import expit, softmax
from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, column_or_1d

from . import _loss
from ._base import BaseRecurrent
from ._data import pad_sequences, validate_targets


def _fit_docstring(task_y):
    return f"""Fit the model to sequences ``X`` and targets ``y``.

        Parameters
        ----------
        X : array-like of shape (n_sequences, n_steps, n_features), \
                (n_samples, n_features) or list of ndarray
            Sequences, NaN-padded at the end; a 2-D table is read as one-step
            sequences; a list of arrays of different lengths is padded.
        y : array-like
            {task_y}
        sample_weight : array-like of shape (n_sequences,), default=None
            Weight of each sequence in the loss.

        Returns
        -------
        self : object
            The fitted estimator.
        """


class RecurrentRegressorMixin(RegressorMixin):
    """Regression: identity read-out, 0.5 x mean squared error."""

    def _encode_targets(self, y, lengths, n_steps, first_call, classes):
        Y = validate_targets(
            y, lengths, n_steps, return_sequences=self.return_sequences
        )
        if not first_call and Y.shape[2] != self.n_outputs_:
            raise ValueError(
                f"y has {Y.shape[2]} outputs but the model was fitted with "
                f"{self.n_outputs_}."
            )
        self._encoded_n_outputs = Y.shape[2]
        return Y

    def _n_outputs(self):
        return self._encoded_n_outputs

    def _loss_function(self):
        return _loss.squared_error

    def _score_encoded(self, X, lengths, Y, sw):
        pred = self._raw_outputs(X, lengths)
        if not self.return_sequences:
            return r2_score(Y[:, 0, :], pred, sample_weight=sw)
        Y = Y[:, : pred.shape[1]]
        entries = ~np.isnan(Y).any(axis=-1)
        weights = np.broadcast_to(sw[:, None], entries.shape)[entries]
        return r2_score(Y[entries], pred[entries], sample_weight=weights)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        return self._fit(X, y, sample_weight, incremental=False)

    fit.__doc__ = _fit_docstring(
        """``(n_sequences,)`` or ``(n_sequences, n_outputs)`` with
            ``return_sequences=False``; ``(n_sequences, n_steps)`` or
            ``(n_sequences, n_steps, n_outputs)`` with ``return_sequences=True``
            (anything at padded steps; NaN at a real step means no target)."""
    )

    def predict(self, X):
        """Predict with the fitted model.

        Parameters
        ----------
        X : array-like, as in :meth:`fit`
            Sequences; their padded length may differ from the one seen in fit.

        Returns
        -------
        y : ndarray
            ``(n_sequences,)`` or ``(n_sequences, n_outputs)``; per step
            ``(n_sequences, n_steps)`` or ``(n_sequences, n_steps, n_outputs)``
            with NaN at padded steps.
        """
        X, lengths = self._validate_for_predict(X)
        Z = self._raw_outputs(X, lengths)
        return Z[..., 0] if self.n_outputs_ == 1 else Z

    def score(self, X, y, sample_weight=None):
        """R^2 of the prediction over the entries that have a target.

        Parameters
        ----------
        X : array-like, as in :meth:`fit`
        y : array-like, as in :meth:`fit`
        sample_weight : array-like of shape (n_sequences,), default=None

        Returns
        -------
        score : float
        """
        if not self.return_sequences:
            return super().score(X, y, sample_weight=sample_weight)
        X, lengths = self._validate_for_predict(X)
        Y = validate_targets(y, lengths, X.shape[1], return_sequences=True)
        return self._score_encoded(
            X, lengths, Y, _check_sample_weight(sample_weight, X)
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags


class RecurrentClassifierMixin(ClassifierMixin):
    """Classification: softmax, one logistic unit, or a hinge decision value.

    With ``return_sequences=True``, :meth:`predict` returns a float array with
    NaN at padded steps when the classes are numbers, and an object array with
    None at padded steps otherwise.
    """

    def _logistic_output(self):
        return self.loss == "log_loss"

    def _labels_at_real_steps(self, y, lengths, n_steps):
        if not self.return_sequences:
            return column_or_1d(y, warn=True), None
        if (
            isinstance(y, (list, tuple))
            and y
            and all(isinstance(v, np.ndarray) for v in y)
        ):
            y = pad_sequences([np.asarray(v, dtype=object) for v in y], dtype=object)
        y = np.asarray(y)
        if y.ndim == 3 and y.shape[2] == 1:
            y = y[:, :, 0]
        if y.ndim != 2 or y.shape[0] != lengths.shape[0] or y.shape[1] < n_steps:
            raise ValueError(
                f"y has shape {y.shape}; with return_sequences=True give one label "
                f"per step, (n_sequences, n_steps) = ({lengths.shape[0]}, {n_steps})."
            )
        real = np.arange(n_steps)[None, :] < lengths[:, None]
        return y[:, :n_steps][real], real

    def _encode_targets(self, y, lengths, n_steps, first_call, classes):
        labels, real = self._labels_at_real_steps(y, lengths, n_steps)
        if labels.shape[0] != (lengths.shape[0] if real is None else labels.shape[0]):
            raise ValueError(
                f"X has {lengths.shape[0]} sequences but y has {labels.shape[0]} "
                "labels."
            )
        check_classification_targets(labels)
        if first_call:
            found = np.unique(labels) if classes is None else np.unique(classes)
            if found.shape[0] < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes in the "
                    f"data, but the data contains only one class: {found[0]!r}."
                )
            if getattr(self, "loss", None) == "hinge" and found.shape[0] > 2:
                raise ValueError(
                    f"loss='hinge' is for two classes; y has {found.shape[0]}. Use "
                    "loss='log_loss' for more classes."
                )
            self.classes_ = found
        elif classes is not None and not np.array_equal(
            np.unique(classes), self.classes_
        ):
            raise ValueError(
                f"`classes={classes!r}` is not the same as on last call to "
                f"partial_fit, was: {self.classes_!r}."
            )
        unseen = ~np.isin(labels, self.classes_)
        if unseen.any():
            raise ValueError(
                f"y contains labels not seen in the first fit: "
                f"{np.unique(labels[unseen])!r}; pass every class with `classes` on "
                "the first call to partial_fit."
            )
        index = np.searchsorted(self.classes_, labels)
        n_classes = self.classes_.shape[0]
        n_out = 1 if n_classes == 2 else n_classes
        enc = (
            (index[:, None] == 1)
            if n_out == 1
            else np.eye(n_classes, dtype=bool)[index]
        )
        if real is None:
            return enc.astype(np.float64)[:, None, :]
        Y = np.full(real.shape + (n_out,), np.nan)
        Y[real] = enc
        return Y

    def _n_outputs(self):
        return 1 if self.classes_.shape[0] == 2 else self.classes_.shape[0]

    def _loss_function(self):
        if self.loss == "hinge":
            return _loss.hinge
        return (
            _loss.binary_log_loss
            if self._n_outputs() == 1
            else _loss.multiclass_log_loss
        )

    def _stratify(self, Y):
        if self.return_sequences:
            return None
        return Y[:, 0, :].argmax(axis=1) if Y.shape[2] > 1 else Y[:, 0, 0]

    @staticmethod
    def _class_index(Z):
        if Z.shape[-1] == 1:
            return (Z[..., 0] > 0).astype(np.intp)
        return np.nan_to_num(Z).argmax(axis=-1)

    def _score_encoded(self, X, lengths, Y, sw):
        Z = self._raw_outputs(X, lengths)
        Y = Y[:, : Z.shape[1]] if self.return_sequences else Y[:, 0]
        truth = (Y[..., 0] > 0.5).astype(np.intp) if Y.shape[-1] == 1 else Y.argmax(-1)
        if not self.return_sequences:
            return accuracy_score(truth, self._class_index(Z), sample_weight=sw)
        entries = ~np.isnan(Y).any(axis=-1)
        weights = np.broadcast_to(sw[:, None], entries.shape)[entries]
        return accuracy_score(
            truth[entries], self._class_index(Z)[entries], sample_weight=weights
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        return self._fit(X, y, sample_weight, incremental=False)

    fit.__doc__ = _fit_docstring(
        """Labels of any type: ``(n_sequences,)`` with
            ``return_sequences=False``; ``(n_sequences, n_steps)`` with
            ``return_sequences=True`` (labels at padded steps are ignored)."""
    )

    def decision_function(self, X):
        """Raw read-out values.

        Parameters
        ----------
        X : array-like, as in :meth:`fit`

        Returns
        -------
        scores : ndarray
            ``(n_sequences,)`` for two classes, ``(n_sequences, n_classes)``
            otherwise; per step an extra ``n_steps`` axis after the first,
            NaN at padded steps.
        """
        X, lengths = self._validate_for_predict(X)
        Z = self._raw_outputs(X, lengths)
        return Z[..., 0] if Z.shape[-1] == 1 else Z

    @available_if(lambda self: getattr(self, "loss", None) == "log_loss")
    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : array-like, as in :meth:`fit`

        Returns
        -------
        proba : ndarray of shape (n_sequences, n_classes)
            Columns in the order of ``classes_``; per step
            ``(n_sequences, n_steps, n_classes)`` with NaN at padded steps.
        """
        X, lengths = self._validate_for_predict(X)
        Z = self._raw_outputs(X, lengths)
        if Z.shape[-1] == 1:
            p = expit(Z)
            return np.concatenate([1 - p, p], axis=-1)
        return softmax(Z, axis=-1)

    @available_if(lambda self: getattr(self, "loss", None) == "log_loss")
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : array-like, as in :meth:`fit`

        Returns
        -------
        y : ndarray of shape (n_sequences,)
            Per step ``(n_sequences, n_steps)``, with NaN at padded steps for
            numeric classes and None (object dtype) otherwise.
        """
        X, lengths = self._validate_for_predict(X)
        Z = self._raw_outputs(X, lengths)
        labels = self.classes_[self._class_index(Z)]
        if not self.return_sequences:
            return labels
        padded = np.isnan(Z[..., 0])
        if np.issubdtype(self.classes_.dtype, np.number):
            out = labels.astype(np.float64)
            out[padded] = np.nan
        else:
            out = labels.astype(object)
            out[padded] = None
        return out

    def score(self, X, y, sample_weight=None):
        """Accuracy over the real steps (sequences, with return_sequences=False).

        Parameters
        ----------
        X : array-like, as in :meth:`fit`
        y : array-like, as in :meth:`fit`
        sample_weight : array-like of shape (n_sequences,), default=None

        Returns
        -------
        score : float
        """
        if not self.return_sequences:
            return super().score(X, y, sample_weight=sample_weight)
        X, lengths = self._validate_for_predict(X)
        labels, real = self._labels_at_real_steps(y, lengths, X.shape[1])
        pred = self.predict(X)[:, : X.shape[1]][real]
        sw = _check_sample_weight(sample_weight, X)
        weights = np.broadcast_to(sw[:, None], real.shape)[real]
        return accuracy_score(
            labels.astype(self.classes_.dtype),
            pred.astype(self.classes_.dtype),
            sample_weight=weights,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags


class BaseRecurrentClassifier(RecurrentClassifierMixin, BaseRecurrent):
    """The gradient-trained classifiers' parameters: the common ones and ``loss``."""

    _parameter_constraints: dict = {
        **BaseRecurrent._parameter_constraints,
        "loss": [StrOptions({"log_loss", "hinge"})],
    }

    def __init__(
        self,
        hidden_layer_sizes=(32,),
        *,
        loss="log_loss",
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
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate_init=learning_rate_init,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            clip_norm=clip_norm,
            simplex_threshold=simplex_threshold,
            spectral_radius=spectral_radius,
            bptt_steps=bptt_steps,
            return_sequences=return_sequences,
            n_jobs=n_jobs,
        )
        self.loss = loss

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Run one epoch of the solver on ``X``, ``y`` (see :meth:`fit`).

        Parameters
        ----------
        X, y, sample_weight : as in :meth:`fit`
        classes : array-like of shape (n_classes,), default=None
            Every class, required on the first call.

        Returns
        -------
        self : object
        """
        if not hasattr(self, "classes_") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)


class BaseRecurrentRegressor(RecurrentRegressorMixin, BaseRecurrent):
    """The gradient-trained regressors' parameters: the common ones."""

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Run one epoch of the solver on ``X``, ``y`` (see :meth:`fit`).

        Returns
        -------
        self : object
        """
        return self._fit(X, y, sample_weight, incremental=True)
