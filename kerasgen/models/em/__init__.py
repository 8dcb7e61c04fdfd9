"""Post 2's family: gradient descent and EM as one idea (K-Means; pLSA)."""

from kerasgen.models.em.kmeans import KMeans, cluster_purity, kmeans_plus_plus
from kerasgen.models.em.plsa import PLSA

__all__ = ["PLSA", "KMeans", "cluster_purity", "kmeans_plus_plus"]
