"""scikit-learn's own API contract on every estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skrnn import GRUClassifier, GRURegressor, RNNClassifier, RNNRegressor

ESTIMATORS = [RNNRegressor(), RNNClassifier(), GRURegressor(), GRUClassifier()]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)
