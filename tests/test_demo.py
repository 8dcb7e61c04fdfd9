"""The main job: ``kerasgen demo`` over the published zoo, with no dataset and no network."""

import json

from kerasgen import zoo
from kerasgen.demo import run_demo


def test_demo_writes_figures_and_results_for_every_entry(tmp_path, monkeypatch):
    monkeypatch.delenv("KERASGEN_DATA_DIR", raising=False)  # the demo must not need a dataset
    monkeypatch.delenv("KERASGEN_MRC_DIR", raising=False)
    results = run_demo(tmp_path)
    assert set(results) == set(zoo.names())
    saved = json.loads((tmp_path / "results.json").read_text())
    for name, result in saved.items():
        for image in result["images"].values():
            assert (tmp_path / name / image).read_bytes()[:4] == b"\x89PNG"
        metrics = result["quick_metrics"] or result["published_metrics"]
        assert metrics[result["headline"]] > 0
    assert {"latent_scatter", "latent_manifold"} <= set(saved["vae_mnist"]["images"])
    assert "samples_by_class" in saved["cvae_mnist"]["images"]
    assert "cluster_centres" in saved["kmeans_mnist"]["images"]
    assert saved["plsa_zh"]["quick_metrics"] is None  # its texts are not bundled: card figures shown
    assert len((tmp_path / "plsa_zh" / "topics.txt").read_text().splitlines()) == 10
    if "dgcnn_zh" in saved:  # the reader answers its built-in questions from the passages given
        from kerasgen.models.dgcnn.answering import EXAMPLE_QUESTIONS

        rows = (tmp_path / "dgcnn_zh" / "answers.txt").read_text(encoding="utf-8").splitlines()
        assert len(rows) == len(EXAMPLE_QUESTIONS)
        for row, (_, passages) in zip(rows, EXAMPLE_QUESTIONS, strict=True):
            answer = row.split("\t")[1]
            assert answer == "(no answer)" or any(answer in p for p in passages)
    if "ocr_zh" in saved:  # the OCR model reads a poster and a page, and shows the glyphs it sees
        report = (tmp_path / "ocr_zh" / "ocr.txt").read_text(encoding="utf-8")
        assert report.count("read:") == 2 and "glyphs" in saved["ocr_zh"]["images"]
