"""Bundled data and generated benchmark tasks."""

from ._pbcseq import PBCSEQ_FEATURES, load_pbcseq
from ._synthetic import make_addition, make_mackey_glass, make_temporal_order

__all__ = [
    "PBCSEQ_FEATURES",
    "load_pbcseq",
    "make_addition",
    "make_mackey_glass",
    "make_temporal_order",
]
