"""The adversarial family: GAN/DCGAN and WGAN-GP (post 3), the regularised GAN, AAE and ALI (post 7)."""

from kerasgen.models.adversarial.aae import AAE
from kerasgen.models.adversarial.adversarial_model import AdversarialModel
from kerasgen.models.adversarial.ali import ALI
from kerasgen.models.adversarial.builders import (
    build_dcgan_discriminator,
    build_dcgan_generator,
    build_joint_discriminator,
    build_latent_discriminator,
    build_mlp_critic,
    build_mlp_encoder,
    build_mlp_generator,
)
from kerasgen.models.adversarial.gan import GAN, VIRegularizedGAN
from kerasgen.models.adversarial.wgan_gp import WGANGP

__all__ = [
    "AAE",
    "ALI",
    "GAN",
    "WGANGP",
    "AdversarialModel",
    "VIRegularizedGAN",
    "build_dcgan_discriminator",
    "build_dcgan_generator",
    "build_joint_discriminator",
    "build_latent_discriminator",
    "build_mlp_critic",
    "build_mlp_encoder",
    "build_mlp_generator",
]
