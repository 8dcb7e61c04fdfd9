"""Post 6's family: DGCNN for Chinese extractive reading comprehension."""

from kerasgen.models.dgcnn.answering import answer_questions, candidate_spans, vote, windows
from kerasgen.models.dgcnn.dgcnn import DGCNN
from kerasgen.models.dgcnn.text_encoder import MRCTextEncoder

__all__ = ["DGCNN", "MRCTextEncoder", "answer_questions", "candidate_spans", "vote", "windows"]
