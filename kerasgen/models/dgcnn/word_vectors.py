"""word2vec vectors for DGCNN's word branch, trained on the training contexts (design §6(e))."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from kerasgen.models.dgcnn.text_encoder import MRCTextEncoder


def train_word_vectors(
    encoder: MRCTextEncoder,
    texts: Iterable[str],
    dim: int = 100,
    window: int = 5,
    epochs: int = 5,
    seed: int = 0,
) -> np.ndarray:
    """Skip-gram word2vec (gensim) on ``texts`` cut as the encoder cuts them → ``[word ids, dim]``.

    Row ``i`` holds the vector of the encoder's word id ``i``; padding (0), unknown (1) and words
    word2vec did not keep are zero, as post 6 gives out-of-vocabulary words a zero vector. The
    vectors are meant to stay fixed (``DGCNN(word_trainable=False)``), as in the post; the learned
    projection ``W`` maps them to the model width.
    """
    try:
        from gensim.models import Word2Vec
    except ImportError as error:  # pragma: no cover - gensim is a dependency of kerasgen
        raise ImportError("word2vec vectors need gensim: pip install gensim") from error
    if not encoder.words:
        raise ValueError("This encoder has no word vocabulary (built with use_words=False).")
    sentences = [
        [w for w in encoder.tokenizer.cut(text) if w.strip()] for text in encoder.normalise(list(texts))
    ]
    sentences = [s for s in sentences if s]
    if not sentences:
        raise ValueError("No words to train word2vec on: give the training passages and questions.")
    model = Word2Vec(
        sentences,
        vector_size=dim,
        window=window,
        min_count=1,
        sg=1,
        negative=5,
        epochs=epochs,
        seed=seed,
        workers=1,  # one worker: the same seed gives the same vectors
    )
    matrix = np.zeros((encoder.word_vocabulary_size, dim), dtype=np.float32)
    for index, word in enumerate(encoder.words):
        if word in model.wv.key_to_index:
            matrix[index + 2] = model.wv[word]
    return matrix
