"""The reparameterisation trick as a layer."""

from __future__ import annotations

import keras
from keras import ops

from kerasgen.random import global_batch_normal


@keras.saving.register_keras_serializable(package="kerasgen")
class Reparameterize(keras.layers.Layer):
    """Draw ``z = μ + exp(½ log σ²) ⊙ ε`` with ``ε ~ N(0, I)`` (post 4, "重参数技巧").

    Inputs ``(mu, log_var)``, each ``[B, D]``; output ``[B, D]``. ``sample=False`` returns ``μ``.
    Noise is drawn for the *global* batch and sliced per replica (``kerasgen.random``), so
    training under ``tf.distribute`` sees the same ε as on one device.

    Args:
        seed: seed of the layer's own ``keras.random.SeedGenerator``.

    Example:
        >>> z = Reparameterize(seed=1)([mu, log_var])
    """

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, sample: bool = True):
        mu, log_var = inputs
        if not sample:
            return mu
        epsilon = global_batch_normal(ops.shape(mu), self.seed_generator, dtype=mu.dtype)
        return mu + ops.exp(0.5 * log_var) * epsilon

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self) -> dict:
        return {**super().get_config(), "seed": self.seed}
