"""Threads: OpenMP in the kernels, BLAS held to one thread around them; and
which kernels that BLAS runs."""

import functools

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


# OpenBLAS's names (threadpoolctl's "architecture") of its kernels that use
# AVX-512; its others (Haswell, Zen, Sandybridge, ...) stop at AVX2 or below.
_OPENBLAS_AVX512 = frozenset({"SkylakeX", "Cooperlake", "SapphireRapids"})


@functools.cache
def blas_has_avx512():
    """Whether the BLAS that the kernels call runs AVX-512 kernels: False if
    an OpenBLAS in the process reports another core type (as on an AVX-512
    CPU with ``OPENBLAS_CORETYPE=Haswell`` set, or one OpenBLAS does not
    know); any other BLAS is taken to pick its kernels from the CPU."""
    import scipy.linalg  # noqa: F401  (the kernels' BLAS, loaded)

    infos = ThreadpoolController().select(internal_api="openblas").info()
    return all(info.get("architecture") in _OPENBLAS_AVX512 for info in infos)
