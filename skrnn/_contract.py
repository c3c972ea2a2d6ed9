"""The contract between the task mixins and the models.

Every estimator is a task (regression or classification, in
:mod:`skrnn._task_mixins`) on a model (the gradient-trained networks of
:mod:`skrnn._base`, EM's network, the echo state network). The calls go one
way: the task validates and encodes the data and calls the model through the
abstract methods of :class:`SequenceModel`; a model never calls a task's
methods, and learns what it needs of the task from a :class:`TaskSpec`.
"""

import copy
import functools
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Number

import numpy as np


@dataclass(frozen=True)
class TaskSpec:
    """What a model needs to know of its task to fit.

    Attributes
    ----------
    loss : callable
        ``loss(Z, Y, w) -> (value, dZ)`` on the read-out's outputs of the
        entries with a target (see :mod:`skrnn._loss`).
    logistic_output : bool
        The read-out feeds a logistic or softmax (initialised as such).
    classification : bool
        The encoded targets are class indicators (0/1).
    stratify : callable
        ``stratify(Y)``: labels to stratify a validation split by, or None.
    score : callable
        ``score(X, lengths, Y, sample_weight)``: the task's score of the
        model on encoded targets (R^2 or accuracy), for early stopping.
    decode : callable
        ``decode(Y)``: the sequence-to-one targets ``y`` as a user passes them
        (labels, or values of shape ``(n,)`` / ``(n, n_outputs)``) from their
        encoding ``(n, 1, n_outputs)``, for a scorer.
    """

    loss: Callable
    logistic_output: bool
    classification: bool
    stratify: Callable
    score: Callable
    decode: Callable


class SequenceModel(ABC):
    """The model side of the contract: what the task mixins call."""

    #: Whether ``X`` may hold NaN inside a sequence ("not measured").
    _accepts_missing = False

    @abstractmethod
    def _resets(self, incremental: bool) -> bool:
        """Whether a fit starts afresh: new encodings, new weights."""

    @abstractmethod
    def _fit_encoded(
        self,
        X: np.ndarray,
        lengths: np.ndarray,
        Y: np.ndarray,
        sample_weight: np.ndarray,
        task: TaskSpec,
        *,
        incremental: bool,
    ):
        """Fit on validated sequences and encoded targets; returns self.

        ``X`` is ``(n, T, F)`` NaN-padded with ``lengths``; ``Y`` is
        ``(n, 1, n_outputs)`` for sequence-to-one and ``(n, T, n_outputs)``
        per step (NaN where a step has no target).
        """

    @abstractmethod
    def _validate_for_predict(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Check that the model is fitted and ``X`` fits it: ``(X, lengths)``."""

    @abstractmethod
    def _raw_outputs(self, X: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Read-out values in batch order: ``(n, n_outputs)``, or per step
        ``(n, T, n_outputs)`` with NaN at padded steps."""

    def _checkpoint(self, finished):
        """Record the state after a finished epoch (EM: iteration).

        A fit interrupted later (KeyboardInterrupt) goes back to the last
        recorded state, calls :meth:`_end_fit` and returns; ``finished``
        names that epoch in the warning, e.g. ``"epoch 3"``.
        """
        self._fit_checkpoint = (finished, state_copy(self))

    def _end_fit(self):
        """What a fit that stops after the last finished epoch does at its
        end (after an interrupt too); returns a note for the warning or ''."""
        return ""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags


# Fitted lists that a fit only appends to (or replaces by a new list). A
# state copy keeps such a list and its length, not its items: the copies
# taken at every partial_fit call then cost the same after a million calls
# as after one (copying the items made a long partial_fit loop quadratic).
HISTORIES = frozenset({"loss_curve_", "validation_scores_", "validation_loss_curve_"})


@dataclass(frozen=True)
class _History:
    items: list
    length: int


def state_copy(estimator):
    """A copy of everything a fit may change: the estimator's ``__dict__`` with
    its fitted state copied and its constructor parameters kept by reference
    (a ``random_state`` instance stays the caller's object); the lists of
    ``HISTORIES`` by reference and length."""
    params = _param_names(type(estimator))
    state = {}
    for key, value in vars(estimator).items():
        if key == "_fit_checkpoint":
            continue
        if key in params:
            state[key] = value
        elif key in HISTORIES and isinstance(value, list):
            state[key] = _History(value, len(value))
        else:
            state[key] = _copied(value)
    return state


def restore_state(estimator, state):
    """Put ``estimator`` back into a :func:`state_copy`, parameters kept."""
    params = _param_names(type(estimator))
    kept = {key: value for key, value in vars(estimator).items() if key in params}
    vars(estimator).clear()
    for key, value in state.items():
        if isinstance(value, _History):
            del value.items[value.length :]
            value = value.items
        vars(estimator)[key] = value
    vars(estimator).update(kept)


@functools.cache
def _param_names(cls):
    return frozenset(cls._get_param_names())


def _copied(value):
    # the containers of fitted state by hand: a third of deepcopy's time,
    # which a checkpoint after every epoch of a small fit notices
    if isinstance(value, (Number, str, type(None))):
        return value
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list):
        return [_copied(v) for v in value]
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    return copy.deepcopy(value)
