"""Chinese documents as a bag-of-words count matrix, for topic models (post 2's pLSA).

The documents are the reading passages (``context`` fields) of SQuAD-format machine-reading
files: CMRC 2018's trial set (simplified Chinese) and DRCD's dev and test sets (traditional
Chinese, converted to simplified with OpenCC's ``t2s`` table). Each passage appears once per
file however many questions it has; passages repeated within or across files are kept once.

Pipeline: read → deduplicate → (optionally) keep ``limit`` passages spread evenly over the
list → traditional → simplified → segment with a private ``jieba.Tokenizer`` (quiet, no
network) → drop stop-words and tokens without a letter or hanzi (punctuation, digits) →
drop words in fewer than ``min_document_frequency`` documents or in more than
``max_document_fraction`` of them → drop documents left empty. Nothing is cached on disk.

The folder comes from the ``data_dir`` argument or the ``KERASGEN_MRC_DIR`` environment variable.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MRC_DIR_ENV = "KERASGEN_MRC_DIR"
# (file name, written in traditional characters)
MRC_FILES: tuple[tuple[str, bool], ...] = (
    ("cmrc2018_trial.json", False),
    ("DRCD_dev.json", True),
    ("DRCD_test.json", True),
)

# Common function words, pronouns and particles (simplified), plus a few English ones. Frequent
# content-free words the list misses are removed by ``max_document_fraction``.
STOP_WORDS: frozenset[str] = frozenset(
    """
    的 地 得 了 着 过 是 在 和 与 及 或 也 都 而 并 等 被 把 对 从 为 以 于 之 其 这 那 此 该 各
    每 有 没有 无 不 没 就 又 还 但 但是 却 因为 所以 因此 如果 虽然 由于 由 向 到 将 会 可 可以
    能 能够 要 上 下 中 内 个 后 前 时 所 给 让 使 以及 并且 而且 及其 其中 之后 之前 之间 之一
    已 已经 曾 曾经 于是 则 即 亦 更 最 很 较 比 等等 一 一个 一些 一种 这个 那个 这些 那些 这种
    他 她 它 他们 她们 它们 我 我们 你 你们 自己 其他 其它 另 另外 如 例如 包括 成为 作为 通过
    进行 以来 至 至今 当时 同时 目前 主要 开始 之所以 以后 以前 及至 还有 只 只有 因 而是 不是
    并不 大 小 多 少 年 月 日 第 次 位 名 种 些 里 者 来 去 说 用 与其 对于 关于 根据
    自 仍 约 才 著 外 后来 最后 一直 为了 许多 并非 即使 虽 然而 其后 随后 由此 如此 这样 那样
    这里 那里 什么 怎么 如何 为何 哪 谁
    the of and a an in on to for is are was were be by with as at from that this it or
    """.split()
)


@dataclass(frozen=True)
class Corpus:
    """A document × word count matrix with its vocabulary and documents.

    Attributes:
        vocabulary: the words, column order of ``counts``.
        counts: ``scipy.sparse.csr_matrix`` ``[N, V]`` float32, ``counts[y, x] = n(x, y)``.
        documents: the simplified text of each row.
        document_ids: ``"<file stem>:<paragraph id>"`` of each row.
    """

    vocabulary: list[str]
    counts: object
    documents: list[str]
    document_ids: list[str]

    def __len__(self) -> int:
        return self.counts.shape[0]

    @property
    def num_documents(self) -> int:
        return self.counts.shape[0]

    @property
    def vocabulary_size(self) -> int:
        return self.counts.shape[1]

    @property
    def num_tokens(self) -> int:
        return int(self.counts.sum())

    def dense(self) -> np.ndarray:
        """``counts`` as a dense float32 array ``[N, V]``."""
        return np.asarray(self.counts.toarray(), dtype=np.float32)

    def subset(self, rows: Sequence[int]) -> Corpus:
        """The documents ``rows`` (same vocabulary, counts re-indexed from 0)."""
        rows = np.asarray(rows, dtype=np.int64)
        return Corpus(
            vocabulary=self.vocabulary,
            counts=self.counts[rows],
            documents=[self.documents[i] for i in rows],
            document_ids=[self.document_ids[i] for i in rows],
        )

    def split(self, heldout_fraction: float = 0.1, seed: int = 0) -> tuple[Corpus, Corpus]:
        """Deterministic ``(train, heldout)`` split of the documents (a seeded permutation).

        Both halves keep the full vocabulary, so a model trained on one can score the other.
        """
        if not 0.0 < heldout_fraction < 1.0:
            raise ValueError(f"heldout_fraction must be in (0, 1), got {heldout_fraction}.")
        order = np.random.default_rng(seed).permutation(self.num_documents)
        heldout = max(1, round(heldout_fraction * self.num_documents))
        return self.subset(np.sort(order[heldout:])), self.subset(np.sort(order[:heldout]))


def mrc_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The folder of MRC files: ``data_dir`` or ``$KERASGEN_MRC_DIR``."""
    path = data_dir if data_dir is not None else os.environ.get(MRC_DIR_ENV)
    if not path:
        raise FileNotFoundError(
            f"No MRC folder: pass data_dir= or set {MRC_DIR_ENV} to the folder holding "
            + ", ".join(name for name, _ in MRC_FILES)
            + "."
        )
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"MRC folder {path} does not exist.")
    return path


def read_mrc_contexts(
    data_dir: str | os.PathLike | None = None,
    files: Iterable[tuple[str, bool]] = MRC_FILES,
) -> list[tuple[str, str, bool]]:
    """Unique ``(document id, context, is traditional)`` triples from SQuAD-format files, in file order."""
    folder = mrc_dir(data_dir)
    seen: set[str] = set()
    contexts = []
    for name, traditional in files:
        path = folder / name
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing from the MRC folder.")
        with open(path, encoding="utf-8") as handle:
            articles = json.load(handle)["data"]
        stem = Path(name).stem
        for article in articles:
            for index, paragraph in enumerate(article["paragraphs"]):
                text = paragraph["context"].strip()
                if not text or text in seen:
                    continue
                seen.add(text)
                paragraph_id = paragraph.get("id", f"{article.get('id', '?')}-{index}")
                contexts.append((f"{stem}:{paragraph_id}", text, traditional))
    return contexts


def to_simplified(texts: Sequence[str]) -> list[str]:
    """Traditional → simplified Chinese with OpenCC's ``t2s`` table (``opencc-python-reimplemented``)."""
    try:
        from opencc import OpenCC
    except ImportError as error:  # pragma: no cover - a declared dependency
        raise ImportError(
            "Converting DRCD to simplified Chinese needs `pip install opencc-python-reimplemented`."
        ) from error
    converter = OpenCC("t2s")
    return [converter.convert(text) for text in texts]


def is_word(token: str) -> bool:
    """A token worth counting: holds a letter or a hanzi (not only punctuation, digits, spaces)."""
    return any(character.isalpha() for character in token)


def tokenize(texts: Sequence[str], stop_words: Iterable[str] = STOP_WORDS) -> list[list[str]]:
    """Segment each text with a private, quiet ``jieba.Tokenizer``; keep words not in ``stop_words``.

    Latin letters are lower-cased; tokens without a letter or hanzi are dropped.
    """
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    stop_words = frozenset(stop_words)
    documents = []
    for text in texts:
        words = (token.strip().lower() for token in tokenizer.cut(text))
        documents.append([w for w in words if w and is_word(w) and w not in stop_words])
    return documents


def count_matrix(
    documents: Sequence[Sequence[str]],
    min_document_frequency: int = 5,
    max_document_fraction: float = 0.2,
):
    """Token lists → ``(vocabulary, csr counts [N, V] float32)`` keeping mid-frequency words.

    A word is kept when it occurs in at least ``min_document_frequency`` documents and in at
    most ``max_document_fraction`` of them. The vocabulary is sorted by document frequency
    (descending), ties by the word, so it does not depend on the order of the documents.
    """
    from scipy import sparse

    if min_document_frequency < 1:
        raise ValueError(f"min_document_frequency must be at least 1, got {min_document_frequency}.")
    if not 0.0 < max_document_fraction <= 1.0:
        raise ValueError(f"max_document_fraction must be in (0, 1], got {max_document_fraction}.")
    document_frequency = Counter(word for words in documents for word in set(words))
    ceiling = max_document_fraction * len(documents)
    kept = [w for w, df in document_frequency.items() if min_document_frequency <= df <= ceiling]
    vocabulary = sorted(kept, key=lambda w: (-document_frequency[w], w))
    column = {word: index for index, word in enumerate(vocabulary)}
    rows, columns, values = [], [], []
    for row, words in enumerate(documents):
        for word, count in Counter(w for w in words if w in column).items():
            rows.append(row)
            columns.append(column[word])
            values.append(count)
    counts = sparse.csr_matrix(
        (np.asarray(values, np.float32), (np.asarray(rows, np.int64), np.asarray(columns, np.int64))),
        shape=(len(documents), len(vocabulary)),
        dtype=np.float32,
    )
    counts.sort_indices()
    return vocabulary, counts


def load_mrc_corpus(
    data_dir: str | os.PathLike | None = None,
    limit: int | None = None,
    min_document_frequency: int = 5,
    max_document_fraction: float = 0.2,
    stop_words: Iterable[str] = STOP_WORDS,
    files: Iterable[tuple[str, bool]] = MRC_FILES,
) -> Corpus:
    """The MRC passages as a :class:`Corpus` (see the module docstring for the pipeline).

    Args:
        data_dir: folder of the SQuAD-format files; defaults to ``$KERASGEN_MRC_DIR``.
        limit: keep this many unique passages, spread evenly over all files (for quick tests).
        min_document_frequency: drop words found in fewer documents.
        max_document_fraction: drop words found in a larger fraction of the documents.
        stop_words: words never counted.
        files: ``(file name, is traditional)`` pairs to read.
    """
    contexts = read_mrc_contexts(data_dir, files)
    if limit is not None:
        if limit < 1:
            raise ValueError(f"limit must be positive, got {limit}.")
        if limit < len(contexts):
            picks = np.linspace(0, len(contexts) - 1, limit).round().astype(int)
            contexts = [contexts[i] for i in picks]
    texts = [text for _, text, _ in contexts]
    traditional = [i for i, (_, _, is_traditional) in enumerate(contexts) if is_traditional]
    for i, simplified in zip(traditional, to_simplified([texts[i] for i in traditional]), strict=True):
        texts[i] = simplified
    ids = [document_id for document_id, _, _ in contexts]
    # a passage given in both scripts is the same document once converted
    seen: set[str] = set()
    unique = []
    for i, text in enumerate(texts):
        if text not in seen:
            seen.add(text)
            unique.append(i)
    texts, ids = [texts[i] for i in unique], [ids[i] for i in unique]
    vocabulary, counts = count_matrix(
        tokenize(texts, stop_words), min_document_frequency, max_document_fraction
    )
    nonempty = np.flatnonzero(np.asarray(counts.sum(axis=1)).ravel() > 0)
    return Corpus(
        vocabulary=vocabulary,
        counts=counts[nonempty],
        documents=[texts[i] for i in nonempty],
        document_ids=[ids[i] for i in nonempty],
    )


def split_tokens(counts, observed_fraction: float = 0.5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Document completion: split each document's tokens into ``(observed, hidden)`` count arrays.

    Each of the ``n(x, y)`` tokens goes to ``observed`` with probability ``observed_fraction``
    (a seeded binomial thinning), the rest to ``hidden``; ``observed + hidden == counts``.
    Fold a model in on ``observed`` and score it on ``hidden`` for an honest held-out perplexity.
    """
    if not 0.0 < observed_fraction < 1.0:
        raise ValueError(f"observed_fraction must be in (0, 1), got {observed_fraction}.")
    dense = counts.toarray() if hasattr(counts, "toarray") else np.asarray(counts)
    whole = np.rint(dense).astype(np.int64)
    observed = np.random.default_rng(seed).binomial(whole, observed_fraction)
    return observed.astype(np.float32), (whole - observed).astype(np.float32)
