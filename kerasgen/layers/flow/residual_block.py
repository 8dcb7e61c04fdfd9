"""``ResidualConvBlock``: f-VAE's encoder/decoder unit."""

from __future__ import annotations

import keras
from keras import layers


@keras.saving.register_keras_serializable(package="kerasgen")
class ResidualConvBlock(keras.layers.Layer):
    """``x + Conv1×1_zero(ReLU(BN(Conv3×3_width(x))))``, output channels unchanged (post 8's E and G).

    The last convolution is zero-initialised, so the block starts as the identity.

    Args:
        batch_norm: use batch normalisation (the author's blocks do).
        width: channels of the hidden 3×3 convolution; ``None`` keeps the input's (the author's
            choice, which at MNIST's 4 channels after one squeeze leaves the block tiny).
    """

    def __init__(self, batch_norm: bool = True, width: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.batch_norm = bool(batch_norm)
        self.width = None if width is None else int(width)

    def build(self, input_shape):
        channels = int(input_shape[-1])
        hidden = self.width or channels
        self.conv = layers.Conv2D(hidden, 3, padding="same", name="conv")
        self.norm = layers.BatchNormalization(name="norm") if self.batch_norm else None
        self.project = layers.Conv2D(channels, 1, kernel_initializer="zeros", name="project")
        self.conv.build(input_shape)
        hidden_shape = (*input_shape[:-1], hidden)
        if self.norm is not None:
            self.norm.build(hidden_shape)
        self.project.build(hidden_shape)

    def call(self, x, training=False):
        h = self.conv(x)
        if self.norm is not None:
            h = self.norm(h, training=training)
        return x + self.project(keras.ops.relu(h))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "batch_norm": self.batch_norm, "width": self.width}
