"""scikit-learn's own API contract on every estimator."""

from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import skrnn
from skrnn.preprocessing import SequenceImputer, TimestepTransformer

# The options' instances train 50 epochs, not the default 400: the checks are
# of the API (and of learning blobs to scikit-learn's 0.83 accuracy, which 50
# epochs of about 8 minibatches pass with 0.91-0.94); each estimator with its
# defaults (the first line) trains up to 400.
SHORT = {"max_iter": 50}

ESTIMATORS = [getattr(skrnn, name)() for name in skrnn.__all__] + [
    skrnn.RNNRegressor(solver="simplex", **SHORT),
    skrnn.GRUClassifier(solver="simplex", **SHORT),
    # the schedule that is not scikit-learn's
    skrnn.LSTMRegressor(learning_rate="cosine", **SHORT),
    # no weight averaging (the default averages)
    skrnn.GRUClassifier(averaging=0.0, **SHORT),
    # the layer options of issue 14
    skrnn.GRUClassifier(bidirectional=True, pooling="max", dropout=0.2, **SHORT),
    skrnn.LSTMRegressor(bidirectional=True, pooling="mean", dropout=0.2, **SHORT),
    skrnn.RNNClassifier(pooling="mean", dropout=0.1, **SHORT),
    skrnn.LSTMClassifier(recurrent_dropout=0.2, **SHORT),
    skrnn.RNNRegressor(leak_rate=0.5, skip_steps=2, **SHORT),
    skrnn.RNNClassifier(leak_rate=0.5, skip_steps=1, solver="simplex", **SHORT),
    # one minibatch per epoch: here weights and repeated rows must agree
    skrnn.GRURegressor(batch_size=200),
    skrnn.LSTMClassifier(batch_size=200),
    # a fixed ridge and leak rate: here weights and repeated rows must agree
    skrnn.EchoStateRegressor(alpha=1e-6, leak_rate=1.0),
    skrnn.EchoStateClassifier(alpha=1e-6, leak_rate=1.0),
    skrnn.GRUDClassifier(batch_size=200),
    # GRU-D's common parameters: stacked layers, bidirectional
    skrnn.GRUDRegressor(hidden_layer_sizes=(8, 4), **SHORT),
    skrnn.GRUDClassifier(bidirectional=True, solver="simplex", bptt_steps=2, **SHORT),
    TimestepTransformer(StandardScaler()),
    SequenceImputer(),
    SequenceImputer(add_indicator=True, add_time_since=True),
]


EXPECTED_FAILURES = {
    "EchoStateClassifier": {
        "check_sample_weight_equivalence_on_dense_data": (
            "the ridge read-out solves the normal equations, whose Gram matrix of "
            "reservoir states is ill-conditioned at alpha=1e-6: "
            "weighted and repeated rows agree to ~1e-6, not to the check's 1e-7"
        ),
    },
}


# Dropout (input or recurrent) draws one mask per sequence: a sequence
# repeated twice draws two, the same sequence with weight 2 one, so the two
# fits differ by design.
DROPOUT_FAILURES = {
    "check_sample_weight_equivalence_on_dense_data": (
        "dropout draws a mask per sequence, so a repeated sequence and a "
        "weighted one see different masks"
    ),
}


# batch_size='auto' makes about 8 minibatches per epoch: repeating a row
# changes the number of rows, so the minibatches and the updates, as in
# scikit-learn's SGDClassifier. The full-batch instances above check it.
MINIBATCH_FAILURES = {
    "check_sample_weight_equivalence_on_dense_data": (
        "minibatches of about n / 8 rows: a repeated row changes n and so the "
        "partition into minibatches; checked with one minibatch per epoch"
    ),
}


# Leave-one-out drops one row at a time: a row of weight 2 whole, a repeated
# row one copy at a time, so the chosen alpha can differ, as in any
# cross-validation. The fixed-alpha instances above check it.
AUTO_ALPHA_FAILURES = {
    "check_sample_weight_equivalence_on_dense_data": (
        "alpha='auto' leaves one row out at a time: a weighted row whole, a "
        "repeated row one copy at a time; checked with a fixed alpha"
    ),
}


def _expected_failures(estimator):
    failures = dict(EXPECTED_FAILURES.get(type(estimator).__name__, {}))
    if getattr(estimator, "batch_size", None) == "auto":
        failures.update(MINIBATCH_FAILURES)
    if getattr(estimator, "alpha", None) == "auto":
        failures.update(AUTO_ALPHA_FAILURES)
    if getattr(estimator, "dropout", 0) > 0 or (
        getattr(estimator, "recurrent_dropout", 0) > 0
    ):
        failures.update(DROPOUT_FAILURES)
    return failures


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)
