"""DGCNN training batches: one passage per question, random crops, every answer occurrence labelled."""

from __future__ import annotations

import math

import keras
import numpy as np

from kerasgen.data.mrc import MRCExample, find_all
from kerasgen.models.dgcnn.text_encoder import MRCTextEncoder, pad_batch

LABELS = ("all", "annotated")


class MRCBatches(keras.utils.PyDataset):
    """``(inputs, {"start", "end"})`` batches for ``DGCNN.fit``, redrawn every epoch (post 6, §6(d)).

    Each epoch visits every example once in a new order and takes one of its passages at random.
    Passages longer than ``max_passage_length`` are cropped (post 6's augmentation, adapted to
    SQuAD-style contexts that are longer than WebQA's): with probability ``random_crop`` a random
    window of 128 to ``max_passage_length`` characters, which may cut the answer away and so gives a
    negative; otherwise a ``max_passage_length`` window at a random offset that contains the first
    answer (answerless passages: the first ``max_passage_length`` characters). With
    ``training=False`` every passage is read from its start (a fixed validation set).

    Targets mark the first and last character of every occurrence of every gold answer inside the
    crop (``label="all"``, faithful to WebQA), or only of the annotated spans (``"annotated"``).

    Args:
        examples: ``MRCExample`` s (positives and negatives).
        encoder: the ``MRCTextEncoder`` (vocabularies fixed beforehand).
        batch_size, max_passage_length, max_question_length: shapes (every batch is padded to
            the maximum lengths, so the train step is traced once).
        seed: seed of the order and the crops (epoch e uses ``seed + e``).
    """

    def __init__(
        self,
        examples: list[MRCExample],
        encoder: MRCTextEncoder,
        batch_size: int = 64,
        max_passage_length: int = 256,
        max_question_length: int = 64,
        random_crop: float = 0.5,
        min_crop: int = 128,
        label: str = "all",
        training: bool = True,
        seed: int = 0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if label not in LABELS:
            raise ValueError(f"label must be one of {LABELS}, got {label!r}.")
        if not examples:
            raise ValueError("MRCBatches needs at least one example.")
        self.examples, self.encoder = list(examples), encoder
        self.batch_size, self.max_passage_length = int(batch_size), int(max_passage_length)
        self.max_question_length, self.random_crop = int(max_question_length), float(random_crop)
        self.min_crop, self.label, self.training, self.seed = int(min_crop), label, bool(training), int(seed)
        self.epoch = 0
        self._cache: dict[str, tuple[str, np.ndarray, np.ndarray]] = {}
        self._order = self._shuffled()

    def _encoded(self, text: str) -> tuple[str, np.ndarray, np.ndarray]:
        if text not in self._cache:
            normalised = self.encoder.normalise([text])[0]
            chars, words = self.encoder.encode(normalised, normalised=True)
            self._cache[text] = (normalised, chars, words)
        return self._cache[text]

    def _shuffled(self) -> np.ndarray:
        if not self.training:
            return np.arange(len(self.examples))
        return np.random.default_rng(self.seed + self.epoch).permutation(len(self.examples))

    def __len__(self) -> int:
        return math.ceil(len(self.examples) / self.batch_size)

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self._order = self._shuffled()

    def _crop(self, length: int, spans: list[tuple[int, int]], rng) -> tuple[int, int]:
        size = self.max_passage_length
        if length <= size:
            return 0, length
        if not self.training:
            return 0, size
        if rng.random() < self.random_crop:
            window = int(rng.integers(min(self.min_crop, size), size + 1))
            begin = int(rng.integers(0, length - window + 1))
            return begin, begin + window
        if not spans:
            return 0, size
        first_start, first_end = spans[0]
        low, high = max(0, first_end - size), min(first_start, length - size)
        begin = int(rng.integers(low, high + 1)) if high >= low else max(0, min(first_start, length - size))
        return begin, begin + size

    def _spans(self, example: MRCExample, passage, normalised: str) -> list[tuple[int, int]]:
        if self.label == "annotated":
            return sorted(passage.spans(all_occurrences=False))
        spans = set()
        for answer in example.answers:
            text = self.encoder.normalise([answer])[0]
            spans.update((s, s + len(text)) for s in find_all(normalised, text) if text)
        return sorted(spans)

    def example_arrays(self, example: MRCExample, rng) -> tuple:
        """``(q chars, q words, p chars, p words, start, end)`` of one example (a sampled crop)."""
        passage = (
            example.passages[int(rng.integers(len(example.passages)))] if self.training else example.passage
        )
        normalised, chars, words = self._encoded(passage.text)
        spans = self._spans(example, passage, normalised)
        begin, end = self._crop(len(normalised), spans, rng)
        start_target = np.zeros(end - begin, "float32")
        end_target = np.zeros(end - begin, "float32")
        for s, e in spans:
            if begin <= s and e <= end:
                start_target[s - begin], end_target[e - 1 - begin] = 1.0, 1.0
        _, q_chars, q_words = self._encoded(example.question)
        q = slice(0, self.max_question_length)
        return q_chars[q], q_words[q], chars[begin:end], words[begin:end], start_target, end_target

    def __getitem__(self, index: int):
        rng = np.random.default_rng([self.seed, self.epoch, int(index)])
        rows = [
            self.example_arrays(self.examples[i], rng)
            for i in self._order[index * self.batch_size : (index + 1) * self.batch_size]
        ]
        length = self.max_passage_length  # fixed shapes: one trace of the train step
        inputs = {
            "question_chars": pad_batch([r[0] for r in rows], self.max_question_length),
            "question_words": pad_batch([r[1] for r in rows], self.max_question_length),
            "passage_chars": pad_batch([r[2] for r in rows], length),
            "passage_words": pad_batch([r[3] for r in rows], length),
        }
        targets = {
            "start": pad_batch([r[4] for r in rows], length).astype("float32"),
            "end": pad_batch([r[5] for r in rows], length).astype("float32"),
        }
        return inputs, targets
