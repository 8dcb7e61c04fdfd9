"""Evaluation helpers: image grids and latent plots (numpy only, no plotting library)."""

from kerasgen.eval.plots import image_grid, latent_scatter, manifold_grid, png_bytes

__all__ = ["image_grid", "latent_scatter", "manifold_grid", "png_bytes"]
