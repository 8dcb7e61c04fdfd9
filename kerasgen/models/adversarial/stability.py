"""Post 7's claim, tested: does the regulariser keep a fragile GAN from collapsing?

``python -m kerasgen.models.adversarial.stability --out results.json`` trains the plain
non-saturating ``GAN`` and ``VIRegularizedGAN`` on MNIST in a deliberately fragile setting,
for several seeds each, and records per epoch the MNIST-FD of 1,000 samples against the 1k
validation digits and the largest class share (mode collapse), with the ``mnist_classifier``
zoo entry as the yardstick.

Two settings (post 7's experiment 2 made harsher, as §7(f) of the design asks), both with DCGAN
convnets without batch norm (16/32 filters):

- ``fragile``: 4 generator steps per discriminator step (the regularised GAN: 2 anchors × 2 steps),
  Adam with a learning rate of 1e-3 (five times DCGAN's 2e-4), β1 = 0.5;
- ``harsh``: 8 generator steps per discriminator step (4 anchors × 2), learning rate 2e-3.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import keras

from kerasgen.models.adversarial.builders import build_dcgan_discriminator, build_dcgan_generator
from kerasgen.models.adversarial.gan import GAN, VIRegularizedGAN

SETTINGS = {
    "fragile": {
        "networks": "DCGAN 28×28, filters 16 (D 16/32, G 32/16), no batch norm, z 100",
        "steps": "1 D step, then 4 G steps per batch (VIRegularizedGAN: 2 anchors × 2 steps, λ = 5)",
        "optimizer": "Adam lr 1e-3, β1 0.5, both nets",
        "learning_rate": 1e-3,
        "generator_steps": 4,
    },
    "harsh": {
        "networks": "DCGAN 28×28, filters 16 (D 16/32, G 32/16), no batch norm, z 100",
        "steps": "1 D step, then 8 G steps per batch (VIRegularizedGAN: 4 anchors × 2 steps, λ = 5)",
        "optimizer": "Adam lr 2e-3, β1 0.5, both nets",
        "learning_rate": 2e-3,
        "generator_steps": 8,
    },
}
DATA = "MNIST 9k training digits, batch 64; FD of 1,000 samples against the 1k validation digits"


def build_fragile(kind: str, seed: int, setting: str = "fragile") -> GAN:
    """The plain GAN (``kind="gan"``) or its regularised twin (``kind="vigan"``) of ``setting``, compiled."""
    if setting not in SETTINGS:
        raise ValueError(f"setting must be one of {sorted(SETTINGS)}, got {setting!r}.")
    config = SETTINGS[setting]
    networks = {
        "generator": build_dcgan_generator(filters=16, normalization=None, seed=seed),
        "discriminator": build_dcgan_discriminator(filters=16, normalization=None, seed=seed),
    }
    steps = config["generator_steps"]
    if kind == "gan":
        model = GAN(**networks, generator_steps=steps, seed=seed)
    elif kind == "vigan":
        model = VIRegularizedGAN(
            **networks, regularization=5.0, steps_per_anchor=2, generator_steps=steps, seed=seed
        )
    else:
        raise ValueError(f"kind must be 'gan' or 'vigan', got {kind!r}.")
    model.compile(
        d_optimizer=keras.optimizers.Adam(config["learning_rate"], beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(config["learning_rate"], beta_1=0.5),
    )
    return model


def run_stability(
    seeds=(0, 1, 2),
    epochs: int = 15,
    data_dir=None,
    limit: int | None = None,
    num_samples: int = 1000,
    setting: str = "fragile",
) -> dict:
    """Train both kinds for each seed; per-epoch ``fd``, ``largest_class`` and ``score`` lists."""
    from kerasgen.callbacks import SampleQuality
    from kerasgen.data import mnist
    from kerasgen.data.mnist_source import as_numpy

    validation = as_numpy(mnist("validation", data_dir=data_dir, batch_size=1000))
    runs = []
    for kind in ("gan", "vigan"):
        for seed in seeds:
            keras.utils.set_random_seed(seed)
            model = build_fragile(kind, seed, setting)
            train = mnist(
                "train", data_dir=data_dir, batch_size=64, seed=seed, limit=limit, drop_remainder=True
            )
            started = time.perf_counter()
            quality = SampleQuality(validation, num_samples=num_samples)
            history = model.fit(train, epochs=epochs, callbacks=[quality], verbose=0).history
            runs.append(
                {
                    "model": kind,
                    "seed": seed,
                    "seconds": round(time.perf_counter() - started, 1),
                    "fd": [round(v, 3) for v in history["sample_fd"]],
                    "largest_class": [round(v, 4) for v in history["sample_largest_class"]],
                    "score": [round(v, 3) for v in history["sample_score"]],
                    "d_loss": [round(v, 4) for v in history["d_loss"]],
                }
            )
    return {
        "setting": setting,
        "description": {k: v for k, v in SETTINGS[setting].items() if isinstance(v, str)},
        "data": DATA,
        "epochs": epochs,
        "seeds": list(seeds),
        "runs": runs,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="JSON file for the curves")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--data-dir")
    parser.add_argument("--limit", type=int, help="training digits (quick runs)")
    parser.add_argument("--setting", choices=sorted(SETTINGS), default="fragile")
    args = parser.parse_args(argv)
    results = run_stability(args.seeds, args.epochs, args.data_dir, args.limit, setting=args.setting)
    Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
