"""Model families; each subpackage holds one family's ``keras.Model`` subclasses."""

from kerasgen.models.adversarial import AAE, ALI, GAN, WGANGP, VIRegularizedGAN
from kerasgen.models.classifier import DigitClassifier, build_digit_features
from kerasgen.models.dgcnn import DGCNN
from kerasgen.models.em import KMeans
from kerasgen.models.flows import FVAE, NICE, Glow
from kerasgen.models.ocr import OCRCharClassifier
from kerasgen.models.vae import (
    CVAE,
    VAE,
    build_conv_decoder,
    build_conv_encoder,
    build_mlp_decoder,
    build_mlp_encoder,
)

__all__ = [
    "AAE",
    "ALI",
    "CVAE",
    "DGCNN",
    "FVAE",
    "GAN",
    "NICE",
    "VAE",
    "WGANGP",
    "DigitClassifier",
    "Glow",
    "KMeans",
    "OCRCharClassifier",
    "VIRegularizedGAN",
    "build_conv_decoder",
    "build_conv_encoder",
    "build_digit_features",
    "build_mlp_decoder",
    "build_mlp_encoder",
]
