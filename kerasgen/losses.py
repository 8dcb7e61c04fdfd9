"""Loss terms shared across model families; every function returns one value per example.

Reductions are stated per function: terms are *summed* over features (pixels, latent
dimensions) and returned per example, ``[B]``; the trainer takes the batch mean. Computed in
float32 so mixed-precision models stay stable.
"""

from __future__ import annotations

import math

from keras import ops

LOG_2PI = math.log(2.0 * math.pi)


def sum_over_features(values):
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
    return sum_over_features(per_pixel)


def gaussian_nll(x, mean, log_sigma):
    """``−log N(x; μ, σ²) = Σ_k (x_k−μ_k)²/(2σ_k²) + log σ_k + ½ log 2π`` → ``[B]``.

    Post 5's Gaussian likelihood with every constant kept, so the value is a real negative
    log-density; ``log_sigma`` broadcasts (a scalar for fixed or learned-scalar σ).
    """
    x, mean = ops.cast(x, "float32"), ops.cast(mean, "float32")
    log_sigma = ops.cast(log_sigma, "float32")
    per_pixel = 0.5 * ops.square(x - mean) * ops.exp(-2.0 * log_sigma) + log_sigma + 0.5 * LOG_2PI
    return sum_over_features(per_pixel + ops.zeros_like(x))


def bits_per_dim(nll_nats, num_dims: int, bin_width: float = 1.0):
    """Continuous NLL (nats per example) → bits per dimension of the discretised data.

    A bin of width ``bin_width`` holds probability ``≈ p(y)·bin_width^D``, so the discrete NLL is
    ``nll − D log bin_width`` and bits/dim ``(nll − D log bin_width) / (D log 2)``. For 8-bit pixels
    dequantised into [0, 1), ``bin_width = 1/256``: a uniform density scores exactly 8 bits/dim.
    """
    return (nll_nats - num_dims * math.log(bin_width)) / (num_dims * math.log(2.0))


GRADIENT_PENALTIES = ("two_sided_sq", "one_sided_hinge")


def gradient_norm(gradients, eps: float = 1e-9):
    """``sqrt(Σ g² + ε)`` over every non-batch axis of ``gradients [B, ...]`` → ``[B]``."""
    gradients = ops.cast(gradients, "float32")
    return ops.sqrt(sum_over_features(ops.square(gradients)) + eps)


def gradient_penalty_from_norm(norm, mode: str = "two_sided_sq"):
    """Per-example penalty on the critic's input-gradient norm ``‖∇D(x̂)‖`` → ``[B]``.

    - ``"two_sided_sq"``: ``(‖∇D‖ − 1)²`` (Gulrajani et al. 2017; post 3's text);
    - ``"one_sided_hinge"``: ``max(0, ‖∇D‖ − 1)`` (post 3's MNIST code: one-sided, unsquared).
    """
    if mode == "two_sided_sq":
        return ops.square(norm - 1.0)
    if mode == "one_sided_hinge":
        return ops.relu(norm - 1.0)
    raise ValueError(f"penalty must be one of {GRADIENT_PENALTIES}, got {mode!r}.")


def gradient_penalty(critic, real, fake, alpha, mode: str = "two_sided_sq", training: bool = True):
    """Post 3's penalty at ``x̂ = α x + (1 − α) G(z)`` → ``(penalty [B], ‖∇_x̂ D(x̂)‖ [B])``.

    ``alpha`` is one U(0, 1) draw per example, shaped ``[B, 1, ..., 1]`` to broadcast over the
    image; the gradient norm runs over all non-batch axes with ε inside the square root. The
    inner tape is nested inside the caller's, so the penalty is differentiable in the critic's
    weights. TensorFlow backend (input gradients are backend-specific).
    """
    import tensorflow as tf

    real = ops.cast(real, "float32")
    interpolates = alpha * real + (1.0 - alpha) * ops.cast(fake, "float32")
    with tf.GradientTape() as tape:
        tape.watch(interpolates)
        scores = ops.cast(critic(interpolates, training=training), "float32")
    norm = gradient_norm(tape.gradient(scores, interpolates))
    return gradient_penalty_from_norm(norm, mode), norm


def binary_focal_loss(y_true, y_prob, alpha: float = 0.25, gamma: float = 2.0, eps: float = 1e-8):
    """Elementwise ``FL = −α y (1−p)^γ log p − (1−α)(1−y) p^γ log(1−p)``, p clipped to [eps, 1−eps].

    Lin et al. 2017, binary form as post 6's DGCNN uses it (α = 0.25, γ = 2); ``gamma = 0`` and
    ``alpha = 0.5`` give half the binary cross-entropy.
    """
    y = ops.cast(y_true, "float32")
    p = ops.clip(ops.cast(y_prob, "float32"), eps, 1.0 - eps)
    positive = -alpha * y * ops.power(1.0 - p, gamma) * ops.log(p)
    negative = -(1.0 - alpha) * (1.0 - y) * ops.power(p, gamma) * ops.log(1.0 - p)
    return positive + negative
