"""Post 1's CNN against ``ocr_zh``'s default network, trained the same way on the same glyphs.

Both are ``OCRCharClassifier`` s over the ``--classes`` most frequent characters of the ``ocr_zh``
charset, with post 1's class weights and Adam (1e-3), fed the same ``GlyphSequence`` batches
(training fonts, the recipe's augmentations and 5% pixel noise) for ``--epochs`` × ``--steps``
steps of ``--batch-size``. Each is then scored on the held-out test faces as ``kerasgen evaluate
ocr_zh`` does (post 1's protocol: sizes 46–50, top-left on 48×48; clean and with 15% noise), and
its training speed (examples/s, tracing excluded) and parameter count are printed.

This is an equal-budget comparison on a subset, not the full training run: CPU time did not allow
training post 1's CNN on all classes.

    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python bench/ocr_networks.py --classes 500 --epochs 16 --steps 100 --save
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import keras
import numpy as np

RESULTS = Path(__file__).resolve().parents[1] / "notebooks" / "results" / "ocr_networks.json"


def run(network: str, args) -> dict:
    from kerasgen.data.glyphs import GlyphSequence, glyph_test_set
    from kerasgen.models.ocr.recipes import _faces, build_ocr_zh, evaluation_faces

    keras.utils.set_random_seed(args.seed)
    model = build_ocr_zh(limit=args.classes, network=network)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    training, _ = _faces()
    batches = GlyphSequence(
        list(model.charset),
        training,
        batch_size=args.batch_size,
        steps=args.steps,
        noise=0.05,
        seed=args.seed,
    )
    model.fit(batches, epochs=1, steps_per_epoch=5, verbose=0)  # tracing, not timed
    started = time.perf_counter()
    history = model.fit(batches, epochs=args.epochs, verbose=0).history
    seconds = time.perf_counter() - started
    result = {
        "parameters": int(model.count_params()),
        "train_examples_per_s": args.epochs * args.steps * args.batch_size / seconds,
        "final_training_accuracy": 100.0 * history["accuracy"][-1],
    }
    faces = evaluation_faces()
    for key, noise in (("unseen_font_accuracy", 0.0), ("unseen_font_accuracy_noise15", 0.15)):
        x, y = glyph_test_set(list(model.charset), faces, per_char=1, noise=noise, seed=1)
        result[key] = 100.0 * float(np.mean(model.predict_proba(x).argmax(axis=1) == y))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", action="store_true", help=f"write {RESULTS.name} under notebooks/results")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = {"post": run("post", args), "glyph": run("glyph", args)}
    for name, label in (("post", "post 1's CNN"), ("glyph", "ocr_zh's default")):
        r = results[name]
        print(
            f"{label:18s} {r['parameters']:>10,d} params  {r['train_examples_per_s']:6.0f} ex/s  "
            f"unseen fonts {r['unseen_font_accuracy']:5.1f}%  "
            f"with 15% noise {r['unseen_font_accuracy_noise15']:5.1f}%"
        )
    results["settings"] = vars(args)
    results["command"] = "python bench/ocr_networks.py " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])
    )
    results["wall_s"] = round(time.perf_counter() - started, 1)
    if args.save:
        RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
