"""WGAN-GP (post 3)."""

from __future__ import annotations

from typing import ClassVar

import keras
from keras import ops

from kerasgen.losses import GRADIENT_PENALTIES, gradient_penalty
from kerasgen.models.adversarial.adversarial_model import AdversarialModel


@keras.saving.register_keras_serializable(package="kerasgen")
class WGANGP(AdversarialModel):
    """Wasserstein GAN with gradient penalty (post 3; Gulrajani et al. 2017).

    Per critic slice, means over examples, standard sign convention::

        d_loss = E D(G(z)) − E D(x) + λ E penalty(‖∇_x̂ D(x̂)‖),  x̂ = α x + (1 − α) G(z), α ~ U(0, 1)
        g_loss = −E D(G(z))

    ``penalty="two_sided_sq"`` is ``(‖∇‖ − 1)²`` (the paper and post 3's text);
    ``"one_sided_hinge"`` is ``max(0, ‖∇‖ − 1)``, post 3's MNIST code (which writes the critic
    with the opposite sign: D → −D, the same model). α is one draw per example, broadcast over
    the image; the norm runs over all non-batch axes. Use a critic without batch norm.

    Args:
        critic_steps: critic updates per generator update (5), each on fresh real images.
        penalty_weight: λ (10).
        penalty: ``"two_sided_sq"`` or ``"one_sided_hinge"``.
        Others as ``AdversarialModel``.

    Metrics: ``d_loss``, ``g_loss``, ``wasserstein`` (E D(x) − E D(G(z))), ``gp`` (mean penalty),
    ``grad_norm`` (mean ‖∇_x̂ D‖), ``d_real``, ``d_fake`` (mean critic scores).

    Reference: Su Jianlin, 互怼的艺术: 从零直达WGAN-GP, kexue.fm 2017.
    """

    metric_names: ClassVar[tuple[str, ...]] = (
        "d_loss",
        "g_loss",
        "wasserstein",
        "gp",
        "grad_norm",
        "d_real",
        "d_fake",
    )

    def __init__(
        self,
        generator,
        discriminator,
        penalty_weight: float = 10.0,
        penalty: str = "two_sided_sq",
        critic_steps: int = 5,
        **kwargs,
    ):
        if penalty not in GRADIENT_PENALTIES:
            raise ValueError(f"penalty must be one of {GRADIENT_PENALTIES}, got {penalty!r}.")
        super().__init__(generator, discriminator, critic_steps=critic_steps, **kwargs)
        self.penalty_weight = float(penalty_weight)
        self.penalty = penalty

    def discriminator_terms(self, real, training: bool = False) -> dict:
        batch = ops.shape(real)[0]
        fake = ops.stop_gradient(self.generator(self.sample_latent(batch), training=training))
        alpha = self.uniform_noise((batch,) + (1,) * len(self.image_shape))
        d_real = ops.mean(ops.cast(self.discriminator(real, training=training), "float32"))
        d_fake = ops.mean(ops.cast(self.discriminator(fake, training=training), "float32"))
        penalty, norm = gradient_penalty(self.discriminator, real, fake, alpha, self.penalty, training)
        gp = ops.mean(penalty)
        return {
            "d_loss": d_fake - d_real + self.penalty_weight * gp,
            "wasserstein": d_real - d_fake,
            "gp": gp,
            "grad_norm": ops.mean(norm),
            "d_real": d_real,
            "d_fake": d_fake,
        }

    def generator_terms(self, real, training: bool = False) -> dict:
        fake = self.generator(self.sample_latent(ops.shape(real)[0]), training=training)
        return {"g_loss": -ops.mean(ops.cast(self.discriminator(fake, training=training), "float32"))}

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"penalty_weight": self.penalty_weight, "penalty": self.penalty})
        return config
