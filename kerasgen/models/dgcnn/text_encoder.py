"""``MRCTextEncoder``: raw questions and passages → DGCNN's id arrays, offsets kept."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from kerasgen.data.mrc import CharVocabulary, ChineseTokenizer, simplify_preserving_offsets

PAD, UNKNOWN = 0, 1
_FULL_WIDTH = {chr(code): chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)} | {"\u3000": " "}


class MRCTextEncoder:
    """Text → ``(char ids, word ids)`` per character, for the char + word mixed embedding (post 6).

    Every character keeps its position: traditional characters are simplified one for one
    (``simplify_preserving_offsets``, the same conversion DRCD gets at training time) and
    full-width ASCII is folded to half-width, so an answer found at ``[i, j)`` of the encoded text
    is ``passage[i:j]`` of the text the user gave. Each character carries the id of the jieba word
    (``HMM=False``) it belongs to; words outside the vocabulary get ``UNKNOWN`` (1), padding is 0.

    Args:
        chars: the character vocabulary.
        words: the word vocabulary (id ``i + 2`` for ``words[i]``); empty for no word branch. The
            words are also added to the jieba dictionary, so segmentation keeps them whole.
        simplify: convert traditional to simplified characters.
    """

    def __init__(self, chars: CharVocabulary, words: Sequence[str] = (), simplify: bool = True):
        self.chars = chars
        self.words = list(words)
        self.simplify = bool(simplify)
        self._word_ids = {w: i + 2 for i, w in enumerate(self.words)}
        self.tokenizer = ChineseTokenizer(
            w for w in self.words if len(w) > 1 and not any(c.isspace() for c in w)
        )

    @classmethod
    def build(
        cls,
        texts: Iterable[str],
        char_min_count: int = 2,
        word_min_count: int = 5,
        use_words: bool = True,
        simplify: bool = True,
    ) -> MRCTextEncoder:
        """Vocabularies from training texts: chars seen ``char_min_count`` times, words ``word_min_count``."""
        texts = [cls._fold(t) for t in texts]
        if simplify:
            texts = simplify_preserving_offsets(texts)
        chars = CharVocabulary.build(texts, char_min_count)
        words: list[str] = []
        if use_words:
            tokenizer = ChineseTokenizer()
            counts = Counter(w for t in texts for w in tokenizer.cut(t) if w.strip())
            words = sorted(
                (w for w, n in counts.items() if n >= word_min_count), key=lambda w: (-counts[w], w)
            )
        return cls(chars, words, simplify)

    @property
    def char_vocabulary_size(self) -> int:
        return len(self.chars)

    @property
    def word_vocabulary_size(self) -> int:
        """Size of the word id range (0 when there is no word branch)."""
        return len(self.words) + 2 if self.words else 0

    @staticmethod
    def _fold(text: str) -> str:
        return "".join(_FULL_WIDTH.get(c, c) for c in text)

    def normalise(self, texts: Sequence[str]) -> list[str]:
        """Full-width → half-width and (``simplify``) traditional → simplified, lengths unchanged."""
        for text in texts:
            if not isinstance(text, str):
                raise TypeError(f"questions and passages must be strings, got {type(text).__name__}.")
        folded = [self._fold(t) for t in texts]
        return simplify_preserving_offsets(folded) if self.simplify and any(folded) else folded

    def encode(self, text: str, normalised: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """``(char ids, word ids)`` ``[len(text)]`` int32 each."""
        if not normalised:
            text = self.normalise([text])[0]
        char_ids = np.asarray(self.chars.encode(text), dtype=np.int32)
        if not self.words:
            return char_ids, np.zeros_like(char_ids)
        word_ids = [self._word_ids.get(w, UNKNOWN) for w in self.tokenizer.words_per_char(text)]
        return char_ids, np.asarray(word_ids, dtype=np.int32)

    def get_config(self) -> dict:
        return {"chars": self.chars.get_config(), "words": self.words, "simplify": self.simplify}

    @classmethod
    def from_config(cls, config: dict) -> MRCTextEncoder:
        return cls(CharVocabulary.from_config(config["chars"]), config["words"], config["simplify"])

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.get_config(), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> MRCTextEncoder:
        return cls.from_config(json.loads(Path(path).read_text(encoding="utf-8")))


def pad_batch(sequences: Sequence[np.ndarray], length: int | None = None) -> np.ndarray:
    """Right-pad int sequences with 0 to ``length`` (default: the longest) → ``[B, length]`` int32."""
    length = max([len(s) for s in sequences] + [1]) if length is None else int(length)
    batch = np.zeros((len(sequences), length), dtype=np.int32)
    for row, sequence in enumerate(sequences):
        batch[row, : min(len(sequence), length)] = sequence[:length]
    return batch
