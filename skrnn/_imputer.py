"""Missing values inside sequences: each sequence's own last observation."""

from __future__ import annotations

from numbers import Integral
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted

from ._data import (
    check_not_empty,
    step_times,
    time_column_index,
    validate_sequences,
)

if TYPE_CHECKING:
    from typing import Self


class SequenceImputer(TransformerMixin, BaseEstimator):
    """Carry each sequence's last observed value forward.

    A NaN at a real step of a sequence (a lab value not measured at a visit)
    takes the last value observed before it in the same sequence; before a
    feature's first observation in a sequence, its mean over every observed
    value of the training data. Optionally appends, per feature, the
    missing-indicator mask (1 where the value was missing) and the time since
    the feature was last observed, as the extra inputs of Che et al.'s
    "GRU-simple". Columns come out in :class:`~sklearn.impute.SimpleImputer`'s
    order: the imputed features, then the indicators, then the times.

    A sequence is never read from another: the only quantity shared between
    sequences is the training mean learned in :meth:`fit`. Padding stays
    padding: a sequence ends at its last step that is not all-NaN, and the
    trailing all-NaN steps are NaN in every output column. A step that is
    all-NaN before a sequence's end is a real step (every value carried
    forward).

    Parameters
    ----------
    add_indicator : bool, default=False
        Append one column per feature (the time column excepted): 1.0 where
        the value was missing at that step, 0.0 where it was observed.
    add_time_since : bool, default=False
        Append one column per feature (the time column excepted): the age of
        the value the step carries, that is the time from the step at which
        the feature was last observed up to this step (0 where it is observed
        at this step); before its first observation in the sequence, the time
        since the sequence's first step. In steps, or with ``time_column``, in
        that column's unit. Che et al.'s ``delta`` differs at observed steps:
        there it is the gap since the previous observation.
    time_column : int or str or None, default=None
        The feature that holds each step's time (e.g. days since enrolment):
        its index, or its name when fitted on a DataFrame. Its values must be
        observed at every real step and must not decrease within a sequence.
        It is passed through as an imputed feature and gets no indicator or
        time column of its own. None: the steps are equally spaced, one unit
        apart.
    time_kind : {'time', 'gap'}, default='time'
        What ``time_column`` holds: 'time', the time of each step; 'gap', the
        time since the previous step of the sequence (as
        ``to_sequences(..., time_gap=True)`` makes it; its value at a
        sequence's first step is not used). Gaps must not be negative.

    Attributes
    ----------
    statistics_ : ndarray of shape (`n_features_in_`,)
        Mean of each feature over its observed values at the real steps of the
        training sequences (the time column's included).
    n_features_in_ : int
        Features of one step.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when fitted on a DataFrame (a table of one-step
        sequences).

    See Also
    --------
    TimestepTransformer : Any 2-D transformer applied to every real step (with
        ``SimpleImputer``: the mean over every sequence's steps instead of the
        sequence's own last value).
    sklearn.impute.SimpleImputer : The same column order for its indicators.

    References
    ----------
    Che, Z., Purushotham, S., Cho, K., Sontag, D. and Liu, Y. (2018).
    Recurrent neural networks for multivariate time series with missing
    values. Scientific Reports 8, 6085.

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn.preprocessing import SequenceImputer
    >>> X = np.array([[[np.nan, 0.0], [2.0, 30.0], [np.nan, 90.0]],
    ...               [[4.0, 0.0], [np.nan, 60.0], [np.nan, np.nan]]])
    >>> imputer = SequenceImputer(add_indicator=True, add_time_since=True,
    ...                           time_column=1)  # feature 1: the day
    >>> imputer.fit_transform(X)
    array([[[ 3.,  0.,  1.,  0.],
            [ 2., 30.,  0.,  0.],
            [ 2., 90.,  1., 60.]],
    <BLANKLINE>
           [[ 4.,  0.,  0.,  0.],
            [ 4., 60.,  1., 60.],
            [nan, nan, nan, nan]]])
    >>> imputer.get_feature_names_out()
    array(['x0', 'x1', 'missingindicator_x0', 'timesince_x0'], dtype=object)
    """

    _parameter_constraints: dict = {
        "add_indicator": ["boolean"],
        "add_time_since": ["boolean"],
        "time_column": [Integral, str, None],
        "time_kind": [StrOptions({"time", "gap"})],
    }

    def __init__(
        self,
        add_indicator=False,
        add_time_since=False,
        time_column=None,
        time_kind="time",
    ):
        self.add_indicator = add_indicator
        self.add_time_since = add_time_since
        self.time_column = time_column
        self.time_kind = time_kind

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: None = None) -> Self:
        """Learn each feature's mean over its observed values.

        Parameters
        ----------
        X : array-like of shape (n_sequences, n_steps, n_features), \
                (n_samples, n_features) or list of ndarray
            NaN-padded sequences with NaN where a value is missing.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted imputer.
        """
        X, lengths = validate_sequences(self, X, reset=True, check_nan=False)
        check_not_empty(lengths)
        self._time_index()  # a bad time_column fails before any work
        real = _real(X, lengths)
        observed = ~np.isnan(X) & real[:, :, None]
        counts = observed.sum(axis=(0, 1))
        never = np.flatnonzero(counts == 0)
        if never.size:
            raise ValueError(
                f"Feature {self._names()[never[0]]!r} is never observed in the "
                "training data (NaN at every step of every sequence), so it has "
                "no value to impute; drop the feature, or fit on data where it "
                "is measured."
            )
        totals = np.where(observed, X, 0).sum(axis=(0, 1), dtype=np.float64)
        self.statistics_ = totals / counts
        self._times(X, lengths)
        return self

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Impute each sequence from its own past; append indicators and times.

        Parameters
        ----------
        X : array-like, as in :meth:`fit`
            Sequences with the features seen in fit.

        Returns
        -------
        Xt : ndarray of shape (n_sequences, n_steps, n_features_out)
            Imputed features, then the indicators, then the times since last
            observed (as asked for); NaN at padded steps.
        """
        check_is_fitted(self)
        X, lengths = validate_sequences(self, X, reset=False, check_nan=False)
        check_not_empty(lengths)
        n, T, F = X.shape
        real = _real(X, lengths)
        observed = ~np.isnan(X) & real[:, :, None]
        times = self._times(X, lengths)  # checks the time column
        steps = np.arange(T)[None, :, None]
        # the step of each feature's last observation up to each step (-1: none)
        last = np.maximum.accumulate(np.where(observed, steps, -1), axis=1)
        carried = np.take_along_axis(X, np.maximum(last, 0), axis=1)
        statistics = self.statistics_.astype(X.dtype)
        blocks = [np.where(last >= 0, carried, statistics)]
        others = self._other_features()
        if self.add_indicator:
            blocks.append((~observed[:, :, others]).astype(X.dtype))
        if self.add_time_since:
            origin = np.where(last >= 0, last, 0)[:, :, others]
            since = times[:, :, None] - np.take_along_axis(
                np.broadcast_to(times[:, :, None], origin.shape), origin, axis=1
            )
            blocks.append(since.astype(X.dtype))
        out = np.concatenate(blocks, axis=2)
        out[~real] = np.nan
        return out

    def _names(self):
        if hasattr(self, "feature_names_in_"):
            return list(self.feature_names_in_)
        return [f"x{i}" for i in range(self.n_features_in_)]

    def _time_index(self):
        """The index of the time column among the features, or None."""
        return time_column_index(
            self.time_column,
            self.n_features_in_,
            getattr(self, "feature_names_in_", None),
        )

    def _other_features(self):
        """Indices of the features that get an indicator and a time."""
        index = self._time_index()
        return [f for f in range(self.n_features_in_) if f != index]

    def _times(self, X, lengths):
        """The time of each step ``(n, T)``, zero at padded steps; checks the
        time column."""
        n, T, _ = X.shape
        real = _real(X, lengths)
        index = self._time_index()
        if index is None:
            return np.where(real, np.arange(T, dtype=np.float64)[None, :], 0.0)
        return step_times(
            X[:, :, index].astype(np.float64),
            real,
            repr(self._names()[index]),
            gaps=self.time_kind == "gap",
        )

    def get_feature_names_out(
        self, input_features: ArrayLike | None = None
    ) -> np.ndarray:
        """Names of the output columns.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Input feature names; None uses ``feature_names_in_`` (or
            ``x0, x1, ...``).

        Returns
        -------
        names : ndarray of str
            The features, then ``missingindicator_<name>`` and
            ``timesince_<name>`` for each feature but the time column.
        """
        check_is_fitted(self)
        if input_features is None:
            input_features = self._names()
        input_features = [str(name) for name in input_features]
        if len(input_features) != self.n_features_in_:
            raise ValueError(
                f"input_features has {len(input_features)} names; expected "
                f"{self.n_features_in_}."
            )
        if hasattr(self, "feature_names_in_") and not np.array_equal(
            input_features, self.feature_names_in_
        ):
            raise ValueError("input_features is not equal to feature_names_in_.")
        others = [input_features[f] for f in self._other_features()]
        names = list(input_features)
        if self.add_indicator:
            names += [f"missingindicator_{name}" for name in others]
        if self.add_time_since:
            names += [f"timesince_{name}" for name in others]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.three_d_array = True
        return tags


def _real(X, lengths):
    """Boolean ``(n, T)``: True at the real steps of each sequence."""
    return np.arange(X.shape[1])[None, :] < lengths[:, None]
