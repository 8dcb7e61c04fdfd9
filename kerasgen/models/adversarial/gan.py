"""The non-saturating GAN (DCGAN) and post 7's regularised GAN."""

from __future__ import annotations

from typing import ClassVar

import keras
from keras import ops

from kerasgen.models.adversarial.adversarial_model import AdversarialModel, bce_with_logits, mean_probability


@keras.saving.register_keras_serializable(package="kerasgen")
class GAN(AdversarialModel):
    """Non-saturating GAN (Goodfellow et al. 2014; DCGAN, Radford et al. 2016); post 7's baseline.

    Per batch, means over examples (``D = sigmoid(discriminator logits)``)::

        d_loss = ½ [−log D(x) − log(1 − D(G(z)))]      (post 7's D step, the code's ½)
        g_loss = −log D(G(z))                            (non-saturating generator loss)

    Metrics: ``d_loss``, ``g_loss``, ``d_real`` = mean D(x), ``d_fake`` = mean D(G(z)).

    Args: those of ``AdversarialModel``; the discriminator maps images to one logit.

    Example:
        >>> gan = GAN(build_dcgan_generator(), build_dcgan_discriminator(), seed=0)
        >>> gan.compile(d_optimizer=keras.optimizers.Adam(2e-4, 0.5),
        ...             g_optimizer=keras.optimizers.Adam(2e-4, 0.5))
        >>> gan.fit(kerasgen.data.mnist("train"), epochs=20)

    Reference: Su Jianlin, 用变分推断统一理解生成模型, kexue.fm 2018 (arXiv 1807.05936), §GAN.
    """

    metric_names: ClassVar[tuple[str, ...]] = ("d_loss", "g_loss", "d_real", "d_fake")

    def discriminator_terms(self, real, training: bool = False) -> dict:
        fake = ops.stop_gradient(self.generator(self.sample_latent(ops.shape(real)[0]), training=training))
        real_logits = self.discriminator(real, training=training)
        fake_logits = self.discriminator(fake, training=training)
        d_loss = 0.5 * (ops.mean(bce_with_logits(real_logits, 1)) + ops.mean(bce_with_logits(fake_logits, 0)))
        return {
            "d_loss": d_loss,
            "d_real": mean_probability(real_logits),
            "d_fake": mean_probability(fake_logits),
        }

    def adversarial_loss(self, fake, training: bool = False):
        """``E −log D(G(z))`` (the non-saturating generator loss)."""
        return ops.mean(bce_with_logits(self.discriminator(fake, training=training), 1))

    def generator_terms(self, real, training: bool = False) -> dict:
        fake = self.generator(self.sample_latent(ops.shape(real)[0]), training=training)
        return {"g_loss": self.adversarial_loss(fake, training)}


@keras.saving.register_keras_serializable(package="kerasgen")
class VIRegularizedGAN(GAN):
    """Post 7's GAN: the generator loss completed by ``KL(q(x) ‖ q°(x))``'s surrogate::

        g_loss = E_z [−log D(G(z))] + λ · mean((G(z) − G°(z))²)

    ``G°(z)`` is the generator's output *before* the updates of this iteration, for the same z,
    held constant (the anchor); the mean runs over batch × pixels (λ = 5 in the author's code).
    At the anchor ``G = G°`` and the regulariser's gradient is zero, so each anchor is followed
    by ``steps_per_anchor ≥ 2`` generator steps on the same z (the code runs its train op twice);
    ``generator_steps / steps_per_anchor`` anchors (fresh z each) are drawn per iteration. The
    anchor is computed in the same (training) mode as the steps, as the post's pitfalls ask.

    Post 7's experiments: 1 D step + 1 anchor × 2 G steps (with BN); 5 D steps + 5 anchors × 2
    G steps (no BN): ``critic_steps=5, generator_steps=10``.

    Args:
        regularization: λ.
        steps_per_anchor: generator steps per anchor (≥ 2; 1 makes the regulariser inert).
        generator_steps: total generator steps per iteration, a multiple of ``steps_per_anchor``.
        Others as ``GAN``.

    Metrics: ``d_loss``, ``g_loss`` (= g_adv + g_reg), ``g_adv``, ``g_reg`` (λ·mean squared
    distance to the anchor), ``d_real``, ``d_fake``.

    Reference: Su Jianlin, 用变分推断统一理解生成模型 (arXiv 1807.05936), §GAN, eq. for L_G.
    """

    metric_names: ClassVar[tuple[str, ...]] = ("d_loss", "g_loss", "g_adv", "g_reg", "d_real", "d_fake")

    def __init__(
        self, generator, discriminator, regularization: float = 5.0, steps_per_anchor: int = 2, **kwargs
    ):
        kwargs.setdefault("generator_steps", steps_per_anchor)
        super().__init__(generator, discriminator, **kwargs)
        if int(steps_per_anchor) < 2:
            raise ValueError(
                "steps_per_anchor must be at least 2: the regulariser's gradient is zero on the first "
                "step after anchoring, so with one step per anchor it does nothing (post 7's pitfall)."
            )
        if self.generator_steps % int(steps_per_anchor):
            raise ValueError(
                f"generator_steps ({self.generator_steps}) must be a multiple of steps_per_anchor "
                f"({steps_per_anchor})."
            )
        self.regularization = float(regularization)
        self.steps_per_anchor = int(steps_per_anchor)

    def anchor_terms(self, z, anchor, training: bool = False) -> dict:
        """The loss terms for latents ``z`` against the anchor ``G°(z)``."""
        fake = self.generator(z, training=training)
        squared = ops.square(ops.cast(fake, "float32") - ops.cast(anchor, "float32"))
        g_adv = self.adversarial_loss(fake, training)
        g_reg = self.regularization * ops.mean(squared)
        return {"g_loss": g_adv + g_reg, "g_adv": g_adv, "g_reg": g_reg}

    def generator_terms(self, real, training: bool = False) -> dict:
        z = self.sample_latent(ops.shape(real)[0])
        return self.anchor_terms(z, ops.stop_gradient(self.generator(z, training=training)), training)

    def generator_update(self, real) -> list[dict]:
        step_terms = []
        for _ in range(self.generator_steps // self.steps_per_anchor):
            z = self.sample_latent(ops.shape(real)[0])
            anchor = ops.stop_gradient(self.generator(z, training=True))  # G°(z), before the updates
            for _ in range(self.steps_per_anchor):
                step_terms.append(
                    self._update(
                        self.g_optimizer,
                        self.generator_variables,
                        lambda z=z, anchor=anchor: self.anchor_terms(z, anchor, training=True),
                        self.g_objective,
                    )
                )
        return step_terms

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"regularization": self.regularization, "steps_per_anchor": self.steps_per_anchor})
        return config
