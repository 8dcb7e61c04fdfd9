"""Learned class-conditional prior mean for the CVAE."""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="kerasgen")
class ClassPriorMean(keras.layers.Layer):
    """One-hot label ``y [B, C]`` → prior mean ``μ^Y = y W + b`` ``[B, D]`` (post 4, CVAE).

    The CVAE pulls each posterior towards its class's ``μ^Y`` instead of 0; with a one-hot ``y``
    the layer is a lookup table of one learned mean per class (plus a shared offset).

    Args:
        latent_dim: D, the size of the latent code.
    """

    def __init__(self, latent_dim: int, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim = latent_dim
        self.dense = keras.layers.Dense(latent_dim, name="class_mean")

    def build(self, input_shape):
        self.dense.build(input_shape)

    def call(self, one_hot_labels):
        return self.dense(one_hot_labels)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.latent_dim)

    def get_config(self) -> dict:
        return {**super().get_config(), "latent_dim": self.latent_dim}
