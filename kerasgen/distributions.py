"""tfp distributions used across families, imported lazily (tfp pulls in tf-keras)."""

from __future__ import annotations


def tfd():
    """``tensorflow_probability.distributions``."""
    import tensorflow_probability as tfp

    return tfp.distributions


def diagonal_normal(loc, scale):
    """``N(loc, diag scale²)`` over the last axis, as ``tfd.Independent(tfd.Normal)``.

    Same density and closed-form KL as ``tfd.MultivariateNormalDiag``, with elementwise ops only
    (no linear-operator machinery), which keeps training steps lean.
    """
    return tfd().Independent(tfd().Normal(loc=loc, scale=scale), reinterpreted_batch_ndims=1)
