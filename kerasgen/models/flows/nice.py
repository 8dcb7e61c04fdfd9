"""NICE (Dinh et al. 2015): additive couplings on flattened images, as the author's ``nice.py``."""

from __future__ import annotations

import keras
from keras import ops

from kerasgen.layers.flow import ActNorm, AffineCoupling, ChannelPermute, FlowLayer
from kerasgen.models.flows.flow_model import FlowModel


@keras.saving.register_keras_serializable(package="kerasgen")
class CouplingStack(FlowLayer):
    """Flatten, then ``couplings × [additive coupling (MLP) → reverse the order]``, then ``exp(S) ⊙ ·``.

    Reversing between couplings alternates which half is transformed; the final diagonal scaling
    is NICE's (``log|det| = Σ S``; an ``ActNorm`` without shift).
    """

    def __init__(self, couplings: int = 4, hidden: int = 256, depth: int = 4, **kwargs):
        super().__init__(**kwargs)
        self.couplings, self.hidden, self.depth = int(couplings), int(hidden), int(depth)
        self.layers_ = []
        for index in range(self.couplings):
            self.layers_.append(AffineCoupling(hidden, additive=True, depth=depth, name=f"coupling_{index}"))
            self.layers_.append(ChannelPermute("reverse", name=f"reverse_{index}"))
        self.scaling = ActNorm(use_shift=False, name="scaling")

    def build(self, input_shape):
        self.event_shape = tuple(int(d) for d in input_shape[1:])
        size = 1
        for dim in self.event_shape:
            size *= dim
        for layer in [*self.layers_, self.scaling]:
            layer.build((None, size))

    def forward(self, x, training: bool = False):
        h = ops.reshape(x, (ops.shape(x)[0], -1))
        total = ops.zeros((ops.shape(x)[0],), "float32")
        for layer in [*self.layers_, self.scaling]:
            h, log_det = layer.forward(h, training=training)
            total = total + log_det
        return h, total

    def inverse(self, z):
        total = ops.zeros((ops.shape(z)[0],), "float32")
        for layer in reversed([*self.layers_, self.scaling]):
            z, log_det = layer.inverse(z)
            total = total + log_det
        return ops.reshape(z, (ops.shape(z)[0], *self.event_shape)), total

    def get_config(self):
        return {
            **super().get_config(),
            "couplings": self.couplings,
            "hidden": self.hidden,
            "depth": self.depth,
        }


@keras.saving.register_keras_serializable(package="kerasgen")
class NICE(FlowModel):
    """NICE: ``CouplingStack`` with a logistic (default, as the NICE paper's MNIST model) or Gaussian prior.

    Args:
        couplings: additive coupling layers (4 in the paper).
        hidden, depth: width and hidden layers of each coupling's MLP (1000 and 5 in the paper).
        Others as ``FlowModel``.

    Metrics: ``loss`` (NLL, nats per image) and ``bpd``.
    """

    def __init__(
        self, image_shape=(28, 28, 1), couplings: int = 4, hidden: int = 256, depth: int = 4, **kwargs
    ):
        self.couplings, self.hidden, self.depth = int(couplings), int(hidden), int(depth)
        kwargs.setdefault("prior", "logistic")
        super().__init__(image_shape, **kwargs)

    def build_flow(self) -> CouplingStack:
        flow = CouplingStack(self.couplings, self.hidden, self.depth, name="flow")
        flow.build((None, *self.image_shape))
        return flow

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "couplings": self.couplings,
            "hidden": self.hidden,
            "depth": self.depth,
        }
