"""Post 6's design choices, measured: focal vs BCE loss, weight average on/off, word branch variants.

``python -m kerasgen.models.dgcnn.ablations --out runs/dgcnn_ablations --epochs 2 --baseline RUN``
trains each variant of the ``dgcnn_zh`` recipe for the same number of epochs, on the same split,
schedule and seed, and scores it on the whole dev split (CMRC EM/F1, answerless questions
included). Each variant changes one choice of the reference configuration ``REFERENCE``: the
2019 release (focal loss, no exact-match feature, weight average) with word vectors learned end to
end. ``RUN`` is a ``kerasgen train`` run of the reference (or a copy of its ``backup`` folder)
after that many epochs, scored with and without its weight average: the EMA ablation needs no
second run, since the average is kept beside the raw weights. Results go to ``OUT/ablations.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import time
from pathlib import Path

import keras

REFERENCE = {"loss": "focal", "words": "learned", "question_match": False}
VARIANTS = {
    "bce": {**REFERENCE, "loss": "bce"},
    "chars_only": {**REFERENCE, "words": "none"},
    "word2vec": {**REFERENCE, "words": "word2vec"},
}


def variant_recipe(name: str, **options):
    """The ``dgcnn_zh`` recipe with ``build_dgcnn_zh(**options)``, under the name ``dgcnn_zh-NAME``."""
    from kerasgen import recipes
    from kerasgen.models.dgcnn import recipes as dgcnn_recipes

    base = recipes.get("dgcnn_zh")
    return dataclasses.replace(
        base,
        name=f"dgcnn_zh-{name}",
        build=functools.partial(dgcnn_recipes.build_dgcnn_zh, **options),
        datasets=functools.partial(dgcnn_recipes._datasets, use_words=options.get("words") != "none"),
    )


def _weights_file(run: Path) -> Path:
    for candidate in (
        run / "best.weights.h5",
        run / "latest.weights.h5",
        run / "backup" / "latest.weights.h5",
    ):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"No weights in {run}: give a dgcnn_zh run folder or a copy of its backup.")


def score_with_and_without_average(run: str | Path, data_dir=None, **options) -> dict:
    """Dev scores of the weights saved in ``run``: raw, and with the weight average swapped in."""
    from kerasgen import recipes
    from kerasgen.models.dgcnn.recipes import _evaluate, build_dgcnn_zh

    model = build_dgcnn_zh(0, data_dir=data_dir, **options)
    recipes.get("dgcnn_zh").compile(model)
    model.optimizer.build(model.trainable_variables)
    model.load_weights(_weights_file(Path(run)))
    raw = _evaluate(model, data_dir)
    with model.average.swapped_in():
        average = _evaluate(model, data_dir)
    return {"raw": raw, "average": average}


ENTRY_ROW = "entry: word2vec vectors, exact-match feature"


def run_ablations(
    out: str | Path, epochs: int, variants=tuple(VARIANTS), baseline=None, entry=None, data_dir=None
) -> dict:
    """Train and score each variant for ``epochs``; score ``baseline`` raw and averaged; write JSON.

    ``entry``: a run of the ``dgcnn_zh`` recipe itself after ``epochs`` epochs, scored beside them.
    """
    from kerasgen.models.dgcnn.recipes import _evaluate
    from kerasgen.training import train

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "ablations.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results["epochs"] = epochs
    if baseline is not None:
        scores = score_with_and_without_average(baseline, data_dir, **REFERENCE)
        results["focal+learned words+average"] = scores["average"]
        results["focal+learned words, no average"] = scores["raw"]
        path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    if entry is not None:
        results[ENTRY_ROW] = score_with_and_without_average(entry, data_dir)["average"]
        path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    for name in variants:
        started = time.perf_counter()
        model = train(
            variant_recipe(name, **VARIANTS[name]),
            out / name,
            epochs=epochs,
            data_dir=data_dir,
            verbose=2,
            command=f"python -m kerasgen.models.dgcnn.ablations --out {out} --epochs {epochs}",
        )
        results[name] = {**_evaluate(model, data_dir), "seconds": round(time.perf_counter() - started)}
        path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
        keras.backend.clear_session()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--baseline", help="a run of REFERENCE (or its backup copy) after --epochs epochs")
    parser.add_argument("--entry", help="a dgcnn_zh run (or its backup copy) after --epochs epochs")
    parser.add_argument("--data-dir")
    args = parser.parse_args(argv)
    results = run_ablations(args.out, args.epochs, args.variants, args.baseline, args.entry, args.data_dir)
    print(json.dumps(results, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
