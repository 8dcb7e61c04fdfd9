"""Apply a model function to a large array in batches, returning numpy."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from keras import ops


def map_batches(function: Callable, x, batch_size: int = 1000) -> np.ndarray:
    """``concatenate([function(x[i : i + batch_size]) ...])`` as numpy (``x`` batch first)."""
    count = int(x.shape[0])
    if count == 0:
        raise ValueError("map_batches got an empty batch; pass at least one example.")
    return np.concatenate(
        [ops.convert_to_numpy(function(x[i : i + batch_size])) for i in range(0, count, batch_size)]
    )
