"""Randomness that does not depend on how many replicas share a batch."""

from __future__ import annotations

import keras
from keras import ops

from kerasgen.distribute import replica_slice


def global_batch_noise(
    shape,
    seed_generator: keras.random.SeedGenerator,
    distribution: str = "normal",
    minval: float = 0.0,
    maxval: float = 1.0,
    dtype="float32",
):
    """Noise of ``shape`` (batch first) as this replica's slice of the global batch's noise.

    ``distribution`` is ``"normal"`` (``N(0, I)``) or ``"uniform"`` (``U(minval, maxval)``). Every
    replica draws noise for ``num_replicas × B`` examples from the same seed state and keeps its
    own contiguous block, which is exactly how ``tf.distribute`` splits a global batch. One step
    on two replicas therefore uses the same noise per example as one step on one device.
    """
    if distribution not in ("normal", "uniform"):
        raise ValueError(f"distribution must be 'normal' or 'uniform', got {distribution!r}.")

    def draw(draw_shape):
        if distribution == "normal":
            return keras.random.normal(draw_shape, seed=seed_generator, dtype=dtype)
        return keras.random.uniform(draw_shape, minval, maxval, seed=seed_generator, dtype=dtype)

    replica_id, num_replicas = replica_slice()
    if num_replicas == 1:
        return draw(shape)
    batch = shape[0]
    noise = draw((batch * num_replicas, *shape[1:]))
    return ops.slice(noise, (replica_id * batch,) + (0,) * (len(shape) - 1), shape)


def global_batch_normal(shape, seed_generator: keras.random.SeedGenerator, dtype="float32"):
    """``N(0, I)`` noise for this replica's slice of the global batch (``global_batch_noise``)."""
    return global_batch_noise(shape, seed_generator, "normal", dtype=dtype)


class SavedSeedState:
    """Mixin for a ``keras.Model``/``Layer`` that saves its own ``SeedGenerator`` states with its weights.

    Keras saves variables, not seed-generator states, so a run resumed from a checkpoint
    (``BackupAndRestore``) would replay the noise of its first epoch. With this mixin the states
    travel in ``.weights.h5`` and ``.keras`` files (as ``seed_state_<i>``) and a resumed run draws
    exactly the noise the uninterrupted run would have drawn. Files without them still load.
    """

    _SEED_KEY = "seed_state_"

    def _own_seed_generators(self) -> list:
        return [value for value in vars(self).values() if isinstance(value, keras.random.SeedGenerator)]

    def save_own_variables(self, store):
        super().save_own_variables(store)
        for index, generator in enumerate(self._own_seed_generators()):
            store[f"{self._SEED_KEY}{index}"] = generator.state

    def load_own_variables(self, store):
        keys = list(store.keys())
        for index, generator in enumerate(self._own_seed_generators()):
            key = f"{self._SEED_KEY}{index}"
            if key in keys:
                generator.state.assign(ops.cast(store[key], generator.state.dtype))
        super().load_own_variables({key: store[key] for key in keys if not key.startswith(self._SEED_KEY)})
