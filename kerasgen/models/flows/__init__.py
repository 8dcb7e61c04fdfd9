"""Post 8's family: NICE and Glow flows, and f-VAE."""

from kerasgen.models.flows.flow_model import FlowModel
from kerasgen.models.flows.fvae import FVAE, build_fvae_decoder, build_fvae_encoder
from kerasgen.models.flows.glow import Glow
from kerasgen.models.flows.nice import NICE, CouplingStack

__all__ = ["FVAE", "NICE", "CouplingStack", "FlowModel", "Glow", "build_fvae_decoder", "build_fvae_encoder"]
