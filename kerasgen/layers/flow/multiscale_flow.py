"""``MultiScaleFlow``: Glow's multi-scale architecture as one bijection ``x ↔ z`` (flat)."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from kerasgen.layers.flow.actnorm import ActNorm
from kerasgen.layers.flow.elementwise_affine import ElementwiseAffine
from kerasgen.layers.flow.flow_layer import FlowLayer
from kerasgen.layers.flow.flow_step import FlowStep
from kerasgen.layers.flow.split_prior import SplitPrior
from kerasgen.layers.flow.squeeze import squeeze2d, unsqueeze2d


@keras.saving.register_keras_serializable(package="kerasgen")
class MultiScaleFlow(FlowLayer):
    """``levels × [Squeeze → depth × FlowStep → SplitPrior (not after the last)] → ActNorm [→ top]``.

    ``forward(x [B, H, W, C]) → (z [B, H·W·C], log|det ∂z/∂x| [B])``: the factored halves and the
    final output, flattened and concatenated (Kingma & Dhariwal 2018, fig. 2b; the author's
    ``glow.py`` and f-VAE's F). The prior of z is ``N(0, I)``; ``inverse(z)`` maps back, and
    sampling scales z by a temperature. ``initialize(x)`` runs the data-dependent ActNorm
    initialisation level by level on a first batch.

    Args:
        levels, depth: number of scales and flow steps per scale.
        hidden: coupling NN width. additive, mixing, data_init: as ``FlowStep``.
        seed: base seed of the permutations / rotations (step i uses seed + i).
        learned_top: end with an ``ElementwiseAffine`` (the Glow code's learned top prior).
    """

    def __init__(
        self,
        levels: int = 2,
        depth: int = 4,
        hidden: int = 64,
        additive: bool = True,
        mixing: str = "random",
        data_init: bool = False,
        seed: int | None = 0,
        learned_top: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.learned_top = bool(learned_top)
        self.levels, self.depth, self.hidden = int(levels), int(depth), int(hidden)
        self.additive, self.mixing, self.data_init, self.seed = bool(additive), mixing, bool(data_init), seed
        base = 0 if seed is None else int(seed)
        self.steps = [
            [
                FlowStep(
                    hidden,
                    additive,
                    mixing,
                    data_init,
                    seed=base + level * depth + i,
                    name=f"step_{level}_{i}",
                )
                for i in range(depth)
            ]
            for level in range(levels)
        ]
        self.splits = [SplitPrior(name=f"split_{level}") for level in range(levels - 1)]
        self.final_actnorm = ActNorm(data_init=data_init, name="final_actnorm")
        self.top = ElementwiseAffine(name="learned_top") if self.learned_top else None

    def build(self, input_shape):
        _, height, width, channels = input_shape
        self.event_shape = (int(height), int(width), int(channels))
        self.latent_shapes = []
        shape = self.event_shape
        for level in range(self.levels):
            shape = (shape[0] // 2, shape[1] // 2, shape[2] * 4)
            for step in self.steps[level]:
                step.build((None, *shape))
            if level < self.levels - 1:
                self.splits[level].build((None, *shape))
                factored = shape[2] // 2
                self.latent_shapes.append((shape[0], shape[1], factored))
                shape = (shape[0], shape[1], shape[2] - factored)
        self.final_actnorm.build((None, *shape))
        if self.top is not None:
            self.top.build((None, *shape))
        self.latent_shapes.append(shape)
        self.latent_sizes = [int(np.prod(s)) for s in self.latent_shapes]

    def forward(self, x, training: bool = False, initialize: bool = False):
        batch = ops.shape(x)[0]
        total = ops.zeros((batch,), "float32")
        latents = []
        for level in range(self.levels):
            x = squeeze2d(x)
            for step in self.steps[level]:
                x, log_det = step.forward(x, training=training, initialize=initialize)
                total = total + log_det
            if level < self.levels - 1:
                x, epsilon, log_det = self.splits[level].forward(x)
                latents.append(ops.reshape(epsilon, (batch, -1)))
                total = total + log_det
        if initialize and self.data_init:
            self.final_actnorm.initialize(x)
        x, log_det = self.final_actnorm.forward(x)
        if self.top is not None:
            x, top_log_det = self.top.forward(x)
            log_det = log_det + top_log_det
        latents.append(ops.reshape(ops.cast(x, "float32"), (batch, -1)))
        return ops.concatenate(latents, axis=-1), total + log_det

    def initialize(self, x):
        """Data-dependent initialisation of every ActNorm on the batch ``x`` (eager)."""
        self.forward(ops.convert_to_tensor(x), initialize=True)

    def inverse(self, z):
        batch = ops.shape(z)[0]
        boundaries = np.cumsum(self.latent_sizes)[:-1].tolist()
        pieces = ops.split(z, boundaries, axis=-1) if boundaries else [z]
        pieces = [ops.reshape(p, (batch, *s)) for p, s in zip(pieces, self.latent_shapes, strict=True)]
        x, total = pieces[-1], ops.zeros((batch,), "float32")
        if self.top is not None:
            x, total = self.top.inverse(x)
        x, log_det = self.final_actnorm.inverse(x)
        total = total + log_det
        for level in reversed(range(self.levels)):
            if level < self.levels - 1:
                x, log_det = self.splits[level].inverse(x, pieces[level])
                total = total + log_det
            for step in reversed(self.steps[level]):
                x, log_det = step.inverse(x)
                total = total + log_det
            x = unsqueeze2d(x)
        return x, total

    def compute_output_shape(self, input_shape):
        return (input_shape[0], int(np.prod(input_shape[1:]))), (input_shape[0],)

    def get_config(self):
        return {
            **super().get_config(),
            "levels": self.levels,
            "depth": self.depth,
            "hidden": self.hidden,
            "additive": self.additive,
            "mixing": self.mixing,
            "data_init": self.data_init,
            "seed": self.seed,
            "learned_top": self.learned_top,
        }
