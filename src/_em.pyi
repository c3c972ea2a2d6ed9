"""EM E-step kernel: the corrected forward filter of Ma & Ji (typing stub)."""

import numpy as np
from numpy.typing import NDArray

Float = NDArray[np.float32] | NDArray[np.float64]

def filter(
    X: Float,
    lengths: NDArray[np.int32],
    W_ih: Float,
    W_hh: Float,
    b: Float,
    V: Float,
    c: Float,
    K: Float,
    D: Float,
    has_target: Float,
    eps: float,
    Zt: Float,
    work: Float,
    n_threads: int,
) -> None: ...
