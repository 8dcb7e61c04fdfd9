"""pLSA fitted by EM (post 2), as a ``keras.Model`` whose ``train_step`` is one exact EM update."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from kerasgen.distribute import replica_sum

METHODS = ("em", "gradient")
# floor for p(x|y) inside logs and ratios: float32 probabilities may underflow after many steps
_TINY = 1e-30


class _ExpOfMean(keras.metrics.Mean):
    """``exp`` of a (weighted) running mean: perplexity from the per-token negative log-likelihood."""

    def result(self):
        return tf.exp(super().result())


@keras.saving.register_keras_serializable(package="kerasgen")
class PLSA(keras.Model):
    """Probabilistic latent semantic analysis whose ``train_step`` is one exact EM update (post 2).

    Documents ``y``, words ``x``, topics ``z``: ``p(x|y) = Σ_z p(x|z) p(z|y)``; the loss is the
    cross-entropy ``S = −Σ_{x,y} p̃(x,y) log p(x|y)``, reported per token as
    ``negative_log_likelihood = −Σ n(x,y) log p(x|y) / Σ n(x,y)`` (and its ``exp``,
    ``perplexity``). Freezing the responsibilities ``C_xyz ∝ p(x|z) p(z|y)`` at the current
    parameters gives the post's surrogate, minimised under the simplex constraints by::

        p(z|y) ← Σ_x n(x,y) C_xyz / n(y)            for the documents in the batch
        p(x|z) ∝_x Σ_y n(x,y) C_xyz                  summed over the (global) batch

    Neither sum needs ``C`` ``[B, V, K]``: with ``R = n(x,y) / p(x|y)`` ``[B, V]``,
    ``Σ_x n C_xyz = p(z|y) · (R p(x|z)ᵀ)_yz`` and ``Σ_y n C_xyz = p(x|z) · (p(z|y)ᵀ R)_zx``.
    Each step reports the objective *at the parameters it starts from*, so the logged sequence
    of a full-batch fit never increases.

    Inputs are pairs ``(document_ids int [B], counts float [B, V])`` (``counts`` dense or a
    ``tf.SparseTensor``); ``document_ids`` index the rows of ``topic_given_document``. ``fit``
    on arrays defaults to the whole array as one batch: full-batch EM, one iteration per
    epoch. With smaller batches each step re-estimates ``p(x|z)`` from that batch alone (EM on
    the batch, not a stochastic EM of the corpus). ``method="gradient"`` instead holds
    unconstrained logits (``p = softmax(logits)``) and lets the compiled optimizer minimise the
    same per-token loss, to compare with EM.

    Initialisation draws every row of both tables from a flat Dirichlet (seeded): a symmetric
    start (identical topics, uniform ``p(z|y)``) is a fixed point of EM that never separates.

    Args:
        num_topics: K.
        num_documents: N, the number of rows of ``topic_given_document``.
        vocabulary_size: V.
        method: ``"em"`` (closed-form updates, optimizer unused) or ``"gradient"``.
        seed: seeds the initial tables.
        vocabulary: the V words, kept in the config so `top_words()` needs no corpus.

    Example:
        >>> corpus = load_mrc_corpus(limit=500)
        >>> model = PLSA(10, corpus.num_documents, corpus.vocabulary_size, seed=0)
        >>> model.compile()
        >>> model.fit((np.arange(len(corpus)), corpus.dense()), epochs=100)  # 100 EM iterations
        >>> model.top_words(corpus.vocabulary, n=8)

    The vocabulary (``vocabulary``, optional) travels with the model in its config, so a saved
    or published model names its topics' words without the corpus.

    Reference: Su Jianlin, 梯度下降和EM算法: 系出同源, 一脉相承, kexue.fm 2017; Hofmann,
    Probabilistic latent semantic indexing, SIGIR 1999.
    """

    def __init__(
        self,
        num_topics: int,
        num_documents: int,
        vocabulary_size: int,
        method: str = "em",
        seed: int | None = None,
        vocabulary: Sequence[str] | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if vocabulary is not None and len(vocabulary) != int(vocabulary_size):
            raise ValueError(
                f"vocabulary holds {len(vocabulary)} words, not vocabulary_size={vocabulary_size}."
            )
        for name, value in (
            ("num_topics", num_topics),
            ("num_documents", num_documents),
            ("vocabulary_size", vocabulary_size),
        ):
            if int(value) < 1:
                raise ValueError(f"{name} must be at least 1, got {value}.")
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}.")
        self.num_topics = int(num_topics)
        self.num_documents = int(num_documents)
        self.vocabulary_size = int(vocabulary_size)
        self.method = method
        self.seed = seed
        self.vocabulary = None if vocabulary is None else [str(word) for word in vocabulary]
        self.negative_log_likelihood_tracker = keras.metrics.Mean(name="negative_log_likelihood")
        self.perplexity_tracker = _ExpOfMean(name="perplexity")
        self._create_parameters()

    # ------------------------------------------------------------------ structure
    def _create_parameters(self) -> None:
        """Both tables, from flat-Dirichlet rows (probabilities for EM, their logs for gradient)."""
        rng = np.random.default_rng(self.seed)
        words = _dirichlet_rows(rng, self.num_topics, self.vocabulary_size)
        topics = _dirichlet_rows(rng, self.num_documents, self.num_topics)
        gradient = self.method == "gradient"
        suffix = "_logits" if gradient else ""
        self.word_parameters = self.add_weight(
            shape=words.shape,
            initializer=_constant(np.log(words) if gradient else words),
            trainable=gradient,
            aggregation="only_first_replica",
            name="word_given_topic" + suffix,
        )
        self.document_parameters = self.add_weight(
            shape=topics.shape,
            initializer=_constant(np.log(topics) if gradient else topics),
            trainable=gradient,
            aggregation="only_first_replica",
            name="topic_given_document" + suffix,
        )
        self.built = True

    @property
    def metrics(self):
        return [self.negative_log_likelihood_tracker, self.perplexity_tracker]

    @property
    def word_given_topic(self) -> tf.Tensor:
        """``p(x|z)`` ``[K, V]``, rows sum to 1."""
        if self.method == "gradient":
            return tf.nn.softmax(self.word_parameters, axis=-1)
        return tf.convert_to_tensor(self.word_parameters)

    @property
    def topic_given_document(self) -> tf.Tensor:
        """``p(z|y)`` ``[N, K]``, rows sum to 1."""
        return self._document_topics(None)

    def _document_topics(self, ids):
        """``p(z|y)`` rows ``ids`` (all rows when ``ids`` is None) → ``[B, K]``."""
        table = tf.convert_to_tensor(self.document_parameters)
        rows = table if ids is None else tf.gather(table, ids)
        return tf.nn.softmax(rows, axis=-1) if self.method == "gradient" else rows

    # ------------------------------------------------------------------ inputs
    @property
    def _expected_inputs(self) -> str:
        return f"a pair (document_ids int (batch,), counts float (batch, {self.vocabulary_size}))"

    def _inputs(self, inputs, densify: bool = True):
        """``(document_ids, counts)`` → int32 ``[B]`` and float32 ``[B, V]``, checked."""
        if not isinstance(inputs, (tuple, list)) or len(inputs) != 2:
            given = f"shape {tuple(inputs.shape)}" if hasattr(inputs, "shape") else type(inputs).__name__
            raise ValueError(f"PLSA inputs must be {self._expected_inputs}; got {given}.")
        ids, counts = self._document_ids(inputs[0]), self._counts(inputs[1], densify)
        if ids.shape[0] is not None and counts.shape[0] is not None and ids.shape[0] != counts.shape[0]:
            raise ValueError(
                f"PLSA inputs must be {self._expected_inputs} with one id per row of counts; "
                f"got {ids.shape[0]} ids for {counts.shape[0]} rows."
            )
        return ids, counts

    def _document_ids(self, ids):
        dtype = getattr(getattr(ids, "dtype", None), "name", None) or np.asarray(ids).dtype.name
        shape = tuple(getattr(ids, "shape", np.shape(ids)))
        if "int" not in dtype or not (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)):
            raise ValueError(
                f"PLSA inputs must be {self._expected_inputs}; document_ids got dtype {dtype} shaped {shape}."
            )
        if tf.executing_eagerly() and not isinstance(ids, keras.KerasTensor):
            values = np.asarray(ids)
            if values.size and (values.min() < 0 or values.max() >= self.num_documents):
                raise ValueError(
                    f"PLSA inputs must be {self._expected_inputs}; document ids must lie in "
                    f"[0, {self.num_documents}), got [{values.min()}, {values.max()}]."
                )
        return tf.reshape(tf.cast(ids, "int32"), (-1,))

    def _counts(self, counts, densify: bool = True):
        from kerasgen.validation import as_float_tensor

        hint = f"PLSA inputs are {self._expected_inputs}: word counts, one row per document."
        if hasattr(counts, "tocoo"):  # scipy.sparse
            coo = counts.tocoo()
            counts = tf.SparseTensor(
                np.stack([coo.row, coo.col], axis=1).astype(np.int64), coo.data, coo.shape
            )
        if isinstance(counts, tf.SparseTensor):
            shape = tuple(counts.shape)
            if (
                not counts.dtype.is_floating
                or len(shape) != 2
                or shape[1] not in (None, self.vocabulary_size)
            ):
                raise ValueError(
                    f"PLSA counts must be a floating-point tensor shaped (batch, {self.vocabulary_size}); "
                    f"got a {counts.dtype.name} SparseTensor shaped {shape}. {hint}"
                )
            if not densify:
                return counts
            counts = tf.sparse.to_dense(tf.sparse.reorder(counts))
        else:
            counts = as_float_tensor(counts, (self.vocabulary_size,), "PLSA counts", hint)
        return tf.cast(counts, "float32")

    def _unpack(self, data, densify: bool = True):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        if y is not None and not isinstance(x, (tuple, list)):  # a dataset of (ids, counts) pairs
            x = (x, y)
        return self._inputs(x, densify)

    # ------------------------------------------------------------------ the model
    def document_log_likelihood(self, topics, counts):
        """``Σ_x n(x,y) log p(x|y)`` ``[B]`` for mixtures ``topics`` ``[B, K]`` (no multinomial term)."""
        probabilities = tf.matmul(topics, self.word_given_topic)
        return tf.reduce_sum(counts * tf.math.log(tf.maximum(probabilities, _TINY)), axis=-1)

    def call(self, inputs):
        """Log-likelihood of each document's counts under its own mixture, ``[B]`` (``predict``)."""
        ids, counts = self._inputs(inputs)
        return self.document_log_likelihood(self._document_topics(ids), counts)

    def train_step(self, data):
        ids, counts = self._unpack(data, densify=self.method == "gradient")
        if self.method == "gradient":
            log_likelihood = self._gradient_update(ids, counts)
        else:
            log_likelihood = self._em_update(ids, counts)
        return self._record(log_likelihood, counts)

    def test_step(self, data):
        ids, counts = self._unpack(data)
        return self._record(self.document_log_likelihood(self._document_topics(ids), counts), counts)

    def _record(self, log_likelihood, counts):
        """Per-token means weighted by token counts, so replicas and batches combine exactly."""
        tokens = tf.reduce_sum(counts.values if isinstance(counts, tf.SparseTensor) else counts)
        per_token = -tf.reduce_sum(log_likelihood) / tf.maximum(tokens, 1.0)
        self.negative_log_likelihood_tracker.update_state(per_token, sample_weight=tokens)
        self.perplexity_tracker.update_state(per_token, sample_weight=tokens)
        return {m.name: m.result() for m in self.metrics}

    def _em_update(self, ids, counts):
        """One E+M step on the global batch; returns ``Σ_x n log p(x|y)`` ``[B]`` before the step.

        With R = n(x,y) / p(x|y), the M-step sums are ``Σ_x n C_xyz = p(z|y) (R p(x|z)ᵀ)`` and
        ``Σ_y n C_xyz = p(x|z) (p(z|y)ᵀ R)``: two matmuls, never the ``[B, V, K]`` responsibilities.
        Sparse counts evaluate p(x|y) at their non-zero entries only.
        """
        words = self.word_given_topic  # [K, V]
        topics = self._document_topics(ids)  # [B, K]
        if isinstance(counts, tf.SparseTensor):
            rows, columns = counts.indices[:, 0], counts.indices[:, 1]
            mixture = tf.gather(topics, rows)  # [nnz, K]
            word_columns = tf.transpose(tf.gather(words, columns, axis=1))  # [nnz, K]
            probabilities = tf.maximum(tf.reduce_sum(mixture * word_columns, axis=-1), _TINY)  # p(x|y)
            values = tf.cast(counts.values, "float32")
            log_likelihood = tf.math.unsorted_segment_sum(
                values * tf.math.log(probabilities), rows, tf.shape(topics)[0]
            )
            ratio = tf.SparseTensor(counts.indices, values / probabilities, counts.dense_shape)
            document_stats = topics * tf.sparse.sparse_dense_matmul(ratio, words, adjoint_b=True)
            word_stats = replica_sum(
                words * tf.transpose(tf.sparse.sparse_dense_matmul(ratio, topics, adjoint_a=True))
            )
        else:
            probabilities = tf.maximum(tf.matmul(topics, words), _TINY)  # p(x|y) [B, V]
            log_likelihood = tf.reduce_sum(counts * tf.math.log(probabilities), axis=-1)
            ratio = counts / probabilities  # R = n(x,y) / p(x|y)
            # Σ_x n(x,y) C_xyz [B, K]: its rows sum to n(y), so normalising the row divides by n(y)
            document_stats = topics * tf.matmul(ratio, words, transpose_b=True)
            # Σ_y n(x,y) C_xyz [K, V] over the global batch
            word_stats = replica_sum(words * tf.matmul(topics, ratio, transpose_a=True))
        # rows of p(z|y): scatter into the full table (duplicated ids add up, replicas too)
        shape = (self.num_documents, self.num_topics)
        table_stats = replica_sum(tf.scatter_nd(ids[:, None], document_stats, shape))
        table_mass = tf.reduce_sum(table_stats, axis=-1, keepdims=True)
        old_table = tf.convert_to_tensor(self.document_parameters)
        self.document_parameters.assign(
            tf.where(table_mass > 0, table_stats / tf.maximum(table_mass, _TINY), old_table)
        )
        word_mass = tf.reduce_sum(word_stats, axis=-1, keepdims=True)
        self.word_parameters.assign(tf.where(word_mass > 0, word_stats / tf.maximum(word_mass, _TINY), words))
        return log_likelihood

    def _gradient_update(self, ids, counts):
        """One optimizer step on ``−Σ n log p(x|y) / Σ n`` (global token count over replicas)."""
        tokens = replica_sum(tf.reduce_sum(counts))
        variables = [self.word_parameters, self.document_parameters]
        with tf.GradientTape() as tape:
            log_likelihood = self.document_log_likelihood(self._document_topics(ids), counts)
            loss = -tf.reduce_sum(log_likelihood) / tf.maximum(tokens, 1.0)
            scaled = self.optimizer.scale_loss(loss)
        gradients = tape.gradient(scaled, variables)
        self.optimizer.apply(gradients, variables)
        return log_likelihood

    # ------------------------------------------------------------------ fit and helpers
    def fit(self, x=None, y=None, batch_size=None, **kwargs):
        """``keras.Model.fit`` on ``(document_ids, counts)``; arrays default to one full batch (full EM).

        Without ``batch_size`` the arrays are fed as one tensor, unshuffled (the order does not
        matter to the M-step, and Keras' per-epoch slicing of arrays costs more than the step).
        """
        if isinstance(x, (tuple, list)) or hasattr(x, "shape"):  # arrays, not a dataset or generator
            ids, counts = self._inputs(x if y is None else (x, y), densify=False)  # bad inputs raise here
            if batch_size is None:
                x, y = tf.data.Dataset.from_tensors((ids, counts)), None
                kwargs.setdefault("shuffle", False)
        return super().fit(x, y, batch_size=batch_size, **kwargs)

    def set_parameters(self, word_given_topic=None, topic_given_document=None) -> None:
        """Start from given tables ``p(x|z)`` ``[K, V]`` and/or ``p(z|y)`` ``[N, K]`` (rows normalised)."""
        for table, variable in (
            (word_given_topic, self.word_parameters),
            (topic_given_document, self.document_parameters),
        ):
            if table is None:
                continue
            table = np.asarray(table, dtype=np.float64)
            if table.shape != tuple(variable.shape):
                raise ValueError(
                    f"{variable.name} must be shaped {tuple(variable.shape)}, got {table.shape}."
                )
            if np.any(table < 0) or np.any(table.sum(axis=1) <= 0):
                raise ValueError(f"{variable.name} needs non-negative rows with a positive sum.")
            table = table / table.sum(axis=1, keepdims=True)
            if self.method == "gradient":
                table = np.log(np.maximum(table, _TINY))
            variable.assign(table.astype(np.float32))

    def top_words(self, vocabulary: Sequence[str] | None = None, n: int = 10) -> list[list[str]]:
        """The ``n`` most probable words of each topic under ``p(x|z)``, most probable first.

        ``vocabulary`` defaults to the one the model carries (its ``vocabulary`` argument).
        """
        vocabulary = self.vocabulary if vocabulary is None else vocabulary
        if vocabulary is None:
            raise ValueError("This model carries no vocabulary; pass the corpus vocabulary.")
        if len(vocabulary) != self.vocabulary_size:
            raise ValueError(f"vocabulary must hold {self.vocabulary_size} words, got {len(vocabulary)}.")
        order = np.argsort(-self.word_given_topic.numpy(), axis=-1, kind="stable")[:, :n]
        return [[vocabulary[i] for i in row] for row in order]

    def fold_in(self, counts, steps: int = 50, batch_size: int = 1024) -> np.ndarray:
        """``p(z|y)`` ``[M, K]`` for new documents' counts ``[M, V]``: EM on ``p(z|y)`` alone.

        ``p(x|z)`` stays fixed; each row starts uniform and takes ``steps`` updates
        ``p(z|y) ← Σ_x n(x,y) C_xyz / n(y)``. Documents without tokens keep the uniform mixture.
        """
        words = self.word_given_topic
        parts = []
        for _, chunk in _chunks(self._dense_counts(counts), batch_size):
            topics = tf.fill((chunk.shape[0], self.num_topics), 1.0 / self.num_topics)
            for _ in range(steps):
                ratio = chunk / tf.maximum(tf.matmul(topics, words), _TINY)
                stats = topics * tf.matmul(ratio, words, transpose_b=True)
                mass = tf.reduce_sum(stats, axis=-1, keepdims=True)
                topics = tf.where(mass > 0, stats / tf.maximum(mass, _TINY), topics)
            parts.append(topics.numpy())
        return np.concatenate(parts) if parts else np.zeros((0, self.num_topics), np.float32)

    def perplexity(self, counts, observed_counts=None, steps: int = 50, batch_size: int = 1024) -> float:
        """Per-token perplexity ``exp(−Σ n log p(x|y) / Σ n)`` of new documents ``counts`` ``[M, V]``.

        Their mixtures ``p(z|y)`` are folded in (``fold_in``) on ``observed_counts`` when given,
        else on ``counts`` themselves. Folding in on the very tokens that are scored is
        optimistic (the mixture is fitted to them); for an honest held-out number split each
        document's tokens (``kerasgen.data.corpus.split_tokens``), fold in on one part and score
        the other (document completion).
        """
        counts = self._dense_counts(counts)
        observed = counts if observed_counts is None else self._dense_counts(observed_counts)
        if observed.shape != counts.shape:
            raise ValueError(
                f"observed_counts must be shaped like counts {counts.shape}, got {observed.shape}."
            )
        topics = self.fold_in(observed, steps=steps, batch_size=batch_size)
        log_likelihood = 0.0
        for start, chunk in _chunks(counts, batch_size):
            mixture = tf.constant(topics[start : start + chunk.shape[0]])
            log_likelihood += float(tf.reduce_sum(self.document_log_likelihood(mixture, chunk)))
        return float(np.exp(-log_likelihood / max(float(counts.sum()), 1.0)))

    def _dense_counts(self, counts) -> np.ndarray:
        if hasattr(counts, "toarray"):
            counts = counts.toarray()
        counts = np.asarray(counts, dtype=np.float32)
        if counts.ndim != 2 or counts.shape[1] != self.vocabulary_size:
            raise ValueError(f"counts must be shaped (batch, {self.vocabulary_size}), got {counts.shape}.")
        return counts

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "num_topics": self.num_topics,
            "num_documents": self.num_documents,
            "vocabulary_size": self.vocabulary_size,
            "method": self.method,
            "seed": self.seed,
            "vocabulary": self.vocabulary,
        }


def _dirichlet_rows(rng: np.random.Generator, rows: int, size: int) -> np.ndarray:
    """``rows`` draws from a flat Dirichlet over ``size`` outcomes (normalised exponentials)."""
    draws = rng.gamma(1.0, size=(rows, size)) + 1e-6
    return (draws / draws.sum(axis=1, keepdims=True)).astype(np.float32)


def _constant(values: np.ndarray):
    def initializer(shape, dtype=None):
        return tf.constant(values, dtype=dtype or "float32", shape=shape)

    return initializer


def _chunks(array: np.ndarray, size: int):
    for start in range(0, len(array), size):
        yield start, tf.constant(array[start : start + size])
