"""The figures a model can show, chosen by what it offers (duck typing), as uint8 images.

Shared by ``GenerativeTensorBoard`` and ``kerasgen demo``, so every family that implements
``sample``, ``reconstruct``, ``encode``/``decode``, ``class_means`` or ``cluster_centres`` gets its
figures in both without writing plotting code.
"""

from __future__ import annotations

import numpy as np

from kerasgen.eval.plots import image_grid, latent_scatter, manifold_grid

MAX_RECONSTRUCTIONS = 16
TEMPERATURES = (0.0, 0.5, 0.7, 0.85, 1.0)
INTERPOLATION_STEPS = 8
MAX_INTERPOLATIONS = 4


def model_figures(
    model, reference_images=None, reference_labels=None, num_samples: int = 64, seed: int = 1234
) -> dict[str, np.ndarray]:
    """Every figure ``model`` supports, by name.

    - ``samples``: ``model.sample(num_samples, seed=seed)`` (the same noise every call);
    - ``reconstructions``: up to 16 reference images above ``model.reconstruct`` of them;
    - ``latent_manifold``: post 4's decoded grid, for 2-d latents;
    - ``latent_scatter``: codes of the reference images (first two dimensions), for encoders;
    - ``samples_by_class``: ten samples of each class, for models with ``class_means``;
    - ``cluster_centres``: the centres of a clustering model, as images;
    - ``temperature_sweep``: post 8's figure, one row of the same noise per temperature in
      ``TEMPERATURES``, for models whose ``sample`` takes ``temperature``;
    - ``interpolation``: decodings along the line between the codes of reference pairs, for
      models with ``interpolate``;
    - ``glyphs`` and ``misread_glyphs``: the reference glyphs a character classifier sees (models
      with ``top_k``), and those of them it currently gets wrong (with reference labels).
    """
    figures = {}
    if hasattr(model, "sample"):
        figures["samples"] = image_grid(model.sample(num_samples, seed=seed))
    if reference_images is not None and hasattr(model, "reconstruct"):
        real = np.asarray(reference_images)[:MAX_RECONSTRUCTIONS]
        figures["reconstructions"] = image_grid(
            np.concatenate([real, model.reconstruct(real)]), columns=len(real)
        )
    if getattr(model, "latent_dim", None) == 2 and hasattr(model, "decode"):
        figures["latent_manifold"] = manifold_grid(model.decode)
    if getattr(model, "latent_dim", 0) >= 2 and reference_images is not None and hasattr(model, "encode"):
        codes = model.encode(np.asarray(reference_images))
        codes = codes[0] if isinstance(codes, tuple) else codes  # (μ, log σ²) of a VAE
        figures["latent_scatter"] = latent_scatter(codes[:, :2], reference_labels)
    if hasattr(model, "class_means") and hasattr(model, "sample"):
        labels = np.repeat(np.arange(model.num_classes), 10)
        figures["samples_by_class"] = image_grid(
            model.sample(len(labels), seed=seed, labels=labels), columns=10
        )
    if getattr(model, "samples_at_temperature", False):
        rows = [model.sample(INTERPOLATION_STEPS, seed=seed, temperature=t) for t in TEMPERATURES]
        figures["temperature_sweep"] = image_grid(np.concatenate(rows), columns=INTERPOLATION_STEPS)
    if hasattr(model, "interpolate") and reference_images is not None and len(reference_images) >= 2:
        real = np.asarray(reference_images)
        pairs = min(MAX_INTERPOLATIONS, len(real) // 2)
        rows = [model.interpolate(real[2 * i], real[2 * i + 1], INTERPOLATION_STEPS) for i in range(pairs)]
        figures["interpolation"] = image_grid(np.concatenate(rows), columns=INTERPOLATION_STEPS)
    if hasattr(model, "top_k") and reference_images is not None:
        glyphs = np.asarray(reference_images)[:num_samples]
        figures["glyphs"] = image_grid(glyphs)
        if reference_labels is not None:
            predicted = model.predict_proba(glyphs).argmax(axis=1)
            wrong = glyphs[predicted != np.asarray(reference_labels)[: len(glyphs)]]
            if len(wrong):
                figures["misread_glyphs"] = image_grid(wrong)
    if hasattr(model, "cluster_centres"):
        centres = model.cluster_centres()
        if centres.ndim == 4:
            low, high = centres.min(), centres.max()
            figures["cluster_centres"] = image_grid((centres - low) / max(high - low, 1e-8))
    return figures
