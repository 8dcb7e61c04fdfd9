"""DGCNN: post 6's dilated gated CNN for extractive reading comprehension."""

from __future__ import annotations

from typing import ClassVar

import keras
import tensorflow as tf
from keras import layers, ops

from kerasgen.ema import WeightAverage
from kerasgen.layers import AttentionPooling1D, DilatedGatedConv1D, MixEmbedding
from kerasgen.losses import binary_focal_loss

INPUT_NAMES = ("question_chars", "question_words", "passage_chars", "passage_words")
LOSSES = ("focal", "bce")


def _masked_mean(values, mask):
    """Mean of ``values [B, T]`` over the real positions of each row → ``[B]``."""
    mask = ops.cast(mask, "float32")
    return ops.sum(values * mask, axis=-1) / ops.maximum(ops.sum(mask, axis=-1), 1.0)


@keras.saving.register_keras_serializable(package="kerasgen")
class DGCNN(keras.Model):
    """Question + passage → per-character start/end probabilities gated by "the passage has an answer".

    Design §6(b), the author's 2019 Keras version:

    - ``MixEmbedding`` of characters and their jieba words, shared by question and passage, dropout;
    - question: ``DilatedGatedConv1D`` with rates ``question_rates`` (1, 2, 1) → ``AttentionPooling1D``
      → ``q_vec``;
    - ``question_match=True`` (off in the 2019 release; post 6's 2018 Q-E exact-match feature at
      character level) adds to each passage character's embedding a learned vector for "this
      character occurs in the question", the one place the passage sees the question token by token;
    - passage: ``[p_t ; q_vec]`` → Dense d (no bias) → ``DilatedGatedConv1D`` with rates
      ``passage_rates`` (1, 2, 4, 8, 16, 1) → ``h_t = [p_t ; q_vec]``;
    - ``g = sigmoid(w_g · AttentionPooling(h))``, ``p_start_t = g · sigmoid(w_s · h_t)``,
      ``p_end_t = g · sigmoid(w_e · h_t)``: sigmoids, so zero or several answers are representable.

    Loss per example (§6(c)): ``100 · (mean_t FL(s_t, p_start_t) + mean_t FL(e_t, p_end_t))`` over the
    passage's real characters, FL the binary focal loss (α = 0.25, γ = 2; ``loss="bce"`` for the
    ablation), averaged over the batch. Padding (id 0) never changes a real position's output.
    The weights' bias-corrected moving average (``ema_momentum``; 0 turns it off) is updated
    every step; ``EMAEvaluation`` evaluates with it and ``use_average_weights`` exports it.

    Inputs: a dict of int tensors ``question_chars``, ``question_words`` ``[B, Tq]`` and
    ``passage_chars``, ``passage_words`` ``[B, Tp]`` (0 = padding). Targets: ``{"start", "end"}``
    ``[B, Tp]`` 0/1. Output of ``call``: ``{"start", "end"}`` ``[B, Tp]`` and ``answer_exists`` ``[B]``.

    Metrics: ``loss``, ``start_loss``, ``end_loss``, ``exists_accuracy`` (the gate against
    "some target is 1", threshold ½).

    Reference: Su Jianlin, 基于CNN的阅读理解式问答模型: DGCNN, kexue.fm 2018.
    """

    metric_names: ClassVar[tuple[str, ...]] = ("loss", "start_loss", "end_loss", "exists_accuracy")

    def __init__(
        self,
        char_vocabulary_size: int,
        word_vocabulary_size: int = 0,
        width: int = 128,
        word_dim: int = 100,
        word_trainable: bool = True,
        question_match: bool = False,
        question_rates=(1, 2, 1),
        passage_rates=(1, 2, 4, 8, 16, 1),
        dropout: float = 0.1,
        loss: str = "focal",
        focal_alpha: float = 0.25,
        focal_gamma: float = 2.0,
        ema_momentum: float = 0.999,
        answer_threshold: float = 0.0,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}.")
        self.char_vocabulary_size, self.word_vocabulary_size = (
            int(char_vocabulary_size),
            int(word_vocabulary_size),
        )
        self.width, self.word_dim, self.word_trainable = int(width), int(word_dim), bool(word_trainable)
        self.question_rates, self.passage_rates = tuple(question_rates), tuple(passage_rates)
        self.dropout, self.loss_name = float(dropout), loss
        self.focal_alpha, self.focal_gamma = float(focal_alpha), float(focal_gamma)
        self.ema_momentum, self.seed = float(ema_momentum), seed
        if not answer_threshold >= 0.0:
            raise ValueError(f"answer_threshold must be ≥ 0, got {answer_threshold!r}.")
        self.answer_threshold = float(answer_threshold)
        self.embedding = MixEmbedding(
            self.char_vocabulary_size,
            self.word_vocabulary_size,
            self.width,
            self.word_dim,
            word_trainable=self.word_trainable,
            name="embedding",
        )
        self.use_question_match = bool(question_match)
        self.match_embedding = (
            layers.Embedding(2, self.width, name="match_embedding") if self.use_question_match else None
        )
        self.embedding_dropout = layers.Dropout(self.dropout, seed=seed, name="embedding_dropout")
        self.question_blocks = [
            DilatedGatedConv1D(self.width, 3, rate, self.dropout, seed=seed, name=f"question_block_{i}")
            for i, rate in enumerate(self.question_rates)
        ]
        self.question_pooling = AttentionPooling1D(name="question_pooling")
        self.passage_input = layers.Dense(self.width, use_bias=False, name="passage_input")
        self.passage_blocks = [
            DilatedGatedConv1D(self.width, 3, rate, self.dropout, seed=seed, name=f"passage_block_{i}")
            for i, rate in enumerate(self.passage_rates)
        ]
        self.answer_pooling = AttentionPooling1D(name="answer_pooling")
        self.exists_head = layers.Dense(1, name="exists_head")
        self.start_head = layers.Dense(1, name="start_head")
        self.end_head = layers.Dense(1, name="end_head")
        self.trackers = [keras.metrics.Mean(name=name) for name in self.metric_names]
        self.average = WeightAverage(self.ema_momentum) if self.ema_momentum > 0 else None
        self.text_encoder = None
        self._positions_function = None  # compiled on first use by ``predict_positions``
        self.build()

    def build(self, input_shape=None):
        if self.built:
            return
        chars = (None, None)
        self.embedding.build([chars, chars])
        if self.match_embedding is not None:
            self.match_embedding.build(chars)
        sequence = (None, None, self.width)
        for block in self.question_blocks:
            block.build(sequence)
        self.question_pooling.build(sequence)
        self.passage_input.build((None, None, 2 * self.width))
        for block in self.passage_blocks:
            block.build(sequence)
        doubled = (None, None, 2 * self.width)
        self.answer_pooling.build(doubled)
        for head in (self.exists_head, self.start_head, self.end_head):
            head.build(doubled)
        if self.average is not None:
            self.average.build(self, self.trainable_variables)
        self.built = True

    @property
    def metrics(self):
        return list(self.trackers)

    # ------------------------------------------------------------------ forward
    def _check_inputs(self, inputs):
        if not isinstance(inputs, dict) or set(INPUT_NAMES) - set(inputs):
            got = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
            raise ValueError(
                f"DGCNN takes a dict with keys {INPUT_NAMES} (int ids, 0 = padding), got {got}. "
                "Build it from text with kerasgen.models.dgcnn.MRCTextEncoder.encode_batch."
            )
        checked = {}
        for name in INPUT_NAMES:
            value = inputs[name]
            if len(value.shape) != 2:
                raise ValueError(
                    f"DGCNN input {name!r} must be [batch, length] ids, got shape {value.shape}."
                )
            if not keras.backend.standardize_dtype(value.dtype).startswith(("int", "uint")):
                raise ValueError(f"DGCNN input {name!r} must hold integer ids, got dtype {value.dtype}.")
            checked[name] = ops.cast(value, "int32")
        return checked

    def _encode(self, chars, words, training):
        mask = ops.greater(chars, 0)
        x = self.embedding_dropout(self.embedding([chars, words]), training=training)
        return x * ops.cast(mask, x.dtype)[..., None], mask

    def question_match(self, question_chars, passage_chars):
        """1 where a passage character occurs in the question, else 0 ``[B, Tp]`` (ids > 1: no padding
        or unknown characters). Post 6's 2018 feature (1), Q-E exact match, at character level."""
        q = ops.cast(question_chars, "int32")[:, None, :]
        p = ops.cast(passage_chars, "int32")[:, :, None]
        return ops.cast(ops.any(ops.logical_and(ops.equal(p, q), ops.greater(q, 1)), axis=-1), "int32")

    def _passage_states(self, inputs, training):
        """``(h [B, Tp, 2d], passage mask)``: the passage encoder's output beside ``q_vec``."""
        q, q_mask = self._encode(inputs["question_chars"], inputs["question_words"], training)
        for block in self.question_blocks:
            q = block(q, mask=q_mask, training=training)
        q_vec = self.question_pooling(q, mask=q_mask)
        p, p_mask = self._encode(inputs["passage_chars"], inputs["passage_words"], training)
        if self.match_embedding is not None:
            match = self.question_match(inputs["question_chars"], inputs["passage_chars"])
            p = p + self.match_embedding(match) * ops.cast(p_mask, p.dtype)[..., None]
        q_tiled = ops.broadcast_to(q_vec[:, None, :], ops.shape(p))
        p = self.passage_input(ops.concatenate([p, q_tiled], axis=-1))
        for block in self.passage_blocks:
            p = block(p, mask=p_mask, training=training)
        return ops.concatenate([p, q_tiled], axis=-1), p_mask

    def call(self, inputs, training=False):
        inputs = self._check_inputs(inputs)
        h, p_mask = self._passage_states(inputs, training)
        exists = ops.sigmoid(self.exists_head(self.answer_pooling(h, mask=p_mask)))  # [B, 1]
        real = ops.cast(p_mask, "float32")
        start = exists * ops.sigmoid(ops.squeeze(self.start_head(h), -1)) * real
        end = exists * ops.sigmoid(ops.squeeze(self.end_head(h), -1)) * real
        return {"start": start, "end": end, "answer_exists": exists[:, 0]}

    def predict_positions(self, inputs) -> dict:
        """``call`` in inference mode as a ``tf.function`` traced once per model, for answering."""
        if self._positions_function is None:
            self._positions_function = tf.function(
                lambda batch: self(batch, training=False), reduce_retracing=True
            )
        return self._positions_function(inputs)

    def attention_weights(self, inputs):
        """Answer-pooling weights over the passage ``[B, Tp]`` (what the gate looks at)."""
        h, p_mask = self._passage_states(self._check_inputs(inputs), False)
        return self.answer_pooling.attention_weights(h, p_mask)

    # ------------------------------------------------------------------ objective
    def position_loss(self, targets, probabilities):
        """Elementwise loss ``[B, T]``: binary focal loss, or binary cross-entropy for ``loss="bce"``."""
        if self.loss_name == "focal":
            return binary_focal_loss(targets, probabilities, self.focal_alpha, self.focal_gamma)
        p = ops.clip(ops.cast(probabilities, "float32"), 1e-8, 1.0 - 1e-8)
        y = ops.cast(targets, "float32")
        return -(y * ops.log(p) + (1.0 - y) * ops.log(1.0 - p))

    def loss_terms(self, inputs, targets, training=False):
        """``(start_loss [B], end_loss [B], outputs)``, each term ×100 as §6(c)."""
        outputs = self(inputs, training=training)
        mask = ops.greater(ops.cast(inputs["passage_chars"], "int32"), 0)
        start = 100.0 * _masked_mean(self.position_loss(targets["start"], outputs["start"]), mask)
        end = 100.0 * _masked_mean(self.position_loss(targets["end"], outputs["end"]), mask)
        return start, end, outputs

    def _record(self, start, end, outputs, targets):
        has_answer = ops.cast(ops.max(ops.cast(targets["start"], "float32"), axis=-1) > 0.5, "float32")
        predicted = ops.cast(outputs["answer_exists"] > 0.5, "float32")
        values = {
            "loss": start + end,
            "start_loss": start,
            "end_loss": end,
            "exists_accuracy": ops.cast(ops.equal(has_answer, predicted), "float32"),
        }
        for tracker in self.trackers:
            tracker.update_state(values[tracker.name])
        return {m.name: m.result() for m in self.metrics}

    def _unpack(self, data):
        inputs, targets, _ = keras.utils.unpack_x_y_sample_weight(data)
        if targets is None or set(targets) < {"start", "end"}:
            raise ValueError("DGCNN trains on (inputs, {'start': [B, Tp], 'end': [B, Tp]}) 0/1 targets.")
        return inputs, targets

    def train_step(self, data):
        inputs, targets = self._unpack(data)
        replicas = self.distribute_strategy.num_replicas_in_sync
        with tf.GradientTape() as tape:
            start, end, outputs = self.loss_terms(inputs, targets, training=True)
            loss = self.optimizer.scale_loss(ops.mean(start + end) / replicas)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        if self.average is not None:
            self.average.update()
        return self._record(start, end, outputs, targets)

    def test_step(self, data):
        inputs, targets = self._unpack(data)
        start, end, outputs = self.loss_terms(inputs, targets)
        return self._record(start, end, outputs, targets)

    # ------------------------------------------------------------------ answering raw text
    def attach_text_encoder(self, encoder) -> None:
        """Give the model the ``MRCTextEncoder`` its vocabularies came from (saved with it as an asset)."""
        if encoder.char_vocabulary_size != self.char_vocabulary_size or (
            encoder.word_vocabulary_size != self.word_vocabulary_size
        ):
            raise ValueError(
                f"The encoder's vocabularies ({encoder.char_vocabulary_size} chars, "
                f"{encoder.word_vocabulary_size} words) do not match the model's "
                f"({self.char_vocabulary_size}, {self.word_vocabulary_size})."
            )
        self.text_encoder = encoder

    def answer(
        self, question: str, passages, max_answer_length: int = 32, window: int = 256, stride: int = 128
    ) -> tuple[str, float]:
        """The answer to ``question`` from one passage or a list of them, with its score.

        Returns ``("", 0.0)`` when no span scores above post 6's threshold, and ``("", score)``
        when the best answer's voted score is below ``answer_threshold`` (the question is judged
        answerless; see :func:`~kerasgen.models.dgcnn.answering.calibrate_threshold`). Long
        passages are read in overlapping windows; answers are substrings of the passages as given.
        """
        return self.answer_many([(question, passages)], max_answer_length, window, stride)[0]

    def answer_many(
        self, items, max_answer_length: int = 32, window: int = 256, stride: int = 128, progress=None
    ) -> list[tuple[str, float]]:
        """``answer`` for a list of ``(question, passages)`` pairs, batched across questions."""
        from kerasgen.models.dgcnn.answering import answer_questions

        if self.text_encoder is None:
            raise ValueError(
                "This DGCNN has no text encoder: load a trained one (kerasgen.zoo.load('dgcnn_zh')) "
                "or call attach_text_encoder(MRCTextEncoder.build(texts)) first."
            )
        checked = []
        for question, passages in items:
            if not isinstance(passages, (str, list, tuple)):
                raise ValueError(
                    f"Passages must be a string or a list of strings, got {type(passages).__name__}."
                )
            passages = [passages] if isinstance(passages, str) else list(passages)
            if not isinstance(question, str) or not question.strip():
                raise ValueError(f"The question must be a non-empty string, got {question!r}.")
            if not passages or not all(isinstance(p, str) for p in passages):
                raise ValueError("Give at least one passage, as a string or a list of strings.")
            checked.append((question, passages))
        return answer_questions(
            self,
            self.text_encoder,
            checked,
            max_answer_length,
            window,
            stride,
            min_score=self.answer_threshold,
            progress=progress,
        )

    def save_assets(self, dir_path) -> None:
        if self.text_encoder is not None:
            self.text_encoder.save(f"{dir_path}/text_encoder.json")

    def load_assets(self, dir_path) -> None:
        import os

        from kerasgen.models.dgcnn.text_encoder import MRCTextEncoder

        path = f"{dir_path}/text_encoder.json"
        if os.path.exists(path):
            self.attach_text_encoder(MRCTextEncoder.load(path))

    # ------------------------------------------------------------------ weight average
    def use_average_weights(self) -> None:
        """Replace the weights by their debiased moving average (export; no-op without EMA)."""
        if self.average is not None:
            self.average.assign_averages()

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "char_vocabulary_size": self.char_vocabulary_size,
            "word_vocabulary_size": self.word_vocabulary_size,
            "width": self.width,
            "word_dim": self.word_dim,
            "word_trainable": self.word_trainable,
            "question_match": self.use_question_match,
            "question_rates": list(self.question_rates),
            "passage_rates": list(self.passage_rates),
            "dropout": self.dropout,
            "loss": self.loss_name,
            "focal_alpha": self.focal_alpha,
            "focal_gamma": self.focal_gamma,
            "ema_momentum": self.ema_momentum,
            "answer_threshold": self.answer_threshold,
            "seed": self.seed,
        }
