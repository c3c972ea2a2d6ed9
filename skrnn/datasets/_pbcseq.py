"""The Mayo Clinic primary biliary cirrhosis visits (R survival's ``pbcseq``)."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

# Visit features of the death-prediction task: everything measured at a visit,
# never the end-of-follow-up columns (futime, status).
PBCSEQ_FEATURES = [
    "trt",
    "age",
    "sex",
    "ascites",
    "hepato",
    "spiders",
    "edema",
    "bili",
    "chol",
    "albumin",
    "alk.phos",
    "ast",
    "platelet",
    "protime",
    "stage",
]


def load_pbcseq(*, return_X_y: bool = False):
    """Load the Mayo Clinic PBC sequential data: 312 patients, 1,945 visits.

    One row per clinic visit (long format), from the R ``survival`` package's
    ``pbcseq`` (Therneau & Grambsch, 2000), exported unchanged: empty cells are
    NaN, ``sex`` is 'm'/'f', ``status`` is 0/1/2.

    Columns: ``rownames`` (row number), ``id`` (patient), ``futime`` (days to
    death, transplant or end of follow-up), ``status`` (0 censored, 1
    transplant, 2 dead), ``trt`` (treatment arm, 0/1), ``age`` (years),
    ``sex`` ('m'/'f'), ``day`` (days since enrolment of this visit),
    ``ascites``, ``hepato``, ``spiders`` (0/1), ``edema`` (0, 0.5, 1), ``bili``
    (serum bilirubin, mg/dl), ``chol`` (cholesterol), ``albumin``, ``alk.phos``,
    ``ast``, ``platelet``, ``protime`` (prothrombin time), ``stage``
    (histologic stage 1-4). ``futime`` and ``status`` describe the end of
    follow-up: never feed them to a model.

    Parameters
    ----------
    return_X_y : bool, default=False
        False: the long table. True: the death-prediction task ready to fit,
        ``(X, y)`` with ``X`` of shape ``(312, 16, 15)``: each patient's visits
        ordered by ``day``, NaN-padded, the features of ``PBCSEQ_FEATURES``
        (``sex`` as 1 for 'f', 0 for 'm'; missing labs stay NaN, impute them,
        e.g. with ``SequenceImputer()``), and ``y`` of shape
        ``(312,)``, 1 if the patient died (``status == 2``).

    Returns
    -------
    data : pandas.DataFrame of shape (1945, 20), or tuple (X, y)
        The long table, or ``(X, y)`` with ``return_X_y=True``.

    References
    ----------
    Therneau, T. M. and Grambsch, P. M. (2000). Modeling Survival Data:
    Extending the Cox Model. Springer.

    Examples
    --------
    >>> from skrnn.datasets import load_pbcseq
    >>> visits = load_pbcseq()
    >>> visits.shape
    (1945, 20)
    >>> X, y = load_pbcseq(return_X_y=True)
    >>> X.shape, y.shape, int(y.sum())
    ((312, 16, 15), (312,), 140)
    """
    path = resources.files("skrnn.datasets") / "data" / "pbcseq.csv"
    with resources.as_file(path) as csv:
        visits = pd.read_csv(csv)
    if not return_X_y:
        return visits
    from ..preprocessing import to_sequences

    table = visits.assign(sex=(visits["sex"] == "f").astype(float))
    table["dead"] = (table["status"] == 2).astype(int)
    X, y, _ = to_sequences(
        table, group="id", time="day", features=PBCSEQ_FEATURES, target="dead"
    )
    return X, y.astype(np.int64)
