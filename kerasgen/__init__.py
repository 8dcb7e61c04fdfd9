"""kerasgen: Keras 3 models reproducing Su Jianlin's kexue.fm posts, with a pretrained zoo."""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"
