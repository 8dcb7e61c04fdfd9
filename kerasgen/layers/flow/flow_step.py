"""``FlowStep``: ActNorm → channel mixing → coupling, Glow's unit of depth."""

from __future__ import annotations

import keras
from keras import ops

from kerasgen.layers.flow.actnorm import ActNorm
from kerasgen.layers.flow.channel_permute import ChannelPermute
from kerasgen.layers.flow.coupling import AffineCoupling
from kerasgen.layers.flow.flow_layer import FlowLayer
from kerasgen.layers.flow.invertible_conv import InvertibleConv1x1

MIXINGS = ("random", "reverse", "conv1x1")


@keras.saving.register_keras_serializable(package="kerasgen")
class FlowStep(FlowLayer):
    """One step of flow (Kingma & Dhariwal 2018, fig. 2a): ``ActNorm → mixing → coupling``.

    Args:
        hidden: coupling NN width.
        additive: additive coupling (the author's Glow and f-VAE) instead of affine (Glow paper).
        mixing: ``"random"`` or ``"reverse"`` fixed permutation (the author), or ``"conv1x1"``
            (the paper's LU-parametrised invertible 1×1 convolution).
        data_init: data-dependent ActNorm initialisation (the paper) instead of zeros (the author).
        seed: seed of the permutation or the 1×1 convolution's initial rotation.
    """

    def __init__(
        self,
        hidden: int = 64,
        additive: bool = True,
        mixing: str = "random",
        data_init: bool = False,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if mixing not in MIXINGS:
            raise ValueError(f"mixing must be one of {MIXINGS}, got {mixing!r}.")
        self.hidden, self.additive, self.mixing = int(hidden), bool(additive), mixing
        self.data_init, self.seed = bool(data_init), seed
        self.actnorm = ActNorm(data_init=data_init, name="actnorm")
        if mixing == "conv1x1":
            self.mix = InvertibleConv1x1(seed=seed, name="conv1x1")
        else:
            self.mix = ChannelPermute(mixing, seed=seed, name="permute")
        self.coupling = AffineCoupling(hidden, additive=additive, name="coupling")

    def build(self, input_shape):
        for layer in (self.actnorm, self.mix, self.coupling):
            layer.build(input_shape)

    def forward(self, x, training: bool = False, initialize: bool = False):
        if initialize and self.data_init:
            self.actnorm.initialize(x)
        total = ops.zeros((ops.shape(x)[0],), "float32")
        for layer in (self.actnorm, self.mix, self.coupling):
            x, log_det = layer.forward(x, training=training)
            total = total + log_det
        return x, total

    def inverse(self, y):
        total = ops.zeros((ops.shape(y)[0],), "float32")
        for layer in (self.coupling, self.mix, self.actnorm):
            y, log_det = layer.inverse(y)
            total = total + log_det
        return y, total

    def get_config(self):
        return {
            **super().get_config(),
            "hidden": self.hidden,
            "additive": self.additive,
            "mixing": self.mixing,
            "data_init": self.data_init,
            "seed": self.seed,
        }
