"""Configs of models whose constructors take other Keras objects (networks, likelihoods)."""

from __future__ import annotations

import copy
from typing import ClassVar

import keras


class NestedConfig:
    """Mixin: ``get_config``/``from_config`` entries for the constructor arguments in ``nested_objects``.

    Each listed attribute (a network, a likelihood layer) is stored with
    ``keras.saving.serialize_keras_object`` and rebuilt with ``deserialize_keras_object``, so a
    trainer that composes networks round-trips through ``get_config`` and ``.keras`` files.
    """

    nested_objects: ClassVar[tuple[str, ...]] = ()

    def nested_config(self) -> dict:
        """``{name: serialised object}`` for every entry of ``nested_objects``."""
        return {key: keras.saving.serialize_keras_object(getattr(self, key)) for key in self.nested_objects}

    @classmethod
    def from_config(cls, config):
        config = copy.deepcopy(config)  # deserialisation consumes nested dicts
        for key in cls.nested_objects:
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
