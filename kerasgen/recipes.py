"""Named training recipes: how each zoo entry is built, fed, trained and evaluated.

A recipe is data plus a few factories. ``kerasgen train NAME`` runs one, ``kerasgen evaluate``
scores its output, and ``kerasgen.zoo`` publishes it; each family module registers its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras


@dataclass(frozen=True)
class Recipe:
    """How to reproduce one model.

    Attributes:
        name: the zoo entry it produces.
        description: one line for ``kerasgen zoo list``.
        build: ``(seed, data_dir=None, limit=None) → model`` (uncompiled); the data arguments
            are for models whose shape depends on the data (a vocabulary, a document count).
        optimizer: ``→ keras optimizer``, or ``→ {compile argument: optimizer}`` for models with
            several (``{"d_optimizer": ..., "g_optimizer": ...}``).
        datasets: ``(data_dir, batch_size, seed, limit) → (train, validation)`` tf.data pipelines.
        evaluate: ``(model, data_dir, quick) → {metric: value}`` on the held-out data.
        reference: ``(data_dir) → images or (images, labels)`` for TensorBoard and the demo, or
            None for entries without images.
        epochs, batch_size: defaults for ``fit``.
        callbacks: ``(data_dir=None, limit=None) → list`` of extra callbacks (schedules, sample
            quality); they run before the checkpoint, so metrics they add to the logs can be monitored.
        monitor: the validation metric whose best epoch is kept.
        monitor_mode: ``"min"`` (a loss) or ``"max"`` (a score such as F1).
        data: a sentence on data and split, copied into the zoo card.
        baseline: the published or calibration figure to judge against, with its source.
        headline: the metric ``kerasgen demo`` prints for the entry.
        results: ``→ markdown`` rendered from committed result files (ablations, comparisons, each
            written by its own command), appended to the zoo card; None for none.
        finish: ``(model, data_dir=None, limit=None) → {fact: value}`` run on the kept weights before
            the model is saved (e.g. calibrating a decision threshold on validation data); the facts
            are recorded in the run's state. None for none.
    """

    name: str
    description: str
    build: Callable[..., keras.Model]
    optimizer: Callable[[], Any]
    datasets: Callable[..., tuple[Any, Any]]
    evaluate: Callable[..., dict]
    reference: Callable[..., Any] | None
    epochs: int
    batch_size: int
    data: str
    callbacks: Callable[..., list] = field(default=lambda data_dir=None, limit=None: [])
    monitor: str = "val_loss"
    monitor_mode: str = "min"
    baseline: str = ""
    headline: str = "negative_elbo_nats"
    results: Callable[[], str] | None = None
    finish: Callable[..., dict] | None = None

    def compile(self, model: keras.Model) -> keras.Model:
        """Compile ``model`` with this recipe's optimizer(s); returns it."""
        optimizer = self.optimizer()
        if isinstance(optimizer, dict):
            model.compile(**optimizer)
        else:
            model.compile(optimizer=optimizer)
        return model


_REGISTRY: dict[str, Recipe] = {}


def register(recipe: Recipe) -> Recipe:
    """Add ``recipe`` to the registry (names are unique)."""
    if recipe.name in _REGISTRY and _REGISTRY[recipe.name] is not recipe:
        raise ValueError(f"A recipe named {recipe.name!r} is already registered.")
    _REGISTRY[recipe.name] = recipe
    return recipe


def _load_families() -> None:
    import kerasgen.models.adversarial.recipes  # registers posts 3 and 7
    import kerasgen.models.classifier.recipes  # registers the digit yardstick
    import kerasgen.models.dgcnn.recipes  # registers post 6's reader
    import kerasgen.models.em.recipes  # registers post 2's family
    import kerasgen.models.flows.recipes  # registers post 8's family
    import kerasgen.models.ocr.recipes  # registers post 1's reader
    import kerasgen.models.vae.recipes  # noqa: F401  (registers the VAE family)


def names() -> list[str]:
    """Every registered recipe name."""
    _load_families()
    return sorted(_REGISTRY)


def get(name: str) -> Recipe:
    """The recipe called ``name``; an unknown name gets a ``KeyError`` listing the known ones."""
    _load_families()
    if name not in _REGISTRY:
        raise KeyError(f"Unknown recipe {name!r}; known recipes: {', '.join(sorted(_REGISTRY))}.")
    return _REGISTRY[name]
