"""NICE (Dinh et al. 2015): additive couplings on flattened images, as the author's ``nice.py``."""

from __future__ import annotations

import keras
from keras import ops

from kerasgen.layers.flow import ActNorm, AffineCoupling, ChannelPermute, FlowLayer
from kerasgen.models.flows.flow_model import FlowModel

INIT_MIN_STD = 0.05


@keras.saving.register_keras_serializable(package="kerasgen")
class CouplingStack(FlowLayer):
    """Flatten, then ``couplings × [additive coupling (MLP) → reverse the order]``, then ``exp(S) ⊙ ·``.

    Reversing between couplings alternates which half is transformed; the final diagonal scaling
    is NICE's (``log|det| = Σ S``; an ``ActNorm`` without shift). With ``data_init`` the scaling
    starts at the inverse standard deviation of each dimension on a first batch (``initialize``),
    floored at ``INIT_MIN_STD``: from S = 0, Adam needs tens of epochs to shrink MNIST's
    near-constant background pixels, while an unfloored init would blow up a pixel that is blank in
    the first batch and inked in a later one.
    """

    def __init__(
        self, couplings: int = 4, hidden: int = 256, depth: int = 4, data_init: bool = False, **kwargs
    ):
        super().__init__(**kwargs)
        self.couplings, self.hidden, self.depth = int(couplings), int(hidden), int(depth)
        self.data_init = bool(data_init)
        self.layers_ = []
        for index in range(self.couplings):
            self.layers_.append(AffineCoupling(hidden, additive=True, depth=depth, name=f"coupling_{index}"))
            self.layers_.append(ChannelPermute("reverse", name=f"reverse_{index}"))
        self.scaling = ActNorm(data_init=self.data_init, use_shift=False, name="scaling")

    def build(self, input_shape):
        self.event_shape = tuple(int(d) for d in input_shape[1:])
        size = 1
        for dim in self.event_shape:
            size *= dim
        for layer in [*self.layers_, self.scaling]:
            layer.build((None, size))

    def initialize(self, x) -> None:
        """Set the scaling so that a first batch ``x`` leaves with unit variance per dimension (eager)."""
        h = ops.reshape(ops.convert_to_tensor(x), (ops.shape(x)[0], -1))
        for layer in self.layers_:
            h, _ = layer.forward(h)
        self.scaling.initialize(h, eps=INIT_MIN_STD**2)

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
            "data_init": self.data_init,
        }


@keras.saving.register_keras_serializable(package="kerasgen")
class NICE(FlowModel):
    """NICE: ``CouplingStack`` with a logistic (default, as the NICE paper's MNIST model) or Gaussian prior.

    Args:
        couplings: additive coupling layers (4 in the paper).
        hidden, depth: width and hidden layers of each coupling's MLP (1000 and 5 in the paper).
        data_init: initialise the final scaling on the first batch ``fit`` sees (``CouplingStack``).
        Others as ``FlowModel``.

    Metrics: ``loss`` (NLL, nats per image) and ``bpd``.
    """

    def __init__(
        self,
        image_shape=(28, 28, 1),
        couplings: int = 4,
        hidden: int = 256,
        depth: int = 4,
        data_init: bool = False,
        **kwargs,
    ):
        self.couplings, self.hidden, self.depth = int(couplings), int(hidden), int(depth)
        self.data_init = bool(data_init)
        kwargs.setdefault("prior", "logistic")
        super().__init__(image_shape, **kwargs)

    def build_flow(self) -> CouplingStack:
        flow = CouplingStack(self.couplings, self.hidden, self.depth, self.data_init, name="flow")
        flow.build((None, *self.image_shape))
        return flow

    def is_initialized(self) -> bool:
        """Whether data-dependent initialisation has run (always true without ``data_init``)."""
        if not self.data_init:
            return True
        return bool(ops.convert_to_numpy(self.flow.scaling.initialized) > 0)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "couplings": self.couplings,
            "hidden": self.hidden,
            "depth": self.depth,
            "data_init": self.data_init,
        }
