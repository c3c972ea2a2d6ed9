import os

# Under pytest-xdist (`pytest -n auto`) the workers share the cores: each runs
# OpenMP and BLAS on its share, so that N workers don't start N x cores
# threads. Set before NumPy and skrnn load their thread pools; tests that
# pass n_jobs explicitly still get that many threads.
if "PYTEST_XDIST_WORKER_COUNT" in os.environ:
    _workers = int(os.environ["PYTEST_XDIST_WORKER_COUNT"])
    _share = max(1, (os.cpu_count() or 1) // _workers)
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, str(_share))

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def rng():
    return np.random.default_rng(0)
