"""Model families; each subpackage holds one family's ``keras.Model`` subclasses."""

from kerasgen.models.em import KMeans
from kerasgen.models.vae import (
    CVAE,
    VAE,
    build_conv_decoder,
    build_conv_encoder,
    build_mlp_decoder,
    build_mlp_encoder,
)

__all__ = [
    "CVAE",
    "VAE",
    "KMeans",
    "build_conv_decoder",
    "build_conv_encoder",
    "build_mlp_decoder",
    "build_mlp_encoder",
]
