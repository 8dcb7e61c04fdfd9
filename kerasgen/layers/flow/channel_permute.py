"""``ChannelPermute``: a fixed channel permutation, saved with the model."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from kerasgen.layers.flow.flow_layer import FlowLayer, per_example

PERMUTATIONS = ("random", "reverse")


@keras.saving.register_keras_serializable(package="kerasgen")
class ChannelPermute(FlowLayer):
    """``y = x[..., π]`` with a fixed π; ``log|det| = 0``. The author's Glow uses a random π.

    π is a non-trainable integer weight, so a reloaded flow is the same bijection even if the
    seed or the random generator differ.

    Args:
        mode: ``"random"`` (seeded) or ``"reverse"``.
        seed: seed of the random permutation.
    """

    def __init__(self, mode: str = "random", seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if mode not in PERMUTATIONS:
            raise ValueError(f"mode must be one of {PERMUTATIONS}, got {mode!r}.")
        self.mode = mode
        self.seed = seed

    def build(self, input_shape):
        channels = int(input_shape[-1])
        order = (
            np.arange(channels)[::-1]
            if self.mode == "reverse"
            else np.random.default_rng(self.seed).permutation(channels)
        )
        self.permutation = self.add_weight(
            shape=(channels,),
            dtype="int32",
            initializer=keras.initializers.Constant(order.astype("int32")),
            trainable=False,
            name="permutation",
        )

    def forward(self, x, training: bool = False):
        return ops.take(x, self.permutation, axis=-1), per_example(0.0, ops.shape(x)[0])

    def inverse(self, y):
        return ops.take(y, ops.argsort(self.permutation), axis=-1), per_example(0.0, ops.shape(y)[0])

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "seed": self.seed}
