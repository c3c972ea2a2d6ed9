"""scikit-learn's own API contract on every estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

import skrnn

ESTIMATORS = [getattr(skrnn, name)() for name in skrnn.__all__]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)
