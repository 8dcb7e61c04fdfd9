"""DGCNN (post 6): the harness, mask invariance, the focal loss and the debiased weight average."""

import keras
import numpy as np
import pytest

from kerasgen.ema import WeightAverage
from kerasgen.layers import AttentionPooling1D, DilatedGatedConv1D
from kerasgen.losses import binary_focal_loss
from kerasgen.models.dgcnn import DGCNN
from kerasgen.testing import HarnessTests, ModelSpec

RNG = np.random.default_rng(0)
CHARS, WORDS, TQ, TP, N = 40, 25, 6, 24, 32


def _inputs(count=N, rng=RNG):
    x = {
        "question_chars": rng.integers(1, CHARS, (count, TQ)),
        "question_words": rng.integers(0, WORDS, (count, TQ)),
        "passage_chars": rng.integers(1, CHARS, (count, TP)),
        "passage_words": rng.integers(0, WORDS, (count, TP)),
    }
    lengths = rng.integers(TP // 2, TP + 1, count)
    for i, length in enumerate(lengths):  # ragged passages: zero padding at the end
        x["passage_chars"][i, length:] = 0
        x["passage_words"][i, length:] = 0
    return x, lengths


def _targets(lengths, rng=RNG):
    """Answer span = the first occurrence of char 7 … +2 when the passage has one (else none)."""
    start = np.zeros((len(lengths), TP), "float32")
    end = np.zeros_like(start)
    for i, length in enumerate(lengths):
        if i % 2 == 0:
            s = int(rng.integers(0, length - 3))
            start[i, s], end[i, s + 2] = 1.0, 1.0
    return {"start": start, "end": end}


X, LENGTHS = _inputs()
Y = _targets(LENGTHS)


def tiny_dgcnn(seed=0, optimizer=None, **kwargs):
    keras.utils.set_random_seed(seed)
    model = DGCNN(CHARS, WORDS, width=16, word_dim=8, dropout=0.0, seed=seed, **kwargs)
    model.compile(optimizer=optimizer or keras.optimizers.Adam(3e-3))
    return model


BAD_INPUTS = [
    ("a bare array", np.zeros((2, TP), "int32")),
    ("float ids", {k: v.astype("float32") for k, v in X.items()}),
    ("missing words", {k: v for k, v in X.items() if k != "passage_words"}),
]

SPECS = {
    "dgcnn": ModelSpec(
        build=tiny_dgcnn,
        data=(X, Y),
        call_inputs={k: v[:8] for k, v in X.items()},
        bad_inputs=BAD_INPUTS,
        expected_in_error="DGCNN",
        epochs=8,
        distributed_build=lambda seed: tiny_dgcnn(seed, keras.optimizers.SGD(0.1)),
    ),
}


class TestDGCNNHarness(HarnessTests):
    SPECS = SPECS


def test_padding_never_changes_a_real_position():
    """Append padding (and change what would be in the padded slots): real outputs stay the same."""
    model = tiny_dgcnn()
    model.fit(X, Y, batch_size=16, epochs=1, verbose=0)
    x = {k: v[:4, : TP // 2] for k, v in X.items()}  # every passage is ≥ TP/2 long: no padding
    padded = {k: np.pad(v, ((0, 0), (0, 9))) for k, v in x.items()}
    noisy = dict(padded)
    noisy["passage_words"] = padded["passage_words"].copy()
    noisy["passage_words"][:, -9:] = 3  # word ids under padded chars are ignored as well
    reference = model(x)
    for variant in (padded, noisy):
        out = model(variant)
        for key in ("start", "end"):
            np.testing.assert_allclose(out[key][:, : TP // 2], reference[key], atol=1e-6)
            np.testing.assert_array_equal(np.asarray(out[key][:, TP // 2 :]), 0.0)
        np.testing.assert_allclose(out["answer_exists"], reference["answer_exists"], atol=1e-6)


def test_dilated_gated_conv_is_the_gated_residual_of_the_post():
    layer = DilatedGatedConv1D(dilation_rate=2, dropout=0.0)
    x = RNG.normal(size=(2, 9, 4)).astype("float32")
    mask = np.ones((2, 9), bool)
    mask[1, 6:] = False
    y = np.asarray(layer(x, mask=mask))
    kernel, bias = (np.asarray(w) for w in layer.conv.weights)
    xm = x * mask[..., None]
    conv = np.zeros((2, 9, 8), "float32")
    for t in range(9):
        for k in range(3):  # 'same' padding, dilation 2: taps at t − 2, t, t + 2
            s = t + (k - 1) * 2
            if 0 <= s < 9:
                conv[:, t] += xm[:, s] @ kernel[k]
    conv += bias
    h, g = conv[..., :4], conv[..., 4:]
    sigma = 1 / (1 + np.exp(-g))
    expected = (xm * (1 - sigma) + h * sigma) * mask[..., None]
    np.testing.assert_allclose(y, expected, atol=1e-5)


def test_attention_pooling_ignores_padding():
    layer = AttentionPooling1D()
    h = RNG.normal(size=(1, 5, 3)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0]], bool)
    pooled = np.asarray(layer(h, mask=mask))
    changed = h.copy()
    changed[:, 3:] = 100.0
    np.testing.assert_allclose(np.asarray(layer(changed, mask=mask)), pooled, atol=1e-6)
    weights = np.asarray(layer.attention_weights(h, mask))
    np.testing.assert_allclose(weights[0, 3:], 0.0)
    np.testing.assert_allclose(weights.sum(), 1.0, rtol=1e-6)


def test_focal_loss_matches_a_hand_computation():
    y = np.array([1.0, 0.0, 1.0, 0.0])
    p = np.array([0.9, 0.2, 0.3, 0.0])  # the last is clipped to 1e-8
    expected = [
        -0.25 * (0.1**2) * np.log(0.9),
        -0.75 * (0.2**2) * np.log(0.8),
        -0.25 * (0.7**2) * np.log(0.3),
        -0.75 * (1e-8) ** 2 * np.log(1 - 1e-8),
    ]
    np.testing.assert_allclose(np.asarray(binary_focal_loss(y, p)), expected, rtol=1e-5, atol=1e-12)
    bce = -(y * np.log(np.clip(p, 1e-8, 1)) + (1 - y) * np.log(1 - p))
    np.testing.assert_allclose(np.asarray(binary_focal_loss(y, p, alpha=0.5, gamma=0.0)), bce / 2, rtol=1e-5)


def test_weight_average_equals_the_debiased_average_of_visited_weights():
    owner = keras.layers.Layer()
    weight = owner.add_weight(shape=(2,), initializer="zeros", name="w")
    average = WeightAverage(momentum=0.9)
    average.build(owner, [weight])
    visited = [np.array([1.0, -2.0]), np.array([3.0, 0.5]), np.array([-1.0, 4.0])]
    for value in visited:
        weight.assign(value)
        average.update()
    m, t = 0.9, len(visited)
    expected = sum((1 - m) * m ** (t - 1 - i) * v for i, v in enumerate(visited)) / (1 - m**t)
    np.testing.assert_allclose(average.averages()[0], expected, rtol=1e-6)
    with average.swapped_in():
        np.testing.assert_allclose(np.asarray(weight), expected, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(weight), visited[-1])  # raw weights restored


def test_model_weight_average_is_saved_and_exported(tmp_path):
    model = tiny_dgcnn(ema_momentum=0.5)
    model.fit(X, Y, batch_size=16, epochs=1, verbose=0)
    assert float(np.asarray(model.average.count)) == 2.0
    path = tmp_path / "dgcnn.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    for a, b in zip(reloaded.average.averages(), model.average.averages(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    reloaded.use_average_weights()
    assert not np.allclose(np.asarray(reloaded(X)["start"]), np.asarray(model(X)["start"]))


def test_ablation_variants_train_and_reload(tmp_path):
    """BCE instead of focal, no word branch, no weight average: still a working, saveable model."""
    keras.utils.set_random_seed(0)
    model = DGCNN(CHARS, 0, width=16, dropout=0.0, loss="bce", ema_momentum=0.0, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = model.fit(X, Y, batch_size=16, epochs=4, verbose=0).history
    assert history["loss"][-1] < history["loss"][0]
    assert model.embedding.word_embedding is None and model.average is None
    model.save(tmp_path / "ablation.keras")
    reloaded = keras.saving.load_model(tmp_path / "ablation.keras")
    np.testing.assert_allclose(np.asarray(reloaded(X)["end"]), np.asarray(model(X)["end"]), atol=1e-6)


def test_unknown_loss_is_refused():
    with pytest.raises(ValueError, match="loss must be one of"):
        DGCNN(10, loss="mse")
