"""``ResidualConvBlock``: f-VAE's encoder/decoder unit."""

from __future__ import annotations

import keras
from keras import layers


@keras.saving.register_keras_serializable(package="kerasgen")
class ResidualConvBlock(keras.layers.Layer):
    """``x + Conv1×1_zero(ReLU(BN(Conv3×3(x))))`` with the channel count unchanged (post 8's E and G).

    The last convolution is zero-initialised, so the block starts as the identity.

    Args:
        batch_norm: use batch normalisation (the author's blocks do).
    """

    def __init__(self, batch_norm: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.batch_norm = bool(batch_norm)

    def build(self, input_shape):
        channels = int(input_shape[-1])
        self.conv = layers.Conv2D(channels, 3, padding="same", name="conv")
        self.norm = layers.BatchNormalization(name="norm") if self.batch_norm else None
        self.project = layers.Conv2D(channels, 1, kernel_initializer="zeros", name="project")
        self.conv.build(input_shape)
        if self.norm is not None:
            self.norm.build(input_shape)
        self.project.build(input_shape)

    def call(self, x, training=False):
        h = self.conv(x)
        if self.norm is not None:
            h = self.norm(h, training=training)
        return x + self.project(keras.ops.relu(h))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "batch_norm": self.batch_norm}
