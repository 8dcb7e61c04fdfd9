"""Printed-Chinese OCR (post 1): layout, a glyph classifier trained on rendered fonts, bigram correction."""

from kerasgen.models.ocr.classifier import (
    OCRCharClassifier,
    build_glyph_features,
    build_post_features,
    post_class_weights,
)
from kerasgen.models.ocr.reader import OCRResult, RecognisedChar, read_images

__all__ = [
    "OCRCharClassifier",
    "OCRResult",
    "RecognisedChar",
    "build_glyph_features",
    "build_post_features",
    "post_class_weights",
    "read_images",
]
