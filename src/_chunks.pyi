"""Data movement of the chunked layout, and the scan of NaN padding (typing stub)."""

import numpy as np
from numpy.typing import NDArray

Float = NDArray[np.float32] | NDArray[np.float64]

def scan_padding(X: Float, lengths: NDArray[np.intp]) -> tuple[int, int]: ...
def gather(
    A: Float,
    order: NDArray[np.intp],
    lengths: NDArray[np.int32],
    out: Float,
    n_threads: int = 1,
) -> None: ...
def reverse(A: Float, lengths: NDArray[np.int32], out: Float) -> None: ...
