"""Classic (non-neural) algorithms from the posts, in plain numpy.

``optim``: Newton's method and gradient descent read as "minimise a local quadratic surrogate" (Post 2).
"""

from kerasgen.classic.optim import (
    QUARTIC,
    ROSENBROCK,
    LocalQuadratic,
    Objective,
    Trajectory,
    gradient_descent,
    local_quadratic,
    newton,
    quadratic,
    rosenbrock,
)

__all__ = [
    "QUARTIC",
    "ROSENBROCK",
    "LocalQuadratic",
    "Objective",
    "Trajectory",
    "gradient_descent",
    "local_quadratic",
    "newton",
    "quadratic",
    "rosenbrock",
]
