"""Post 6's family: DGCNN for Chinese extractive reading comprehension."""

from kerasgen.models.dgcnn.dgcnn import DGCNN

__all__ = ["DGCNN"]
