"""DGCNN (post 6): the harness, mask invariance, the focal loss and the debiased weight average."""

import itertools

import keras
import numpy as np
import pytest

from kerasgen.data.mrc import MRCExample, Passage
from kerasgen.ema import WeightAverage
from kerasgen.layers import AttentionPooling1D, DilatedGatedConv1D
from kerasgen.losses import binary_focal_loss
from kerasgen.models.dgcnn import DGCNN, MRCTextEncoder, candidate_spans, vote, windows
from kerasgen.models.dgcnn.answering import best_answer, calibrate_threshold
from kerasgen.models.dgcnn.features import MRCBatches
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


# ---------------------------------------------------------------------------- text side
PASSAGES = ["北京是中华人民共和国的首都，也是全国的政治中心。", "長江是中國最長的河流，全長約6300公里。"]


def test_candidate_spans_respect_threshold_order_and_length():
    start = np.array([0.05, 0.9, 0.2, 0.0, 0.0])
    end = np.array([0.0, 0.0, 0.5, 0.0, 0.8])
    spans = {(i, j): round(s, 6) for i, j, s in candidate_spans(start, end, max_answer_length=3)}
    assert spans == {(1, 2): 0.45, (2, 2): 0.1, (2, 4): 0.16}  # (1, 4) is 4 long; index 0 is below 0.1
    best_two = candidate_spans(start, end, max_answer_length=3, top_k=2)
    assert [(i, j) for i, j, _ in best_two] == [(1, 2), (2, 4)]  # best first


def test_vote_rewards_agreement_over_one_confident_passage():
    assert vote([0.5]) == pytest.approx(0.25 / 1.5)
    assert vote([0.5, 0.5, 0.5]) > vote([0.6])  # three agreeing passages beat one surer one
    assert vote([0.05] * 10) < vote([0.2])  # many low-confidence hits lose to one clear one
    assert vote([]) == 0.0


def test_calibrated_threshold_withholds_exactly_the_answers_that_lose_f1():
    scored = [("北京", 0.30), ("上海", 0.02), ("长江", 0.05), ("黄河", 0.01)]
    golds = [["北京"], [], ["长江"], []]  # the two answerless questions scored lowest
    threshold = calibrate_threshold(scored, golds)
    assert 0.02 < threshold < 0.05
    golds[2] = []  # now 长江 is wrong too: withholding everything but 北京 is best
    assert 0.05 < calibrate_threshold(scored, golds) < 0.30
    assert calibrate_threshold(scored, [["北京"], ["上海"], ["长江"], ["黄河"]]) == 0.0  # all right: keep all
    assert best_answer([{"北京": 0.5}], min_score=0.2) == ("", pytest.approx(0.25 / 1.5))
    assert best_answer([{"北京": 0.5}], min_score=0.1)[0] == "北京"
    with pytest.raises(ValueError, match="one \\(answer, score\\) per question"):
        calibrate_threshold(scored, golds[:2])


def test_answer_threshold_is_config_and_withholds_answers(tmp_path):
    encoder = MRCTextEncoder.build(PASSAGES, char_min_count=1, word_min_count=1)
    model = DGCNN(encoder.char_vocabulary_size, encoder.word_vocabulary_size, width=8, word_dim=4, seed=0)
    model.attach_text_encoder(encoder)
    for head in (model.start_head, model.end_head, model.exists_head):
        head.weights[1].assign(head.weights[1] + 5.0)
    answer, score = model.answer("中國最長的河流是什麼？", PASSAGES, max_answer_length=4)
    assert answer and score > 0
    model.answer_threshold = score + 1e-3
    assert model.answer("中國最長的河流是什麼？", PASSAGES, max_answer_length=4) == ("", pytest.approx(score))
    model.save(tmp_path / "reader.keras")
    assert keras.saving.load_model(tmp_path / "reader.keras").answer_threshold == pytest.approx(score + 1e-3)
    with pytest.raises(ValueError, match="answer_threshold"):
        DGCNN(10, 0, width=8, answer_threshold=-1.0)


def test_windows_cover_the_passage_with_overlap():
    assert windows(100, 256, 128) == [(0, 100)]
    spans = windows(600, 256, 128)
    assert spans[0] == (0, 256) and spans[-1] == (344, 600)
    assert all(b2 < e1 for (_, e1), (b2, _) in itertools.pairwise(spans))


def test_encoder_keeps_positions_through_simplification_and_full_width():
    encoder = MRCTextEncoder.build(PASSAGES, char_min_count=1, word_min_count=1)
    text = "長江全長約６３００公里"
    normalised = encoder.normalise([text])[0]
    assert normalised == "长江全长约6300公里" and len(normalised) == len(text)
    chars, words = encoder.encode(text)
    assert chars.shape == words.shape == (len(text),)
    assert (chars[:2] > 1).all()  # 长 and 江 are known after simplification
    assert MRCTextEncoder.from_config(encoder.get_config()).get_config() == encoder.get_config()


def test_answer_is_a_substring_of_the_passage_as_given(tmp_path):
    encoder = MRCTextEncoder.build(PASSAGES, char_min_count=1, word_min_count=1)
    model = DGCNN(encoder.char_vocabulary_size, encoder.word_vocabulary_size, width=8, word_dim=4, seed=0)
    model.attach_text_encoder(encoder)
    bias = model.start_head.weights[1]
    bias.assign(bias + 5.0)  # every start above the threshold, so spans exist
    model.end_head.weights[1].assign(model.end_head.weights[1] + 5.0)
    model.exists_head.weights[1].assign(model.exists_head.weights[1] + 5.0)
    answer, score = model.answer("中國最長的河流是什麼？", PASSAGES, max_answer_length=4)
    assert answer and any(answer in p for p in PASSAGES) and 0 < score < 1
    model.save(tmp_path / "reader.keras")
    reloaded = keras.saving.load_model(tmp_path / "reader.keras")
    assert reloaded.text_encoder.get_config() == encoder.get_config()
    assert reloaded.answer("中國最長的河流是什麼？", PASSAGES, max_answer_length=4)[0] == answer


@pytest.mark.parametrize(
    "question, passages, message",
    [
        ("", PASSAGES, "non-empty"),
        ("   ", PASSAGES, "non-empty"),
        ("问题", [], "at least one passage"),
        ("问题", 5, "string or a list"),
        ("问题", None, "string or a list"),
    ],
)
def test_bad_questions_and_passages_get_clear_errors(question, passages, message):
    encoder = MRCTextEncoder.build(PASSAGES, char_min_count=1, word_min_count=1)
    model = DGCNN(encoder.char_vocabulary_size, encoder.word_vocabulary_size, width=8, word_dim=4)
    model.attach_text_encoder(encoder)
    with pytest.raises(ValueError, match=message):
        model.answer(question, passages)


def test_unusual_text_never_crashes():
    encoder = MRCTextEncoder.build(PASSAGES, char_min_count=1, word_min_count=1)
    model = DGCNN(encoder.char_vocabulary_size, encoder.word_vocabulary_size, width=8, word_dim=4)
    model.attach_text_encoder(encoder)
    long_passage = "长江" * 700  # longer than any window
    for passages in (["   "], ["The quick brown fox 🦊"], [long_passage], ["𠀀𠀁 unknown chars"]):
        answer, score = model.answer("what?", passages)
        assert isinstance(answer, str) and score >= 0
        assert answer == "" or any(answer in p for p in passages)
    assert model.answer("问题", [""]) == ("", 0.0)


def test_batches_label_every_occurrence_inside_the_crop():
    text = "甲乙丙丁" * 100 + "答案在这里" + "戊己" * 100 + "答案在这里"
    example = MRCExample(
        question_id="q",
        question="答案？",
        passages=(Passage(text, ("答案在这里",), (400,)),),
        answers=("答案在这里",),
    )
    encoder = MRCTextEncoder.build([text, "答案？"], char_min_count=1, word_min_count=1)
    for label in ("all", "annotated"):
        batches = MRCBatches([example] * 8, encoder, batch_size=8, random_crop=0.0, label=label, seed=1)
        inputs, targets = batches[0]
        assert inputs["passage_chars"].shape == (8, 256) and inputs["question_chars"].shape == (8, 64)
        for row in range(8):
            starts, ends = np.flatnonzero(targets["start"][row]), np.flatnonzero(targets["end"][row])
            assert len(starts) >= 1 and len(starts) == len(ends)
            assert all(e - s == 4 for s, e in zip(starts, ends, strict=True))
            if label == "annotated":
                assert len(starts) == 1 and inputs["passage_chars"][row, starts[0]] > 1
    validation = MRCBatches([example], encoder, training=False)
    inputs, targets = validation[0]
    assert targets["start"].sum() == 0  # read from the start: both answers lie beyond 256 characters


def test_cli_answers_a_squad_file_and_a_single_question(tmp_path, capsys):
    import json

    from kerasgen import cli

    encoder = MRCTextEncoder.build(PASSAGES, char_min_count=1, word_min_count=1)
    model = DGCNN(encoder.char_vocabulary_size, encoder.word_vocabulary_size, width=8, word_dim=4, seed=0)
    model.attach_text_encoder(encoder)
    for head in (model.start_head, model.end_head, model.exists_head):
        head.weights[1].assign(head.weights[1] + 5.0)
    model.save(tmp_path / "reader.keras")
    squad = {
        "data": [
            {
                "title": "t",
                "paragraphs": [
                    {
                        "context": PASSAGES[1],
                        "qas": [
                            {
                                "id": "q1",
                                "question": "最長的河流？",
                                "answers": [{"text": "長江", "answer_start": 0}],
                            },
                            {"id": "q2", "question": " ", "answers": [{"text": "長江", "answer_start": 0}]},
                        ],
                    }
                ],
            }
        ]
    }
    (tmp_path / "in.json").write_text(json.dumps(squad, ensure_ascii=False), encoding="utf-8")
    model_path, out = str(tmp_path / "reader.keras"), str(tmp_path / "preds.json")
    assert (
        cli.main(["answer", "--model", model_path, "--input", str(tmp_path / "in.json"), "--output", out])
        == 0
    )
    predictions = json.loads((tmp_path / "preds.json").read_text(encoding="utf-8"))
    assert set(predictions) == {"q1", "q2"} and predictions["q2"] == ""
    assert predictions["q1"] and predictions["q1"] in PASSAGES[1]  # traditional, as given
    assert cli.main(["answer", "--model", model_path, "--question", "首都？", "--passage", PASSAGES[0]]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["answer"] in PASSAGES[0]
    assert cli.main(["answer", "--model", model_path, "--question", "首都？"]) == 2  # no passage: clear error
    assert "--passage" in capsys.readouterr().err


def test_validation_sees_the_weight_average_and_training_the_raw_weights():
    from kerasgen.callbacks import EvaluateWithAverage

    model = tiny_dgcnn(ema_momentum=0.9)
    model.fit(X, Y, batch_size=16, epochs=2, verbose=0)
    raw = [np.asarray(v) for v in model.trainable_variables]
    with model.average.swapped_in():
        expected = model.evaluate(X, Y, batch_size=16, verbose=0, return_dict=True)["loss"]
    plain = model.evaluate(X, Y, batch_size=16, verbose=0, return_dict=True)["loss"]
    swapped = model.evaluate(
        X, Y, batch_size=16, verbose=0, return_dict=True, callbacks=[EvaluateWithAverage()]
    )
    assert swapped["loss"] == pytest.approx(expected, rel=1e-5) and expected != pytest.approx(plain, rel=1e-5)
    for before, after in zip(raw, model.trainable_variables, strict=True):
        np.testing.assert_array_equal(before, np.asarray(after))


# ---------------------------------------------------------------------------- word vectors, recipe
def test_word2vec_rows_follow_the_encoder_and_stay_fixed_in_training():
    from kerasgen.models.dgcnn.word_vectors import train_word_vectors

    texts = ["北京是中国的首都。", "上海是中国的城市。", "北京和上海都是城市。"] * 20
    encoder = MRCTextEncoder.build(texts, char_min_count=1, word_min_count=1)
    vectors = train_word_vectors(encoder, texts, dim=8, epochs=2, seed=0)
    assert vectors.shape == (encoder.word_vocabulary_size, 8)
    assert not vectors[:2].any()  # padding and unknown words get zero vectors, as in the post
    assert np.abs(vectors[2:]).sum(axis=1).min() > 0  # every kept word was trained
    np.testing.assert_array_equal(vectors, train_word_vectors(encoder, texts, dim=8, epochs=2, seed=0))

    fixed = DGCNN(encoder.char_vocabulary_size, encoder.word_vocabulary_size, 8, 8, word_trainable=False)
    fixed.embedding.word_embedding.embeddings.assign(vectors)
    assert all(v is not fixed.embedding.word_embedding.embeddings for v in fixed.trainable_variables)
    fixed.compile(optimizer=keras.optimizers.Adam(1e-2))
    x = {
        name: np.asarray(encoder.encode(texts[0])[name.endswith("words")])[None].repeat(4, 0)
        for name in ("question_chars", "question_words", "passage_chars", "passage_words")
    }
    y = {"start": np.eye(x["passage_chars"].shape[1], dtype="float32")[[0] * 4]}
    y["end"] = y["start"]
    fixed.fit(x, y, epochs=2, verbose=0)
    np.testing.assert_array_equal(np.asarray(fixed.embedding.word_embedding.embeddings), vectors)
    assert (
        keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(fixed)).word_trainable
        is False
    )


@pytest.mark.parametrize("variant", ["dgcnn_zh", "bce"])
def test_recipe_trains_scores_and_answers_on_a_small_slice(tmp_path, mrc_folder, variant, monkeypatch):
    """``kerasgen train dgcnn_zh --limit``: one epoch, per-epoch dev F1 logged, a model that answers."""
    import json

    from kerasgen.models.dgcnn.ablations import VARIANTS, variant_recipe
    from kerasgen.training import train

    recipe = variant if variant == "dgcnn_zh" else variant_recipe(variant, **VARIANTS[variant])
    model = train(recipe, tmp_path / "run", epochs=1, batch_size=16, limit=48, data_dir=mrc_folder, verbose=0)
    state = json.loads((tmp_path / "run" / "train_state.json").read_text())
    assert state["completed"] and 0.0 <= state["history"][0]["val_f1"] <= 100.0
    assert model.word_trainable == (variant != "dgcnn_zh")  # the entry keeps fixed word2vec vectors
    answer, _ = model.answer("北京是哪个国家的首都？", "北京是中华人民共和国的首都。")
    assert answer == "" or answer in "北京是中华人民共和国的首都。"
    assert state["finish"]["answer_threshold"] == model.answer_threshold >= 0.0  # calibrated, then saved
    assert (
        keras.saving.load_model(tmp_path / "run" / "model.keras").answer_threshold == model.answer_threshold
    )
    if variant == "dgcnn_zh":
        _publish_and_load_with_assets(tmp_path, model, monkeypatch)


def _publish_and_load_with_assets(tmp_path, model, monkeypatch):
    """The text encoder travels with a zoo entry, checksummed like the weights."""
    from kerasgen import zoo

    monkeypatch.setenv(zoo.ZOO_DIR_ENV, str(tmp_path / "zoo"))
    folder = zoo.publish(tmp_path / "run", quick=True)
    assert "assets/text_encoder.json" in zoo.load_entry("dgcnn_zh")["sha256"]
    loaded = zoo.load("dgcnn_zh")
    passage = "北京是中华人民共和国的首都。"
    assert loaded.answer("首都是哪里？", passage) == model.answer("首都是哪里？", passage)
    assert "per_source / " in (folder / "card.md").read_text()
    with open(folder / "assets" / "text_encoder.json", "a", encoding="utf-8") as handle:
        handle.write(" ")
    with pytest.raises(zoo.ZooError, match="corrupt"):
        zoo.load("dgcnn_zh")


def test_card_sections_render_the_committed_ablations_and_bench(tmp_path, monkeypatch):
    import json

    from kerasgen.models.dgcnn import recipes

    monkeypatch.setattr(recipes, "RESULTS_DIR", tmp_path)
    assert recipes._card_results() == ""  # nothing committed: no section
    row = {"em": 40.0, "f1": 55.55, "sogou_score": 50.0}
    (tmp_path / "dgcnn_ablations.json").write_text(json.dumps({"epochs": 2, "bce": row, "chars_only": row}))
    medians = {"train_examples_per_s": 60.0, "questions_per_s": 50.0, "f1": 10.0}
    bench = {
        "medians": {"dgcnn": medians, "bilstm": {**medians, "train_examples_per_s": 30.0}},
        "ratios_dgcnn_over_bilstm": {"train_examples_per_s": 2.0, "questions_per_s": 1.0, "f1": 1.0},
        "settings": {"repeats": 2, "dev_questions": 300, "budget": 300.0},
    }
    (tmp_path / "dgcnn_vs_bilstm.json").write_text(json.dumps(bench))
    card = recipes._card_results()
    assert (
        "## Ablations (2 epochs each" in card and "| no word branch (characters only) | 40.0 | 55.5 |" in card
    )
    assert "| training examples/s | 60.0 | 30.0 | 2.00 |" in card and "word2vec" not in card.split("##")[1]


def test_question_match_marks_passage_characters_found_in_the_question_and_ignores_padding():
    model = tiny_dgcnn(question_match=True)
    q = np.array([[5, 7, 1, 0]])  # 1 = unknown: never a match
    p = np.array([[7, 3, 5, 1, 0, 0]])
    np.testing.assert_array_equal(np.asarray(model.question_match(q, p)), [[1, 0, 1, 0, 0, 0]])
    x = {k: v[:8] for k, v in X.items()}
    padded = {k: np.pad(v, ((0, 0), (0, 7))) for k, v in x.items()}
    out, out_padded = model(x), model(padded)
    for name in ("start", "end"):
        np.testing.assert_allclose(np.asarray(out_padded[name])[:, :TP], np.asarray(out[name]), atol=1e-5)
    reloaded = DGCNN.from_config(model.get_config())
    assert reloaded.use_question_match and reloaded.match_embedding is not None
