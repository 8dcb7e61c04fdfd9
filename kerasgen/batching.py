"""Apply a model function to a large array in batches, returning numpy."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from keras import ops


def map_batches(function: Callable, x, batch_size: int = 1000):
    """``concatenate([function(x[i : i + batch_size]) ...])`` as numpy (``x`` batch first).

    A ``function`` that returns a tuple gives a tuple of concatenated arrays.
    """
    count = int(x.shape[0])
    if count == 0:
        raise ValueError("map_batches got an empty batch; pass at least one example.")
    outputs = [function(x[i : i + batch_size]) for i in range(0, count, batch_size)]
    if isinstance(outputs[0], (tuple, list)):
        return tuple(
            np.concatenate([ops.convert_to_numpy(output[j]) for output in outputs])
            for j in range(len(outputs[0]))
        )
    return np.concatenate([ops.convert_to_numpy(output) for output in outputs])


def first_examples(x, count: int) -> np.ndarray:
    """Up to ``count`` inputs from an array, a tuple ``(x, ...)`` or a dataset of such batches.

    What ``fit`` would see first, for data-dependent initialisation (K-Means seeding, ActNorm).
    """
    import tensorflow as tf

    if isinstance(x, tf.data.Dataset):
        batches, seen = [], 0
        for batch in x:
            batch = batch[0] if isinstance(batch, (tuple, list)) else batch
            batches.append(np.asarray(batch))
            seen += len(batches[-1])
            if seen >= count:
                break
        return np.concatenate(batches)[:count]
    x = x[0] if isinstance(x, (tuple, list)) else x
    return np.asarray(x)[:count]
