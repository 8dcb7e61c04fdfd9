"""``InvertibleConv1x1``: Glow's learned channel mixing, LU-parametrised."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from kerasgen.layers.flow.flow_layer import FlowLayer, per_example, spatial_size


@keras.saving.register_keras_serializable(package="kerasgen")
class InvertibleConv1x1(FlowLayer):
    """``y = W x`` at every position; ``log|det| = (H·W) log|det W|`` (Kingma & Dhariwal 2018, §3.2).

    With ``lu=True``, ``W = P L (U + diag(sign(s) exp(log|s|)))``: P a fixed permutation, L unit
    lower-triangular, U strictly upper-triangular, so ``log|det W| = Σ log|s|`` costs O(C). W starts
    as a random rotation (seeded). ``lu=False`` learns W directly (``log|det|`` by ``slogdet``).
    The inverse multiplies by ``W⁻¹``.

    Args:
        lu: LU parametrisation.
        seed: seed of the initial rotation.
    """

    def __init__(self, lu: bool = True, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.lu = bool(lu)
        self.seed = seed

    def build(self, input_shape):
        import scipy.linalg

        channels = int(input_shape[-1])
        rotation = np.linalg.qr(np.random.default_rng(self.seed).normal(size=(channels, channels)))[0]
        rotation = rotation.astype("float32")
        if not self.lu:
            self.kernel = self.add_weight(
                shape=(channels, channels), initializer=keras.initializers.Constant(rotation), name="kernel"
            )
            return
        permutation, lower, upper = scipy.linalg.lu(rotation)
        diagonal = np.diag(upper)

        def constant(value, name, trainable=True):
            return self.add_weight(
                shape=value.shape,
                initializer=keras.initializers.Constant(value.astype("float32")),
                trainable=trainable,
                name=name,
            )

        self.permutation = constant(permutation, "permutation", trainable=False)
        self.lower = constant(lower, "lower")
        self.upper = constant(np.triu(upper, 1), "upper")
        self.sign = constant(np.sign(diagonal), "sign", trainable=False)
        self.log_abs_diagonal = constant(np.log(np.abs(diagonal)), "log_abs_diagonal")
        self.lower_mask = np.tril(np.ones((channels, channels), "float32"), -1)

    def weight_matrix(self):
        """The current ``W`` ``[C, C]``."""
        if not self.lu:
            return self.kernel
        channels = self.lower_mask.shape[0]
        lower = self.lower * self.lower_mask + ops.eye(channels)
        upper = self.upper * ops.transpose(self.lower_mask) + ops.diag(
            self.sign * ops.exp(self.log_abs_diagonal)
        )
        return ops.matmul(self.permutation, ops.matmul(lower, upper))

    def _log_abs_det(self):
        if self.lu:
            return ops.sum(self.log_abs_diagonal)
        return ops.slogdet(self.kernel)[1]

    def forward(self, x, training: bool = False):
        y = ops.matmul(x, ops.cast(ops.transpose(self.weight_matrix()), x.dtype))
        return y, per_example(spatial_size(x) * self._log_abs_det(), ops.shape(x)[0])

    def inverse(self, y):
        inverse_matrix = ops.inv(self.weight_matrix())
        x = ops.matmul(y, ops.cast(ops.transpose(inverse_matrix), y.dtype))
        return x, per_example(-spatial_size(y) * self._log_abs_det(), ops.shape(y)[0])

    def get_config(self):
        return {**super().get_config(), "lu": self.lu, "seed": self.seed}
