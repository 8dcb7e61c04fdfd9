"""Flow layers with the tfp bijector contract (post 8): forward, inverse, per-example log-det."""

from kerasgen.layers.flow.actnorm import ActNorm
from kerasgen.layers.flow.channel_permute import ChannelPermute
from kerasgen.layers.flow.coupling import AffineCoupling
from kerasgen.layers.flow.elementwise_affine import ElementwiseAffine
from kerasgen.layers.flow.flow_layer import FlowLayer
from kerasgen.layers.flow.flow_step import FlowStep
from kerasgen.layers.flow.invertible_conv import InvertibleConv1x1
from kerasgen.layers.flow.multiscale_flow import MultiScaleFlow
from kerasgen.layers.flow.residual_block import ResidualConvBlock
from kerasgen.layers.flow.split_prior import SplitPrior
from kerasgen.layers.flow.squeeze import Squeeze2D, Unsqueeze2D

__all__ = [
    "ActNorm",
    "AffineCoupling",
    "ChannelPermute",
    "ElementwiseAffine",
    "FlowLayer",
    "FlowStep",
    "InvertibleConv1x1",
    "MultiScaleFlow",
    "ResidualConvBlock",
    "SplitPrior",
    "Squeeze2D",
    "Unsqueeze2D",
]
