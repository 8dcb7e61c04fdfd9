"""``SplitPrior``: factor out half the channels under a Gaussian conditioned on the other half."""

from __future__ import annotations

import math

import keras
from keras import layers, ops

LOG_2PI = math.log(2.0 * math.pi)


@keras.saving.register_keras_serializable(package="kerasgen")
class SplitPrior(keras.layers.Layer):
    """``x = [x₁, x₂]`` → keep x₁; ``x₂ ~ N(μ(x₁), diag σ(x₁)²)`` with ``(μ, log σ)`` from a zero-init conv.

    The author's CondActnorm: ``ε = (x₂ − μ) / σ`` is emitted as a latent with a standard normal
    prior, ``log|det ∂ε/∂x₂| = −Σ log σ``; at initialisation σ = 1, μ = 0. ``forward(x)`` returns
    ``(x₁, ε, log_det)``; ``inverse(x₁, ε)`` rebuilds x (``ε`` scaled by a temperature when sampling).
    """

    def build(self, input_shape):
        channels = int(input_shape[-1])
        self.keep = channels - channels // 2
        factored = channels // 2
        self.conditioner = layers.Conv2D(
            2 * factored, 3, padding="same", kernel_initializer="zeros", name="prior"
        )
        self.conditioner.build((*input_shape[:-1], self.keep))

    def _mean_log_scale(self, kept):
        mean, log_scale = ops.split(ops.cast(self.conditioner(kept), "float32"), 2, axis=-1)
        return mean, log_scale

    def forward(self, x, training: bool = False):
        kept, factored = x[..., : self.keep], x[..., self.keep :]
        mean, log_scale = self._mean_log_scale(kept)
        epsilon = (ops.cast(factored, "float32") - mean) * ops.exp(-log_scale)
        log_det = -ops.sum(ops.reshape(log_scale, (ops.shape(x)[0], -1)), axis=-1)
        return kept, epsilon, log_det

    def inverse(self, kept, epsilon):
        mean, log_scale = self._mean_log_scale(kept)
        factored = ops.cast(epsilon, "float32") * ops.exp(log_scale) + mean
        log_det = ops.sum(ops.reshape(log_scale, (ops.shape(kept)[0], -1)), axis=-1)
        return ops.concatenate([kept, ops.cast(factored, kept.dtype)], axis=-1), log_det

    def call(self, x, training: bool = False):
        return self.forward(x, training)
