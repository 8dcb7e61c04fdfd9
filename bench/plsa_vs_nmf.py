"""pLSA by EM: wall time and final log-likelihood of kerasgen's PLSA against scikit-learn's KL-NMF.

KL-NMF ``X ≈ WH`` with multiplicative updates (``NMF(beta_loss="kullback-leibler",
solver="mu")``) is pLSA: with ``H = p(x|z)`` and ``W = n(y) p(z|y)``, the row-normalised
``WH`` is ``p(x|y)``, and the update of ``W`` is EM's update of ``p(z|y)`` (``H``'s uses the
fresh ``W`` where EM uses the old mixtures, so the paths differ slightly). Both start from the
same random ``p(x|z)``, ``p(z|y)`` (flat-Dirichlet rows, float32) and run ``--iterations``
steps: ours ``fit(..., epochs=iterations)``, one full-batch EM step per epoch; scikit-learn
``max_iter=iterations`` with ``tol=0``, so it never stops early (its ``n_iter_`` is printed).
Both get the same count matrix, CSR by default (``--input dense`` gives both a dense array):
scikit-learn's KL updates then touch only the non-zero counts, while ours densifies the
counts and works on dense ``[N, V]`` tensors.

Data: the MRC passages (``load_mrc_corpus``, about 2,256 documents × 8,900 words) when
``$KERASGEN_MRC_DIR`` is set, and synthetic pLSA counts of ``--synthetic`` sizes
(``DOCUMENTSxVOCABULARY``, about ``--length`` tokens a document). Each line prints both wall
times (best of ``--repeats``; ours includes tracing, whose share is ``ours_first_epoch_seconds``),
the ratio ours / theirs, and the final per-token log-likelihood ``Σ n log p(x|y) / Σ n`` of
each (float64, from the fitted tables) with their relative difference.

Usage::

    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python bench/plsa_vs_nmf.py --synthetic 2000x5000 10000x20000
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import json
import time
import warnings

import numpy as np
from scipy import sparse


def dirichlet_rows(rng: np.random.Generator, rows: int, size: int, alpha: float = 1.0) -> np.ndarray:
    """``rows`` draws from a symmetric Dirichlet over ``size`` outcomes (float64)."""
    draws = rng.gamma(alpha, size=(rows, size)) + 1e-12
    return draws / draws.sum(axis=1, keepdims=True)


def synthetic_counts(
    documents: int, vocabulary: int, topics: int = 10, length: int = 100, seed: int = 0
) -> sparse.csr_matrix:
    """CSR float32 counts ``[documents, vocabulary]`` drawn from a pLSA with ``topics`` topics.

    Topics are sparse Dirichlet(0.05) rows over the vocabulary, mixtures Dirichlet(0.3), and
    each document has Poisson(``length``) tokens (at least one). Tokens are drawn topic first,
    then word, all at once per topic.
    """
    rng = np.random.default_rng(seed)
    words = dirichlet_rows(rng, topics, vocabulary, alpha=0.05)
    mixtures = dirichlet_rows(rng, documents, topics, alpha=0.3)
    lengths = np.maximum(rng.poisson(length, size=documents), 1)
    token_document = np.repeat(np.arange(documents), lengths)
    cumulative = np.cumsum(mixtures, axis=1)
    cumulative[:, -1] = 1.0
    draws = rng.random(len(token_document))
    token_topic = (draws[:, None] > cumulative[token_document]).sum(axis=1)
    token_word = np.empty(len(token_document), dtype=np.int64)
    for k in range(topics):
        chosen = np.flatnonzero(token_topic == k)
        token_word[chosen] = rng.choice(vocabulary, size=len(chosen), p=words[k])
    counts = sparse.coo_matrix(
        (np.ones(len(token_document), np.float32), (token_document, token_word)),
        shape=(documents, vocabulary),
    ).tocsr()
    counts.sum_duplicates()
    return counts


def log_likelihood_per_token(counts: sparse.csr_matrix, topics: np.ndarray, words: np.ndarray) -> float:
    """``Σ n(x,y) log p(x|y) / Σ n`` with ``p(x|y) ∝ (topics @ words)_yx``, over the non-zero counts only."""
    topics = np.asarray(topics, np.float64)
    words = np.asarray(words, np.float64)
    row_mass = topics @ words.sum(axis=1)  # Σ_x (topics @ words)_yx
    coo = counts.tocoo()
    total = 0.0
    for start in range(0, coo.nnz, 1_000_000):
        rows = coo.row[start : start + 1_000_000]
        cols = coo.col[start : start + 1_000_000]
        values = np.einsum("ik,ki->i", topics[rows], words[:, cols]) / row_mass[rows]
        total += float(np.dot(coo.data[start : start + 1_000_000], np.log(np.maximum(values, 1e-300))))
    return total / float(coo.data.sum())


def run_ours(counts, topics: np.ndarray, words: np.ndarray, iterations: int) -> tuple[float, float, float]:
    """Full-batch EM for ``iterations`` epochs; (seconds, first epoch seconds, log-likelihood per token)."""
    import keras

    from kerasgen.models.em import PLSA

    class EpochEnds(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter())

    model = PLSA(words.shape[0], topics.shape[0], words.shape[1], seed=0)
    model.compile()
    model.set_parameters(word_given_topic=words, topic_given_document=topics)
    ids = np.arange(counts.shape[0], dtype=np.int32)
    ends = EpochEnds()
    started = time.perf_counter()
    model.fit((ids, counts), epochs=iterations, verbose=0, callbacks=[ends])
    seconds = time.perf_counter() - started
    assert len(ends.times) == iterations
    fitted = log_likelihood_per_token(
        sparse.csr_matrix(counts), model.topic_given_document.numpy(), model.word_given_topic.numpy()
    )
    return seconds, ends.times[0] - started, fitted


def run_theirs(counts, topics: np.ndarray, words: np.ndarray, iterations: int) -> tuple[float, float, int]:
    """KL-NMF (multiplicative updates) from ``W = n(y) p(z|y)``, ``H = p(x|z)``; (seconds, ll, n_iter_)."""
    from sklearn.decomposition import NMF

    lengths = np.asarray(counts.sum(axis=1)).reshape(-1, 1)
    W = (topics * lengths).astype(counts.dtype)
    H = words.astype(counts.dtype)
    model = NMF(
        words.shape[0], init="custom", beta_loss="kullback-leibler", solver="mu", max_iter=iterations, tol=0.0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter reached, as intended
        started = time.perf_counter()
        fitted_W = model.fit_transform(counts, W=W, H=H)
        seconds = time.perf_counter() - started
    fitted = log_likelihood_per_token(sparse.csr_matrix(counts), fitted_W, model.components_)
    return seconds, fitted, int(model.n_iter_)


def parse_size(text: str) -> tuple[int, int]:
    documents, _, vocabulary = text.lower().partition("x")
    try:
        return int(documents.replace("k", "000")), int(vocabulary.replace("k", "000"))
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"sizes are DOCUMENTSxVOCABULARY, e.g. 2000x5000; got {text!r}"
        ) from error


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--topics", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--limit", type=int, help="MRC passages to keep (default: all)")
    parser.add_argument(
        "--synthetic", type=parse_size, nargs="*", default=[(2000, 5000)], metavar="DOCSxVOCAB"
    )
    parser.add_argument("--length", type=int, default=100, help="mean tokens per synthetic document")
    parser.add_argument("--input", choices=("sparse", "dense"), default="sparse")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()

    datasets = []
    if os.environ.get("KERASGEN_MRC_DIR"):
        from kerasgen.data.corpus import load_mrc_corpus

        corpus = load_mrc_corpus(limit=args.limit)
        datasets.append((f"mrc {corpus.num_documents:,}x{corpus.vocabulary_size:,}", corpus.counts))
    else:
        print("# KERASGEN_MRC_DIR is not set: skipping the MRC corpus")
    for documents, vocabulary in args.synthetic:
        counts = synthetic_counts(documents, vocabulary, args.topics, args.length)
        datasets.append((f"synthetic {documents:,}x{vocabulary:,}", counts))

    results = []
    for name, counts in datasets:
        counts = sparse.csr_matrix(counts, dtype=np.float32)
        rng = np.random.default_rng(0)
        words = dirichlet_rows(rng, args.topics, counts.shape[1]).astype(np.float32)
        topics = dirichlet_rows(rng, counts.shape[0], args.topics).astype(np.float32)
        data = counts.toarray() if args.input == "dense" else counts
        ours = min(run_ours(data, topics, words, args.iterations) for _ in range(args.repeats))
        theirs = min(run_theirs(data, topics, words, args.iterations) for _ in range(args.repeats))
        row = {
            "data": name,
            "input": args.input,
            "topics": args.topics,
            "nonzero_fraction": round(counts.nnz / (counts.shape[0] * counts.shape[1]), 5),
            "iterations": args.iterations,
            "sklearn_n_iter": theirs[2],
            "ours_seconds": round(ours[0], 3),
            "ours_first_epoch_seconds": round(ours[1], 3),
            "sklearn_seconds": round(theirs[0], 3),
            "time_ratio_ours_over_sklearn": round(ours[0] / theirs[0], 3),
            "start_log_likelihood_per_token": round(log_likelihood_per_token(counts, topics, words), 5),
            "ours_log_likelihood_per_token": round(ours[2], 5),
            "sklearn_log_likelihood_per_token": round(theirs[1], 5),
            "log_likelihood_relative_difference": float(f"{(ours[2] - theirs[1]) / abs(theirs[1]):.3g}"),
        }
        print(json.dumps(row), flush=True)
        results.append(row)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
