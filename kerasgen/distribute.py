"""Helpers for steps that reduce statistics or draw noise themselves under ``tf.distribute``."""

from __future__ import annotations


def _replica_context():
    """The current replica context, or ``None`` outside a multi-replica strategy."""
    import tensorflow as tf

    if tf.distribute.get_strategy().num_replicas_in_sync == 1:
        return None
    return tf.distribute.get_replica_context()


def replica_slice() -> tuple[int, int]:
    """``(replica_id, num_replicas)`` of the current replica (``(0, 1)`` on one device)."""
    import tensorflow as tf

    context = _replica_context()
    num_replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return (context.replica_id_in_sync_group if context is not None else 0), num_replicas


def replica_sum(value):
    """Sum ``value`` over the replicas of the current ``tf.distribute`` strategy (identity on one).

    Closed-form updates (EM's M-step) need the statistics of the *global* batch; every replica
    receives the same sum, so each can assign the same new value to a mirrored variable.
    """
    import tensorflow as tf

    context = _replica_context()
    return value if context is None else context.all_reduce(tf.distribute.ReduceOp.SUM, value)


def replica_gather(value, axis: int = 0):
    """Concatenate ``value`` over replicas along ``axis`` (identity on one replica)."""
    context = _replica_context()
    return value if context is None else context.all_gather(value, axis)
