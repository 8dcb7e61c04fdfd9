"""ALI / BiGAN with post 7's generator-encoder loss."""

from __future__ import annotations

from typing import ClassVar

import keras
import numpy as np
from keras import ops

from kerasgen.batching import map_batches
from kerasgen.models.adversarial.adversarial_model import (
    AdversarialModel,
    Autoencoding,
    bce_with_logits,
    mean_probability,
)
from kerasgen.random import global_batch_normal

GE_LOSSES = ("vi", "minimax", "swapped")


@keras.saving.register_keras_serializable(package="kerasgen")
class ALI(Autoencoding, AdversarialModel):
    """Adversarially learned inference (Dumoulin et al. 2017; BiGAN) with post 7's loss.

    Encoder pairs ``(x, E(x))`` are labelled 1, generator pairs ``(G(z), z)`` 0, and
    ``D(x, z) = sigmoid(discriminator([x, z]))``. Means over examples::

        d_loss  = −log D(x, E(x)) − log(1 − D(G(z), z))
        ge_loss = −log D(x, E(x)) − log D(G(z), z)             "vi" (post 7, the default)
                =  log D(x, E(x)) + log(1 − D(G(z), z))         "minimax" (standard ALI)
                = −log(1 − D(x, E(x))) − log D(G(z), z)         "swapped" (labels swapped)

    In post 7's loss the encoder term has the *same* sign as D's objective: the encoder
    co-operates with the discriminator while the generator fools it.

    The encoder is deterministic (``z = E(x)``) or Gaussian, returning ``[μ, log σ²]`` and
    sampled with the reparameterisation trick.

    Args:
        encoder: model ``x → z`` or ``x → [μ, log σ²]``.
        generator: model ``z → x`` in [0, 1].
        discriminator: model ``[x, z] → logit``.
        ge_loss: ``"vi"``, ``"minimax"`` or ``"swapped"``.
        Others as ``AdversarialModel``.

    Metrics: ``d_loss``, ``ge_loss``, ``d_enc`` = mean D(x, E(x)), ``d_gen`` = mean D(G(z), z),
    ``rec`` = ‖x − G(E(x))‖² summed over pixels (logged, not optimised).

    Reference: Su Jianlin, 用变分推断统一理解生成模型 (arXiv 1807.05936), §ALI.
    """

    metric_names: ClassVar[tuple[str, ...]] = ("d_loss", "ge_loss", "d_enc", "d_gen", "rec")
    g_objective: ClassVar[str] = "ge_loss"
    nested_objects: ClassVar[tuple[str, ...]] = ("encoder", "generator", "discriminator")

    def __init__(self, encoder, generator, discriminator, ge_loss: str = "vi", **kwargs):
        if ge_loss not in GE_LOSSES:
            raise ValueError(f"ge_loss must be one of {GE_LOSSES}, got {ge_loss!r}.")
        super().__init__(generator, discriminator, **kwargs)
        self.encoder = encoder
        self.ge_loss = ge_loss
        self.gaussian_encoder = isinstance(encoder.output, (list, tuple))

    @property
    def generator_variables(self):
        return self.encoder.trainable_variables + self.generator.trainable_variables

    def _encode(self, x, training: bool = False, sample: bool = True):
        out = self.encoder(x, training=training)
        if not self.gaussian_encoder:
            return out
        mu, log_var = out
        if not sample:
            return mu
        noise = self.sample_latent_normal(ops.shape(mu)[0])
        return mu + ops.exp(0.5 * ops.cast(log_var, "float32")) * noise

    def sample_latent_normal(self, batch_size):
        """``N(0, I)`` noise for the Gaussian encoder's reparameterisation."""
        return global_batch_normal((batch_size, self.latent_dim), self.seed_generator)

    def _pair_logits(self, real, training: bool, detach: bool):
        codes = self._encode(real, training=training)
        z = self.sample_latent(ops.shape(real)[0])
        fakes = self.generator(z, training=training)
        if detach:
            codes, fakes = ops.stop_gradient(codes), ops.stop_gradient(fakes)
        encoder_logits = self.discriminator([real, codes], training=training)
        generator_logits = self.discriminator([fakes, z], training=training)
        return encoder_logits, generator_logits, codes

    def discriminator_terms(self, real, training: bool = False) -> dict:
        encoder_logits, generator_logits, _ = self._pair_logits(real, training, detach=True)
        d_loss = ops.mean(bce_with_logits(encoder_logits, 1)) + ops.mean(bce_with_logits(generator_logits, 0))
        return {
            "d_loss": d_loss,
            "d_enc": mean_probability(encoder_logits),
            "d_gen": mean_probability(generator_logits),
        }

    def generator_encoder_loss(self, encoder_logits, generator_logits):
        """The chosen ``ge_loss`` from the two pairs' logits (see the class docstring)."""
        encoder_nll_1 = ops.mean(bce_with_logits(encoder_logits, 1))  # −log D(x, E(x))
        encoder_nll_0 = ops.mean(bce_with_logits(encoder_logits, 0))  # −log(1 − D(x, E(x)))
        generator_nll_1 = ops.mean(bce_with_logits(generator_logits, 1))  # −log D(G(z), z)
        generator_nll_0 = ops.mean(bce_with_logits(generator_logits, 0))  # −log(1 − D(G(z), z))
        if self.ge_loss == "vi":
            return encoder_nll_1 + generator_nll_1
        if self.ge_loss == "minimax":
            return -encoder_nll_1 - generator_nll_0
        return encoder_nll_0 + generator_nll_1

    def generator_terms(self, real, training: bool = False) -> dict:
        encoder_logits, generator_logits, codes = self._pair_logits(real, training, detach=False)
        reconstruction = ops.stop_gradient(self.generator(codes, training=training))
        rec = ops.sum(ops.square(ops.cast(real, "float32") - ops.cast(reconstruction, "float32")))
        return {
            "ge_loss": self.generator_encoder_loss(encoder_logits, generator_logits),
            "rec": rec / ops.cast(ops.shape(real)[0], "float32"),
        }

    def call(self, inputs, training=False):
        """Reconstructions ``G(E(x))`` (the encoder's mean for a Gaussian encoder)."""
        codes = self._encode(self._check_images(inputs), training=training, sample=False)
        return self.generator(codes, training=training)

    def encode(self, x, batch_size: int = 1000) -> np.ndarray:
        """Codes ``E(x)`` (the mean for a Gaussian encoder), numpy ``[N, latent_dim]``."""
        return map_batches(lambda b: self._encode(b, sample=False), self._check_images(x), batch_size)

    def get_config(self) -> dict:
        config = super().get_config()
        config["ge_loss"] = self.ge_loss
        return config
