"""Decoder likelihoods ``q(x|z)`` of post 5 as tfp distributions.

A likelihood turns the decoder's raw output (``logits``, shaped like the image) into a
``tfd.Independent`` distribution over the whole image (``distribution``), so ``-log_prob`` is
summed over pixels. The training step calls ``negative_log_likelihood``, the same value in
closed form (``kerasgen.losses``), which is cheaper than tfp's generic ``log_prob`` and its
gradient; the tests hold the two equal. Learned scales are Keras weights of the layer.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from kerasgen.distributions import tfd
from kerasgen.losses import bernoulli_nll, gaussian_nll

LIKELIHOODS = ("bernoulli", "gaussian_fixed", "gaussian_learned_scalar", "gaussian_learned_pixel")


@keras.saving.register_keras_serializable(package="kerasgen")
class BernoulliLikelihood(keras.layers.Layer):
    """``q(x|z) = Π_k Bernoulli(x_k; sigmoid(l_k))``; ``−log q`` is post 5's summed cross-entropy.

    Grey levels in [0, 1] are accepted as "soft" targets, as post 4 trains on them; the value is
    then a cross-entropy, not a normalised density (say so when comparing with Gaussians).
    """

    is_discrete = True

    def distribution(self, logits):
        """``tfd.Independent(Bernoulli(logits))`` over every non-batch axis."""
        logits = ops.cast(logits, "float32")
        return tfd().Independent(
            tfd().Bernoulli(logits=logits, dtype="float32"),
            reinterpreted_batch_ndims=len(logits.shape) - 1,
        )

    def negative_log_likelihood(self, x, logits):
        """``−log q(x|z)`` summed over pixels → ``[B]`` (closed form of ``−distribution.log_prob``)."""
        return bernoulli_nll(x, logits)

    def mean(self, logits):
        """Pixel means ``sigmoid(logits)``, the images the model shows."""
        return ops.sigmoid(logits)


@keras.saving.register_keras_serializable(package="kerasgen")
class GaussianLikelihood(keras.layers.Layer):
    """``q(x|z) = N(x; sigmoid(l), σ̃² I)`` with σ̃ fixed or learned (post 5).

    ``−log q = ‖x − μ̃‖²/(2σ̃²) + D log σ̃ + D/2 log 2π``: with fixed σ̃ this is MSE scaled by
    ``1/(2σ̃²)`` and σ̃ sets the reconstruction/KL balance; plain mean-squared error would
    silently mean ``σ̃² = D/2`` (post 5's pitfall). Constants are kept so values are densities.

    Args:
        sigma: the fixed σ̃, or the initial value when learned.
        learn: ``"none"`` (fixed), ``"scalar"`` (one σ̃) or ``"pixel"`` (one σ̃ per pixel).
    """

    is_discrete = False

    def __init__(self, sigma: float = 0.1, learn: str = "none", **kwargs):
        super().__init__(**kwargs)
        if learn not in ("none", "scalar", "pixel"):
            raise ValueError(f"learn must be 'none', 'scalar' or 'pixel', got {learn!r}.")
        if sigma <= 0:
            raise ValueError(f"sigma must be positive, got {sigma}.")
        self.sigma = float(sigma)
        self.learn = learn

    def build(self, input_shape):
        if self.learn != "none":
            shape = () if self.learn == "scalar" else tuple(input_shape[1:])
            self.log_sigma = self.add_weight(
                shape=shape,
                initializer=keras.initializers.Constant(math.log(self.sigma)),
                name="log_sigma",
                dtype="float32",
            )

    def log_scale(self):
        """``log σ̃`` (a scalar, or per pixel when learned per pixel)."""
        if self.learn == "none":
            return ops.convert_to_tensor(math.log(self.sigma), "float32")
        return ops.convert_to_tensor(self.log_sigma)

    def distribution(self, logits):
        """``tfd.Independent(Normal(sigmoid(logits), σ̃))`` over every non-batch axis."""
        if not self.built:
            self.build(logits.shape)
        mean = ops.sigmoid(ops.cast(logits, "float32"))
        scale = ops.exp(self.log_scale()) * ops.ones_like(mean)
        return tfd().Independent(
            tfd().Normal(loc=mean, scale=scale), reinterpreted_batch_ndims=len(mean.shape) - 1
        )

    def negative_log_likelihood(self, x, logits):
        """``−log q(x|z)`` summed over pixels, all constants kept → ``[B]`` (closed form)."""
        if not self.built:
            self.build(logits.shape)
        return gaussian_nll(x, ops.sigmoid(ops.cast(logits, "float32")), self.log_scale())

    def mean(self, logits):
        return ops.sigmoid(logits)

    def get_config(self) -> dict:
        return {**super().get_config(), "sigma": self.sigma, "learn": self.learn}


def get_likelihood(identifier, sigma: float = 0.1) -> keras.layers.Layer:
    """A likelihood layer from a name in ``LIKELIHOODS``, a serialised config, or a layer."""
    if isinstance(identifier, keras.layers.Layer):
        return identifier
    if isinstance(identifier, dict):
        return keras.saving.deserialize_keras_object(identifier)
    if identifier == "bernoulli":
        return BernoulliLikelihood(name="likelihood")
    if identifier == "gaussian_fixed":
        return GaussianLikelihood(sigma, "none", name="likelihood")
    if identifier == "gaussian_learned_scalar":
        return GaussianLikelihood(sigma, "scalar", name="likelihood")
    if identifier == "gaussian_learned_pixel":
        return GaussianLikelihood(sigma, "pixel", name="likelihood")
    raise ValueError(f"Unknown likelihood {identifier!r}; use one of {LIKELIHOODS} or a layer.")
