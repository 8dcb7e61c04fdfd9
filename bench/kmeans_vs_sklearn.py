"""K-Means (Lloyd) wall time and final inertia: kerasgen's KMeans against scikit-learn's.

Both start from the same k-means++ centres and run Lloyd for at most ``--iterations``
(scikit-learn with ``tol=0``, ``n_init=1``, ``algorithm="lloyd"``, which stops when no label
changes; ours with Keras' ``EarlyStopping`` once the inertia stops falling, i.e. one step
later). Both iteration counts are printed, with the ratio of whole runs and per iteration.
Data: the 10k MNIST digits and ``--mnist-copies`` noisy copies of them (100k by default) when
``$KERASGEN_DATA_DIR`` is set, and synthetic 784-d Gaussian blobs of 100k and 1M points (the
blobs separate in 2-3 iterations, so fixed costs such as tracing dominate there).
Each line prints both wall times (best of ``--repeats``) and the ratios ours / theirs.
``--mini-batch`` adds kerasgen's mini-batch mode on the largest size (its inertia relative to
full-batch scikit-learn, and its time), which needs no more than one batch in memory.

Usage::

    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python bench/kmeans_vs_sklearn.py --sizes 10000 100000
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import json
import time

import numpy as np


def blobs(n: int, dim: int = 784, centres: int = 10, seed: int = 0) -> np.ndarray:
    """``n`` points around ``centres`` random means in [0, 1]^dim (float32)."""
    rng = np.random.default_rng(seed)
    means = rng.random((centres, dim), dtype=np.float32)
    labels = rng.integers(centres, size=n)
    points = means[labels]
    points += rng.normal(scale=0.15, size=points.shape).astype(np.float32)
    return points


def run_ours(x: np.ndarray, start: np.ndarray, iterations: int) -> tuple[float, float, int]:
    """Lloyd with Keras' own ``EarlyStopping`` once the objective stops falling (sklearn's rule)."""
    import keras

    from kerasgen.models.em import KMeans

    model = KMeans(len(start))
    model.compile()
    model.set_centres(start)
    stop = keras.callbacks.EarlyStopping(monitor="inertia", min_delta=0.0, patience=0, mode="min")
    started = time.perf_counter()
    history = model.fit(x, epochs=iterations, verbose=0, callbacks=[stop]).history
    seconds = time.perf_counter() - started
    return seconds, model.inertia(x), len(history["inertia"])


def run_theirs(x: np.ndarray, start: np.ndarray, iterations: int) -> tuple[float, float, int]:
    from sklearn.cluster import KMeans

    started = time.perf_counter()
    model = KMeans(len(start), init=start, n_init=1, max_iter=iterations, tol=0.0, algorithm="lloyd").fit(x)
    return time.perf_counter() - started, float(model.inertia_), int(model.n_iter_)


def run_mini_batch(x: np.ndarray, start: np.ndarray, epochs: int, batch_size: int) -> tuple[float, float]:
    import tensorflow as tf

    from kerasgen.models.em import KMeans

    model = KMeans(len(start), mini_batch=True)
    model.compile()
    model.set_centres(start)
    dataset = tf.data.Dataset.from_tensor_slices(x).batch(batch_size).prefetch(2)
    started = time.perf_counter()
    model.fit(dataset, epochs=epochs, verbose=0)
    return time.perf_counter() - started, model.inertia(x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--clusters", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--mini-batch", action="store_true")
    parser.add_argument(
        "--mnist-copies", type=int, default=10,
        help="also run on this many noisy copies of the 10k digits (0 or 1 to skip)",
    )  # fmt: skip
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()

    from kerasgen.models.em import kmeans_plus_plus

    datasets = []
    if os.environ.get("KERASGEN_DATA_DIR"):
        from kerasgen.data.mnist_source import load_mnist_arrays

        images = (load_mnist_arrays()["test"].images.reshape(-1, 784) / 255.0).astype(np.float32)
        datasets.append(("mnist 10k", images))
        if args.mnist_copies > 1:  # realistic 784-d data that needs tens of iterations, at 100k+
            rng = np.random.default_rng(0)
            noisy = [np.clip(images + rng.normal(0, 0.1, images.shape).astype(np.float32), 0, 1)
                     for _ in range(args.mnist_copies)]  # fmt: skip
            datasets.append((f"mnist x{args.mnist_copies} + noise ({len(images) * args.mnist_copies:,})",
                             np.concatenate(noisy)))  # fmt: skip
    datasets += [(f"blobs {n:,}", blobs(n)) for n in args.sizes]

    results = []
    for name, x in datasets:
        rng = np.random.default_rng(0)
        start = kmeans_plus_plus(
            x[rng.choice(len(x), min(len(x), 10_000), replace=False)], args.clusters, rng
        )
        ours = min((run_ours(x, start, args.iterations) for _ in range(args.repeats)), key=lambda r: r[0])
        theirs = min((run_theirs(x, start, args.iterations) for _ in range(args.repeats)), key=lambda r: r[0])
        row = {
            "data": name,
            "ours_seconds": round(ours[0], 3),
            "sklearn_seconds": round(theirs[0], 3),
            "ours_iterations": ours[2],
            "sklearn_iterations": theirs[2],
            "time_ratio_ours_over_sklearn": round(ours[0] / theirs[0], 3),
            "per_iteration_time_ratio": round((ours[0] / ours[2]) / (theirs[0] / theirs[2]), 3),
            "inertia_ratio_ours_over_sklearn": round(ours[1] / theirs[1], 6),
        }
        print(json.dumps(row))
        results.append(row)
    if args.mini_batch:
        name, x = datasets[-1]
        rng = np.random.default_rng(0)
        start = kmeans_plus_plus(x[rng.choice(len(x), 10_000, replace=False)], args.clusters, rng)
        seconds, inertia = run_mini_batch(x, start, epochs=1, batch_size=4096)
        full = run_theirs(x, start, args.iterations)
        row = {
            "data": name + " (ours: mini-batch, 1 epoch of 4096-point batches)",
            "ours_seconds": round(seconds, 3),
            "sklearn_seconds": round(full[0], 3),
            "time_ratio_ours_over_sklearn": round(seconds / full[0], 3),
            "inertia_ratio_ours_over_sklearn": round(inertia / full[1], 6),
        }
        print(json.dumps(row))
        results.append(row)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
