"""Post 8's family: NICE and Glow flows (f-VAE to follow)."""

from kerasgen.models.flows.flow_model import FlowModel
from kerasgen.models.flows.glow import Glow
from kerasgen.models.flows.nice import NICE, CouplingStack

__all__ = ["NICE", "CouplingStack", "FlowModel", "Glow"]
