"""Variational autoencoders of posts 4 and 5: VAE, CVAE and their network builders."""

from kerasgen.models.vae.builders import (
    build_conv_decoder,
    build_conv_encoder,
    build_mlp_decoder,
    build_mlp_encoder,
)
from kerasgen.models.vae.cvae import CVAE
from kerasgen.models.vae.vae import VAE

__all__ = [
    "CVAE",
    "VAE",
    "build_conv_decoder",
    "build_conv_encoder",
    "build_mlp_decoder",
    "build_mlp_encoder",
]
