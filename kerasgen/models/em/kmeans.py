"""K-Means as EM (post 2): Lloyd's algorithm and the post's soft version, as a ``keras.Model``."""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

from kerasgen.batching import first_examples
from kerasgen.distribute import replica_gather, replica_sum

METHODS = ("em", "gradient")
SEED_SAMPLE = 10_000  # points k-means++ seeding looks at


@keras.saving.register_keras_serializable(package="kerasgen")
class KMeans(keras.Model):
    """K-Means whose ``train_step`` is one exact EM update of the centres (post 2).

    The post smooths ``L = Σ_i min_j ‖x_i − c_j‖²`` into ``L_k = Σ_i −(1/k) log Σ_j e^{−k d_ij}``.
    Freezing ``w_ij = softmax_j(−k d_ij)`` at the current centres gives the surrogate
    ``Σ_ij w_ij ‖x_i − c_j‖²``, minimised by ``c_j = Σ_i w_ij x_i / Σ_i w_ij`` (the M-step).
    ``temperature=None`` is the limit k → ∞: ``w`` is the nearest-centre indicator and the
    update is Lloyd's. Each step reports the objective *at the centres it starts from*, so the
    logged sequence of a full-batch fit never increases.

    Full batch (default): every ``fit`` step is one EM update on the batch it receives, and
    ``fit`` on arrays defaults to the whole array as one batch. ``mini_batch=True`` is Sculley's
    mini-batch k-means for ``tf.data`` pipelines too large for memory: each centre moves towards
    its batch mean with step ``n_j / (total count of c_j)``. ``method="gradient"`` trains the
    same objective with the compiled optimizer instead, to compare with EM.

    Empty clusters are re-seeded to the points farthest from their centres; the first ``fit``
    seeds the centres with k-means++ from (up to 10,000 of) its data unless ``set_centres`` did.

    Args:
        num_clusters: K.
        temperature: the post's k in ``softmax(−k‖x − c‖²)``; ``None`` for hard assignments.
        method: ``"em"`` (closed-form update, optimizer unused) or ``"gradient"``.
        mini_batch: Sculley's running-average update instead of the full-batch M-step.
        init: ``"k-means++"`` or ``"random"`` (distinct data points).
        seed: seeds the initialisation.

    Example:
        >>> model = KMeans(10)
        >>> model.compile()
        >>> model.fit(images, epochs=50)      # 50 Lloyd iterations over the whole array
        >>> labels = model.predict(images)

    Reference: Su Jianlin, 梯度下降和EM算法: 系出同源, 一脉相承, kexue.fm 2017; Lloyd 1982;
    Sculley, Web-scale k-means clustering, 2010.
    """

    def __init__(
        self,
        num_clusters: int,
        temperature: float | None = None,
        method: str = "em",
        mini_batch: bool = False,
        init: str = "k-means++",
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if num_clusters < 1:
            raise ValueError(f"num_clusters must be at least 1, got {num_clusters}.")
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}.")
        if init not in ("k-means++", "random"):
            raise ValueError(f"init must be 'k-means++' or 'random', got {init!r}.")
        if temperature is not None and temperature <= 0:
            raise ValueError(f"temperature must be positive or None, got {temperature}.")
        if mini_batch and method != "em":
            raise ValueError("mini_batch applies to method='em' only.")
        self.num_clusters = int(num_clusters)
        self.temperature = None if temperature is None else float(temperature)
        self.method = method
        self.mini_batch = bool(mini_batch)
        self.init = init
        self.seed = seed
        self.objective_tracker = keras.metrics.Mean(name="objective")
        self.inertia_tracker = keras.metrics.Sum(name="inertia")
        self.feature_shape: tuple[int, ...] | None = None

    # ------------------------------------------------------------------ structure
    def build(self, input_shape):
        self.feature_shape = tuple(int(d) for d in input_shape[1:])
        num_features = int(np.prod(self.feature_shape))
        self.centres = self.add_weight(
            shape=(self.num_clusters, num_features),
            initializer="zeros",
            trainable=self.method == "gradient",
            aggregation="only_first_replica",
            name="centres",
        )
        self.counts = self.add_weight(
            shape=(self.num_clusters,), initializer="zeros", trainable=False,
            aggregation="only_first_replica", name="counts",
        )  # fmt: skip
        self.initialized = self.add_weight(
            shape=(), initializer="zeros", trainable=False, aggregation="only_first_replica",
            name="initialized",
        )  # fmt: skip
        self.built = True

    @property
    def metrics(self):
        return [self.objective_tracker, self.inertia_tracker]

    def _features(self, x):
        """``[B, ...]`` floats → ``[B, D]``, checking the shape against the built one."""
        from kerasgen.validation import as_float_tensor

        x = x[0] if isinstance(x, (tuple, list)) else x
        if self.feature_shape is None:
            x = as_float_tensor(x, (None,) * (len(x.shape) - 1), "KMeans input")
            self.build(x.shape)
        x = as_float_tensor(x, self.feature_shape, "KMeans input", "Pass float features, one row per point.")
        return tf.reshape(tf.cast(x, "float32"), (-1, self.centres.shape[-1]))

    # ------------------------------------------------------------------ the model
    def squared_distances(self, x, squared_norms=None):
        """``d_ij = ‖x_i − c_j‖²`` ``[B, K]`` as ``‖x‖² − 2 x·c + ‖c‖²`` (clipped at 0).

        ``squared_norms`` (``‖x_i‖²``, ``[B]``) may be passed in: a full-batch ``fit`` computes
        them once instead of every step, where they cost as much as the matmul.
        """
        centres = tf.convert_to_tensor(self.centres)
        cross = tf.matmul(x, centres, transpose_b=True)
        if squared_norms is None:
            squared_norms = tf.reduce_sum(x * x, -1)
        return tf.maximum(squared_norms[:, None] - 2.0 * cross + tf.reduce_sum(centres**2, -1)[None], 0.0)

    def responsibilities(self, distances):
        """``w_ij``: ``softmax_j(−k d_ij)``, or the nearest-centre one-hot when ``temperature`` is None."""
        if self.temperature is None:
            return tf.one_hot(tf.argmin(distances, axis=-1), self.num_clusters)
        return tf.nn.softmax(-self.temperature * distances, axis=-1)

    def point_objective(self, distances):
        """Per point: ``min_j d_ij`` (hard) or ``−(1/k) log Σ_j e^{−k d_ij}`` (soft) → ``[B]``."""
        if self.temperature is None:
            return tf.reduce_min(distances, axis=-1)
        return -tf.reduce_logsumexp(-self.temperature * distances, axis=-1) / self.temperature

    def call(self, inputs):
        """Index of the nearest centre for each point (``predict`` returns these)."""
        return tf.argmin(self.squared_distances(self._features(inputs)), axis=-1, output_type=tf.int32)

    def _unpack(self, data):
        """A batch → ``(features [B, D], squared norms [B] or None)``."""
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        if isinstance(x, (tuple, list)) and len(x) == 2 and x[1].shape.rank == 1:  # from our fit
            return self._features(x[0]), tf.cast(x[1], "float32")
        return self._features(x), None

    def train_step(self, data):
        x, squared_norms = self._unpack(data)
        distances = self.squared_distances(x, squared_norms)
        objective = self.point_objective(distances)
        if self.method == "gradient":
            self._gradient_update(x)
        elif self.mini_batch:
            self._mini_batch_update(x, self.responsibilities(distances))
        else:
            self._em_update(x, distances, self.responsibilities(distances))
        return self._record(objective, distances)

    def test_step(self, data):
        distances = self.squared_distances(*self._unpack(data))
        return self._record(self.point_objective(distances), distances)

    def _record(self, objective, distances):
        self.objective_tracker.update_state(objective)
        self.inertia_tracker.update_state(tf.reduce_sum(tf.reduce_min(distances, axis=-1)))
        return {m.name: m.result() for m in self.metrics}

    def _em_update(self, x, distances, weights):
        """M-step ``c_j = Σ_i w_ij x_i / Σ_i w_ij`` on the global batch; re-seed empty clusters."""
        counts = replica_sum(tf.reduce_sum(weights, axis=0))
        sums = replica_sum(tf.matmul(weights, x, transpose_a=True))
        means = sums / tf.maximum(counts, 1e-12)[:, None]
        empty = counts < 1e-8
        candidates = self._farthest_points(x, distances)
        rank = tf.clip_by_value(tf.cumsum(tf.cast(empty, tf.int32)) - 1, 0, self.num_clusters - 1)
        reseeded = tf.gather(candidates, rank)
        self.centres.assign(tf.where(empty[:, None], reseeded, means))

    def _farthest_points(self, x, distances):
        """The K points (over all replicas) farthest from their nearest centre, farthest first."""
        nearest = tf.reduce_min(distances, axis=-1)
        count = tf.minimum(self.num_clusters, tf.shape(x)[0])
        local_distance, local_index = tf.math.top_k(nearest, k=count)
        pool_distance = replica_gather(local_distance)
        pool_points = replica_gather(tf.gather(x, local_index))
        _, best = tf.math.top_k(pool_distance, k=tf.minimum(self.num_clusters, tf.shape(pool_distance)[0]))
        points = tf.gather(pool_points, best)
        padding = self.num_clusters - tf.shape(points)[0]
        return tf.concat([points, tf.repeat(points[-1:], padding, axis=0)], axis=0)

    def _mini_batch_update(self, x, weights):
        """Sculley's update: ``c_j += (batch sum_j − n_j c_j) / (N_j + n_j)``, ``N_j`` += ``n_j``."""
        counts = replica_sum(tf.reduce_sum(weights, axis=0))
        sums = replica_sum(tf.matmul(weights, x, transpose_a=True))
        total = self.counts + counts
        step = (sums - counts[:, None] * self.centres) / tf.maximum(total, 1e-12)[:, None]
        self.centres.assign(self.centres + step)
        self.counts.assign(total)

    def _gradient_update(self, x):
        replicas = self.distribute_strategy.num_replicas_in_sync
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(self.point_objective(self.squared_distances(x))) / replicas
            scaled = self.optimizer.scale_loss(loss)
        gradients = tape.gradient(scaled, [self.centres])
        self.optimizer.apply(gradients, [self.centres])

    # ------------------------------------------------------------------ initialisation and fit
    def set_centres(self, centres) -> None:
        """Start from the given centres ``[K, ...features]`` (e.g. to compare with another library)."""
        centres = np.asarray(centres, dtype=np.float32)
        if not self.built:
            self.build((None, *centres.shape[1:]))
        if centres.reshape(len(centres), -1).shape != tuple(self.centres.shape):
            raise ValueError(f"centres must be shaped {tuple(self.centres.shape)}, got {centres.shape}.")
        self.centres.assign(centres.reshape(len(centres), -1))
        self.counts.assign(np.zeros(self.num_clusters, np.float32))
        self.initialized.assign(1.0)

    def initialize(self, x) -> None:
        """Seed the centres from points ``x [N, ...]`` with k-means++ (or distinct random points)."""
        x = np.asarray(x, dtype=np.float32)
        if len(x) < self.num_clusters:
            raise ValueError(
                f"need at least {self.num_clusters} points to seed {self.num_clusters} clusters."
            )
        flat = x.reshape(len(x), -1)
        rng = np.random.default_rng(self.seed)
        if self.init == "random":
            centres = flat[rng.choice(len(flat), self.num_clusters, replace=False)]
        else:
            centres = kmeans_plus_plus(flat, self.num_clusters, rng)
        self.set_centres(centres.reshape(self.num_clusters, *x.shape[1:]))

    def fit(self, x=None, y=None, batch_size=None, **kwargs):
        """``keras.Model.fit``; seeds the centres first and defaults arrays to one full batch."""
        if not self.built or not bool(self.initialized.numpy()):
            self.initialize(first_examples(x, SEED_SAMPLE))
        if batch_size is None and not isinstance(x, tf.data.Dataset) and not self.mini_batch:
            # One full-batch EM step per epoch: feed the whole array as one tensor, unshuffled
            # (order is irrelevant to the M-step and copying it every epoch is not free).
            features = np.asarray(x[0] if isinstance(x, (tuple, list)) else x, dtype=np.float32)
            flat = features.reshape(len(features), -1)
            squared_norms = np.einsum("ij,ij->i", flat, flat)  # once, not every step
            x, y = tf.data.Dataset.from_tensors(((features, squared_norms),)), None
        return super().fit(x, y, batch_size=batch_size, **kwargs)

    # ------------------------------------------------------------------ sklearn-style helpers
    def transform(self, x, batch_size: int = 10_000) -> np.ndarray:
        """Euclidean distance of each point to each centre, ``[N, K]``."""
        parts = [
            np.sqrt(self.squared_distances(self._features(x[i : i + batch_size])).numpy())
            for i in range(0, len(x), batch_size)
        ]
        return np.concatenate(parts)

    def inertia(self, x, batch_size: int = 10_000) -> float:
        """``Σ_i min_j ‖x_i − c_j‖²`` over ``x`` (sklearn's ``inertia_``)."""
        return float(sum((self.transform(x[i : i + batch_size]) ** 2).min(axis=1).sum()
                         for i in range(0, len(x), batch_size)))  # fmt: skip

    def cluster_centres(self) -> np.ndarray:
        """The centres reshaped like the inputs, ``[K, ...features]``."""
        return self.centres.numpy().reshape(self.num_clusters, *self.feature_shape)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "num_clusters": self.num_clusters,
            "temperature": self.temperature,
            "method": self.method,
            "mini_batch": self.mini_batch,
            "init": self.init,
            "seed": self.seed,
        }


def kmeans_plus_plus(points: np.ndarray, num_clusters: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding (Arthur & Vassilvitskii 2007) with 2 + ⌊ln K⌋ greedy trials per centre."""
    trials = 2 + int(math.log(num_clusters))
    centres = [points[rng.integers(len(points))]]
    closest = ((points - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, num_clusters):
        probabilities = closest / closest.sum() if closest.sum() > 0 else None
        candidates = rng.choice(len(points), size=trials, p=probabilities)
        candidate_distances = ((points[None] - points[candidates][:, None]) ** 2).sum(axis=-1)
        costs = np.minimum(closest[None], candidate_distances).sum(axis=1)
        best = int(np.argmin(costs))
        centres.append(points[candidates[best]])
        closest = np.minimum(closest, candidate_distances[best])
    return np.stack(centres)


def cluster_purity(true_labels, cluster_labels) -> float:
    """Fraction of points whose cluster's majority class is their own class."""
    true_labels, cluster_labels = np.asarray(true_labels), np.asarray(cluster_labels)
    correct = 0
    for cluster in np.unique(cluster_labels):
        members = true_labels[cluster_labels == cluster]
        correct += np.bincount(members).max()
    return correct / len(true_labels)
