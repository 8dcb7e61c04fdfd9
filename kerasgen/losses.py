"""Loss terms shared across model families; every function returns one value per example.

Reductions are stated per function: terms are *summed* over features (pixels, latent
dimensions) and returned per example, ``[B]``; the trainer takes the batch mean. Computed in
float32 so mixed-precision models stay stable.
"""

from __future__ import annotations

import math

from keras import ops

LOG_2PI = math.log(2.0 * math.pi)


def _flat_sum(values):
    """Sum over every axis but the first: ``[B, ...] → [B]``."""
    return ops.sum(ops.reshape(values, (ops.shape(values)[0], -1)), axis=-1)


def gaussian_kl(mu, log_var, prior_mu=0.0):
    """``KL(N(μ, σ²) ‖ N(μ_p, I)) = ½ Σ_i ((μ_i − μ_p,i)² + σ_i² − log σ_i² − 1)`` → ``[B]``.

    Post 4's closed form (eq. for the KL term); ``prior_mu`` is the CVAE's class mean ``μ^Y``.
    """
    mu, log_var = ops.cast(mu, "float32"), ops.cast(log_var, "float32")
    prior_mu = ops.cast(prior_mu, "float32")
    return 0.5 * ops.sum(ops.square(mu - prior_mu) + ops.exp(log_var) - log_var - 1.0, axis=-1)


def bernoulli_nll(x, logits):
    """``−log q(x|z) = Σ_k −x_k log ρ_k − (1−x_k) log(1−ρ_k)``, ``ρ = sigmoid(logits)`` → ``[B]``.

    Post 5's Bernoulli likelihood: binary cross-entropy *summed* over pixels (post 4's pitfall:
    Keras' ``binary_crossentropy`` averages). ``x`` may be grey levels in [0, 1].
    """
    x, logits = ops.cast(x, "float32"), ops.cast(logits, "float32")
    per_pixel = ops.softplus(logits) - x * logits  # = −x log σ(l) − (1−x) log(1−σ(l))
    return _flat_sum(per_pixel)


def gaussian_nll(x, mean, log_sigma):
    """``−log N(x; μ, σ²) = Σ_k (x_k−μ_k)²/(2σ_k²) + log σ_k + ½ log 2π`` → ``[B]``.

    Post 5's Gaussian likelihood with every constant kept, so the value is a real negative
    log-density; ``log_sigma`` broadcasts (a scalar for fixed or learned-scalar σ).
    """
    x, mean = ops.cast(x, "float32"), ops.cast(mean, "float32")
    log_sigma = ops.cast(log_sigma, "float32")
    per_pixel = 0.5 * ops.square(x - mean) * ops.exp(-2.0 * log_sigma) + log_sigma + 0.5 * LOG_2PI
    return _flat_sum(per_pixel + ops.zeros_like(x))


def bits_per_dim(nll_nats, num_dims: int, bin_width: float = 1.0):
    """Nats per example → bits per dimension, ``(nll + D log bin_width) / (D log 2)``."""
    return (nll_nats + num_dims * math.log(bin_width)) / (num_dims * math.log(2.0))
