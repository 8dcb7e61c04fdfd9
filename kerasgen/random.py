"""Randomness that does not depend on how many replicas share a batch."""

from __future__ import annotations

import keras
from keras import ops

from kerasgen.distribute import replica_slice


def global_batch_normal(shape, seed_generator: keras.random.SeedGenerator, dtype="float32"):
    """``N(0, I)`` noise of ``shape`` (batch first) as this replica's slice of the global batch.

    Every replica draws noise for ``num_replicas × B`` examples from the same seed state and keeps
    its own contiguous block, which is exactly how ``tf.distribute`` splits a global batch. One step
    on two replicas therefore uses the same ε per example as one step on one device.
    """
    replica_id, num_replicas = replica_slice()
    if num_replicas == 1:
        return keras.random.normal(shape, seed=seed_generator, dtype=dtype)
    batch = shape[0]
    noise = keras.random.normal((batch * num_replicas, *shape[1:]), seed=seed_generator, dtype=dtype)
    return ops.slice(noise, (replica_id * batch,) + (0,) * (len(shape) - 1), shape)
