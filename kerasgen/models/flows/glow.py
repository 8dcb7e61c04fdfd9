"""Glow (Kingma & Dhariwal 2018) as the author's ``glow.py`` and as the paper."""

from __future__ import annotations

import keras
from keras import ops

from kerasgen.layers.flow import MultiScaleFlow
from kerasgen.models.flows.flow_model import FlowModel


@keras.saving.register_keras_serializable(package="kerasgen")
class Glow(FlowModel):
    """Multi-scale Glow trained by exact maximum likelihood (``FlowModel``; post 8).

    ``levels × [Squeeze → depth × (ActNorm → mixing → coupling) → split prior]`` then ActNorm, with a
    standard normal prior on the flattened codes.

    - ``Glow.author(...)`` (the author's ``glow.py``): zero-init ActNorm, fixed random channel
      permutation, additive coupling;
    - ``Glow.paper(...)`` (Kingma & Dhariwal): data-dependent ActNorm (``fit`` initialises it on its
      first batch), LU 1×1 convolution, affine coupling with ``sigmoid(h + 2)`` scales.

    Args:
        image_shape: ``(H, W, C)``, H and W divisible by ``2^levels``.
        levels, depth, hidden: scales, steps per scale, coupling width.
        additive, mixing, data_init: as ``kerasgen.layers.flow.FlowStep``.
        flow_seed: seed of the permutations / rotations.
        learned_top: end the flow with a learned per-entry affine map (``ElementwiseAffine``), the
            Glow reference code's learned top prior (``--learntop``). Others as ``FlowModel``.

    Metrics: ``loss`` (NLL, nats per image) and ``bpd``.
    """

    def __init__(
        self,
        image_shape=(28, 28, 1),
        levels: int = 2,
        depth: int = 4,
        hidden: int = 64,
        additive: bool = True,
        mixing: str = "random",
        data_init: bool = False,
        flow_seed: int = 0,
        learned_top: bool = False,
        **kwargs,
    ):
        self.learned_top = bool(learned_top)
        self.levels, self.depth, self.hidden = int(levels), int(depth), int(hidden)
        self.additive, self.mixing, self.data_init, self.flow_seed = (
            bool(additive),
            mixing,
            bool(data_init),
            flow_seed,
        )
        height, width = int(image_shape[0]), int(image_shape[1])
        if height % 2**self.levels or width % 2**self.levels:
            raise ValueError(
                f"Glow with {self.levels} levels needs H and W divisible by {2**self.levels}; "
                f"got {height}×{width} (pad the images or use fewer levels)."
            )
        super().__init__(image_shape, **kwargs)

    @classmethod
    def author(cls, **kwargs) -> Glow:
        """The author's configuration: zero-init ActNorm, random permutation, additive coupling."""
        return cls(additive=True, mixing="random", data_init=False, **kwargs)

    @classmethod
    def paper(cls, **kwargs) -> Glow:
        """The paper's configuration: data-dependent ActNorm, LU 1×1 conv, affine coupling."""
        return cls(additive=False, mixing="conv1x1", data_init=True, **kwargs)

    def build_flow(self) -> MultiScaleFlow:
        flow = MultiScaleFlow(
            self.levels,
            self.depth,
            self.hidden,
            self.additive,
            self.mixing,
            self.data_init,
            self.flow_seed,
            self.learned_top,
            name="flow",
        )
        flow.build((None, *self.image_shape))
        return flow

    def is_initialized(self) -> bool:
        """Whether data-dependent initialisation has run (always true without ``data_init``)."""
        if not self.data_init:
            return True
        return bool(ops.convert_to_numpy(self.flow.final_actnorm.initialized) > 0)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {
                "levels": self.levels,
                "depth": self.depth,
                "hidden": self.hidden,
                "additive": self.additive,
                "mixing": self.mixing,
                "data_init": self.data_init,
                "flow_seed": self.flow_seed,
                "learned_top": self.learned_top,
            }
        )
        return config
