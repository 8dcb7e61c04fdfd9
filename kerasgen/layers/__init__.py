"""Reusable Keras layers shared by the model families (flow layers: ``kerasgen.layers.flow``)."""

from kerasgen.layers.class_prior_mean import ClassPriorMean
from kerasgen.layers.likelihoods import (
    LIKELIHOODS,
    BernoulliLikelihood,
    GaussianLikelihood,
    get_likelihood,
)
from kerasgen.layers.reparameterize import Reparameterize

__all__ = [
    "LIKELIHOODS",
    "BernoulliLikelihood",
    "ClassPriorMean",
    "GaussianLikelihood",
    "Reparameterize",
    "get_likelihood",
]
