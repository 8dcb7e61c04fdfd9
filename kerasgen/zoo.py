"""The pretrained zoo: ``list_entries()``, ``load(name)`` and ``publish(run)``.

Each entry is a folder ``zoo/<name>/`` of data, not code:

- ``entry.json``: name, description, recipe, and the sha256 of every file below;
- ``config.json``: the serialised model (``keras.saving.serialize_keras_object``);
- ``model.weights.h5``: the weights;
- ``assets/``: what the model's ``save_assets`` writes, if anything (a vocabulary, a tokeniser);
- ``metrics.json``: what ``kerasgen evaluate <name>`` printed when the entry was published;
- ``card.md``: data and split, training command, epochs, wall time, machine, metrics.

The zoo folder is ``$KERASGEN_ZOO_DIR`` if set, else ``zoo/`` at the repository root.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import keras

import kerasgen.models  # noqa: F401  (registers every model class for deserialisation)

ZOO_DIR_ENV = "KERASGEN_ZOO_DIR"
WEIGHTS_FILE = "model.weights.h5"
ASSETS_DIR = "assets"
CONFIG_FILE = "config.json"
ENTRY_FILE = "entry.json"


class ZooError(ValueError):
    """A zoo entry is unknown, incomplete or corrupt; the message says how to fix it."""


def zoo_dir() -> Path:
    """The folder holding the published entries."""
    return Path(os.environ.get(ZOO_DIR_ENV) or Path(__file__).resolve().parents[1] / "zoo")


def sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def list_entries() -> list[dict]:
    """Every published entry's ``entry.json`` (name, description, recipe, files)."""
    root = zoo_dir()
    if not root.is_dir():
        return []
    return [json.loads(path.read_text()) for path in sorted(root.glob(f"*/{ENTRY_FILE}"))]


def names() -> list[str]:
    """Names of the published entries."""
    return [entry["name"] for entry in list_entries()]


def _entry(name: str) -> tuple[Path, dict]:
    folder = zoo_dir() / name
    if not (folder / ENTRY_FILE).is_file():
        known = ", ".join(names()) or "none"
        raise ZooError(f"Unknown zoo entry {name!r}; published entries: {known}.")
    return folder, json.loads((folder / ENTRY_FILE).read_text())


def load_entry(name: str) -> dict:
    """The ``entry.json`` of ``name`` (raises ``ZooError`` for an unknown name)."""
    return _entry(name)[1]


def verify(name: str) -> Path:
    """Check every file of entry ``name`` against its sha256; return the entry folder."""
    folder, entry = _entry(name)
    for file_name, expected in entry["sha256"].items():
        path = folder / file_name
        if not path.is_file():
            raise ZooError(
                f"Zoo entry {name!r} is missing {path}. Restore it with `git checkout -- {path}` "
                f"(a fresh clone has it), or retrain: `{entry.get('train_command')}` "
                f"then `kerasgen zoo publish <run folder>`."
            )
        actual = sha256(path)
        if actual != expected:
            raise ZooError(
                f"{path} is corrupt: sha256 {actual[:12]}… does not match the registered "
                f"{expected[:12]}…. Restore it with `git checkout -- {path}` or re-publish the entry."
            )
    return folder


def load(name: str, compile: bool = True) -> keras.Model:
    """The published model ``name``, its weights sha256-verified, compiled with its recipe's optimizer."""
    from kerasgen import recipes

    folder = verify(name)
    _, entry = _entry(name)
    model = keras.saving.deserialize_keras_object(json.loads((folder / CONFIG_FILE).read_text()))
    try:
        model.load_weights(folder / WEIGHTS_FILE)
    except ValueError as error:
        raise ZooError(
            f"{folder / WEIGHTS_FILE} does not fit the architecture in {folder / CONFIG_FILE}: {error}"
        ) from None
    if (folder / ASSETS_DIR).is_dir() and hasattr(model, "load_assets"):
        model.load_assets(str(folder / ASSETS_DIR))
    if compile:
        recipes.get(entry["recipe"]).compile(model)
    return model


def load_any(reference: str | Path) -> keras.Model:
    """A zoo entry name, a ``kerasgen train`` run folder or a ``.keras`` file → the model."""
    path = Path(reference)
    if path.is_dir() and (path / "model.keras").exists():
        return load_file(path / "model.keras")
    if path.suffix == ".keras":
        return load_file(path)
    return load(str(reference))


def load_file(path: str | Path) -> keras.Model:
    """A model saved with ``model.save(path)`` (``.keras``), with a clear error if unreadable."""
    path = Path(path)
    if not path.is_file():
        raise ZooError(f"No model file at {path}; train one with `kerasgen train` first.")
    try:
        return keras.saving.load_model(path)
    except Exception as error:
        reason = str(error).split("\n")[0][:300]
        raise ZooError(f"{path} is not a readable .keras model ({reason}).") from None


def _flat(metrics: dict, prefix: str = "") -> dict:
    """``{"per_source": {"cmrc": {"f1": 1}}}`` → ``{"per_source / cmrc / f1": 1}`` for the card's table."""
    flat = {}
    for key, value in metrics.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key} / "))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _card(entry: dict, state: dict, metrics: dict, recipe) -> str:
    hours, rest = divmod(state.get("wall_seconds", 0.0), 3600)
    lines = [
        f"# {entry['name']}",
        "",
        recipe.description,
        "",
        "| | |",
        "| --- | --- |",
        f"| data and split | {recipe.data} |",
        f"| training command | `{state.get('command')}` |",
        f"| epochs | {state.get('epochs_done')} run, best validation epoch {state.get('best_epoch')} kept |",
        f"| batch size | {state.get('batch_size') or 'all training examples in one batch'} |",
        f"| training wall time | {int(hours)} h {rest / 60:.1f} min |",
        f"| machine | {state.get('machine')} |",
        f"| evaluation command | `kerasgen evaluate {entry['name']}` |",
        f"| weights sha256 | `{entry['sha256'][WEIGHTS_FILE]}` |",
        "",
        "## Held-out metrics (written by the evaluation command at publication)",
        "",
        "| metric | value |",
        "| --- | --- |",
    ]
    for key, value in _flat(metrics).items():
        lines.append(f"| {key} | {value} |")
    if recipe.baseline:
        lines += ["", "## Reference", "", recipe.baseline]
    if recipe.results is not None:
        lines += ["", recipe.results().strip()]
    return "\n".join(lines) + "\n"


def _finished_run(run: Path) -> dict:
    """The ``train_state.json`` of a finished ``kerasgen train`` run (a clear error otherwise)."""
    state_path = run / "train_state.json"
    if not state_path.is_file():
        raise ZooError(f"{run} is not a `kerasgen train` run folder (no train_state.json).")
    state = json.loads(state_path.read_text())
    if not state.get("completed"):
        raise ZooError(f"The run in {run} has not finished; re-run its command to complete it.")
    return state


def refresh_card(run: str | Path) -> Path:
    """Re-render the ``card.md`` of the entry published from ``run``, leaving every checksummed file alone.

    For a recipe's ``results`` section (bench figures committed under ``notebooks/results/``)
    that changed after publication; the metrics stay those written by the evaluation at publication.
    """
    from kerasgen import recipes

    run = Path(run)
    state = _finished_run(run)
    recipe = recipes.get(state["recipe"])
    folder, entry = _entry(recipe.name)
    if entry.get("train_command") != state.get("command"):
        raise ZooError(
            f"{run} was trained by `{state.get('command')}`, but zoo entry {recipe.name!r} by "
            f"`{entry.get('train_command')}`; give the run folder the entry was published from."
        )
    metrics = json.loads((folder / "metrics.json").read_text())
    (folder / "card.md").write_text(_card(entry, state, metrics, recipe))
    return folder


def publish(run: str | Path, data_dir: str | None = None, quick: bool = False) -> Path:
    """Evaluate a finished ``kerasgen train`` run and write it to ``zoo/<recipe name>/``."""
    from kerasgen import recipes

    run = Path(run)
    state = _finished_run(run)
    recipe = recipes.get(state["recipe"])
    model = load_file(run / "model.keras")
    started = time.perf_counter()
    metrics = recipe.evaluate(model, data_dir=data_dir, quick=quick)
    metrics["evaluation_seconds"] = round(time.perf_counter() - started, 1)

    folder = zoo_dir() / recipe.name
    folder.mkdir(parents=True, exist_ok=True)
    config = keras.saving.serialize_keras_object(model)
    config.pop("compile_config", None)  # architecture only: `load` compiles with the recipe
    (folder / CONFIG_FILE).write_text(json.dumps(config, indent=1, sort_keys=True) + "\n")
    # A fresh, uncompiled copy: the published weights carry no optimizer state.
    published = keras.saving.deserialize_keras_object(config)
    published.set_weights(model.get_weights())
    published.save_weights(folder / WEIGHTS_FILE)
    files = [CONFIG_FILE, WEIGHTS_FILE]
    if hasattr(model, "save_assets"):  # vocabularies and tokenisers travel with the weights
        (folder / ASSETS_DIR).mkdir(exist_ok=True)
        model.save_assets(str(folder / ASSETS_DIR))
        files += sorted(str(p.relative_to(folder)) for p in (folder / ASSETS_DIR).rglob("*") if p.is_file())
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n")
    entry = {
        "name": recipe.name,
        "description": recipe.description,
        "recipe": recipe.name,
        "train_command": state.get("command"),
        "sha256": {name: sha256(folder / name) for name in files},
    }
    (folder / "card.md").write_text(_card(entry, state, metrics, recipe))
    (folder / ENTRY_FILE).write_text(json.dumps(entry, indent=2) + "\n")
    return folder


# ``kerasgen.zoo.list()``: the published names, as the zoo is usually called. Defined last so
# the builtin ``list`` stays available to the code above.
list = names
