"""From long tables to sequences, per-step transformers, and imputation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context, clone
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import check_is_fitted

from ._data import check_not_empty, validate_sequences
from ._imputer import SequenceImputer

if TYPE_CHECKING:
    from typing import Self

__all__ = ["SequenceImputer", "TimestepTransformer", "to_sequences"]

_TARGET_AT = ("last", "first", "per_step")


def _as_pandas(df):
    if isinstance(df, pd.DataFrame):
        return df
    if type(df).__module__.split(".")[0] == "polars":
        return pd.DataFrame(df.to_dict(as_series=False))
    raise TypeError(
        f"to_sequences takes a pandas or polars DataFrame, got {type(df).__name__}."
    )


def _check_columns(df, columns):
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"Column {missing[0]!r} is not in the table; its columns are "
            f"{list(df.columns)}."
        )


def _numeric_column(df, name):
    """The column as floats, or a clear error for text and categories."""
    col = df[name]
    if isinstance(col.dtype, pd.CategoricalDtype):
        if pd.api.types.is_numeric_dtype(col.cat.categories.dtype):
            return col.astype(col.cat.categories.dtype).astype(float)
        raise ValueError(
            f"Column {name!r} is categorical with non-numeric categories; encode "
            "it first (e.g. with pandas.get_dummies or OneHotEncoder)."
        )
    if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
        return col.astype(float)
    raise ValueError(
        f"Column {name!r} is not numeric (dtype {col.dtype}); encode it first "
        "(e.g. map categories to numbers, or pandas.get_dummies)."
    )


def _scalar(value):
    return value.item() if isinstance(value, np.generic) else value


def _time_column(df, name):
    """The time column, ordered as times: numbers, datetimes or timedeltas;
    text only if it is ISO 8601 dates (read as datetimes)."""
    col = df[name]
    if (
        pd.api.types.is_numeric_dtype(col)
        or pd.api.types.is_datetime64_any_dtype(col)
        or pd.api.types.is_timedelta64_dtype(col)
    ) and not pd.api.types.is_bool_dtype(col):
        return col
    bad = col.iloc[0]
    if pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col):
        text = col.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
        parsed = pd.to_datetime(col.where(text), format="ISO8601", errors="coerce")
        if text.all() and parsed.notna().all():
            return parsed
        not_dates = text & parsed.isna().to_numpy()
        bad = col[not_dates].iloc[0] if not_dates.any() else col[~text].iloc[0]
    raise ValueError(
        f"Column {name!r} must hold numbers or dates to order the rows; it holds "
        f"{bad!r} (dtype {col.dtype}): convert it, e.g. with pandas.to_numeric or "
        "pandas.to_datetime."
    )


def to_sequences(
    df,
    group: str,
    time: str,
    features: list[str] | None = None,
    target: str | None = None,
    *,
    target_at: str = "last",
    time_gap: bool = False,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Turn a long table (one row per visit) into padded sequences.

    Parameters
    ----------
    df : pandas.DataFrame or polars.DataFrame
        One row per (group, time): e.g. one row per patient visit.
    group : str
        Column that names the sequence (e.g. the patient id).
    time : str
        Column that orders the rows within a group: numbers, datetimes, or
        text in ISO 8601 (``'2024-01-31'``, read as datetimes).
    features : list of str, default=None
        Feature columns, numeric (bool and categories with numeric values
        count as numeric). None: every numeric column but ``group``, ``time``
        and ``target``.
    target : str, default=None
        Target column; None returns ``y=None``.
    target_at : {'last', 'first', 'per_step'} or str or callable, default='last'
        'last' / 'first': the target of the group's last / first row;
        'per_step': one target per row, ``(n_groups, n_steps)`` NaN-padded (None
        for non-numeric targets); any other string or callable is an aggregate
        applied to each group's targets by pandas (e.g. 'max', 'mean').
    time_gap : bool, default=False
        Append a feature ``time_gap``: the time since the group's previous row
        (0 at its first row), in days for datetime columns. Useful for irregular
        visits.

    Returns
    -------
    X : ndarray of shape (n_groups, n_steps, n_features)
        Rows ordered by ``time`` within each group, NaN after each group's
        last row; ``n_steps`` is the longest group.
    y : ndarray of shape (n_groups,) or (n_groups, n_steps), or None
        The target of each group (per step with ``target_at='per_step'``), or
        None without ``target``.
    groups : ndarray of shape (n_groups,)
        The group of each sequence, sorted.

    Examples
    --------
    >>> import pandas as pd
    >>> from skrnn.preprocessing import to_sequences
    >>> visits = pd.DataFrame({"patient": [1, 1, 2], "day": [0, 30, 0],
    ...                        "bili": [1.2, 1.9, 0.8], "dead": [0, 1, 0]})
    >>> X, y, groups = to_sequences(visits, "patient", "day", target="dead")
    >>> X[:, :, 0]
    array([[1.2, 1.9],
           [0.8, nan]])
    >>> y, groups
    (array([1, 0]), array([1, 2]))
    """
    df = _as_pandas(df)
    _check_columns(df, [group, time] + ([target] if target is not None else []))
    if features is None:
        exclude = {group, time, target}
        features = [
            c
            for c in df.columns
            if c not in exclude
            and (
                pd.api.types.is_numeric_dtype(df[c])
                or pd.api.types.is_bool_dtype(df[c])
            )
        ]
        if not features and not time_gap:
            raise ValueError(
                "The table has no numeric feature column; pass `features`."
            )
    else:
        features = list(features)
        _check_columns(df, features)
    if not (callable(target_at) or isinstance(target_at, str)):
        raise ValueError(
            f"target_at must be one of {_TARGET_AT}, an aggregate name or "
            f"a callable, got {target_at!r}."
        )
    if len(df) == 0:
        raise ValueError("The table has no rows.")
    for name in (group, time):
        missing = df[name].isna().to_numpy()
        if missing.any():
            raise ValueError(
                f"Column {name!r} is missing in {missing.sum()} row(s) (the first "
                f"at index {_scalar(df.index[missing][0])!r}); every row needs a "
                f"{name!r} value: fill it or drop those rows."
            )
    df = df.assign(**{time: _time_column(df, time)})
    duplicated = df.duplicated(subset=[group, time])
    if duplicated.any():
        row = df[duplicated].iloc[0].to_dict()
        raise ValueError(
            f"The table has more than one row for {group}={row[group]!r} at "
            f"{time}={row[time]!r}; each (group, time) pair must be one row."
        )
    table = df.sort_values([group, time], kind="stable")
    values = (
        np.column_stack([_numeric_column(table, f).to_numpy() for f in features])
        if features
        else np.empty((len(table), 0))
    )
    codes, groups = pd.factorize(table[group], sort=True)
    position = table.groupby(codes, sort=False).cumcount().to_numpy()
    if time_gap:
        t = table[time]
        gap = t.groupby(codes, sort=False).diff()
        if pd.api.types.is_timedelta64_dtype(gap):
            gap = gap.dt.total_seconds() / 86400.0
        values = np.column_stack([values, gap.fillna(0).to_numpy(dtype=float)])
    infinite = np.isinf(values)
    if infinite.any():
        r, f = np.argwhere(infinite)[0]
        name = features[f] if f < len(features) else "time_gap"
        g, t = (_scalar(table[c].iloc[r]) for c in (group, time))
        raise ValueError(
            f"Feature {name!r} is infinite for {group}={g!r} at {time}={t!r}; "
            "replace it (e.g. by NaN, to impute it)."
        )
    empty = np.isnan(values).all(axis=1)
    if empty.any():
        row = table[empty].iloc[0].to_dict()
        raise ValueError(
            f"The row for {group}={row[group]!r} at {time}={row[time]!r} has every "
            "feature missing, so it would read as padding; drop the row, or add "
            "time_gap=True."
        )
    n_groups = len(groups)
    n_steps = int(position.max()) + 1
    X = np.full((n_groups, n_steps, values.shape[1]), np.nan)
    X[codes, position] = values
    y = None
    if target is not None:
        y = _targets(table, target, codes, position, n_groups, n_steps, target_at)
    return X, y, np.asarray(groups)


def _targets(table, target, codes, position, n_groups, n_steps, target_at):
    col = table[target]
    if target_at == "per_step":
        numeric = pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)
        y = np.full(
            (n_groups, n_steps),
            np.nan if numeric else None,
            dtype=float if numeric else object,
        )
        y[codes, position] = col.to_numpy()
        return y
    # rows are sorted by group: each group's first and last rows are where the
    # code changes (GroupBy.first / last would skip a missing target)
    change = np.flatnonzero(np.diff(codes)) + 1
    if target_at == "last":
        return col.to_numpy()[np.r_[change - 1, len(codes) - 1]]
    if target_at == "first":
        return col.to_numpy()[np.r_[0, change]]
    return col.groupby(codes, sort=True).agg(target_at).to_numpy()


class TimestepTransformer(TransformerMixin, BaseEstimator):
    """Apply a 2-D transformer to every real time step of padded sequences.

    The wrapped transformer is fitted on all real steps of all sequences
    stacked as rows, and transforms each real step; padded steps stay NaN. A
    step is padding only when it is all-NaN and after its sequence's last
    observed step, so a visit with some missing values is a real step (and
    ``SimpleImputer`` fills it).

    Parameters
    ----------
    transformer : transformer
        Any scikit-learn transformer of 2-D tables (``SimpleImputer``,
        ``StandardScaler``, ``OneHotEncoder(sparse_output=False)``...). Its
        parameters are reachable as ``transformer__<name>`` (in a Pipeline:
        ``timesteptransformer__transformer__<name>``).

    Attributes
    ----------
    transformer_ : transformer
        The fitted clone of ``transformer``.
    n_features_in_ : int
        Features of one step.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when fitted on a DataFrame (a table of one-step
        sequences).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.impute import SimpleImputer
    >>> from skrnn.preprocessing import TimestepTransformer
    >>> X = np.array([[[1.0], [np.nan], [3.0]], [[5.0], [np.nan], [np.nan]]])
    >>> TimestepTransformer(SimpleImputer()).fit_transform(X)[:, :, 0]
    array([[ 1.,  3.,  3.],
           [ 5., nan, nan]])
    """

    _parameter_constraints: dict = {"transformer": [HasMethods(["fit", "transform"])]}

    def __init__(self, transformer):
        self.transformer = transformer

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: ArrayLike, y: None = None) -> Self:
        """Fit the transformer on every real step of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_sequences, n_steps, n_features), \
                (n_samples, n_features) or list of ndarray
            NaN-padded sequences (as the estimators take them).
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        X, lengths = validate_sequences(self, X, reset=True, check_nan=False)
        rows = self._real_steps(X, lengths)
        self.transformer_ = clone(self.transformer).fit(rows)
        return self

    @staticmethod
    def _real_steps(X, lengths):
        check_not_empty(lengths)
        return X[np.arange(X.shape[1])[None, :] < lengths[:, None]]

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Transform every real step; padded steps stay NaN.

        Parameters
        ----------
        X : array-like, as in :meth:`fit`
            Sequences with the features seen in fit.

        Returns
        -------
        Xt : ndarray of shape (n_sequences, n_steps, n_features_out)
            The transformed steps, NaN at padded steps.
        """
        check_is_fitted(self)
        X, lengths = validate_sequences(self, X, reset=False, check_nan=False)
        mask = np.arange(X.shape[1])[None, :] < lengths[:, None]
        real = self._real_steps(X, lengths)
        rows = self.transformer_.transform(real)
        if hasattr(rows, "toarray"):
            rows = rows.toarray()
        with np.errstate(over="ignore"):
            rows = np.asarray(rows, dtype=X.dtype)
        broken = np.isfinite(real).all(axis=1) & ~np.isfinite(rows).all(axis=1)
        if broken.any():
            i, t = np.argwhere(mask)[np.flatnonzero(broken)[0]]
            raise ValueError(
                f"{type(self.transformer_).__name__} turned the finite step {t} of "
                f"sequence {i} into NaN or infinity (largest |value| in X: "
                f"{np.nanmax(np.abs(real)):.3g}); rescale X or use a transformer "
                "that can hold such values."
            )
        out = np.full(X.shape[:2] + (rows.shape[1],), np.nan, dtype=X.dtype)
        out[mask] = rows
        return out

    def get_feature_names_out(
        self, input_features: ArrayLike | None = None
    ) -> np.ndarray:
        """Names of the output features, from the wrapped transformer.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Input feature names; None uses ``feature_names_in_`` (or
            ``x0, x1, ...``).

        Returns
        -------
        names : ndarray of str
            The names of the transformed features.
        """
        check_is_fitted(self)
        if input_features is None and hasattr(self, "feature_names_in_"):
            input_features = self.feature_names_in_
        if input_features is None:
            input_features = [f"x{i}" for i in range(self.n_features_in_)]
        return self.transformer_.get_feature_names_out(input_features)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.three_d_array = True
        return tags
