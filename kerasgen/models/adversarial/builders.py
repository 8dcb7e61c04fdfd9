"""Networks for the adversarial family: DCGAN convnets and the MLPs of posts 3 and 7.

Every builder returns a plain functional ``keras.Model``; the trainers in this package hold
the objectives. Generators end in a sigmoid, so images live in [0, 1] like ``kerasgen.data``.
"""

from __future__ import annotations

import keras
from keras import layers

NORMALIZATIONS = (None, "batch", "layer")


def _dcgan_init(seed: int | None):
    return keras.initializers.TruncatedNormal(stddev=0.02, seed=seed)


def _normalize(x, normalization: str | None, name: str):
    if normalization is None:
        return x
    if normalization == "batch":
        return layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=name)(x)
    if normalization == "layer":
        return layers.LayerNormalization(epsilon=1e-5, name=name)(x)
    raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {normalization!r}.")


def _start_size(image_size: int) -> tuple[int, int]:
    """``(side of the first feature map, number of stride-2 up-samplings)`` for 28 or 32 pixels."""
    if image_size == 28:
        return 7, 2
    if image_size == 32:
        return 4, 3
    raise ValueError(f"DCGAN builders support 28×28 or 32×32 images, got {image_size}.")


def build_dcgan_generator(
    latent_dim: int = 100,
    image_size: int = 28,
    channels: int = 1,
    filters: int = 64,
    normalization: str | None = "batch",
    seed: int | None = None,
    name: str = "generator",
) -> keras.Model:
    """DCGAN generator (post 7's code, after Radford et al.): ``z → [B, S, S, C]`` in [0, 1].

    Dense to ``s × s × filters·2^(n−1)`` then ``n`` stride-2 5×5 transposed convolutions halving
    the width (``n = 2`` for 28 pixels: 7 → 14 → 28; ``n = 3`` for 32: 4 → 8 → 16 → 32); each hidden
    layer has ``normalization`` (post 7's experiment 1: batch; experiment 2: none) and ReLU;
    weights from a truncated N(0, 0.02).
    """
    side, upsamplings = _start_size(image_size)
    init = _dcgan_init(seed)
    width = filters * 2 ** (upsamplings - 1)
    z = keras.Input((latent_dim,), name="z")
    x = layers.Dense(side * side * width, use_bias=normalization is None, kernel_initializer=init)(z)
    x = layers.ReLU()(_normalize(x, normalization, "project_norm"))
    x = layers.Reshape((side, side, width))(x)
    for index in range(upsamplings - 1):
        width //= 2
        x = layers.Conv2DTranspose(
            width, 5, strides=2, padding="same", use_bias=normalization is None, kernel_initializer=init
        )(x)
        x = layers.ReLU()(_normalize(x, normalization, f"up{index}_norm"))
    images = layers.Conv2DTranspose(
        channels, 5, strides=2, padding="same", activation="sigmoid", kernel_initializer=init
    )(x)
    return keras.Model(z, images, name=name)


def build_dcgan_discriminator(
    image_size: int = 28,
    channels: int = 1,
    filters: int = 64,
    normalization: str | None = "batch",
    seed: int | None = None,
    name: str = "discriminator",
) -> keras.Model:
    """DCGAN discriminator / critic: ``[B, S, S, C] → [B, 1]`` logits (or critic scores).

    Stride-2 5×5 convolutions doubling the width from ``filters`` (2 for 28 pixels, 3 for 32),
    LeakyReLU(0.2), ``normalization`` on all but the first (none or ``"layer"`` for a WGAN-GP
    critic: the gradient penalty is per example), then a dense layer to one output.
    """
    _, downsamplings = _start_size(image_size)
    init = _dcgan_init(seed)
    images = keras.Input((image_size, image_size, channels), name="images")
    x = images
    for index in range(downsamplings):
        x = layers.Conv2D(filters * 2**index, 5, strides=2, padding="same", kernel_initializer=init)(x)
        if index:
            x = _normalize(x, normalization, f"down{index}_norm")
        x = layers.LeakyReLU(0.2)(x)
    x = layers.Flatten()(x)
    return keras.Model(images, layers.Dense(1, kernel_initializer=init)(x), name=name)


def _mlp(x, hidden_units, activation, init, dropout: float = 0.0):
    for units in hidden_units:
        x = layers.Dense(units, activation=activation, kernel_initializer=init)(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
    return x


def build_mlp_generator(
    latent_dim: int = 10,
    hidden_units: tuple[int, ...] = (32, 128),
    image_shape: tuple[int, int, int] = (28, 28, 1),
    init_scale: float | None = 0.05,
    seed: int | None = None,
    name: str = "generator",
) -> keras.Model:
    """MLP generator ``z → image`` in [0, 1] (post 3's MNIST script: 10 → 32 → 128 → 784).

    ``init_scale``: weights ``U(−s, s)`` as post 3 (``None``: Glorot uniform).
    """
    init = keras.initializers.RandomUniform(-init_scale, init_scale, seed) if init_scale else "glorot_uniform"
    z = keras.Input((latent_dim,), name="z")
    x = _mlp(z, hidden_units, "relu", init)
    size = image_shape[0] * image_shape[1] * image_shape[2]
    x = layers.Dense(size, activation="sigmoid", kernel_initializer=init)(x)
    return keras.Model(z, layers.Reshape(image_shape)(x), name=name)


def build_mlp_critic(
    hidden_units: tuple[int, ...] = (128, 32),
    image_shape: tuple[int, int, int] = (28, 28, 1),
    init_scale: float | None = 0.05,
    dropout: float = 0.0,
    seed: int | None = None,
    name: str = "discriminator",
) -> keras.Model:
    """MLP critic ``image → [B, 1]`` (post 3's MNIST script: 784 → 128 → 32 → 1, linear)."""
    init = keras.initializers.RandomUniform(-init_scale, init_scale, seed) if init_scale else "glorot_uniform"
    images = keras.Input(image_shape, name="images")
    x = _mlp(layers.Flatten()(images), hidden_units, "relu", init, dropout)
    return keras.Model(images, layers.Dense(1, kernel_initializer=init)(x), name=name)


def build_mlp_encoder(
    latent_dim: int = 8,
    hidden_units: tuple[int, ...] = (512, 512),
    image_shape: tuple[int, int, int] = (28, 28, 1),
    gaussian: bool = False,
    name: str = "encoder",
) -> keras.Model:
    """MLP encoder ``x → z`` (post 7's AAE/ALI: 784-512-512-z); ``gaussian`` returns ``[μ, log σ²]``."""
    images = keras.Input(image_shape, name="images")
    x = _mlp(layers.Flatten()(images), hidden_units, "relu", "glorot_uniform")
    if gaussian:
        outputs = [layers.Dense(latent_dim, name="mu")(x), layers.Dense(latent_dim, name="log_var")(x)]
        return keras.Model(images, outputs, name=name)
    return keras.Model(images, layers.Dense(latent_dim, name="z")(x), name=name)


def build_latent_discriminator(
    latent_dim: int = 8, hidden_units: tuple[int, ...] = (512, 512), name: str = "discriminator"
) -> keras.Model:
    """AAE's ``D(z)``: ``z → logit`` that z came from the prior (post 7: z-512-512-1)."""
    z = keras.Input((latent_dim,), name="z")
    x = _mlp(z, hidden_units, keras.layers.LeakyReLU(0.2), "glorot_uniform")
    return keras.Model(z, layers.Dense(1)(x), name=name)


def build_joint_discriminator(
    latent_dim: int = 8,
    hidden_units: tuple[int, ...] = (1024, 1024),
    image_shape: tuple[int, int, int] = (28, 28, 1),
    dropout: float = 0.2,
    name: str = "discriminator",
) -> keras.Model:
    """ALI's ``D(x, z)``: ``[x, z] → logit`` of an encoder pair (post 7: [x; z]-1024-1024-1, dropout)."""
    images = keras.Input(image_shape, name="images")
    z = keras.Input((latent_dim,), name="z")
    x = layers.Concatenate()([layers.Flatten()(images), z])
    x = _mlp(x, hidden_units, keras.layers.LeakyReLU(0.2), "glorot_uniform", dropout)
    return keras.Model([images, z], layers.Dense(1)(x), name=name)
