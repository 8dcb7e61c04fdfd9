"""f-VAE (post 8): a VAE whose posterior is a conditional flow ``z = F(σ₁u + E(x))``."""

from __future__ import annotations

import math
from typing import ClassVar

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from kerasgen.batching import map_batches
from kerasgen.layers.flow import MultiScaleFlow, ResidualConvBlock, Squeeze2D, Unsqueeze2D
from kerasgen.losses import bits_per_dim
from kerasgen.models.flows.flow_model import LOG_2PI, FlowModel
from kerasgen.random import global_batch_normal
from kerasgen.validation import as_float_tensor


def build_fvae_encoder(
    image_shape=(28, 28, 1),
    blocks: int = 4,
    batch_norm: bool = True,
    width: int | None = None,
    name: str = "encoder",
) -> keras.Model:
    """E: ``x → h`` the size of x: Squeeze(2), then ``blocks`` residual blocks (post 8, scaled down).

    ``width`` is the blocks' hidden width (``ResidualConvBlock``; ``None``: the channel count)."""
    images = keras.Input(image_shape, name="images")
    h = Squeeze2D(name="squeeze")(images)[0]
    for index in range(blocks):
        h = ResidualConvBlock(batch_norm, width, name=f"block_{index}")(h)
    return keras.Model(images, h, name=name)


def build_fvae_decoder(
    latent_shape=(14, 14, 4),
    blocks: int = 4,
    batch_norm: bool = True,
    width: int | None = None,
    name: str = "decoder",
) -> keras.Model:
    """G: ``h → x̂``: ``blocks`` residual blocks then Unsqueeze(2) (the mirror of E), linear output."""
    h = keras.Input(latent_shape, name="h")
    x = h
    for index in range(blocks):
        x = ResidualConvBlock(batch_norm, width, name=f"block_{index}")(x)
    x = layers.Conv2D(latent_shape[-1], 3, padding="same", name="out")(x)
    return keras.Model(h, Unsqueeze2D(name="unsqueeze")(x)[0], name=name)


@keras.saving.register_keras_serializable(package="kerasgen")
class FVAE(FlowModel):
    """f-VAE (Su Jianlin, 细水长flow之f-VAEs, arXiv 1809.05861), the objective of §8(c) of the design.

    With ``u ~ N(0, I)``, ``h = σ₁u + E(y)`` (the shape of y), ``z = F(h)`` and the dequantised
    image ``y`` (as ``FlowModel``), per example in nats::

        loss = ‖G(h) − y‖²/(2σ₂²) + D log σ₂ + ½‖z‖² − log|det ∂F/∂h| − D log σ₁ − ½‖u‖² + (D/2) log 2π

    an upper bound on ``−log q(y)`` (post 8's loss with every constant kept), so ``bpd`` is a bound.
    σ₁ = exp(s₁) and σ₂ = exp(−s₂) are learned *scalars*. Sampling: ``z ~ N(0, T² I)``,
    ``x = G(F⁻¹(z))``; ``encode(x) = F(E(x))`` (u = 0).

    Args:
        encoder: E, ``[B, H, W, C] → h`` with ``H·W·C`` entries (``build_fvae_encoder``).
        decoder: G, ``h → [B, H, W, C]`` (``build_fvae_decoder``).
        flow_levels, flow_depth, flow_hidden: F, a ``MultiScaleFlow`` on h (author: additive
            couplings, random permutations, zero-init ActNorm).
        sigma_init: initial σ₁ and σ₂ (author: 1, from zero-initialised log-scales).
        flow_data_init: initialise F's ActNorms on the codes ``h`` of the first batch ``fit``
            sees (the Glow paper's data-dependent init; author: off).
        With the author's starts, Adam at 1e-3 needs thousands of steps just to move log σ₁,
        log σ₂ and F's log-scales the few units they travel on MNIST; a CPU budget of ~10k
        steps is better spent after starting near there.
        Others as ``FlowModel``.

    Metrics: ``loss``, ``bpd`` (bound), ``recon``, ``prior`` (½‖z‖² + const), ``logdet``.
    """

    metric_names: ClassVar[tuple[str, ...]] = ("loss", "bpd", "recon", "prior", "logdet")
    nested_objects: ClassVar[tuple[str, ...]] = ("encoder", "decoder")

    def __init__(
        self,
        encoder: keras.Model,
        decoder: keras.Model,
        flow_levels: int = 1,
        flow_depth: int = 4,
        flow_hidden: int = 64,
        sigma_init: float = 1.0,
        flow_data_init: bool = False,
        **kwargs,
    ):
        self.encoder, self.decoder = encoder, decoder
        self.sigma_init, self.flow_data_init = float(sigma_init), bool(flow_data_init)
        self.latent_shape = tuple(int(d) for d in encoder.output_shape[1:])
        self.flow_levels, self.flow_depth, self.flow_hidden = (
            int(flow_levels),
            int(flow_depth),
            int(flow_hidden),
        )
        kwargs.setdefault("image_shape", tuple(int(d) for d in encoder.input_shape[1:]))
        super().__init__(**kwargs)
        if int(np.prod(self.latent_shape)) != self.num_dims:
            raise ValueError(
                f"f-VAE keeps the size of x: E maps {self.image_shape} to {self.latent_shape}, "
                f"which has {int(np.prod(self.latent_shape))} entries, not {self.num_dims}."
            )

    def create_state(self) -> None:
        log_sigma = math.log(self.sigma_init)
        self.log_sigma1 = self.add_weight(
            shape=(), initializer=keras.initializers.Constant(log_sigma), name="log_sigma1"
        )
        self.log_inv_sigma2 = self.add_weight(
            shape=(), initializer=keras.initializers.Constant(-log_sigma), name="log_inv_sigma2"
        )

    def build_flow(self) -> MultiScaleFlow:
        flow = MultiScaleFlow(
            self.flow_levels, self.flow_depth, self.flow_hidden, data_init=self.flow_data_init, name="flow"
        )
        flow.build((None, *self.latent_shape))
        return flow

    def initialize(self, x) -> None:
        """Data-dependent init of F's ActNorms on ``h = σ₁u + E(y)`` of a batch of images (eager)."""
        y = self.dequantise(self._check_images(x))
        u = keras.random.normal(ops.shape(y), seed=self.seed_generator)
        u = ops.reshape(u, (ops.shape(y)[0], *self.latent_shape))
        self.flow.initialize(ops.exp(self.log_sigma1) * u + self.encoder(y, training=False))

    def is_initialized(self) -> bool:
        if not self.flow_data_init:
            return True
        return bool(ops.convert_to_numpy(self.flow.final_actnorm.initialized) > 0)

    def _terms(self, x, training: bool = False, noise: bool = True):
        y = self.dequantise(x, noise)
        batch = ops.shape(y)[0]
        u = global_batch_normal((batch, *self.latent_shape), self.seed_generator)
        h = ops.exp(self.log_sigma1) * u + ops.cast(self.encoder(y, training=training), "float32")
        z, log_det = self.flow(h, training=training)
        error = ops.reshape(ops.cast(self.decoder(h, training=training), "float32") - y, (batch, -1))
        recon = (
            0.5 * ops.sum(ops.square(error), axis=-1) * ops.exp(2.0 * self.log_inv_sigma2)
            - self.num_dims * self.log_inv_sigma2
            + 0.5 * self.num_dims * LOG_2PI
        )
        prior = 0.5 * ops.sum(ops.square(z) + LOG_2PI, axis=-1)
        entropy = -self.num_dims * self.log_sigma1 - 0.5 * ops.sum(
            ops.reshape(ops.square(u), (batch, -1)), axis=-1
        )
        entropy = entropy - 0.5 * self.num_dims * LOG_2PI
        loss = recon + prior - log_det + entropy
        return {"loss": loss, "recon": recon, "prior": prior, "logdet": log_det}

    def _record_terms(self, terms):
        values = {**terms, "bpd": bits_per_dim(terms["loss"], self.num_dims, 1.0 / 256.0)}
        for tracker in self.trackers:
            tracker.update_state(values[tracker.name])
        return {m.name: m.result() for m in self.metrics}

    def negative_log_likelihood_terms(self, x, training: bool = False, noise: bool = True):
        """The bound ``loss [B]`` (one posterior sample)."""
        return self._terms(x, training, noise)["loss"]

    def train_step(self, data):
        x = self._unpack(data)
        replicas = self.distribute_strategy.num_replicas_in_sync
        with tf.GradientTape() as tape:
            terms = self._terms(x, training=True)
            loss = self.optimizer.scale_loss(ops.mean(terms["loss"]) / replicas)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        return self._record_terms(terms)

    def test_step(self, data):
        return self._record_terms(self._terms(self._unpack(data)))

    def call(self, inputs, training=False):
        """Codes ``z = F(E(x))`` ``[B, D]`` (bin-centre dequantisation, u = 0)."""
        y = self.dequantise(self._check_images(inputs), noise=False)
        return self.flow(self.encoder(y, training=training), training=training)[0]

    def decode(self, z, batch_size: int = 500) -> np.ndarray:
        """Images ``G(F⁻¹(z))`` in [0, 1] for codes ``z [N, D]``."""
        z = as_float_tensor(z, (self.num_dims,), "codes z")

        def one(batch):
            h, _ = self.flow.inverse(batch)
            return ops.clip(self.decoder(h, training=False) + 0.5, 0.0, 1.0)

        return map_batches(one, z, batch_size)

    def sigmas(self) -> tuple[float, float]:
        """The learned ``(σ₁, σ₂)``."""
        return math.exp(float(self.log_sigma1.numpy())), math.exp(-float(self.log_inv_sigma2.numpy()))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {
                **self.nested_config(),
                "flow_levels": self.flow_levels,
                "flow_depth": self.flow_depth,
                "flow_hidden": self.flow_hidden,
                "sigma_init": self.sigma_init,
                "flow_data_init": self.flow_data_init,
            }
        )
        return config
