"""The tasks: regression and classification mixins over any sequence model.

The task decides the read-out (identity, one logistic unit, softmax or a hinge
decision value), how ``y`` is encoded into float targets (NaN where a step has
no target) and how predictions are decoded. It calls the model only through
:class:`~skrnn._contract.SequenceModel` and hands it a
:class:`~skrnn._contract.TaskSpec`.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit, softmax
from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d

from . import _loss
from ._contract import TaskSpec, restore_state, state_copy
from ._data import (
    entry_weights,
    pad_sequences,
    validate_sample_weight,
    validate_sequences,
    validate_targets,
)

if TYPE_CHECKING:
    from typing import Self


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
        sample_weight : array-like of shape (n_sequences,) or \
                (n_sequences, n_steps), default=None
            Weight of each sequence in the loss, or with
            ``return_sequences=True`` of each step (any value at padded
            steps). Classifiers multiply it by the weights of
            ``class_weight``.

        Returns
        -------
        self : object
            The fitted estimator.
        """


def _no_stratification(Y):
    return None


class _TaskMixin:
    """The fit that both tasks share: validate, encode, hand to the model.

    It is also where a fit fails safely, for every model alike: any exception
    puts the estimator back as it was before the call (fitted or not), and a
    KeyboardInterrupt after a finished epoch keeps the model of that epoch
    (see :meth:`~skrnn._contract.SequenceModel._checkpoint`).
    """

    def _fit(self, X, y, sample_weight, *, incremental, classes=None):
        before = state_copy(self)
        self._fit_checkpoint = None
        try:
            return self._fit_validated(X, y, sample_weight, incremental, classes)
        except KeyboardInterrupt:
            if self._fit_checkpoint is None:
                restore_state(self, before)
                raise
            finished, state = self._fit_checkpoint
            restore_state(self, state)
            note = self._end_fit()
            warnings.warn(
                f"{type(self).__name__}.fit was interrupted (KeyboardInterrupt) at "
                f"{finished}: the model keeps the weights and attributes of "
                f"{finished}, the last finished one{note}.",
                UserWarning,
                stacklevel=3,
            )
            return self
        except BaseException:
            restore_state(self, before)
            raise
        finally:
            vars(self).pop("_fit_checkpoint", None)

    def _fit_validated(self, X, y, sample_weight, incremental, classes):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        reset = self._resets(incremental)
        X, lengths = validate_sequences(
            self, X, reset=reset, check_nan=not self._accepts_missing
        )
        Y = self._encode_targets(y, lengths, X.shape[1], reset, classes)
        sample_weight = validate_sample_weight(
            sample_weight, X, lengths, return_sequences=self.return_sequences
        )
        sample_weight = self._weigh_classes(sample_weight, Y, incremental)
        targets = ~np.isnan(Y).any(axis=-1)
        if not entry_weights(sample_weight, targets).sum() > 0:
            raise ValueError(
                "All sample weights of the steps with a target are zero "
                "(sample_weight must have a positive sum over them); give some "
                "positive weight."
            )
        return self._fit_encoded(
            X, lengths, Y, sample_weight, self._task_spec(), incremental=incremental
        )


class RecurrentRegressorMixin(_TaskMixin, RegressorMixin):
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
        return Y

    def _weigh_classes(self, sample_weight, Y, incremental):
        return sample_weight

    def _task_spec(self):
        return TaskSpec(
            loss=_loss.squared_error,
            logistic_output=False,
            classification=False,
            stratify=_no_stratification,
            score=self._score_encoded,
            decode=self._decode_targets,
        )

    def _decode_targets(self, Y):
        return Y[:, 0, 0] if self.n_outputs_ == 1 else Y[:, 0, :]

    def _score_encoded(self, X, lengths, Y, sw):
        pred = self._raw_outputs(X, lengths)
        if not self.return_sequences:
            return r2_score(Y[:, 0, :], pred, sample_weight=sw)
        Y = Y[:, : pred.shape[1]]
        entries = ~np.isnan(Y).any(axis=-1)
        weights = entry_weights(sw, entries)
        return r2_score(Y[entries], pred[entries], sample_weight=weights)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> Self:
        return self._fit(X, y, sample_weight, incremental=False)

    fit.__doc__ = _fit_docstring(
        """``(n_sequences,)`` or ``(n_sequences, n_outputs)`` with
            ``return_sequences=False``; ``(n_sequences, n_steps)`` or
            ``(n_sequences, n_steps, n_outputs)`` with ``return_sequences=True``
            (anything at padded steps; NaN at a real step means no target)."""
    )

    def predict(self, X: ArrayLike) -> np.ndarray:
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

    def score(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> float:
        """R^2 of the prediction over the entries that have a target.

        Parameters
        ----------
        X : array-like, as in :meth:`fit`
            Sequences.
        y : array-like, as in :meth:`fit`
            True targets (labels).
        sample_weight : array-like of shape (n_sequences,) or \
                (n_sequences, n_steps), default=None
            Weight of each sequence, or with ``return_sequences=True`` of each
            step.

        Returns
        -------
        score : float
            The score of the predictions.
        """
        if not self.return_sequences:
            return super().score(X, y, sample_weight=sample_weight)
        X, lengths = self._validate_for_predict(X)
        Y = validate_targets(y, lengths, X.shape[1], return_sequences=True)
        sw = validate_sample_weight(sample_weight, X, lengths, return_sequences=True)
        return self._score_encoded(X, lengths, Y, sw)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags


def _class_labels(Y):
    """The class of each sequence from its encoded target ``(n, 1, n_out)``."""
    return Y[:, 0, :].argmax(axis=1) if Y.shape[2] > 1 else Y[:, 0, 0]


class RecurrentClassifierMixin(_TaskMixin, ClassifierMixin):
    """Classification: softmax, one logistic unit, or a hinge decision value.

    With ``return_sequences=True``, :meth:`predict` returns a float array with
    NaN at padded steps when the classes are numbers, and an object array with
    None at padded steps otherwise.
    """

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

    def _weigh_classes(self, sample_weight, Y, incremental):
        """``sample_weight`` times the weight of each entry's class, as
        ``compute_sample_weight(class_weight, y)`` gives it on the labels of
        the entries with a target (per step with ``return_sequences=True``)."""
        class_weight = getattr(self, "class_weight", None)
        if class_weight is None:
            return sample_weight
        if incremental and isinstance(class_weight, str):
            raise ValueError(
                "class_weight='balanced' is not supported for partial_fit: the "
                "class frequencies of one batch are not those of the data. Pass "
                "compute_class_weight('balanced', classes=classes, y=y) of a large "
                "enough sample of the targets as a dict instead."
            )
        entries = ~np.isnan(Y).any(axis=-1)
        index = (Y[..., 0] > 0.5) if Y.shape[-1] == 1 else np.nan_to_num(Y).argmax(-1)
        index = index.astype(np.intp)
        try:
            per_class = compute_class_weight(
                class_weight, classes=self.classes_, y=self.classes_[index[entries]]
            )
        except ValueError as error:
            raise ValueError(
                f"class_weight={class_weight!r} does not fit the classes "
                f"{self.classes_.tolist()}: {error}"
            ) from None
        weights = np.where(entries, per_class[index], 0.0)
        if not self.return_sequences:
            return sample_weight * weights[:, 0]
        if sample_weight.ndim == 1:
            sample_weight = sample_weight[:, None]
        return sample_weight * weights

    def _task_spec(self):
        # the `loss` parameter, where the model has one (the echo state
        # classifier fits a ridge to the class indicators and has none)
        loss_name = getattr(self, "loss", None)
        if loss_name == "hinge":
            loss = _loss.hinge
        elif self.classes_.shape[0] == 2:
            loss = _loss.binary_log_loss
        else:
            loss = _loss.multiclass_log_loss
        return TaskSpec(
            loss=loss,
            logistic_output=loss_name == "log_loss",
            classification=True,
            stratify=_no_stratification if self.return_sequences else _class_labels,
            score=self._score_encoded,
            decode=self._decode_targets,
        )

    def _decode_targets(self, Y):
        return self.classes_[_class_labels(Y).astype(np.intp)]

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
        return accuracy_score(
            truth[entries],
            self._class_index(Z)[entries],
            sample_weight=entry_weights(sw, entries),
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> Self:
        return self._fit(X, y, sample_weight, incremental=False)

    fit.__doc__ = _fit_docstring(
        """Labels of any type: ``(n_sequences,)`` with
            ``return_sequences=False``; ``(n_sequences, n_steps)`` with
            ``return_sequences=True`` (labels at padded steps are ignored)."""
    )

    def decision_function(self, X: ArrayLike) -> np.ndarray:
        """Raw read-out values.

        Parameters
        ----------
        X : array-like, as in :meth:`fit`
            Sequences; their padded length may differ from the one seen in fit.

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
    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities.

        Parameters
        ----------
        X : array-like, as in :meth:`fit`
            Sequences; their padded length may differ from the one seen in fit.

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
    def predict_log_proba(self, X: ArrayLike) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like, as in :meth:`fit`
            Sequences; their padded length may differ from the one seen in fit.

        Returns
        -------
        log_proba : ndarray of shape (n_sequences, n_classes)
            The logarithms of the class probabilities; per step
            ``(n_sequences, n_steps, n_classes)``.
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predict class labels.

        Parameters
        ----------
        X : array-like, as in :meth:`fit`
            Sequences; their padded length may differ from the one seen in fit.

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

    def score(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> float:
        """Accuracy over the real steps (sequences, with return_sequences=False).

        Parameters
        ----------
        X : array-like, as in :meth:`fit`
            Sequences.
        y : array-like, as in :meth:`fit`
            True targets (labels).
        sample_weight : array-like of shape (n_sequences,) or \
                (n_sequences, n_steps), default=None
            Weight of each sequence, or with ``return_sequences=True`` of each
            step.

        Returns
        -------
        score : float
            The score of the predictions.
        """
        if not self.return_sequences:
            return super().score(X, y, sample_weight=sample_weight)
        X, lengths = self._validate_for_predict(X)
        labels, real = self._labels_at_real_steps(y, lengths, X.shape[1])
        pred = self.predict(X)[:, : X.shape[1]][real]
        sw = validate_sample_weight(sample_weight, X, lengths, return_sequences=True)
        return accuracy_score(
            labels.astype(self.classes_.dtype),
            pred.astype(self.classes_.dtype),
            sample_weight=entry_weights(sw, real),
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags
