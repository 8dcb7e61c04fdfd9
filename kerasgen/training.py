"""Resumable training of a recipe: what ``kerasgen train`` runs.

Output folder layout (``--out``)::

    model.keras          the final model (best validation epoch), written when training ends
    best.weights.h5      best-so-far weights (``ModelCheckpoint`` on the recipe's monitor)
    backup/              ``BackupAndRestore`` state: weights, optimizer and epoch, every epoch
    train_state.json     recipe, command, epochs, wall time so far, history, best value

Interrupt it at any point and run the same command again: it restores the last finished epoch
(weights and optimizer state) and carries on; wall time and history accumulate.
"""

from __future__ import annotations

import json
import platform
import shlex
import sys
import time
from pathlib import Path

import keras

from kerasgen import recipes
from kerasgen.callbacks import GenerativeTensorBoard

STATE_FILE = "train_state.json"


class TrainingState(keras.callbacks.Callback):
    """Writes ``train_state.json`` after every epoch: wall time, history and the best value."""

    def __init__(self, path: Path, state: dict, monitor: str, mode: str = "min"):
        super().__init__()
        self.path, self.state, self.monitor = path, state, monitor
        self.sign = -1.0 if mode == "max" else 1.0
        self._epoch_start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = {
            k: float(v)
            for k, v in (logs or {}).items()
            if isinstance(v, (int, float)) or hasattr(v, "__float__")
        }
        self.state["wall_seconds"] += time.perf_counter() - self._epoch_start
        self.state["epochs_done"] = epoch + 1
        # An epoch re-run after a kill (see ``train``) replaces its earlier record.
        self.state["history"] = [h for h in self.state["history"] if h["epoch"] < epoch + 1]
        self.state["history"].append({"epoch": epoch + 1, **logs})
        value = logs.get(self.monitor)
        best = self.state.get("best")
        if value is not None and (best is None or self.sign * value < self.sign * best):
            self.state["best"], self.state["best_epoch"] = value, epoch + 1
        save_json(self.path, self.state)


def save_json(path: Path, data: dict) -> None:
    """Write JSON atomically (a crash never leaves half a file)."""
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    temporary.replace(path)


def machine_description() -> str:
    """Hardware and software the run used, for the zoo card."""
    import os

    import tensorflow as tf

    devices = [d.device_type for d in tf.config.list_physical_devices()]
    return (
        f"{platform.machine()} {os.cpu_count()} CPU cores ({', '.join(sorted(set(devices)))}); "
        f"Python {platform.python_version()}, TensorFlow {tf.__version__}, Keras {keras.__version__}"
    )


def train(
    recipe_name: str | recipes.Recipe,
    out: str | Path,
    epochs: int | None = None,
    batch_size: int | None = None,
    logdir: str | None = None,
    data_dir: str | None = None,
    seed: int = 0,
    limit: int | None = None,
    verbose: int | str = "auto",
    command: str | None = None,
) -> keras.Model:
    """Train ``recipe_name`` into ``out``, resuming from ``out/backup`` if it exists.

    ``recipe_name`` may also be a ``Recipe`` that is not registered (an ablation variant).
    Returns the model holding the best validation weights (also saved as ``out/model.keras``).
    """
    recipe = recipe_name if isinstance(recipe_name, recipes.Recipe) else recipes.get(recipe_name)
    recipe_name = recipe.name
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    epochs = epochs or recipe.epochs
    batch_size = batch_size or recipe.batch_size
    state_path = out / STATE_FILE
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    if state and state.get("recipe") != recipe_name:
        raise ValueError(
            f"{out} holds a run of {state.get('recipe')!r}, not {recipe_name!r}; use another --out."
        )
    if state and state.get("batch_size") != batch_size:
        raise ValueError(
            f"{out} was trained with batch size {state.get('batch_size')}; resume with the same "
            "--batch-size or use another --out."
        )
    state = state or {
        "recipe": recipe_name,
        "seed": seed,
        "batch_size": batch_size,
        "wall_seconds": 0.0,
        "epochs_done": 0,
        "history": [],
        "limit": limit,
    }
    state.update(
        {
            "epochs": epochs,
            "command": command or " ".join(shlex.quote(a) for a in ["kerasgen", *sys.argv[1:]]),
            "machine": machine_description(),
            "completed": False,
        }
    )

    keras.utils.set_random_seed(seed)
    model = recipe.build(seed, data_dir=data_dir, limit=limit)
    recipe.compile(model)
    train_data, validation_data = recipe.datasets(
        data_dir=data_dir, batch_size=batch_size, seed=seed, limit=limit
    )
    best_path = out / "best.weights.h5"
    # Order matters when a run is killed. Recipe callbacks first, since they may add metrics (sample
    # quality) that the checkpoint monitors. The state file is written before the backup, so a
    # kill between the two re-runs an epoch the history already holds, and TrainingState
    # replaces it; it never skips one.
    callbacks = [
        *recipe.callbacks(data_dir=data_dir, limit=limit),
        keras.callbacks.ModelCheckpoint(
            str(best_path),
            monitor=recipe.monitor,
            mode=recipe.monitor_mode,
            save_best_only=True,
            save_weights_only=True,
            initial_value_threshold=state.get("best"),
        ),
        TrainingState(state_path, state, recipe.monitor, recipe.monitor_mode),
        # double_checkpoint: a kill while the backup is written leaves the previous one to resume from.
        keras.callbacks.BackupAndRestore(
            str(out / "backup"), double_checkpoint=True, delete_checkpoint=False
        ),
    ]
    if logdir:
        reference = recipe.reference(data_dir=data_dir, count=64) if recipe.reference else None
        callbacks.append(GenerativeTensorBoard(logdir, reference=reference))
    model.fit(
        train_data,
        validation_data=validation_data,
        epochs=epochs,
        callbacks=callbacks,
        verbose=verbose,
    )
    if best_path.exists():
        model.load_weights(best_path)
    if hasattr(model, "use_average_weights"):  # export the weight average it was validated with
        model.use_average_weights()
    if recipe.finish is not None:
        state["finish"] = recipe.finish(model, data_dir=data_dir, limit=limit)
    model.save(out / "model.keras")
    state["completed"] = True
    save_json(state_path, state)
    return model
