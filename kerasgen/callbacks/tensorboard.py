"""TensorBoard for generative models: every loss term plus sample and latent images."""

from __future__ import annotations

import keras
import numpy as np

from kerasgen.eval.figures import model_figures


class GenerativeTensorBoard(keras.callbacks.TensorBoard):
    """``keras.callbacks.TensorBoard`` that also writes images each ``image_every`` epochs.

    Scalars: every metric the model reports (each loss term, train and validation), as the
    parent callback writes them. Images, written by this callback (never by the model), under
    the training run:

    - ``samples``: a grid from ``model.sample(n, seed=fixed)`` (the same noise every epoch);
    - ``reconstructions``: reference images above their ``model.reconstruct`` output;
    - ``latent_scatter`` and ``latent_manifold``: post 4's figures, for 2-d latent models;
    - ``samples_by_class`` and ``cluster_centres`` for conditional and clustering models.

    Each image is drawn only when the model has the method it needs
    (``kerasgen.eval.figures.model_figures``), so any family with a ``sample`` method gets
    sample grids.

    Args:
        log_dir: TensorBoard folder.
        reference: a batch of real images ``[N, H, W, C]`` (or ``(images, labels)``) for
            reconstructions and the latent scatter.
        num_samples: images in the sample grid.
        image_every: epochs between image summaries.
        **kwargs: passed to ``keras.callbacks.TensorBoard``.
    """

    def __init__(
        self,
        log_dir: str = "logs",
        reference=None,
        num_samples: int = 64,
        image_every: int = 1,
        sample_seed: int = 1234,
        **kwargs,
    ):
        kwargs.setdefault("write_graph", False)
        super().__init__(log_dir=log_dir, **kwargs)
        if isinstance(reference, (tuple, list)):
            self.reference_images, self.reference_labels = (np.asarray(r) for r in reference)
        else:
            self.reference_images = None if reference is None else np.asarray(reference)
            self.reference_labels = None
        self.num_samples = num_samples
        self.image_every = max(1, int(image_every))
        self.sample_seed = sample_seed

    def images_for(self, model) -> dict[str, np.ndarray]:
        """The image summaries this callback would write for ``model``, as uint8 ``[H, W, C]``."""
        return model_figures(
            model, self.reference_images, self.reference_labels, self.num_samples, self.sample_seed
        )

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        if (epoch + 1) % self.image_every and epoch != 0:
            return
        import tensorflow as tf

        with self._train_writer.as_default():
            for name, image in self.images_for(self.model).items():
                tf.summary.image(name, image[None], step=epoch)
        self._train_writer.flush()
