"""Helpers for steps that reduce statistics themselves under ``tf.distribute``."""

from __future__ import annotations


def replica_sum(value):
    """Sum ``value`` over the replicas of the current ``tf.distribute`` strategy (identity on one).

    Closed-form updates (EM's M-step) need the statistics of the *global* batch; every replica
    receives the same sum, so each can assign the same new value to a mirrored variable.
    """
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    if context is None or tf.distribute.get_strategy().num_replicas_in_sync == 1:
        return value
    return context.all_reduce(tf.distribute.ReduceOp.SUM, value)


def replica_gather(value, axis: int = 0):
    """Concatenate ``value`` over replicas along ``axis`` (identity on one replica)."""
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    if context is None or tf.distribute.get_strategy().num_replicas_in_sync == 1:
        return value
    return context.all_gather(value, axis)
