"""Post 2's family: gradient descent and EM as one idea (K-Means; pLSA)."""

from kerasgen.models.em.kmeans import KMeans, cluster_purity, kmeans_plus_plus

__all__ = ["KMeans", "cluster_purity", "kmeans_plus_plus"]
