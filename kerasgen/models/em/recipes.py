"""Recipes for post 2's zoo entries."""

from __future__ import annotations

import functools

import keras
import numpy as np

from kerasgen.data import mnist
from kerasgen.data.mnist_source import as_numpy
from kerasgen.models.em.kmeans import KMeans, cluster_purity
from kerasgen.models.em.plsa import PLSA
from kerasgen.models.vae.recipes import SPLIT, _reference
from kerasgen.recipes import Recipe, register


def _datasets(data_dir=None, batch_size=9000, seed=0, limit=None):
    common = {"data_dir": data_dir, "batch_size": batch_size, "limit": limit, "seed": seed}
    return mnist("train", shuffle=False, **common), mnist("validation", **common)


def _evaluate(model, data_dir=None, quick=False):
    """Cluster purity and inertia per digit on the held-out 5,000 digits."""
    images, labels = as_numpy(
        mnist("heldout", batch_size=1000, with_labels=True, limit=500 if quick else None), with_labels=True
    )
    assignments = model.predict(images, batch_size=1000, verbose=0)
    return {
        "heldout_examples": len(images),
        "purity": round(float(cluster_purity(labels, assignments)), 4),
        "inertia_per_digit": round(model.inertia(images) / len(images), 3),
        "cluster_sizes": np.bincount(assignments, minlength=model.num_clusters).tolist(),
    }


def _build_kmeans_mnist(seed: int = 0, data_dir=None, limit=None) -> KMeans:
    del data_dir, limit  # the architecture does not depend on the data
    return KMeans(10, seed=seed)


register(
    Recipe(
        name="kmeans_mnist",
        description="Post 2's K-Means as EM: Lloyd's algorithm, 10 centres of 784 grey levels, k-means++.",
        build=_build_kmeans_mnist,
        optimizer=lambda: keras.optimizers.SGD(),  # unused: each step is a closed-form EM update
        datasets=_datasets,
        evaluate=_evaluate,
        reference=_reference(),
        epochs=100,
        batch_size=9000,
        data=SPLIT.replace("best validation epoch kept", "one full-batch EM step per epoch"),
        monitor="val_objective",
        headline="purity",
        baseline=(
            "Post 2 has no figures. Purity of roughly 0.5–0.6 is usual for K-Means with K = 10 on "
            "MNIST pixels (general knowledge). scikit-learn's Lloyd from the same initial centres "
            "reaches the same inertia (tests/models/test_kmeans.py)."
        ),
    )
)


def _corpus(data_dir=None, limit=None):
    """The jieba-tokenised MRC corpus, split 90/10 by document (seed 0).

    The folder is resolved first (a missing one raises ``FileNotFoundError`` every time); the
    tokenised corpus is then cached per folder, since training and evaluation both need it.
    """
    from kerasgen.data.corpus import mrc_dir

    return _load_corpus(str(mrc_dir(data_dir)), limit)


@functools.lru_cache(maxsize=2)
def _load_corpus(folder: str, limit):
    from kerasgen.data.corpus import load_mrc_corpus

    return load_mrc_corpus(folder, limit=limit).split(heldout_fraction=0.1, seed=0)


def _plsa_datasets(data_dir=None, batch_size=None, seed=0, limit=None):
    """Every training document in one batch (one EM step per epoch); validation is the same set."""
    import tensorflow as tf

    train, _ = _corpus(data_dir, limit)
    pairs = (np.arange(train.num_documents, dtype=np.int64), train.dense())
    dataset = tf.data.Dataset.from_tensors(pairs)
    return dataset, dataset


def _build_plsa_zh(seed: int = 0, data_dir=None, limit=None) -> PLSA:
    train, _ = _corpus(data_dir, limit)
    return PLSA(10, train.num_documents, train.vocabulary_size, seed=seed, vocabulary=train.vocabulary)


def _evaluate_plsa(model, data_dir=None, quick=False):
    """Training and held-out per-token perplexity; held out by document completion (fold in on half)."""
    from kerasgen.data.corpus import split_tokens

    train, heldout = _corpus(data_dir, None)
    if heldout.vocabulary != model.vocabulary:
        raise ValueError(
            "the corpus vocabulary differs from the model's; evaluate on the corpus it was trained on."
        )
    del quick  # fold-in on the 226 held-out documents takes seconds: always the full evaluation
    heldout_counts = heldout.dense()
    observed, hidden = split_tokens(heldout_counts, 0.5, seed=0)
    train_ids = np.arange(train.num_documents)
    train_log_likelihood = model.predict((train_ids, train.dense()), verbose=0).sum()
    # For scale: one topic, i.e. the training unigram distribution, on the same hidden tokens.
    unigram = np.asarray(train.counts.sum(axis=0)).ravel() + 1e-3
    unigram_log_likelihood = float((hidden * np.log(unigram / unigram.sum())).sum())
    return {
        "heldout_documents": len(heldout_counts),
        "heldout_tokens_scored": int(hidden.sum()),
        "heldout_perplexity": round(model.perplexity(hidden, observed_counts=observed), 1),
        "heldout_unigram_perplexity": round(float(np.exp(-unigram_log_likelihood / hidden.sum())), 1),
        "train_perplexity": round(float(np.exp(-train_log_likelihood / train.num_tokens)), 1),
        "vocabulary_size": model.vocabulary_size,
        "top_words": [" ".join(words) for words in model.top_words(n=8)],
    }


register(
    Recipe(
        name="plsa_zh",
        description="Post 2's pLSA as EM: 10 topics over the jieba-tokenised Chinese MRC passages.",
        build=_build_plsa_zh,
        optimizer=lambda: keras.optimizers.SGD(),  # unused: each step is a closed-form EM update
        datasets=_plsa_datasets,
        evaluate=_evaluate_plsa,
        reference=None,
        epochs=150,
        batch_size=0,
        data=(
            "The passages of CMRC 2018 trial and DRCD dev/test (traditional converted to simplified), "
            "from $KERASGEN_MRC_DIR, deduplicated, jieba-tokenised, stop-words, rare (< 5 documents) "
            "and common (> 20% of documents) words dropped; split 90/10 by document (seed 0). "
            "Held-out perplexity by document completion: fold in on half of each held-out document's "
            "tokens, score the other half."
        ),
        monitor="val_negative_log_likelihood",
        headline="heldout_perplexity",
        baseline=(
            "Post 2 has no figures. scikit-learn's NMF with the KL loss optimises the same objective; "
            "from the same start it reaches the same per-token log-likelihood within 1% "
            "(tests/models/test_plsa.py)."
        ),
    )
)
