"""The adversarial autoencoder from post 7's variational view."""

from __future__ import annotations

from typing import ClassVar

import keras
import numpy as np
from keras import ops

from kerasgen.batching import map_batches
from kerasgen.losses import sum_over_features
from kerasgen.models.adversarial.adversarial_model import (
    AdversarialModel,
    Autoencoding,
    bce_with_logits,
    mean_probability,
)


@keras.saving.register_keras_serializable(package="kerasgen")
class AAE(Autoencoding, AdversarialModel):
    """Adversarial autoencoder (Makhzani et al. 2016) as post 7 derives it (x and z swapped).

    The encoder is deterministic, ``p(z|x) = δ(z − E(x))``; the prior is ``q(z) = N(0, I)``; the
    discriminator ``D(z) = q(0|z)`` is the probability that z came from the *prior* (post 7's
    convention, inverted relative to the GAN's "real data" label). Means over examples::

        d_loss  = −log D(z) − log(1 − D(E(x))),          z ~ N(0, I)
        ae_loss = −log D(E(x)) + λ ‖x − G(E(x))‖²        (encoder and decoder jointly)

    ``‖·‖²`` is summed over pixels; λ (``reconstruction_weight``) balances it against the
    adversarial term.

    Args:
        encoder: model ``x [B, H, W, C] → z [B, latent_dim]``.
        decoder: model ``z → x`` in [0, 1] (the generator).
        discriminator: model ``z → logit of "drawn from the prior"``.
        reconstruction_weight: λ.
        Others as ``AdversarialModel`` (``latent_distribution`` is the prior).

    Metrics: ``d_loss``, ``ae_loss``, ``e_adv`` (−log D(E(x))), ``rec`` (‖x − G(E(x))‖²),
    ``d_prior`` = mean D(z) on prior draws, ``d_code`` = mean D(E(x)).

    Reference: Su Jianlin, 用变分推断统一理解生成模型 (arXiv 1807.05936), §AAE.
    """

    metric_names: ClassVar[tuple[str, ...]] = ("d_loss", "ae_loss", "e_adv", "rec", "d_prior", "d_code")
    g_objective: ClassVar[str] = "ae_loss"
    nested_objects: ClassVar[tuple[str, ...]] = ("encoder", "decoder", "discriminator")

    def __init__(self, encoder, decoder, discriminator, reconstruction_weight: float = 1.0, **kwargs):
        super().__init__(decoder, discriminator, **kwargs)
        self.encoder = encoder
        self.reconstruction_weight = float(reconstruction_weight)

    @property
    def decoder(self):
        return self.generator

    @property
    def generator_variables(self):
        return self.encoder.trainable_variables + self.generator.trainable_variables

    def discriminator_terms(self, real, training: bool = False) -> dict:
        codes = ops.stop_gradient(self.encoder(real, training=training))
        prior_logits = self.discriminator(self.sample_latent(ops.shape(real)[0]), training=training)
        code_logits = self.discriminator(codes, training=training)
        d_loss = ops.mean(bce_with_logits(prior_logits, 1)) + ops.mean(bce_with_logits(code_logits, 0))
        return {
            "d_loss": d_loss,
            "d_prior": mean_probability(prior_logits),
            "d_code": mean_probability(code_logits),
        }

    def generator_terms(self, real, training: bool = False) -> dict:
        codes = self.encoder(real, training=training)
        reconstruction = self.generator(codes, training=training)
        e_adv = ops.mean(bce_with_logits(self.discriminator(codes, training=training), 1))
        error = ops.cast(real, "float32") - ops.cast(reconstruction, "float32")
        rec = ops.mean(sum_over_features(ops.square(error)))
        return {"ae_loss": e_adv + self.reconstruction_weight * rec, "e_adv": e_adv, "rec": rec}

    def call(self, inputs, training=False):
        """Reconstructions ``G(E(x))`` ``[B, H, W, C]``."""
        return self.generator(self.encoder(self._check_images(inputs), training=training), training=training)

    def encode(self, x, batch_size: int = 1000) -> np.ndarray:
        """Codes ``E(x)`` as numpy ``[N, latent_dim]``."""
        return map_batches(self.encoder, self._check_images(x), batch_size)

    def get_config(self) -> dict:
        config = super().get_config()
        config["reconstruction_weight"] = self.reconstruction_weight
        return config
