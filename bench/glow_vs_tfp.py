"""Training throughput and peak memory of kerasgen's Glow against ``tfp.bijectors.Glow``.

Both flows have the ``glow_mnist`` recipe's shape: 28×28×1 images, 2 levels (tfp: "blocks") of 8
steps, each step ActNorm → invertible 1×1 convolution → affine coupling whose network is
Conv3×3(64) ReLU → Conv1×1(64) ReLU → zero-initialised Conv3×3 (tfp: ``GlowDefaultNetwork`` with
``num_hidden=64``, the same layers), half the channels leaving after the first level with a
learned Gaussian prior conditioned on the rest (tfp: ``GlowDefaultExitNetwork``), and a standard
normal prior. Differences that remain: tfp's Glow has no data-dependent ActNorm initialisation
(its ActNorm initialises on the first call, as does ours in ``fit``), parametrises the 1×1
convolution without LU, and uses ``exp`` scales where ours uses ``sigmoid(h + 2)``.

Both are trained the way their users would: ours with ``Glow.fit`` on batches of 64 dequantised
synthetic images; tfp's as a ``TransformedDistribution`` whose ``log_prob`` is minimised by a
``tf.function`` training step with Adam(1e-3) (``tf_keras``' optimiser: tfp's networks are
``tf_keras`` layers). Each measurement runs in a fresh process of this script (``--only
ours|tfp``), alternating for ``--repeats`` rounds; a process trains one warm-up pass (tracing, not
counted), then times ``--steps`` steps, and reports images/s and peak RSS (``VmHWM``). The parent
prints medians and the ratios ours / tfp (throughput > 1: ours faster; memory < 1: ours smaller).

Usage::

    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python bench/glow_vs_tfp.py
    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python bench/glow_vs_tfp.py --repeats 5 --json glow.json
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

import numpy as np
import tensorflow as tf
from bench_common import peak_rss_mib, report_and_save, run_marked_subprocess

IMAGE_SHAPE = (28, 28, 1)
LEVELS, DEPTH, HIDDEN = 2, 8, 64
BATCH_SIZE = 64
MODELS = ("ours", "tfp")
RESULT_MARKER = "GLOW_BENCH_RESULT "


def synthetic_images(count: int, seed: int = 0) -> np.ndarray:
    """8-bit-valued synthetic images in [0, 1] ``[count, 28, 28, 1]``."""
    levels = np.random.default_rng(seed).integers(0, 256, (count, *IMAGE_SHAPE))
    return (levels / 255.0).astype("float32")


def dequantised(images: np.ndarray, seed: int = 1) -> np.ndarray:
    """``(k + u)/256 − ½``: the same inputs our Glow forms inside its step."""
    noise = np.random.default_rng(seed).uniform(size=images.shape)
    return ((np.round(images * 255.0) + noise) / 256.0 - 0.5).astype("float32")


def build_ours():
    from kerasgen.models.flows import Glow

    model = Glow.paper(image_shape=IMAGE_SHAPE, levels=LEVELS, depth=DEPTH, hidden=HIDDEN, seed=0)
    import keras

    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


def build_tfp():
    """``tfd.TransformedDistribution(N(0, I), tfb.Glow)`` with our recipe's depth and width."""
    import tensorflow_probability as tfp

    tfb, tfd = tfp.bijectors, tfp.distributions
    glow = tfb.Glow(
        output_shape=IMAGE_SHAPE,
        num_glow_blocks=LEVELS,
        num_steps_per_block=DEPTH,
        coupling_bijector_fn=lambda shape: tfb.GlowDefaultNetwork(shape, num_hidden=HIDDEN),
        exit_bijector_fn=tfb.GlowDefaultExitNetwork,
        grab_after_block=(0.5, 0.0),
    )
    size = int(np.prod(IMAGE_SHAPE))
    base = tfd.Sample(tfd.Normal(0.0, 1.0), size)
    return tfd.TransformedDistribution(base, glow)


def time_ours(images: np.ndarray, steps: int) -> tuple[float, int]:
    model = build_ours()
    model.fit(images[: BATCH_SIZE * 2], batch_size=BATCH_SIZE, epochs=1, verbose=0)  # init + trace
    count = BATCH_SIZE * steps
    started = time.perf_counter()
    model.fit(images[:count], batch_size=BATCH_SIZE, epochs=1, verbose=0, shuffle=False)
    return count / (time.perf_counter() - started), model.count_params()


def time_tfp(images: np.ndarray, steps: int) -> tuple[float, int]:
    import tf_keras

    flow = build_tfp()
    flow.log_prob(dequantised(images[:BATCH_SIZE]))  # create the networks' variables
    optimizer = tf_keras.optimizers.Adam(1e-3)
    variables = flow.trainable_variables

    @tf.function
    def train_step(batch):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(flow.log_prob(batch))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    data = dequantised(images)
    for start in range(0, BATCH_SIZE * 2, BATCH_SIZE):  # trace
        train_step(data[start : start + BATCH_SIZE])
    started = time.perf_counter()
    for step in range(steps):
        loss = train_step(data[step * BATCH_SIZE : (step + 1) * BATCH_SIZE])
    float(loss)
    parameters = int(sum(np.prod(v.shape) for v in variables))
    return BATCH_SIZE * steps / (time.perf_counter() - started), parameters


def measure(name: str, steps: int) -> dict:
    images = synthetic_images(BATCH_SIZE * steps)
    rate, parameters = (time_ours if name == "ours" else time_tfp)(images, steps)
    return {"images_per_s": rate, "parameters": parameters, "peak_rss_mib": peak_rss_mib()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40, help="timed training steps per process")
    parser.add_argument("--repeats", type=int, default=3, help="alternating rounds of fresh processes")
    parser.add_argument("--only", choices=MODELS, help="measure one model in this process (internal)")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args(argv)
    if args.only:
        print(RESULT_MARKER + json.dumps(measure(args.only, args.steps)), flush=True)
        return
    started = time.perf_counter()
    print(f"{platform.processor() or platform.machine()}, TF {tf.__version__}; batch {BATCH_SIZE}")
    runs: dict[str, list[dict]] = {name: [] for name in MODELS}
    for round_index in range(args.repeats):
        for name in MODELS:
            command = [sys.executable, __file__, "--only", name, "--steps", str(args.steps)]
            result = run_marked_subprocess(command, RESULT_MARKER, name)
            runs[name].append(result)
            print(
                f"round {round_index + 1} {name}: {result['images_per_s']:.1f} images/s, "
                f"peak RSS {result['peak_rss_mib']:.0f} MiB",
                flush=True,
            )
    medians = {
        name: {key: statistics.median(r[key] for r in results) for key in ("images_per_s", "peak_rss_mib")}
        for name, results in runs.items()
    }
    results = {
        "runs": runs,
        "medians": medians,
        "parameters": {name: runs[name][0]["parameters"] for name in MODELS},
        "throughput_ratio": medians["ours"]["images_per_s"] / medians["tfp"]["images_per_s"],
        "peak_rss_ratio": medians["ours"]["peak_rss_mib"] / medians["tfp"]["peak_rss_mib"],
    }
    print(f"parameters: ours {results['parameters']['ours']:,}, tfp {results['parameters']['tfp']:,}")
    for name in MODELS:
        print(
            f"{name}: median {medians[name]['images_per_s']:.1f} images/s, "
            f"peak RSS {medians[name]['peak_rss_mib']:.0f} MiB"
        )
    print(f"throughput ratio ours / tfp: {results['throughput_ratio']:.2f}  (> 1: ours faster)")
    print(f"peak RSS ratio ours / tfp:   {results['peak_rss_ratio']:.2f}  (< 1: ours smaller)")
    report_and_save(results, started, args.json)


if __name__ == "__main__":
    main()
