"""The ``ocr_zh`` recipe end to end on a small slice, and its card sections."""

import json

import pytest


@pytest.fixture(scope="module")
def fonts_installed():
    from kerasgen.data.glyphs import find_fonts, split_fonts

    training, held_out = split_fonts(find_fonts())
    if not training or not held_out:
        pytest.skip("the Debian CJK fonts are not installed (./run.sh installs them)")


def test_recipe_trains_publishes_and_reads_on_a_small_slice(tmp_path, monkeypatch, fonts_installed):
    """``kerasgen train ocr_zh --limit 40``: glyphs on the fly, the bigram model attached, a zoo entry."""
    from kerasgen import zoo
    from kerasgen.models.ocr.classifier import LANGUAGE_MODEL_FILE
    from kerasgen.training import train

    model = train("ocr_zh", tmp_path / "run", epochs=1, batch_size=16, limit=40, verbose=0)
    state = json.loads((tmp_path / "run" / "train_state.json").read_text())
    assert state["completed"] and "language_model_seconds" in state["finish"]
    assert len(model.charset) == 40 and model.language_model is not None
    monkeypatch.setenv(zoo.ZOO_DIR_ENV, str(tmp_path / "zoo"))
    folder = zoo.publish(tmp_path / "run", quick=True)
    card = (folder / "card.md").read_text(encoding="utf-8")
    assert "unseen_font_accuracy" in card and "line_cer_clean" in card
    assert f"assets/{LANGUAGE_MODEL_FILE}" in zoo.load_entry("ocr_zh")["sha256"]
    loaded = zoo.load("ocr_zh")
    assert loaded.language_model is not None
    assert loaded.language_model.log_prob("的", "是") == pytest.approx(
        model.language_model.log_prob("的", "是")
    )
    from kerasgen.models.ocr.recipes import example_images

    images, _ = example_images()
    assert [r.text for r in loaded.read_many(images)] == [r.text for r in model.read_many(images)]
    with open(folder / "assets" / LANGUAGE_MODEL_FILE, "ab") as handle:
        handle.write(b"x")
    with pytest.raises(zoo.ZooError, match="corrupt"):
        zoo.load("ocr_zh")


def test_card_sections_render_the_committed_comparisons(tmp_path, monkeypatch):
    from kerasgen.models.ocr import recipes

    monkeypatch.setattr(recipes, "RESULTS_DIR", tmp_path)
    assert recipes._card_results() == ""
    (tmp_path / "ocr_vs_tesseract.json").write_text(
        json.dumps(
            {
                "command": "taskset -c 1 python bench/ocr_vs_tesseract.py",
                "lines_per_tier": 10,
                "fonts": ["A", "B"],
                "tiers": {"clean": {"ours": 1.0, "tesseract": 2.0, "ratio": 0.5}},
                "lines_per_second": {"ours": 30.0, "tesseract": 27.0, "ratio": 30 / 27},
            }
        )
    )
    row = {"parameters": 10, "train_examples_per_s": 5.0, "unseen_font_accuracy": 90.0}
    row["unseen_font_accuracy_noise15"] = 80.0
    settings = {"classes": 5, "epochs": 1, "steps": 2, "batch_size": 3}
    (tmp_path / "ocr_networks.json").write_text(
        json.dumps(
            {"post": row, "glyph": row, "settings": settings, "command": "python bench/ocr_networks.py"}
        )
    )
    text = recipes._card_results()
    assert "| clean | 1.00 | 2.00 | 0.50 |" in text and "ratio 1.11" in text
    assert "| post 1's CNN | 10 | 5 | 90.00 | 80.00 |" in text
