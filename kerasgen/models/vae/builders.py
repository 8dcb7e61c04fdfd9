"""Encoder and decoder networks for the VAE family (post 4's MLP and the author's 2019 CNN).

Encoders map an image ``[B, H, W, C]`` to ``[μ, log σ²]`` (each ``[B, latent_dim]``, linear heads);
decoders map ``z [B, latent_dim]`` to per-pixel *logits* ``[B, H, W, C]``; the likelihood layer
turns logits into a distribution (``sigmoid`` gives post 4's output layer).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

MNIST_SHAPE = (28, 28, 1)


def build_mlp_encoder(
    image_shape: Sequence[int] = MNIST_SHAPE,
    hidden_units: Sequence[int] = (256,),
    latent_dim: int = 2,
    dropout: float = 0.0,
    name: str = "encoder",
) -> keras.Model:
    """Post 4's encoder: flatten → Dense(256, ReLU) → {Dense(latent) μ, Dense(latent) log σ²}."""
    images = keras.Input(tuple(image_shape), name="images")
    h = layers.Flatten()(images)
    for index, units in enumerate(hidden_units):
        h = layers.Dense(units, activation="relu", name=f"hidden_{index}")(h)
        if dropout:
            h = layers.Dropout(dropout)(h)
    mu = layers.Dense(latent_dim, name="mu")(h)
    log_var = layers.Dense(latent_dim, name="log_var")(h)
    return keras.Model(images, [mu, log_var], name=name)


def build_mlp_decoder(
    image_shape: Sequence[int] = MNIST_SHAPE,
    hidden_units: Sequence[int] = (256,),
    latent_dim: int = 2,
    dropout: float = 0.0,
    name: str = "decoder",
) -> keras.Model:
    """Post 4's decoder: z → Dense(256, ReLU) → Dense(784) logits, reshaped to the image."""
    z = keras.Input((latent_dim,), name="z")
    h = z
    for index, units in enumerate(hidden_units):
        h = layers.Dense(units, activation="relu", name=f"hidden_{index}")(h)
        if dropout:
            h = layers.Dropout(dropout)(h)
    size = 1
    for dim in image_shape:
        size *= dim
    logits = layers.Reshape(tuple(image_shape))(layers.Dense(size, name="logits")(h))
    return keras.Model(z, logits, name=name)


def build_conv_encoder(
    image_shape: Sequence[int] = MNIST_SHAPE,
    filters: Sequence[int] = (32, 64),
    hidden_units: int | None = 16,
    latent_dim: int = 16,
    name: str = "encoder",
) -> keras.Model:
    """The author's CNN encoder: Conv3×3/2 ReLU per entry of ``filters`` → Dense(hidden, ReLU) → μ, log σ²."""
    images = keras.Input(tuple(image_shape), name="images")
    h = images
    for index, width in enumerate(filters):
        h = layers.Conv2D(width, 3, strides=2, padding="same", activation="relu", name=f"conv_{index}")(h)
    h = layers.Flatten()(h)
    if hidden_units:
        h = layers.Dense(hidden_units, activation="relu", name="hidden")(h)
    mu = layers.Dense(latent_dim, name="mu")(h)
    log_var = layers.Dense(latent_dim, name="log_var")(h)
    return keras.Model(images, [mu, log_var], name=name)


def build_conv_decoder(
    image_shape: Sequence[int] = MNIST_SHAPE,
    filters: Sequence[int] = (64, 32),
    latent_dim: int = 16,
    name: str = "decoder",
) -> keras.Model:
    """The author's CNN decoder: Dense → ConvT3×3/2 ReLU per entry of ``filters`` → ConvT3×3 logits."""
    height, width, channels = image_shape
    stride = 2 ** len(filters)
    if height % stride or width % stride:
        raise ValueError(f"image sides {height}×{width} must be divisible by {stride}.")
    z = keras.Input((latent_dim,), name="z")
    h = layers.Dense((height // stride) * (width // stride) * filters[0], activation="relu")(z)
    h = layers.Reshape((height // stride, width // stride, filters[0]))(h)
    for index, depth in enumerate(filters):
        h = layers.Conv2DTranspose(
            depth, 3, strides=2, padding="same", activation="relu", name=f"deconv_{index}"
        )(h)
    logits = layers.Conv2DTranspose(channels, 3, padding="same", name="logits")(h)
    return keras.Model(z, logits, name=name)
