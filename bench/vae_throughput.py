"""Training throughput and peak memory of kerasgen's VAE against a plain-Keras VAE.

The reference is the same network written the usual Keras 3 way: a functional model whose
sampling layer adds the closed-form KL with ``add_loss`` and whose reconstruction loss (binary
cross-entropy from logits, summed over pixels) is given to ``compile(loss=...)``, trained with
``model.fit(x, x)``. Both models see the same synthetic images in [0, 1], the same batch size,
optimizer (RMSprop 1e-3) and ``jit_compile`` setting.

Throughput: one warm-up epoch per model (tracing included) is excluded, then ``--repeats`` rounds
of ``--epochs`` epochs are timed, interleaved ours, reference, ours, reference, ... Each round's
examples/s is examples × epochs / (summed epoch wall time, from a callback); the median round is
reported for each model, with the ratio ours / reference (> 1 means ours is faster).

Peak memory: each model is trained again (warm-up + ``--epochs`` epochs) in a fresh subprocess of
this script (``--only ours|reference``), which reports its peak RSS at the end (``VmHWM``, see
``peak_rss_mib``) and how far that is above its RSS after importing TensorFlow and making the data.

Usage::

    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python bench/vae_throughput.py
    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python bench/vae_throughput.py --arch conv --examples 2000
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import json
import platform
import statistics
import sys
import time
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from bench_common import (
    IMAGE_SHAPE,
    EpochTimer,
    current_rss_mib,
    make_data,
    peak_rss_mib,
    report_and_save,
    run_marked_subprocess,
)
from keras import layers, ops

MODELS = ("ours", "reference")
RESULT_MARKER = "VAE_BENCH_RESULT "
# Post 4's MLP VAE, and the conv VAE without a dense hidden layer in the encoder.
ARCHS: dict[str, dict[str, Any]] = {
    "mlp": {"hidden_units": 256, "latent_dim": 2},
    "conv": {"encoder_filters": (32, 64), "decoder_filters": (64, 32), "latent_dim": 32},
}


# ---------------------------------------------------------------------------------- our model
def build_ours(arch: str, seed: int) -> keras.Model:
    """kerasgen's VAE (Bernoulli likelihood) with the builders' networks for ``arch``."""
    from kerasgen.models import (
        VAE,
        build_conv_decoder,
        build_conv_encoder,
        build_mlp_decoder,
        build_mlp_encoder,
    )

    spec = ARCHS[arch]
    if arch == "mlp":
        encoder = build_mlp_encoder(
            IMAGE_SHAPE, hidden_units=(spec["hidden_units"],), latent_dim=spec["latent_dim"]
        )
        decoder = build_mlp_decoder(
            IMAGE_SHAPE, hidden_units=(spec["hidden_units"],), latent_dim=spec["latent_dim"]
        )
    else:
        encoder = build_conv_encoder(
            IMAGE_SHAPE,
            filters=spec["encoder_filters"],
            hidden_units=None,
            latent_dim=spec["latent_dim"],
        )
        decoder = build_conv_decoder(
            IMAGE_SHAPE, filters=spec["decoder_filters"], latent_dim=spec["latent_dim"]
        )
    return VAE(encoder, decoder, seed=seed)


# ---------------------------------------------------------------------------- the reference
class SampleLatent(layers.Layer):
    """``z = μ + exp(½ log σ²) ⊙ ε``; adds the batch-mean ``KL(N(μ, σ²) ‖ N(0, I))`` as a loss."""

    def __init__(self, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs: list[Any]) -> Any:
        mu, log_var = inputs
        kl = 0.5 * ops.sum(ops.square(mu) + ops.exp(log_var) - log_var - 1.0, axis=-1)
        self.add_loss(ops.mean(kl))
        epsilon = keras.random.normal(ops.shape(mu), seed=self.seed_generator)
        return mu + ops.exp(0.5 * log_var) * epsilon

    def compute_output_shape(self, input_shape: list[tuple[int | None, ...]]) -> tuple:
        return input_shape[0]


def summed_bce_from_logits(y_true: Any, y_pred: Any) -> Any:
    """Per-example binary cross-entropy from logits summed over pixels → ``[B]``.

    ``compile`` averages it over the batch (``sum_over_batch_size``), the scale of kerasgen's loss.
    """
    per_pixel = ops.binary_crossentropy(y_true, y_pred, from_logits=True)
    return ops.sum(per_pixel, axis=tuple(range(1, len(per_pixel.shape))))


def reference_networks(arch: str) -> tuple[keras.Model, keras.Model]:
    """Plain functional encoder ``x → [μ, log σ²]`` and decoder ``z → logits`` for ``arch``."""
    spec = ARCHS[arch]
    latent_dim = spec["latent_dim"]
    images = keras.Input(IMAGE_SHAPE)
    if arch == "mlp":
        h = layers.Flatten()(images)
        h = layers.Dense(spec["hidden_units"], activation="relu")(h)
    else:
        h = images
        for width in spec["encoder_filters"]:
            h = layers.Conv2D(width, 3, strides=2, padding="same", activation="relu")(h)
        h = layers.Flatten()(h)
    encoder = keras.Model(
        images, [layers.Dense(latent_dim)(h), layers.Dense(latent_dim)(h)], name="ref_encoder"
    )

    z = keras.Input((latent_dim,))
    if arch == "mlp":
        h = layers.Dense(spec["hidden_units"], activation="relu")(z)
        h = layers.Dense(int(np.prod(IMAGE_SHAPE)))(h)
        logits = layers.Reshape(IMAGE_SHAPE)(h)
    else:
        first = spec["decoder_filters"][0]
        side = IMAGE_SHAPE[0] // 2 ** len(spec["decoder_filters"])
        h = layers.Dense(side * side * first, activation="relu")(z)
        h = layers.Reshape((side, side, first))(h)
        for width in spec["decoder_filters"]:
            h = layers.Conv2DTranspose(width, 3, strides=2, padding="same", activation="relu")(h)
        logits = layers.Conv2DTranspose(IMAGE_SHAPE[-1], 3, padding="same")(h)
    decoder = keras.Model(z, logits, name="ref_decoder")
    return encoder, decoder


def build_reference(arch: str, seed: int) -> keras.Model:
    """The functional VAE ``x → logits`` with the KL added by its sampling layer."""
    encoder, decoder = reference_networks(arch)
    images = keras.Input(IMAGE_SHAPE)
    mu, log_var = encoder(images)
    z = SampleLatent(seed=seed, name="sample_z")([mu, log_var])
    return keras.Model(images, decoder(z), name="reference_vae")


def build(name: str, arch: str, seed: int, jit_compile: bool | str) -> keras.Model:
    """Build and compile ``name`` ("ours" or "reference") with the shared optimizer settings."""
    optimizer = keras.optimizers.RMSprop(1e-3)
    if name == "ours":
        model = build_ours(arch, seed)
        model.compile(optimizer=optimizer, jit_compile=jit_compile)
    else:
        model = build_reference(arch, seed)
        model.compile(optimizer=optimizer, loss=summed_bce_from_logits, jit_compile=jit_compile)
    return model


# --------------------------------------------------------------------------------- measuring


def train(
    name: str, model: keras.Model, x: np.ndarray, epochs: int, batch_size: int, input_kind: str
) -> EpochTimer:
    """Run ``epochs`` epochs of ``fit`` (ours: ``fit(x)``, reference: ``fit(x, x)``); the timer."""
    timer = EpochTimer()
    common = {"epochs": epochs, "verbose": 0, "callbacks": [timer]}
    if input_kind == "array":
        targets = () if name == "ours" else (x,)
        model.fit(x, *targets, batch_size=batch_size, shuffle=True, **common)
    else:
        dataset = tf.data.Dataset.from_tensor_slices(x).shuffle(len(x), seed=0).batch(batch_size)
        if name == "reference":
            dataset = dataset.map(lambda images: (images, images))
        model.fit(dataset.prefetch(tf.data.AUTOTUNE), **common)
    return timer


def check_equivalence(arch: str, seed: int, x: np.ndarray) -> dict[str, float]:
    """Copy our weights into fresh reference networks and compare outputs and loss terms.

    Returns the largest absolute differences of encoder outputs, decoder logits, the summed
    reconstruction loss and the KL on one batch (all ≈ 0 when the two compute the same thing).
    """
    ours = build_ours(arch, seed)
    encoder, decoder = reference_networks(arch)
    encoder.set_weights(ours.encoder.get_weights())
    decoder.set_weights(ours.decoder.get_weights())
    batch = x[:64]
    mu, log_var = ours.encoder(batch)
    ref_mu, ref_log_var = encoder(batch)
    logits = ours.decoder(mu)
    ref_logits = decoder(ref_mu)
    recon = ours.likelihood.negative_log_likelihood(batch, logits)
    ref_recon = summed_bce_from_logits(batch, logits)
    kl = ours.kl_divergence(mu, log_var)
    ref_kl = 0.5 * ops.sum(ops.square(mu) + ops.exp(log_var) - log_var - 1.0, axis=-1)

    def gap(a: Any, b: Any) -> float:
        return float(np.max(np.abs(ops.convert_to_numpy(a) - ops.convert_to_numpy(b))))

    return {
        "encoder_max_abs_diff": max(gap(mu, ref_mu), gap(log_var, ref_log_var)),
        "decoder_max_abs_diff": gap(logits, ref_logits),
        "reconstruction_max_abs_diff": gap(recon, ref_recon),
        "kl_max_abs_diff": gap(kl, ref_kl),
        "reconstruction_mean": float(np.mean(ops.convert_to_numpy(recon))),
    }


def run_throughput(args: argparse.Namespace, x: np.ndarray) -> dict[str, Any]:
    """Warm up both models, then time interleaved rounds; medians and the ratio."""
    models = {name: build(name, args.arch, args.seed, args.jit_compile) for name in MODELS}
    for name, model in models.items():
        train(name, model, x, 1, args.batch_size, args.input)  # warm-up: tracing, first epoch
    rates: dict[str, list[float]] = {name: [] for name in MODELS}
    last_logs: dict[str, dict[str, float]] = {}
    for _ in range(args.repeats):
        for name, model in models.items():
            timer = train(name, model, x, args.epochs, args.batch_size, args.input)
            rates[name].append(len(x) * args.epochs / sum(timer.seconds))
            last_logs[name] = timer.last_logs
    medians = {name: statistics.median(values) for name, values in rates.items()}
    return {
        "examples_per_s": rates,
        "median_examples_per_s": medians,
        "ratio_ours_over_reference": medians["ours"] / medians["reference"],
        "params": {name: int(model.count_params()) for name, model in models.items()},
        "jit_compile_resolved": {name: model.jit_compile for name, model in models.items()},
        "final_loss": {name: last_logs[name].get("loss") for name in MODELS},
    }


def run_only(args: argparse.Namespace) -> dict[str, Any]:
    """Subprocess body: train one model (warm-up + ``--epochs``) and report peak RSS."""
    x = make_data(args.examples, args.seed)
    baseline = current_rss_mib()  # TensorFlow imported, data built; kerasgen not imported
    model = build(args.only, args.arch, args.seed, args.jit_compile)
    train(args.only, model, x, 1, args.batch_size, args.input)
    timer = train(args.only, model, x, args.epochs, args.batch_size, args.input)
    peak = peak_rss_mib()
    return {
        "model": args.only,
        "peak_rss_mib": peak,
        "baseline_rss_mib": baseline,
        "peak_above_baseline_mib": peak - baseline,
        "examples_per_s": len(x) * args.epochs / sum(timer.seconds),
    }


def run_isolated(args: argparse.Namespace) -> dict[str, Any]:
    """Each round trains each model in a fresh process (ours, reference, ours, ...); medians.

    Two models in one process share TensorFlow's thread pools and oneDNN caches, which skews
    whichever runs second; separate processes measure each on its own, memory included.
    """
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in MODELS}
    for _ in range(args.repeats):
        for name in MODELS:
            runs[name].append(measure_memory(args, name))
    rates = {name: [r["examples_per_s"] for r in results] for name, results in runs.items()}
    peaks = {name: statistics.median(r["peak_rss_mib"] for r in results) for name, results in runs.items()}
    medians = {name: statistics.median(values) for name, values in rates.items()}
    return {
        "examples_per_s": rates,
        "median_examples_per_s": medians,
        "ratio_ours_over_reference": medians["ours"] / medians["reference"],
        "median_peak_rss_mib": peaks,
        "peak_rss_ratio_ours_over_reference": peaks["ours"] / peaks["reference"],
    }


def measure_memory(args: argparse.Namespace, name: str) -> dict[str, Any]:
    """Run this script with ``--only name`` in a fresh Python process and parse its result."""
    command = [
        sys.executable,
        os.path.abspath(__file__),
        "--only", name,
        "--arch", args.arch,
        "--epochs", str(args.epochs),
        "--examples", str(args.examples),
        "--batch-size", str(args.batch_size),
        "--jit-compile", args.jit_compile_text,
        "--input", args.input,
        "--seed", str(args.seed),
    ]  # fmt: skip
    return run_marked_subprocess(command, RESULT_MARKER, name)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", choices=sorted(ARCHS), default="mlp")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per round")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds per model")
    parser.add_argument("--examples", type=int, default=10_000, help="synthetic images")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument(
        "--jit-compile", choices=("auto", "true", "false"), default="auto",
        help="passed identically to both compile() calls",
    )  # fmt: skip
    parser.add_argument(
        "--input", choices=("array", "dataset"), default="array",
        help="array: fit(x) / fit(x, x) with batch_size; dataset: a batched tf.data pipeline",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    parser.add_argument(
        "--in-process", action="store_true",
        help="time both models interleaved in this one process (default: a fresh process per round)",
    )  # fmt: skip
    parser.add_argument("--json", metavar="PATH", help="write the results to PATH as JSON")
    parser.add_argument("--only", choices=MODELS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if min(args.epochs, args.repeats, args.examples, args.batch_size) < 1:
        parser.error("--epochs, --repeats, --examples and --batch-size must be positive")
    args.jit_compile_text = args.jit_compile
    args.jit_compile = {"auto": "auto", "true": True, "false": False}[args.jit_compile]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    if args.only:
        print(RESULT_MARKER + json.dumps(run_only(args)), flush=True)
        return 0

    x = make_data(args.examples, args.seed)
    settings = {
        key: getattr(args, key)
        for key in ("arch", "epochs", "repeats", "examples", "batch_size", "input", "seed")
    }
    settings["jit_compile"] = args.jit_compile_text
    print("settings:", json.dumps(settings))
    print(
        f"keras {keras.__version__}, tensorflow {tf.__version__}, "
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, devices: "
        + ", ".join(d.device_type for d in tf.config.list_physical_devices())
    )

    started = time.perf_counter()
    equivalence = check_equivalence(args.arch, args.seed, x)
    print(
        "equivalence (our weights copied into the reference, max |diff|): "
        + ", ".join(f"{k} {v:.2e}" for k, v in equivalence.items() if k.endswith("diff"))
    )
    results: dict[str, Any] = {"settings": settings, "equivalence": equivalence}
    if not args.in_process:
        isolated = run_isolated(args)
        results["isolated"] = isolated
        for name in MODELS:
            rounds = ", ".join(f"{v:.0f}" for v in isolated["examples_per_s"][name])
            print(
                f"{name:>9}: median {isolated['median_examples_per_s'][name]:,.0f} examples/s"
                f" (fresh process per round: {rounds}); median peak RSS "
                f"{isolated['median_peak_rss_mib'][name]:.0f} MiB"
            )
        print(f"throughput ratio ours/reference: {isolated['ratio_ours_over_reference']:.3f}")
        print(f"peak RSS ratio ours/reference: {isolated['peak_rss_ratio_ours_over_reference']:.3f}")
    else:
        throughput = run_throughput(args, x)
        params = throughput["params"]
        print(f"params: ours {params['ours']}, reference {params['reference']}")
        print(
            f"jit_compile resolved: ours {throughput['jit_compile_resolved']['ours']}, "
            f"reference {throughput['jit_compile_resolved']['reference']}"
        )
        print(
            "final-round loss (scale check): "
            + ", ".join(f"{name} {throughput['final_loss'][name]:.2f}" for name in MODELS)
        )
        for name in MODELS:
            rounds = ", ".join(f"{v:.0f}" for v in throughput["examples_per_s"][name])
            print(
                f"{name:>9}: median {throughput['median_examples_per_s'][name]:,.0f} examples/s"
                f"  (rounds: {rounds})"
            )
        print(f"throughput ratio ours/reference: {throughput['ratio_ours_over_reference']:.3f}")

        results["throughput"] = throughput
        if not args.no_memory:
            memory: dict[str, Any] = {name: measure_memory(args, name) for name in MODELS}
            for name in MODELS:
                m = memory[name]
                print(
                    f"{name:>9}: peak RSS {m['peak_rss_mib']:.0f} MiB "
                    f"({m['peak_above_baseline_mib']:.0f} MiB above the {m['baseline_rss_mib']:.0f} MiB"
                    f" after imports + data; one round alone: {m['examples_per_s']:,.0f} examples/s)"
                )
            ours_memory, reference_memory = memory["ours"], memory["reference"]
            ratio = ours_memory["peak_rss_mib"] / reference_memory["peak_rss_mib"]
            above = ours_memory["peak_above_baseline_mib"] / reference_memory["peak_above_baseline_mib"]
            print(f"peak RSS ratio ours/reference: {ratio:.3f} (above baseline: {above:.3f})")
            memory["ratio_ours_over_reference"] = ratio
            memory["ratio_above_baseline"] = above
            results["memory"] = memory
    report_and_save(results, started, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
