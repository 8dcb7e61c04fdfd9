"""A small MNIST digit classifier: the yardstick of the generative models' samples."""

from kerasgen.models.classifier.digit_classifier import DigitClassifier, build_digit_features

__all__ = ["DigitClassifier", "build_digit_features"]
