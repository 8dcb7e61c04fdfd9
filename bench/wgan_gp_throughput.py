"""Training throughput and peak memory of kerasgen's WGANGP against a plain keras-io-style WGAN-GP.

Both train the same networks (the ``wgan_gp_mnist`` recipe's: a DCGAN generator z 64 → 7·7·64 →
ConvT 32 → ConvT 1 sigmoid, and an MLP critic 784 → 512 → 256 → 1; the reference gets fresh clones
of them) with the same algorithm: per generator iteration, 5 critic
steps on 64 real images each (two-sided gradient penalty, λ = 10) and one generator step on 64
latent draws, with Adam(1e-4, β1 = 0.5, β2 = 0.9) for both players. The reference is a
``keras.Model`` subclass written the way the keras-io WGAN-GP example is: ``compile(d_optimizer,
g_optimizer)`` and a ``train_step`` that loops over the critic steps, each with a nested
``GradientTape`` for the penalty, then takes the generator step and returns the last losses.
Both are fitted on the same synthetic images in [0, 1] with ``batch_size=320`` (5 × 64): ours
deals each batch into 5 interleaved slices, the reference takes 5 contiguous slices of 64.

Equivalence: our weights are copied into the reference's networks, and for one fixed real batch,
latent noise and interpolation weights, the critic loss (via ``kerasgen.losses.gradient_penalty``
for ours, via the reference's own method for the reference), its gradients in the critic's
weights and the generator loss are compared; the largest absolute differences are printed.

Throughput: each round trains each model in a fresh process of this script (``--only
ours|reference``), alternating ours, reference, ... for ``--repeats`` rounds. Each process trains
one warm-up epoch (tracing; not counted), then ``--epochs`` timed epochs (a callback sums the epoch
wall times), and reports generator iterations/s and its peak RSS (``VmHWM``). The parent prints
each model's median, the ratio ours / reference (> 1: ours is faster) and the peak RSS ratio.

Usage::

    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python bench/wgan_gp_throughput.py
    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python bench/wgan_gp_throughput.py --repeats 5 --json wgan.json
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
from bench_common import EpochTimer, make_data, peak_rss_mib, report_and_save, run_marked_subprocess
from keras import ops

LATENT_DIM = 64
CRITIC_STEPS = 5
CRITIC_BATCH = 64
BATCH_SIZE = CRITIC_STEPS * CRITIC_BATCH  # real images consumed per generator iteration
PENALTY_WEIGHT = 10.0
MODELS = ("ours", "reference")
RESULT_MARKER = "WGAN_GP_BENCH_RESULT "


# ---------------------------------------------------------------------------- the reference
class ReferenceWGANGP(keras.Model):
    """WGAN-GP in the keras-io example's style: a critic loop, then one generator step."""

    def __init__(
        self,
        generator: keras.Model,
        critic: keras.Model,
        latent_dim: int = LATENT_DIM,
        critic_steps: int = CRITIC_STEPS,
        gp_weight: float = PENALTY_WEIGHT,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self.generator = generator
        self.critic = critic
        self.latent_dim = latent_dim
        self.critic_steps = critic_steps
        self.gp_weight = gp_weight
        self.seed_generator = keras.random.SeedGenerator(seed)

    def compile(
        self, d_optimizer: keras.optimizers.Optimizer, g_optimizer: keras.optimizers.Optimizer
    ) -> None:
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer

    def gradient_penalty(self, real: Any, fake: Any, alpha: Any) -> Any:
        """Batch mean of ``(‖∇D(x̂)‖ − 1)²`` at ``x̂ = α real + (1 − α) fake``."""
        interpolated = alpha * real + (1.0 - alpha) * fake
        with tf.GradientTape() as penalty_tape:
            penalty_tape.watch(interpolated)
            scores = self.critic(interpolated, training=True)
        grads = penalty_tape.gradient(scores, interpolated)
        norm = ops.sqrt(ops.sum(ops.square(grads), axis=[1, 2, 3]) + 1e-9)
        return ops.mean(ops.square(norm - 1.0))

    def critic_loss(self, real: Any, z: Any, alpha: Any) -> Any:
        """``E D(G(z)) − E D(real) + λ · penalty``."""
        fake = self.generator(z, training=True)
        real_scores = self.critic(real, training=True)
        fake_scores = self.critic(fake, training=True)
        wasserstein_cost = ops.mean(fake_scores) - ops.mean(real_scores)
        return wasserstein_cost + self.gp_weight * self.gradient_penalty(real, fake, alpha)

    def generator_loss(self, z: Any) -> Any:
        """``−E D(G(z))``."""
        return -ops.mean(self.critic(self.generator(z, training=True), training=True))

    def train_step(self, data: Any) -> dict[str, Any]:
        real_images = data[0] if isinstance(data, tuple) else data
        batch = ops.shape(real_images)[0] // self.critic_steps
        for step in range(self.critic_steps):
            real = real_images[step * batch : (step + 1) * batch]
            z = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
            alpha = keras.random.uniform((batch, 1, 1, 1), seed=self.seed_generator)
            with tf.GradientTape() as tape:
                d_loss = self.critic_loss(real, z, alpha)
            grads = tape.gradient(d_loss, self.critic.trainable_variables)
            self.d_optimizer.apply_gradients(zip(grads, self.critic.trainable_variables, strict=True))

        z = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            g_loss = self.generator_loss(z)
        grads = tape.gradient(g_loss, self.generator.trainable_variables)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_variables, strict=True))
        return {"d_loss": d_loss, "g_loss": g_loss}


def reference_networks(seed: int = 0) -> tuple[keras.Model, keras.Model]:
    """Fresh clones of the recipe's generator and critic: plain functional models, new weights."""
    from kerasgen.models.adversarial.recipes import build_wgan_gp_mnist

    networks = build_wgan_gp_mnist(seed=seed)
    return keras.models.clone_model(networks.generator), keras.models.clone_model(networks.discriminator)


def adam() -> keras.optimizers.Optimizer:
    return keras.optimizers.Adam(1e-4, beta_1=0.5, beta_2=0.9)


def build(name: str, seed: int) -> keras.Model:
    """Build and compile ``name`` ("ours" or "reference") with the shared optimizer settings."""
    if name == "ours":
        from kerasgen.models.adversarial.recipes import build_wgan_gp_mnist

        model = build_wgan_gp_mnist(seed=seed)
    else:
        model = ReferenceWGANGP(*reference_networks(seed), seed=seed)
    model.compile(d_optimizer=adam(), g_optimizer=adam())
    return model


# --------------------------------------------------------------------------------- measuring


def check_equivalence(seed: int, x: np.ndarray) -> dict[str, float]:
    """Our weights in the reference; max |diff| of critic loss, its gradients and generator loss."""
    from kerasgen.losses import gradient_penalty

    ours = build("ours", seed)
    reference = ReferenceWGANGP(*reference_networks(seed), seed=seed)
    rng = np.random.default_rng(seed + 1)
    real = ops.convert_to_tensor(x[:CRITIC_BATCH])
    z = ops.convert_to_tensor(rng.standard_normal((CRITIC_BATCH, LATENT_DIM), dtype=np.float32))
    alpha = ops.convert_to_tensor(rng.random((CRITIC_BATCH, 1, 1, 1), dtype=np.float32))
    loss_before_copy = reference.critic_loss(real, z, alpha)  # own random init: should differ
    reference.generator.set_weights(ours.generator.get_weights())
    reference.critic.set_weights(ours.discriminator.get_weights())

    critic = ours.discriminator
    with tf.GradientTape() as tape:  # our code path: WGANGP.discriminator_terms with fixed noise
        fake = ops.stop_gradient(ours.generator(z, training=True))
        d_real = ops.mean(critic(real, training=True))
        d_fake = ops.mean(critic(fake, training=True))
        penalty, _ = gradient_penalty(critic, real, fake, alpha, ours.penalty, True)
        ours_loss = d_fake - d_real + ours.penalty_weight * ops.mean(penalty)
    ours_grads = tape.gradient(ours_loss, critic.trainable_variables)
    ours_g = -ops.mean(critic(ours.generator(z, training=True), training=True))  # WGANGP.generator_terms

    with tf.GradientTape() as tape:
        reference_loss = reference.critic_loss(real, z, alpha)
    reference_grads = tape.gradient(reference_loss, reference.critic.trainable_variables)
    reference_g = reference.generator_loss(z)

    def gap(a: Any, b: Any) -> float:
        return float(np.max(np.abs(ops.convert_to_numpy(a) - ops.convert_to_numpy(b))))

    return {
        "critic_loss": float(ours_loss),
        "critic_loss_before_copy": float(loss_before_copy),
        "critic_loss_max_abs_diff": gap(ours_loss, reference_loss),
        "critic_grad_max_abs_diff": max(gap(a, b) for a, b in zip(ours_grads, reference_grads, strict=True)),
        "generator_loss_max_abs_diff": gap(ours_g, reference_g),
        "params_ours": int(ours.generator.count_params() + critic.count_params()),
        "params_reference": int(reference.generator.count_params() + reference.critic.count_params()),
    }


def run_only(args: argparse.Namespace) -> dict[str, Any]:
    """Subprocess body: one model, a warm-up epoch, ``--epochs`` timed epochs; rate and peak RSS."""
    x = make_data(args.examples, args.seed)
    model = build(args.only, args.seed)
    model.fit(x, batch_size=BATCH_SIZE, epochs=1, shuffle=True, verbose=0)  # tracing, not counted
    timer = EpochTimer()
    model.fit(x, batch_size=BATCH_SIZE, epochs=args.epochs, shuffle=True, verbose=0, callbacks=[timer])
    iterations = len(x) // BATCH_SIZE * args.epochs
    return {
        "model": args.only,
        "iterations_per_s": iterations / sum(timer.seconds),
        "epoch_seconds": timer.seconds,
        "peak_rss_mib": peak_rss_mib(),
        "jit_compile": bool(model.jit_compile),
        "last_logs": {key: timer.last_logs[key] for key in ("d_loss", "g_loss") if key in timer.last_logs},
    }


def run_subprocess(args: argparse.Namespace, name: str) -> dict[str, Any]:
    """Run this script with ``--only name`` in a fresh Python process and parse its result line."""
    command = [
        sys.executable, os.path.abspath(__file__), "--only", name,
        "--epochs", str(args.epochs), "--examples", str(args.examples), "--seed", str(args.seed),
    ]  # fmt: skip
    return run_marked_subprocess(command, RESULT_MARKER, name)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per round")
    parser.add_argument("--repeats", type=int, default=3, help="rounds (fresh processes) per model")
    parser.add_argument("--examples", type=int, default=6400, help="synthetic images (320 per iteration)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=100, help="interleaved in-process steps per model")
    parser.add_argument("--json", metavar="PATH", help="write the results to PATH as JSON")
    parser.add_argument("--only", choices=MODELS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if min(args.epochs, args.repeats) < 1 or args.examples < BATCH_SIZE:
        parser.error(f"--epochs and --repeats must be positive and --examples at least {BATCH_SIZE}")
    return args


def interleaved_step_times(seed: int, steps: int) -> dict[str, Any]:
    """Both models in this process: ``train_step`` as a ``tf.function``, alternated step by step.

    Alternating single steps (ours, reference, reference, ours, ...) on the same 320-image batch
    exposes both to the same machine load, which on a shared 2-core machine drifts more than
    the gap being measured. Returns each model's median ms per iteration and the ratio.
    """
    x = tf.constant(make_data(BATCH_SIZE, seed))
    functions = {name: tf.function(build(name, seed).train_step) for name in MODELS}
    for function in functions.values():
        for _ in range(3):  # tracing and warm-up
            [float(v) for v in function(x).values()]
    times: dict[str, list[float]] = {name: [] for name in MODELS}
    for step in range(steps):
        for name in MODELS if step % 2 == 0 else MODELS[::-1]:
            started = time.perf_counter()
            [float(v) for v in functions[name](x).values()]
            times[name].append(time.perf_counter() - started)
    medians = {name: 1e3 * statistics.median(values) for name, values in times.items()}
    return {
        "median_ms_per_iteration": medians,
        "ratio_ours_over_reference": medians["reference"] / medians["ours"],
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    if args.only:
        print(RESULT_MARKER + json.dumps(run_only(args)), flush=True)
        return 0

    settings = {key: getattr(args, key) for key in ("epochs", "repeats", "examples", "seed", "steps")}
    settings["batch_size"] = BATCH_SIZE
    print("settings:", json.dumps(settings))
    print(
        f"keras {keras.__version__}, tensorflow {tf.__version__}, python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, devices: "
        + ", ".join(d.device_type for d in tf.config.list_physical_devices())
    )
    started = time.perf_counter()
    equivalence = check_equivalence(args.seed, make_data(BATCH_SIZE, args.seed))
    print(
        f"equivalence (our weights in the reference, fixed x, z, alpha; critic loss "
        f"{equivalence['critic_loss']:.4f}; {equivalence['critic_loss_before_copy']:.4f} before copying), "
        "max |diff|: "
        + ", ".join(
            f"{k.removesuffix('_max_abs_diff')} {v:.2e}" for k, v in equivalence.items() if "diff" in k
        )
    )
    print(f"params: ours {equivalence['params_ours']:,}, reference {equivalence['params_reference']:,}")

    interleaved = interleaved_step_times(args.seed, args.steps)
    ms = interleaved["median_ms_per_iteration"]
    print(
        f"interleaved in one process ({args.steps} steps each): ours {ms['ours']:.1f} ms/iteration, "
        f"reference {ms['reference']:.1f} ms/iteration; throughput ratio ours/reference "
        f"{interleaved['ratio_ours_over_reference']:.3f}"
    )

    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in MODELS}
    for _ in range(args.repeats):
        for name in MODELS:
            runs[name].append(run_subprocess(args, name))
    rates = {name: [r["iterations_per_s"] for r in results] for name, results in runs.items()}
    medians = {name: statistics.median(values) for name, values in rates.items()}
    peaks = {name: statistics.median(r["peak_rss_mib"] for r in results) for name, results in runs.items()}
    for name in MODELS:
        rounds = ", ".join(f"{v:.2f}" for v in rates[name])
        print(
            f"{name:>9}: median {medians[name]:.2f} iterations/s ({medians[name] * BATCH_SIZE:,.0f} images/s;"
            f" rounds: {rounds}); median peak RSS {peaks[name]:.0f} MiB;"
            f" jit_compile {runs[name][-1]['jit_compile']}; last logs {runs[name][-1]['last_logs']}"
        )
    ratio = medians["ours"] / medians["reference"]
    memory_ratio = peaks["ours"] / peaks["reference"]
    print(f"throughput ratio ours/reference (fresh processes): {ratio:.3f}")
    print(f"peak RSS ratio ours/reference: {memory_ratio:.3f}")
    results = {
        "settings": settings,
        "equivalence": equivalence,
        "interleaved": interleaved,
        "runs": runs,
        "median_iterations_per_s": medians,
        "ratio_ours_over_reference": ratio,
        "median_peak_rss_mib": peaks,
        "peak_rss_ratio_ours_over_reference": memory_ratio,
    }
    report_and_save(results, started, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
