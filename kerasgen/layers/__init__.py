"""Reusable Keras layers shared by the model families (flow layers: ``kerasgen.layers.flow``)."""

from kerasgen.layers.attention_pooling import AttentionPooling1D
from kerasgen.layers.class_prior_mean import ClassPriorMean
from kerasgen.layers.dilated_gated_conv import DilatedGatedConv1D
from kerasgen.layers.likelihoods import (
    LIKELIHOODS,
    BernoulliLikelihood,
    GaussianLikelihood,
    get_likelihood,
)
from kerasgen.layers.mix_embedding import MixEmbedding
from kerasgen.layers.reparameterize import Reparameterize

__all__ = [
    "LIKELIHOODS",
    "AttentionPooling1D",
    "BernoulliLikelihood",
    "ClassPriorMean",
    "DilatedGatedConv1D",
    "GaussianLikelihood",
    "MixEmbedding",
    "Reparameterize",
    "get_likelihood",
]
