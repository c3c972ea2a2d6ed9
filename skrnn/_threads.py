"""Threads: OpenMP in the kernels, BLAS held to one thread around them."""

from sklearn.utils._openmp_helpers import _openmp_effective_n_threads
from threadpoolctl import ThreadpoolController

_threadpool_controller = None


def blas_single_threaded():
    """Hold BLAS to one thread: the kernels call it from OpenMP threads."""
    global _threadpool_controller
    if _threadpool_controller is None:
        _threadpool_controller = ThreadpoolController()
    return _threadpool_controller.limit(limits=1, user_api="blas")


def effective_n_threads(n_jobs):
    """OpenMP threads for ``n_jobs`` as scikit-learn counts them."""
    return _openmp_effective_n_threads(n_jobs)
