"""pLSA as EM (post 2): the shared harness, the EM update itself, fold-in, scikit-learn, the MRC corpus."""

import os
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasgen.models.em import PLSA
from kerasgen.testing import HarnessTests, ModelSpec


def synthetic_counts(seed=0, num_documents=16, vocabulary_size=12, num_topics=3, length=60):
    """Counts drawn from a pLSA with block-structured topics and sparse mixtures."""
    rng = np.random.default_rng(seed)
    words = np.full((num_topics, vocabulary_size), 0.02)
    block = vocabulary_size // num_topics
    for k in range(num_topics):
        words[k, k * block : (k + 1) * block] += 1.0
    words /= words.sum(axis=1, keepdims=True)
    mixtures = rng.dirichlet(np.full(num_topics, 0.3), size=num_documents)
    counts = np.stack([rng.multinomial(length, mixture @ words) for mixture in mixtures])
    return np.arange(num_documents, dtype="int32"), counts.astype("float32")


IDS, COUNTS = synthetic_counts()
N, V = COUNTS.shape
BAD_INPUTS = [
    ("wrong vocabulary size", (IDS[:4], np.zeros((4, V + 1), "float32"))),
    ("integer counts", (IDS[:4], COUNTS[:4].astype("int64"))),
    ("counts without document ids", COUNTS[:4]),
    ("float document ids", (IDS[:4].astype("float32"), COUNTS[:4])),
    ("document ids out of range", (IDS[:4] + N, COUNTS[:4])),
]


def tiny_plsa(seed=0, method="em", optimizer=None):
    model = PLSA(3, N, V, method=method, seed=seed)
    model.compile(optimizer=optimizer or keras.optimizers.Adam(0.1))
    return model


def spec(method, distributed_optimizer=None):
    return ModelSpec(
        lambda seed=0: tiny_plsa(seed, method),
        (IDS, COUNTS),
        (IDS[:4], COUNTS[:4]),
        BAD_INPUTS,
        f"(batch, {V})",
        batch_size=N,  # one full batch: EM over the whole (tiny) corpus, split 8 + 8 on two replicas
        total_metric="negative_log_likelihood",
        distributed_build=lambda seed=0: tiny_plsa(seed, method, keras.optimizers.SGD(5.0)),
    )


SPECS = {"em": spec("em"), "gradient": spec("gradient")}


class TestPLSAHarness(HarnessTests):
    SPECS = SPECS


# ---------------------------------------------------------------------------- helpers
class PerStep(keras.callbacks.Callback):
    """Records each step's objective (metrics reset before every step)."""

    def __init__(self):
        super().__init__()
        self.values = []

    def on_train_batch_begin(self, batch, logs=None):
        self.model.reset_metrics()

    def on_train_batch_end(self, batch, logs=None):
        self.values.append(float(logs["negative_log_likelihood"]))


def objective_path(model, ids, counts, steps):
    """``steps`` full-batch steps in one epoch (cheaper than one epoch per step); per-step objective."""
    recorder = PerStep()
    dataset = tf.data.Dataset.from_tensors((ids, counts)).repeat()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0, callbacks=[recorder])
    return np.array(recorder.values)


def per_token_nll(counts, word_given_document):
    """``−Σ n log p(x|y) / Σ n`` in float64 (words never seen contribute nothing)."""
    logs = np.log(np.maximum(word_given_document, 1e-300))
    return -np.where(counts > 0, counts * logs, 0.0).sum() / counts.sum()


# ---------------------------------------------------------------------------- post 2
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_full_batch_em_never_worsens_its_objective(seed):
    rng = np.random.default_rng(seed)
    counts = rng.poisson(rng.gamma(0.5, 2.0, size=(30, 20))).astype("float32")
    model = PLSA(4, 30, 20, seed=seed)
    model.compile()
    path = objective_path(model, np.arange(30, dtype="int32"), counts, 60)
    assert np.all(np.diff(path) <= 1e-6 * abs(path[0])), path
    assert path[-1] < path[0] - 0.05


def expected_em_step(counts, topics, words):
    """The spec's equations with the full ``C_xyz`` in float64: new p(z|y), new p(x|z), objective."""
    joint = counts / counts.sum()  # p̃(x, y) [N, V]
    numerators = topics[:, None, :] * words.T[None, :, :]  # p(x|z) p(z|y) [N, V, K]
    responsibilities = numerators / numerators.sum(axis=-1, keepdims=True)  # C_xyz
    weighted = joint[:, :, None] * responsibilities  # p̃(x,y) C_xyz
    new_topics = weighted.sum(axis=1) / joint.sum(axis=1, keepdims=True)  # Σ_x p̃ C / p̃(y)
    new_words = weighted.sum(axis=0).T  # Σ_y p̃ C  [K, V]
    return new_topics, new_words / new_words.sum(axis=1, keepdims=True), per_token_nll(counts, topics @ words)


@pytest.mark.parametrize("input_kind", ["dense", "sparse"])
def test_em_step_is_the_update_of_the_post(input_kind):
    """One ``fit`` epoch equals the spec's equations written out with the full ``C_xyz`` in numpy.

    Sparse counts take the step's other path (p(x|y) at the non-zero entries only).
    """
    from scipy import sparse as scipy_sparse

    rng = np.random.default_rng(7)
    counts = rng.poisson(1.5, size=(5, 7)).astype("float64")
    if input_kind == "sparse":
        counts *= rng.random(counts.shape) < 0.6  # real zeros for the sparse path to skip
    counts[:, 0] += 1  # no empty document
    model = PLSA(3, 5, 7, seed=3)
    model.compile()
    words = model.word_given_topic.numpy().astype("float64")  # p(x|z) [K, V]
    topics = model.topic_given_document.numpy().astype("float64")  # p(z|y) [N, K]
    expected_topics, expected_words, expected_objective = expected_em_step(counts, topics, words)

    inputs = counts.astype("float32")
    if input_kind == "sparse":
        inputs = scipy_sparse.csr_matrix(inputs)
    history = model.fit((np.arange(5), inputs), epochs=1, verbose=0).history
    np.testing.assert_allclose(model.topic_given_document.numpy(), expected_topics, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(model.word_given_topic.numpy(), expected_words, rtol=1e-4, atol=1e-6)
    assert history["negative_log_likelihood"][0] == pytest.approx(expected_objective, rel=1e-5)
    assert history["perplexity"][0] == pytest.approx(np.exp(expected_objective), rel=1e-5)


def test_symmetric_start_is_a_fixed_point():
    """Identical topics and uniform mixtures never separate: every topic becomes the unigram model."""
    symmetric = PLSA(3, N, V, seed=0)
    symmetric.compile()
    same_topic = np.random.default_rng(1).dirichlet(np.ones(V))
    symmetric.set_parameters(np.tile(same_topic, (3, 1)), np.full((N, 3), 1 / 3))
    path = objective_path(symmetric, IDS, COUNTS, 10)
    words = symmetric.word_given_topic.numpy()
    unigram = COUNTS.sum(axis=0) / COUNTS.sum()
    np.testing.assert_allclose(words, np.tile(unigram, (3, 1)), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(symmetric.topic_given_document.numpy(), 1 / 3, rtol=1e-6)
    np.testing.assert_allclose(path[1:], path[1], rtol=1e-6)  # stuck after the first step

    randomised = PLSA(3, N, V, seed=0)
    randomised.compile()
    assert objective_path(randomised, IDS, COUNTS, 10)[-1] < path[-1] - 0.1


def test_gradient_descent_reaches_the_em_objective_in_more_steps():
    em = PLSA(3, N, V, seed=0)
    em.compile()
    em_path = objective_path(em, IDS, COUNTS, 150)
    gradient = PLSA(3, N, V, seed=0, method="gradient")
    gradient.compile(optimizer=keras.optimizers.Adam(0.2))
    gradient_path = objective_path(gradient, IDS, COUNTS, 600)
    target = em_path[-1] + 1e-3
    assert gradient_path[-1] == pytest.approx(em_path[-1], rel=1e-3)
    em_steps, gradient_steps = np.argmax(em_path < target) + 1, np.argmax(gradient_path < target) + 1
    assert em_steps * 4 < gradient_steps, (em_steps, gradient_steps)


def test_fold_in_recovers_the_training_mixtures_and_scores_new_documents():
    from kerasgen.data.corpus import split_tokens

    ids, counts = synthetic_counts(seed=4, num_documents=40, length=200)
    model = PLSA(3, 40, V, seed=0)
    model.compile()
    objective_path(model, ids, counts, 200)
    folded = model.fold_in(counts, steps=300)
    np.testing.assert_allclose(folded.sum(axis=1), 1.0, rtol=1e-5)
    # p(z|y) given fixed p(x|z) has a unique optimum; EM on both tables reached it too
    np.testing.assert_allclose(folded, model.topic_given_document.numpy(), atol=2e-2)

    _, fresh = synthetic_counts(seed=5, num_documents=20, length=200)
    observed, hidden = split_tokens(fresh, 0.5, seed=0)
    np.testing.assert_array_equal(observed + hidden, fresh)
    completion = model.perplexity(hidden, observed_counts=observed)  # document completion
    same_tokens = model.perplexity(hidden)  # mixtures fitted to the scored tokens: optimistic
    assert same_tokens <= completion < 0.8 * V
    noise = np.random.default_rng(6).multinomial(200, np.full(V, 1 / V), size=20).astype("float32")
    noise_observed, noise_hidden = split_tokens(noise, 0.5, seed=0)
    assert model.perplexity(noise_hidden, observed_counts=noise_observed) > 1.1 * completion
    empty = model.fold_in(np.zeros((2, V), "float32"))
    np.testing.assert_allclose(empty, 1 / 3)


def test_top_words_set_parameters_and_sparse_inputs():
    model = PLSA(2, 3, 4, seed=0)
    model.compile()
    model.set_parameters(word_given_topic=[[0.1, 0.2, 0.3, 0.4], [4.0, 3.0, 2.0, 1.0]])
    assert model.top_words(["a", "b", "c", "d"], n=2) == [["d", "c"], ["a", "b"]]
    with pytest.raises(ValueError, match="must hold 4 words"):
        model.top_words(["a"])
    with pytest.raises(ValueError, match=r"shaped \(2, 4\)"):
        model.set_parameters(word_given_topic=np.ones((3, 4)))
    counts = np.array([[1, 0, 2, 0], [0, 0, 0, 3]], "float32")
    dense = model((np.array([0, 2]), counts)).numpy()
    sparse = model((np.array([0, 2]), tf.sparse.from_dense(counts))).numpy()
    np.testing.assert_allclose(sparse, dense, rtol=1e-6)

    from scipy import sparse as scipy_sparse

    fitted = {}
    for name, matrix in (("dense", COUNTS), ("csr", scipy_sparse.csr_matrix(COUNTS))):
        model = PLSA(3, N, V, seed=0)
        model.compile()
        fitted[name] = model.fit((IDS, matrix), epochs=2, verbose=0).history["negative_log_likelihood"]
        fitted[name + " topics"] = model.topic_given_document.numpy()
    np.testing.assert_allclose(fitted["csr"], fitted["dense"], rtol=1e-6)
    np.testing.assert_allclose(fitted["csr topics"], fitted["dense topics"], rtol=1e-5, atol=1e-7)
    predicted = model.predict((IDS, COUNTS), batch_size=5, verbose=0)
    np.testing.assert_allclose(predicted, model((IDS, COUNTS)).numpy(), rtol=1e-6)


def test_matches_scikit_learn_nmf_with_kl_divergence():
    """KL-NMF ``X ≈ WH`` is pLSA: ``p(x|y) = (WH)_yx / Σ_x' (WH)_yx'``.

    Scaling ``H``'s rows to sum to 1 (``p(x|z)``) and moving the scale into ``W`` leaves ``WH``
    unchanged; ``W_yz / Σ_z W_yz`` is then ``p(z|y)``, and the row sums of ``WH`` play ``n(y)``.
    Started from ``W = n(y) p(z|y)``, ``H = p(x|z)``, the multiplicative updates of ``W`` are EM's
    ``p(z|y)`` update; ``H``'s uses the fresh ``W`` (EM uses the old mixtures), so the two paths
    differ slightly but reach the same likelihood.
    """
    from sklearn.decomposition import NMF

    ids, counts = synthetic_counts(seed=1, num_documents=40, vocabulary_size=30, num_topics=4, length=100)
    model = PLSA(4, 40, 30, seed=1)
    model.compile()
    words = model.word_given_topic.numpy().astype("float64")
    topics = model.topic_given_document.numpy().astype("float64")
    objective_path(model, ids, counts, 150)
    ours = model.evaluate((ids, counts), verbose=0, return_dict=True)["negative_log_likelihood"]

    lengths = counts.sum(axis=1, keepdims=True).astype("float64")
    nmf = NMF(4, init="custom", beta_loss="kullback-leibler", solver="mu", max_iter=150, tol=0.0)
    weights = nmf.fit_transform(counts.astype("float64"), W=topics * lengths, H=words.copy())
    product = weights @ nmf.components_
    theirs = per_token_nll(counts, product / product.sum(axis=1, keepdims=True))
    assert ours == pytest.approx(theirs, rel=1e-3)


# ---------------------------------------------------------------------------- the MRC corpus
@pytest.fixture(scope="module")
def mrc_corpus():
    """150 passages from the shared MRC files (``$KERASGEN_MRC_DIR``, set by ./run.sh test)."""
    path = os.environ.get("KERASGEN_MRC_DIR")
    if not path or not os.path.isdir(path):
        pytest.skip("KERASGEN_MRC_DIR does not point at the MRC folder")
    from kerasgen.data.corpus import load_mrc_corpus

    return load_mrc_corpus(limit=150, min_document_frequency=2, max_document_fraction=0.3)


def test_mrc_corpus_is_simplified_filtered_and_split(mrc_corpus):
    from scipy import sparse

    from kerasgen.data.corpus import STOP_WORDS

    corpus = mrc_corpus
    assert 140 <= len(corpus) <= 150 and corpus.vocabulary_size > 500
    assert (
        sparse.issparse(corpus.counts) and corpus.counts.format == "csr" and corpus.counts.dtype == np.float32
    )
    assert corpus.counts.shape == (len(corpus.documents), len(corpus.vocabulary))
    assert np.all(np.asarray(corpus.counts.sum(axis=1)) > 0)
    assert any(i.startswith("cmrc2018_trial:") for i in corpus.document_ids)
    assert any(i.startswith("DRCD_test:") for i in corpus.document_ids)
    assert len(set(corpus.documents)) == len(corpus.documents)
    text = "".join(corpus.documents)
    assert not set("學國們這會說與過為於") & set(text), "traditional characters left"
    assert not set(corpus.vocabulary) & STOP_WORDS
    assert all(any(c.isalpha() for c in word) for word in corpus.vocabulary)

    train, heldout = corpus.split(0.2, seed=0)
    again, _ = corpus.split(0.2, seed=0)
    assert train.document_ids == again.document_ids
    assert len(train) + len(heldout) == len(corpus)
    assert not set(train.document_ids) & set(heldout.document_ids)


def test_plsa_on_the_mrc_corpus_matches_nmf_and_finds_topics(mrc_corpus):
    from sklearn.decomposition import NMF

    counts = mrc_corpus.dense()
    ids = np.arange(len(counts), dtype="int32")
    model = PLSA(5, len(counts), counts.shape[1], seed=0)
    model.compile()
    words = model.word_given_topic.numpy().astype("float64")
    topics = model.topic_given_document.numpy().astype("float64")
    path = objective_path(model, ids, counts, 60)
    assert np.all(np.diff(path) <= 1e-6 * path[0]) and path[-1] < path[0] - 0.3
    lengths = counts.sum(axis=1, keepdims=True).astype("float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nmf = NMF(5, init="custom", beta_loss="kullback-leibler", solver="mu", max_iter=61, tol=0.0)
        weights = nmf.fit_transform(counts.astype("float64"), W=topics * lengths, H=words.copy())
    product = weights @ nmf.components_
    theirs = per_token_nll(counts, product / product.sum(axis=1, keepdims=True))
    ours = model.evaluate((ids, counts), verbose=0, return_dict=True)["negative_log_likelihood"]
    assert ours == pytest.approx(theirs, rel=1e-2)
    top = model.top_words(mrc_corpus.vocabulary, n=8)
    assert len(top) == 5 and all(len(set(row)) == 8 for row in top)
    assert len({tuple(row) for row in top}) == 5
