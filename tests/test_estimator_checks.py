"""scikit-learn's own API contract on every estimator."""

from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import skrnn
from skrnn.preprocessing import TimestepTransformer

ESTIMATORS = [getattr(skrnn, name)() for name in skrnn.__all__] + [
    TimestepTransformer(StandardScaler())
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)
