"""Character bigram language model and Viterbi decoding for OCR correction (post 1, steps 9-10).

The classifier gives, per character position, a few candidates ``{char: W}``; the line is read as
the sequence ``s`` that maximises (post step 10, in log space to avoid underflow on long lines)

    sum_i log W(s_i)  +  lm_weight * [log P(s_1 | <s>) + sum_i log P(s_{i+1} | s_i)].

Two estimators provide ``log_prob(previous, char)`` (``previous=None`` is the sentence start):

* :class:`AdditiveBigram` — the post's own: ``P(b|a) = (#(ab) + α) / (#(a) + α·V)``; used for the post's
  电视 example.
* :class:`BigramLanguageModel` — interpolated Kneser-Ney (default) or interpolated absolute
  discounting, with an ``<unk>`` share for characters outside the vocabulary, a sentence-start state,
  pruning of rare bigrams and a compact ``.npz`` file.

:func:`build_language_model` counts jieba's dictionary (each word's frequency credited to its
characters and to the character bigrams inside it) plus the shared MRC texts (CMRC 2018 trial, DRCD
converted to simplified, CAIL 2019; read with :func:`kerasgen.data.mrc.load_mrc_pool`). Never Wikipedia.
Command line: ``python -m kerasgen.models.ocr.language_model --out lm.npz [--mrc-dir DIR]``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import math
import operator
import os
import re
import time
import zipfile
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

logger = logging.getLogger(__name__)

START = "<s>"
UNKNOWN = "<unk>"
FORMAT = "kerasgen-bigram-lm-1"
SMOOTHINGS = ("kneser_ney", "absolute")
# A sentence starts at the beginning of a text line and after one of these marks.
_SENTENCE_END = "。！？!?；;"
_START_RE = re.compile(rf"(?:^|[{_SENTENCE_END}])\s*(\S)", re.MULTILINE)
_WHITESPACE_RE = re.compile(r"\s+")
# Probability floor for classifier scores in the Viterbi search (log 0 would be -inf).
_PROB_FLOOR = 1e-30


class LanguageModel(Protocol):
    """Anything :func:`viterbi` can decode with."""

    def log_prob(self, previous: str | None, char: str) -> float: ...


# ---------------------------------------------------------------------------------- counting


def _bigram_key(key: tuple[str | None, str] | str) -> tuple[str | None, str]:
    if isinstance(key, str):
        if len(key) != 2:
            raise ValueError(f"A string bigram key must be two characters, got {key!r}.")
        return key[0], key[1]
    previous, char = key
    return (None if previous in (None, START) else previous), char


def count_texts(
    texts: Iterable[str],
    word_frequencies: Mapping[str, float] | None = None,
    charset: Iterable[str] | None = None,
    word_weight: float = 1.0,
) -> tuple[Counter, Counter]:
    """Character unigram and bigram counts of ``texts`` plus a word-frequency list.

    Texts: every character counts once as a unigram; every pair of adjacent non-space characters is a
    bigram ``(a, b)``; a sentence start (line start, or after 。！？!?；;) adds ``(None, b)``.
    Words (jieba's ``dict.txt``): a word of frequency ``f`` adds ``word_weight * f`` to each of its
    characters and to each bigram inside it (no bigram across words, no sentence start).
    With ``charset``, characters outside it are dropped, together with the bigrams that hold them.

    Returns ``(unigram, bigram)``: ``Counter[str]`` and ``Counter[(previous | None, char)]``.
    """
    unigram: Counter = Counter()
    pairs: Counter = Counter()  # two-character strings, counted in C by Counter.update
    starts: Counter = Counter()
    for text in texts:
        unigram.update(text)
        for run in _WHITESPACE_RE.split(text):
            if len(run) > 1:
                pairs.update(map(operator.add, run[:-1], run[1:]))
        starts.update(match.group(1) for match in _START_RE.finditer(text))
    for char in [c for c in unigram if c.isspace()]:
        del unigram[char]
    if word_frequencies:
        for word, frequency in word_frequencies.items():
            weight = word_weight * frequency
            if weight <= 0:
                continue
            for char in word:
                unigram[char] += weight
            for i in range(len(word) - 1):
                pairs[word[i : i + 2]] += weight
    allowed = None if charset is None else frozenset(charset)
    bigram: Counter = Counter()
    for pair, count in pairs.items():
        if (allowed is None or (pair[0] in allowed and pair[1] in allowed)) and not (
            pair[0].isspace() or pair[1].isspace()
        ):
            bigram[(pair[0], pair[1])] = count
    for char, count in starts.items():
        if allowed is None or char in allowed:
            bigram[(None, char)] = count
    if allowed is not None:
        unigram = Counter({c: n for c, n in unigram.items() if c in allowed})
    return unigram, bigram


def jieba_word_frequencies() -> dict[str, int]:
    """Word → frequency from jieba's bundled ``dict.txt`` (≈349k words, total ≈60 M)."""
    try:
        import jieba
    except ImportError as error:  # pragma: no cover - a declared dependency
        raise ImportError("The OCR language model needs `pip install jieba` (for its dict.txt).") from error
    frequencies: dict[str, int] = {}
    with jieba.get_dict_file() as handle:
        for line in handle:
            parts = line.decode("utf-8").split()
            if len(parts) >= 2 and parts[1].isdigit():
                frequencies[parts[0]] = frequencies.get(parts[0], 0) + int(parts[1])
    return frequencies


# ------------------------------------------------------------------------------ the post's model


class AdditiveBigram:
    """The post's estimator (step 10): ``P(b|a) = (#(ab) + α) / (#(a) + α·V)``.

    ``#(a)`` is the unigram count of ``a``, ``#(ab)`` the bigram count, ``V`` the vocabulary size
    (default: the number of distinct characters in the counts). As in the post's Viterbi there is no
    sentence-start term: ``log_prob(None, char) = 0``.

    Args:
        unigram: ``{char: #(char)}``.
        bigram: ``{(a, b): #(ab)}`` (or ``{"ab": #(ab)}``).
        alpha: the additive constant α > 0.
        vocabulary_size: ``V``; ``None`` counts the characters seen.

    Example:
        >>> lm = AdditiveBigram({"电": 145001}, {("电", "视"): 12426}, vocabulary_size=3062)
        >>> lm.log_prob("电", "视") > lm.log_prob("电", "柳")
        True
    """

    def __init__(
        self,
        unigram: Mapping[str, float],
        bigram: Mapping[tuple[str, str] | str, float],
        alpha: float = 1.0,
        vocabulary_size: int | None = None,
    ) -> None:
        if alpha <= 0:
            raise ValueError(f"alpha must be > 0, got {alpha}.")
        self.unigram = dict(unigram)
        self.bigram = {_bigram_key(k): float(v) for k, v in bigram.items()}
        self.alpha = float(alpha)
        if vocabulary_size is None:
            chars = set(self.unigram) | {c for pair in self.bigram for c in pair if c is not None}
            vocabulary_size = len(chars)
        self.vocabulary_size = max(int(vocabulary_size), 1)

    def log_prob(self, previous: str | None, char: str) -> float:
        """``log (#(ab) + α) - log (#(a) + α·V)``; 0 at the sentence start."""
        if previous is None:
            return 0.0
        numerator = self.bigram.get((previous, char), 0.0) + self.alpha
        denominator = self.unigram.get(previous, 0.0) + self.alpha * self.vocabulary_size
        return math.log(numerator) - math.log(denominator)

    def get_config(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "vocabulary_size": self.vocabulary_size}


# ------------------------------------------------------------------------------ smoothed model


class BigramLanguageModel:
    """Character bigram LM with interpolated Kneser-Ney (or absolute-discounting) smoothing.

    With ``c(ab)`` the bigram counts, ``c(a·) = Σ_b c(ab)`` (``a`` may be the sentence start ``<s>``),
    a discount ``0 < D < 1`` and the set ``K`` of kept bigrams (``c(ab) >= min_count``):

        P(b | a) = max(c(ab) - D, 0) / c(a·) · [ab ∈ K]  +  γ(a) · P_low(b)
        γ(a)     = 1 - Σ_{b: ab ∈ K} max(c(ab) - D, 0) / c(a·)       (γ(a) = 1 when c(a·) = 0)

    γ(a) is ``D·N1+(a·)/c(a·)`` without pruning; pruned bigrams hand their mass to it, so every row
    still sums to one. The lower order, over the ``V`` vocabulary characters and ``<unk>``:

        kneser_ney: P_low(b) = (N1+(·b) + β) / (Σ_b' N1+(·b') + β (V + 1)),  N1+(·b) = |{a: c(ab) > 0}|
        absolute:   P_low(b) = (c(b) + β) / (Σ_b' c(b') + β (V + 1))          (unigram counts)

    (``N1+`` is counted before pruning.) Characters outside the vocabulary all map to ``<unk>``, whose
    probability ``γ(a)·P_low(<unk>)`` is small but finite; an unknown *previous* character backs off
    to ``P_low``. So ``Σ_{b ∈ V ∪ {<unk>}} P(b|a) = 1`` for every ``a``.

    The counts are kept as CSR arrays (rows = previous character, then ``<s>``); :meth:`log_prob`
    reads a dict of the kept bigrams' log probabilities built from them, falling back to
    ``log γ(a) + log P_low(b)``, so Viterbi over a 30-character line with 5 candidates takes well under
    a millisecond.

    Args:
        unigram: ``{char: count}`` (word-weighted counts may be fractional).
        bigram: ``{(previous, char): count}`` with ``previous=None`` (or ``"<s>"``) for the sentence
            start; two-character string keys ``"ab"`` are accepted too.
        discount: ``D``.
        min_count: bigrams with a count below it are pruned (file size); ``1`` keeps all.
        smoothing: ``"kneser_ney"`` or ``"absolute"`` (lower order above).
        unigram_alpha: ``β``, the additive constant of the lower order (> 0, gives ``<unk>`` its share).
        charset: the vocabulary; other characters are ``<unk>`` and their counts are dropped.
            ``None``: every character in the counts.

    Example:
        >>> lm = BigramLanguageModel.from_texts(["电视机", "电视台", "电话"])
        >>> lm.log_prob("电", "视") > lm.log_prob("电", "话") > lm.log_prob("电", "柳")
        True

    Reference: Kneser & Ney 1995; Chen & Goodman 1998, "An empirical study of smoothing techniques".
    """

    def __init__(
        self,
        unigram: Mapping[str, float],
        bigram: Mapping[tuple[str | None, str] | str, float],
        discount: float = 0.75,
        min_count: float = 1.0,
        smoothing: str = "kneser_ney",
        unigram_alpha: float = 0.5,
        charset: Iterable[str] | None = None,
    ) -> None:
        self._check_config(discount, min_count, smoothing, unigram_alpha)
        bigrams: dict[tuple[str | None, str], float] = {}
        for key, value in bigram.items():
            if value > 0:
                key = _bigram_key(key)
                bigrams[key] = bigrams.get(key, 0.0) + float(value)
        if charset is not None:
            chars = sorted(set(charset))
        else:
            seen = {c for pair in bigrams for c in pair if c is not None}
            chars = sorted({c for c, n in unigram.items() if n > 0} | seen)
        if START in chars or UNKNOWN in chars:
            raise ValueError(f"{START!r} and {UNKNOWN!r} are reserved and cannot be vocabulary entries.")
        index = {c: i for i, c in enumerate(chars)}
        size = len(chars)
        rows, cols, counts = [], [], []
        for (previous, char), count in bigrams.items():
            a = size if previous is None else index.get(previous)
            b = index.get(char)
            if a is not None and b is not None:
                rows.append(a)
                cols.append(b)
                counts.append(count)
        rows_array = np.asarray(rows, dtype=np.int64)
        cols_array = np.asarray(cols, dtype=np.int64)
        counts_array = np.asarray(counts, dtype=np.float64)
        totals = np.bincount(rows_array, weights=counts_array, minlength=size + 1)
        continuation = np.bincount(cols_array, minlength=size).astype(np.int64)
        unigram_counts = np.zeros(size, dtype=np.float64)
        for char, count in unigram.items():
            if char in index and count > 0:
                unigram_counts[index[char]] = float(count)
        keep = counts_array >= min_count
        order = np.lexsort((cols_array[keep], rows_array[keep]))
        kept_rows = rows_array[keep][order]
        indptr = np.zeros(size + 2, dtype=np.int64)
        np.cumsum(np.bincount(kept_rows, minlength=size + 1), out=indptr[1:])
        self._set_arrays(
            chars,
            indptr,
            cols_array[keep][order],
            counts_array[keep][order].astype(np.float32),
            totals,
            unigram_counts,
            continuation,
            {
                "discount": discount,
                "min_count": min_count,
                "smoothing": smoothing,
                "unigram_alpha": unigram_alpha,
            },
        )

    @staticmethod
    def _check_config(discount: float, min_count: float, smoothing: str, unigram_alpha: float) -> None:
        if not 0 < discount < 1:
            raise ValueError(f"discount must be in (0, 1), got {discount}.")
        if min_count < 0:
            raise ValueError(f"min_count must be >= 0, got {min_count}.")
        if smoothing not in SMOOTHINGS:
            raise ValueError(f"smoothing must be one of {SMOOTHINGS}, got {smoothing!r}.")
        if unigram_alpha <= 0:
            raise ValueError(f"unigram_alpha must be > 0, got {unigram_alpha}.")

    def _set_arrays(
        self,
        chars: Sequence[str],
        indptr: np.ndarray,
        indices: np.ndarray,
        counts: np.ndarray,
        totals: np.ndarray,
        unigram_counts: np.ndarray,
        continuation: np.ndarray,
        config: Mapping[str, Any],
    ) -> None:
        """Installs the sufficient statistics and derives γ(a) and P_low (the class docstring's equations)."""
        self.discount = float(config["discount"])
        self.min_count = float(config["min_count"])
        self.smoothing = str(config["smoothing"])
        self.unigram_alpha = float(config["unigram_alpha"])
        self._check_config(self.discount, self.min_count, self.smoothing, self.unigram_alpha)
        self.chars = list(chars)
        self._index = {c: i for i, c in enumerate(self.chars)}
        self._chars_array = np.array(self.chars, dtype=object)
        self._indptr = np.asarray(indptr, dtype=np.int64)
        self._indices = np.asarray(indices, dtype=np.int64)
        self._counts = np.asarray(counts, dtype=np.float32)
        self._totals = np.asarray(totals, dtype=np.float64)
        self._unigram = np.asarray(unigram_counts, dtype=np.float64)
        self._continuation = np.asarray(continuation, dtype=np.int64)
        size = len(self.chars)
        if (
            self._indptr.shape != (size + 2,)
            or self._indices.shape != self._counts.shape
            or self._indptr[-1] != len(self._indices)
            or self._totals.shape != (size + 1,)
            or self._unigram.shape != (size,)
            or self._continuation.shape != (size,)
            or (len(self._indices) and (self._indices.min() < 0 or self._indices.max() >= size))
        ):
            raise ValueError("Inconsistent bigram arrays (corrupt model file?).")
        low = (self._continuation if self.smoothing == "kneser_ney" else self._unigram).astype(np.float64)
        low = np.append(low, 0.0) + self.unigram_alpha  # last entry: <unk>
        self._log_low = np.log(low / low.sum())
        discounted = np.maximum(self._counts.astype(np.float64) - self.discount, 0.0)
        row_of = np.repeat(np.arange(size + 1), np.diff(self._indptr))
        kept_mass = np.bincount(row_of, weights=discounted, minlength=size + 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            gamma = np.where(self._totals > 0, 1.0 - kept_mass / self._totals, 1.0)
        # γ > 0 whenever a row has a count, since D > 0; the floor only guards rounding.
        self._log_gamma = np.log(np.maximum(gamma, 1e-300))
        # Every lookup is then one or two dict probes: the kept bigrams' log P, else log γ(a) + log P_low(b).
        keys_prev = np.append(self._chars_array, None)[row_of].tolist()
        keys_char = self._chars_array[self._indices].tolist()
        probs = discounted / np.maximum(self._totals[row_of], 1e-300)
        probs += np.exp(self._log_gamma[row_of] + self._log_low[self._indices])
        self._table = dict(zip(zip(keys_prev, keys_char, strict=True), np.log(probs).tolist(), strict=True))
        self._gamma = dict(zip([*self.chars, None], self._log_gamma.tolist(), strict=True))
        self._low = dict(zip(self.chars, self._log_low[:-1].tolist(), strict=True))
        self._log_low_unknown = float(self._log_low[-1])

    # ------------------------------------------------------------------------------ construction

    @classmethod
    def from_texts(
        cls,
        texts: Iterable[str],
        word_frequencies: Mapping[str, float] | None = None,
        charset: Iterable[str] | None = None,
        word_weight: float = 1.0,
        **kwargs: Any,
    ) -> BigramLanguageModel:
        """Counts ``texts`` (and a word-frequency list) with :func:`count_texts`, then smooths.

        ``kwargs`` go to the constructor (``discount``, ``min_count``, ``smoothing``, ``unigram_alpha``).
        """
        charset = None if charset is None else list(charset)
        unigram, bigram = count_texts(texts, word_frequencies, charset, word_weight)
        return cls(unigram, bigram, charset=charset, **kwargs)

    # ---------------------------------------------------------------------------------- lookups

    @property
    def vocabulary_size(self) -> int:
        """``V``, not counting ``<s>`` and ``<unk>``."""
        return len(self.chars)

    @property
    def num_bigrams(self) -> int:
        """Stored (kept) bigram entries, sentence-start ones included."""
        return len(self._indices)

    def __contains__(self, char: str) -> bool:
        return char in self._index

    def log_prob(self, previous: str | None, char: str) -> float:
        """``log P(char | previous)`` (natural log; ``previous=None``: sentence start); always finite."""
        value = self._table.get((previous, char))
        if value is not None:
            return value
        return self._gamma.get(previous, 0.0) + self._low.get(char, self._log_low_unknown)

    def log_probs(self, previous: str | None) -> np.ndarray:
        """``log P(b | previous)`` for every vocabulary character ``b`` then ``<unk>`` (``[V + 1]``)."""
        out = [self.log_prob(previous, c) for c in self.chars]
        return np.array([*out, self._gamma.get(previous, 0.0) + self._log_low_unknown])

    # ---------------------------------------------------------------------------------- saving

    def get_config(self) -> dict[str, Any]:
        """The smoothing settings and sizes (no counts)."""
        return {
            "discount": self.discount,
            "min_count": self.min_count,
            "smoothing": self.smoothing,
            "unigram_alpha": self.unigram_alpha,
            "vocabulary_size": self.vocabulary_size,
            "num_bigrams": self.num_bigrams,
        }

    def save(self, path: str | os.PathLike) -> Path:
        """Writes one compressed ``.npz`` (chars, CSR bigram counts as float32, totals, unigram counts).

        The file is written at ``path`` exactly (no suffix added); returns it.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        size = len(self.chars)
        index_type = np.uint16 if size <= np.iinfo(np.uint16).max else np.int32
        single = all(len(c) == 1 for c in self.chars)
        chars = np.array(self.chars, dtype="<U1" if single else str) if size else np.zeros(0, "<U1")
        config = {k: v for k, v in self.get_config().items() if k not in ("vocabulary_size", "num_bigrams")}
        with open(path, "wb") as handle:
            np.savez_compressed(
                handle,
                format=np.array(FORMAT),
                config=np.array(json.dumps(config)),
                chars=chars,
                row_lengths=np.diff(self._indptr).astype(np.int32),
                indices=self._indices.astype(index_type),
                counts=self._counts,
                totals=self._totals,
                unigram=self._unigram,
                continuation=self._continuation.astype(np.int32),
            )
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> BigramLanguageModel:
        """Reads a :meth:`save` file; ``FileNotFoundError`` if missing, ``ValueError`` if corrupt."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(
                f"No language model at {path}; build one with "
                "`python -m kerasgen.models.ocr.language_model --out PATH`."
            )
        try:
            with np.load(path, allow_pickle=False) as data:
                if str(data["format"]) != FORMAT:
                    raise ValueError(f"unknown format {str(data['format'])!r}")
                config = json.loads(str(data["config"]))
                arrays = {
                    k: data[k]
                    for k in (
                        "chars",
                        "row_lengths",
                        "indices",
                        "counts",
                        "totals",
                        "unigram",
                        "continuation",
                    )
                }
            model = cls.__new__(cls)
            indptr = np.zeros(len(arrays["row_lengths"]) + 1, dtype=np.int64)
            np.cumsum(arrays["row_lengths"], out=indptr[1:])
            model._set_arrays(
                [str(c) for c in arrays["chars"]],
                indptr,
                arrays["indices"],
                arrays["counts"],
                arrays["totals"],
                arrays["unigram"],
                arrays["continuation"],
                config,
            )
        except (OSError, EOFError, KeyError, TypeError, ValueError, zipfile.BadZipFile) as error:
            raise ValueError(f"{path} is not a readable bigram language model ({error}).") from error
        return model


# ------------------------------------------------------------------------------ build and decode


def mrc_texts(mrc_dir: str | os.PathLike | None = None) -> list[str]:
    """Unique passages and questions (simplified) of the shared MRC files present in the folder.

    Read with :func:`kerasgen.data.mrc.load_mrc_pool` (DRCD converted to simplified there).
    """
    from kerasgen.data.corpus import mrc_dir as find_mrc_dir
    from kerasgen.data.mrc import MRC_POOL_FILES, load_mrc_pool

    folder = find_mrc_dir(mrc_dir)
    sources = [name for name, file in MRC_POOL_FILES if (folder / file).is_file()]
    if not sources:
        raise FileNotFoundError(f"No MRC file of {[f for _, f in MRC_POOL_FILES]} in {folder}.")
    pool = load_mrc_pool(folder, sources=sources)
    texts = {passage.text: None for examples in pool.values() for e in examples for passage in e.passages}
    texts.update({e.question: None for examples in pool.values() for e in examples})
    return list(texts)


def build_language_model(
    mrc_dir: str | os.PathLike | None = None,
    charset: Iterable[str] | None = None,
    min_count: float = 1.0,
    word_weight: float = 0.03,
    texts: Iterable[str] | None = None,
    **kwargs: Any,
) -> BigramLanguageModel:
    """The OCR language model: jieba's word frequencies + the shared MRC texts, Kneser-Ney smoothed.

    ``mrc_dir`` defaults to ``$KERASGEN_MRC_DIR``; when neither is set the model is built from jieba's
    dictionary alone (with a warning). ``charset`` restricts the vocabulary (smaller file); bigrams
    with a (weighted) count below ``min_count`` are pruned: with the defaults every bigram seen in the
    MRC texts stays, and jieba-only bigrams need a word frequency >= 1/0.03 ≈ 34.

    ``word_weight`` scales jieba's frequencies (total ≈60 M, against ≈2.6 M MRC characters). jieba
    only gives bigrams *inside* words, so at full weight it drowns the cross-word bigrams; 0.03 was
    chosen by held-out cross-entropy on the CMRC 2018 trial passages (model counted without them,
    nats/char): 6.30 at weight 1, 5.75 at 0.1, 5.63 at 0.03, 5.61 at 0.01, 5.68 with no jieba.
    ``texts``, when given, replace the MRC texts (``ocr_zh`` passes the MRC *training* split only,
    so its test lines, cut from the dev split, are unseen). ``kwargs`` go to :class:`BigramLanguageModel`.
    """
    from kerasgen.data.corpus import MRC_DIR_ENV

    if texts is not None:
        texts = list(texts)
    elif mrc_dir is not None or os.environ.get(MRC_DIR_ENV):
        texts = mrc_texts(mrc_dir)
    else:
        texts = []
        logger.warning("No MRC folder (pass mrc_dir or set %s): jieba's dictionary only.", MRC_DIR_ENV)
    return BigramLanguageModel.from_texts(
        texts,
        jieba_word_frequencies(),
        charset=charset,
        word_weight=word_weight,
        min_count=min_count,
        **kwargs,
    )


def viterbi(
    candidates: Sequence[Sequence[tuple[str, float]] | Mapping[str, float]],
    lm: LanguageModel | None,
    lm_weight: float = 1.0,
) -> tuple[str, float]:
    """Post step 10 in log space: the best path through per-position candidates.

    Maximises ``Σ_i log W(s_i) + lm_weight · [log P(s_1|<s>) + Σ_i log P(s_{i+1}|s_i)]`` where
    ``candidates[i]`` lists ``(char, W)`` pairs (or a ``{char: W}`` dict) for position ``i``; ``W`` is
    floored at 1e-30. ``lm`` is any object with ``log_prob(previous, char)`` (``previous=None`` at the
    start); with ``lm_weight=0`` (or ``lm=None``) it is the classifier's top-1 at each position.

    Returns ``(text, score)``; ``("", 0.0)`` for no positions. Ties keep the earlier candidate.
    """
    if not candidates:
        return "", 0.0
    use_lm = lm is not None and lm_weight != 0
    positions: list[list[tuple[str, float]]] = []
    for i, position in enumerate(candidates):
        items = list(position.items()) if isinstance(position, Mapping) else list(position)
        if not items:
            raise ValueError(f"Position {i} has no candidate.")
        positions.append([(char, math.log(max(float(p), _PROB_FLOOR))) for char, p in items])

    scores = [w + (lm_weight * lm.log_prob(None, c) if use_lm else 0.0) for c, w in positions[0]]
    back: list[list[int]] = []
    for previous, current in itertools.pairwise(positions):
        new_scores, pointers = [], []
        for char, w in current:
            best, best_i = -math.inf, 0
            for i, (prev_char, _) in enumerate(previous):
                score = scores[i] + (lm_weight * lm.log_prob(prev_char, char) if use_lm else 0.0)
                if score > best:
                    best, best_i = score, i
            new_scores.append(best + w)
            pointers.append(best_i)
        scores = new_scores
        back.append(pointers)
    best_i = max(range(len(scores)), key=scores.__getitem__)
    total = scores[best_i]
    path = [best_i]
    for pointers in reversed(back):
        path.append(pointers[path[-1]])
    path.reverse()
    return "".join(positions[k][j][0] for k, j in enumerate(path)), float(total)


# ---------------------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m kerasgen.models.ocr.language_model --out PATH [--mrc-dir DIR] [--charset FILE]``."""
    parser = argparse.ArgumentParser(description="Build the OCR character bigram language model.")
    parser.add_argument("--out", required=True, help="the .npz file to write")
    parser.add_argument("--mrc-dir", default=None, help="shared MRC folder (default $KERASGEN_MRC_DIR)")
    parser.add_argument(
        "--charset", default=None, help="UTF-8 file; its non-space characters are the vocabulary"
    )
    parser.add_argument("--min-count", type=float, default=1.0, help="prune bigrams counted less (default 1)")
    parser.add_argument("--word-weight", type=float, default=0.03, help="scale of jieba's word frequencies")
    args = parser.parse_args(argv)
    charset = None
    if args.charset:
        charset = sorted({c for c in Path(args.charset).read_text(encoding="utf-8") if not c.isspace()})
    begin = time.perf_counter()
    model = build_language_model(
        args.mrc_dir, charset=charset, min_count=args.min_count, word_weight=args.word_weight
    )
    built = time.perf_counter() - begin
    path = model.save(args.out)
    print(
        f"{path}: {model.vocabulary_size} characters, {model.num_bigrams} bigram entries, "
        f"{path.stat().st_size / 2**20:.2f} MiB, built in {built:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
