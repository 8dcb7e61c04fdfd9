"""Newton's method and gradient descent as one idea: minimise a local quadratic surrogate.

Post 2, "梯度下降和EM算法: 系出同源, 一脉相承" (kexue.fm, 2017); design notes §2.  Around the current
iterate x_n the objective f is replaced by a quadratic that agrees with it to first order,

    q_n(x) = f(x_n) + ∇f(x_n)·(x − x_n) + ½ (x − x_n)ᵀ C (x − x_n),                      (1)

and the next iterate is the stationary point of q_n, x_{n+1} = x_n − C⁻¹ ∇f(x_n).  The two methods differ
only in the curvature C:

* Newton takes the true curvature C = ∇²f(x_n):  x_{n+1} = x_n − f'(x_n)/f''(x_n)  (n-d: x − H⁻¹∇f).  (2)
  Where f'' < 0 the parabola opens downward, so the "minimiser" is a maximum and Newton walks uphill.
* Gradient descent fixes C = I/h with h > 0:  x_{n+1} = x_n − h ∇f(x_n).  The surrogate always opens
  upward, so a small enough step always decreases f.                                               (3)

Everything here is plain numpy.  Points are scalars (0-d arrays) for 1-d problems and vectors of shape
(d,) for n-d problems.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

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

Fn = Callable[[Any], Any]

#: ``Trajectory.reason`` values.
CONVERGED = "converged"
MAX_STEPS = "max steps"
ZERO_CURVATURE = "zero curvature"
DIVERGED = "diverged"


@dataclass(frozen=True)
class Trajectory:
    """The iterates of one run.

    ``points`` has shape [T+1] (1-d problems) or [T+1, d]; ``values`` holds f at each point (None when no
    f was given).  ``converged`` means ‖∇f‖ ≤ tol at the last point -- a *stationary* point, which for
    Newton may be a maximum.  ``reason`` is one of "converged", "max steps", "zero curvature" (Newton met a
    singular f''/Hessian and stopped before dividing by it) or "diverged" (the next point, its gradient or
    its value would not be finite; it is left out, so every stored number is finite).
    """

    points: np.ndarray
    values: np.ndarray | None
    converged: bool
    reason: str

    @property
    def x(self) -> np.ndarray:
        """The last point."""
        return self.points[-1]

    @property
    def steps(self) -> int:
        """The number of steps taken (T)."""
        return len(self.points) - 1


# --------------------------------------------------------------------------------------------------
# Input checks and guarded calls of the user's functions.


def _as_point(x0: ArrayLike, name: str = "x0") -> np.ndarray:
    try:
        x = np.array(x0, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a real number or a 1-d array of reals, got {x0!r}") from err
    if x.ndim > 1:
        raise ValueError(f"{name} must be a scalar or a 1-d vector, got an array of shape {x.shape}")
    if x.ndim == 1 and x.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be finite, got {x0!r}")
    return x


def _check_steps(max_steps: int) -> None:
    if isinstance(max_steps, bool) or not isinstance(max_steps, (int, np.integer)):
        raise ValueError(f"max_steps must be an integer >= 1, got {max_steps!r}")
    if max_steps < 1:
        raise ValueError(f"max_steps must be >= 1, got {max_steps}")


def _check_nonneg(value: float, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a real number >= 0, got {value!r}")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be finite and >= 0, got {value!r}")


def _arg(x: np.ndarray) -> Any:
    """What the user's functions receive: a numpy float for 1-d problems, a fresh copy of the vector else."""
    return x[()] if x.ndim == 0 else x.copy()


def _call(fn: Fn, x: np.ndarray, shape: tuple[int, ...], name: str) -> np.ndarray:
    """Call ``fn(x)`` and check its output shape (overflow warnings are silenced: we test finiteness)."""
    with np.errstate(all="ignore"):
        out = fn(_arg(x))
        try:
            arr = np.array(out, dtype=float)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{name} must return real numbers, got {out!r}") from err
    if arr.shape != shape:
        what = {0: "a scalar", 1: f"a vector of shape {shape}", 2: f"a matrix of shape {shape}"}[len(shape)]
        raise ValueError(
            f"{name} must return {what} for x of shape {x.shape}, got an array of shape {arr.shape}"
        )
    return arr


def _finite(*arrays: np.ndarray | None) -> bool:
    return all(a is None or bool(np.all(np.isfinite(a))) for a in arrays)


def _singular(H: np.ndarray, min_curvature: float) -> bool:
    """True when the smallest singular value of H is ≤ min_curvature·max(1, largest): f'' ≈ 0 in 1-d."""
    s = np.linalg.svd(np.atleast_2d(H), compute_uv=False)
    return bool(s[-1] <= min_curvature * max(1.0, s[0]))


# --------------------------------------------------------------------------------------------------
# The shared loop: x_{n+1} = x_n − C⁻¹∇f(x_n) with a method-specific step C⁻¹∇f.


def _iterate(
    step: Callable[[np.ndarray, np.ndarray], np.ndarray | str],
    f: Fn | None,
    grad: Fn,
    x0: ArrayLike,
    max_steps: int,
    tol: float,
) -> Trajectory:
    x = _as_point(x0)
    _check_steps(max_steps)
    _check_nonneg(tol, "tol")
    if not callable(grad) or (f is not None and not callable(f)):
        raise ValueError("f (or None) and grad must be callables")

    g = _call(grad, x, x.shape, "grad")
    v = None if f is None else _call(f, x, (), "f")
    if not _finite(g, v):
        raise ValueError(f"f and grad must be finite at x0 = {_arg(x)!r}, got f={v!r}, grad={g!r}")

    points, values = [x], [v]
    reason = MAX_STEPS
    for _ in range(max_steps):
        if np.linalg.norm(g) <= tol:
            reason = CONVERGED
            break
        dx = step(x, g)
        if isinstance(dx, str):  # the step function refused (zero curvature / non-finite Hessian)
            reason = dx
            break
        with np.errstate(all="ignore"):
            x_new = x - dx
        if not _finite(x_new):
            reason = DIVERGED
            break
        g_new = _call(grad, x_new, x.shape, "grad")
        v_new = None if f is None else _call(f, x_new, (), "f")
        if not _finite(g_new, v_new):
            reason = DIVERGED
            break
        x, g, v = x_new, g_new, v_new
        points.append(x)
        values.append(v)
    else:
        if np.linalg.norm(g) <= tol:
            reason = CONVERGED

    pts = np.stack(points)
    pts.setflags(write=False)
    vals = None
    if f is not None:
        vals = np.array(values, dtype=float)
        vals.setflags(write=False)
    return Trajectory(points=pts, values=vals, converged=reason == CONVERGED, reason=reason)


def newton(
    f: Fn | None,
    grad: Fn,
    hess: Fn,
    x0: ArrayLike,
    max_steps: int = 50,
    tol: float = 1e-10,
    *,
    min_curvature: float = 1e-12,
) -> Trajectory:
    """Newton's method, eq. (2): x_{n+1} = x_n − f'(x_n)/f''(x_n), in n-d x_{n+1} = x_n − H(x_n)⁻¹∇f(x_n).

    Each step jumps to the stationary point of the local quadratic (1) with C = f''(x_n) -- its minimum when
    f'' > 0, its *maximum* when f'' < 0 (then Newton moves uphill).  ``hess`` returns a scalar for scalar
    ``x0`` and a (d, d) matrix for ``x0`` of shape (d,).  A (near-)singular curvature -- smallest singular
    value ≤ ``min_curvature``·max(1, largest) -- stops the run with reason "zero curvature".  Stops with
    "converged" once ‖∇f‖ ≤ ``tol``.  ``f`` is optional and only recorded in ``Trajectory.values``.
    """
    _check_nonneg(min_curvature, "min_curvature")
    if not callable(hess):
        raise ValueError("hess must be a callable returning f''(x) (a scalar) or the Hessian (a matrix)")

    def step(x: np.ndarray, g: np.ndarray) -> np.ndarray | str:
        H = _call(hess, x, x.shape * 2, "hess")
        if not _finite(H):
            return DIVERGED
        if _singular(H, min_curvature):
            return ZERO_CURVATURE
        return g / H if x.ndim == 0 else np.linalg.solve(H, g)

    return _iterate(step, f, grad, x0, max_steps, tol)


def gradient_descent(
    f: Fn | None,
    grad: Fn,
    x0: ArrayLike,
    step_size: float,
    max_steps: int = 1000,
    tol: float = 1e-10,
) -> Trajectory:
    """Gradient descent, eq. (3): x_{n+1} = x_n − h ∇f(x_n) with h = ``step_size`` > 0.

    It is Newton's step on the surrogate (1) with the curvature fixed to the positive constant 1/h.  On a
    quadratic whose Hessian has largest eigenvalue L it converges for h < 2/L and diverges for h > 2/L.
    Stops with "converged" once ‖∇f‖ ≤ ``tol``; "diverged" if the iterates overflow.
    """
    if isinstance(step_size, bool) or not isinstance(step_size, (int, float, np.integer, np.floating)):
        raise ValueError(f"step_size must be a positive real number, got {step_size!r}")
    if not np.isfinite(step_size) or step_size <= 0:
        raise ValueError(f"step_size must be finite and > 0, got {step_size!r}")
    h = float(step_size)
    return _iterate(lambda x, g: h * g, f, grad, x0, max_steps, tol)


# --------------------------------------------------------------------------------------------------
# The surrogate itself, for drawing the parabola each method minimises.


@dataclass(frozen=True)
class LocalQuadratic:
    """q(x) = f(x_n) + ∇f(x_n)·(x − x_n) + ½ (x − x_n)ᵀ C (x − x_n), eq. (1).

    1-d: ``center``, ``gradient`` and ``curvature`` are 0-d and q is evaluated elementwise on any array.
    n-d: ``curvature`` is (d, d) and q maps an array of shape (..., d) to shape (...).
    """

    center: np.ndarray
    value: float
    gradient: np.ndarray
    curvature: np.ndarray

    def __call__(self, x: ArrayLike) -> np.ndarray:
        dx = np.asarray(x, dtype=float) - self.center
        if self.center.ndim == 0:
            return self.value + self.gradient * dx + 0.5 * self.curvature * dx**2
        if dx.shape[-1:] != self.center.shape:
            raise ValueError(f"q expects points of shape (..., {self.center.size}), got shape {dx.shape}")
        quad = np.einsum("...i,ij,...j->...", dx, self.curvature, dx)
        return self.value + dx @ self.gradient + 0.5 * quad

    @property
    def opens_upward(self) -> bool:
        """True when C is positive definite, i.e. the stationary point is the surrogate's minimum."""
        C = np.atleast_2d(self.curvature)
        return bool(np.all(np.linalg.eigvalsh(0.5 * (C + C.T)) > 0))

    @property
    def stationary_point(self) -> np.ndarray:
        """x_n − C⁻¹∇f(x_n): Newton's next point when C = ∇²f, gradient descent's when C = I/h."""
        if _singular(self.curvature, 0.0):
            raise ValueError("the surrogate has zero curvature: it has no stationary point")
        if self.center.ndim == 0:
            return self.center - self.gradient / self.curvature
        return self.center - np.linalg.solve(self.curvature, self.gradient)


def local_quadratic(f: Fn, grad: Fn, curvature: Fn | ArrayLike, x_n: ArrayLike) -> LocalQuadratic:
    """The surrogate (1) around ``x_n``; ``curvature`` is the Hessian function (Newton, eq. 2), a number c
    (meaning c·I in n-d; 1/h gives gradient descent's surrogate, eq. 3) or a (d, d) matrix."""
    x = _as_point(x_n, "x_n")
    value = _call(f, x, (), "f")
    g = _call(grad, x, x.shape, "grad")
    if callable(curvature):
        C = _call(curvature, x, x.shape * 2, "hess")
    else:
        try:
            C = np.array(curvature, dtype=float)
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"curvature must be a callable, a number or a matrix, got {curvature!r}"
            ) from err
        if C.ndim == 0 and x.ndim == 1:
            C = C * np.eye(x.size)
        if C.shape != x.shape * 2:
            raise ValueError(f"curvature must be a number or a matrix of shape {x.shape * 2}, got {C.shape}")
    if not _finite(value, g, C):
        raise ValueError(f"f, grad and curvature must be finite at x_n = {_arg(x)!r}")
    return LocalQuadratic(center=x, value=float(value), gradient=g, curvature=C)


# --------------------------------------------------------------------------------------------------
# Toy objectives with analytic derivatives.


class Objective(NamedTuple):
    """f with its gradient and Hessian; unpacks as ``newton(*QUARTIC, x0)``."""

    f: Fn
    grad: Fn
    hess: Fn


def _quartic(x: ArrayLike) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    return x**4 - 3 * x**2 + x


def _quartic_grad(x: ArrayLike) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    return 4 * x**3 - 6 * x + 1


def _quartic_hess(x: ArrayLike) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    return 12 * x**2 - 6


#: f(x) = x⁴ − 3x² + x (elementwise).  f'' = 12x² − 6 < 0 for |x| < 1/√2: a concave region holding the
#: local maximum near x ≈ 0.169, between the minima near x ≈ −1.30 (global) and x ≈ 1.13.
QUARTIC = Objective(_quartic, _quartic_grad, _quartic_hess)


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Objective:
    """f(x, y) = (a − x)² + b(y − x²)², minimum at (a, a²); works on points of shape (..., 2)."""

    def f(p: ArrayLike) -> np.ndarray:
        p = np.asarray(p, dtype=float)
        x, y = p[..., 0], p[..., 1]
        return (a - x) ** 2 + b * (y - x**2) ** 2

    def grad(p: ArrayLike) -> np.ndarray:
        p = np.asarray(p, dtype=float)
        x, y = p[..., 0], p[..., 1]
        return np.stack([-2 * (a - x) - 4 * b * x * (y - x**2), 2 * b * (y - x**2)], axis=-1)

    def hess(p: ArrayLike) -> np.ndarray:
        p = np.asarray(p, dtype=float)
        x, y = p[..., 0], p[..., 1]
        hxx = 2 - 4 * b * y + 12 * b * x**2
        hxy = -4 * b * x
        hyy = np.full_like(x, 2 * b)
        return np.stack([np.stack([hxx, hxy], axis=-1), np.stack([hxy, hyy], axis=-1)], axis=-2)

    return Objective(f, grad, hess)


#: The classic Rosenbrock banana, a = 1, b = 100: minimum f(1, 1) = 0; the usual start is (−1.2, 1).
ROSENBROCK = rosenbrock()


def quadratic(A: ArrayLike, b: ArrayLike | None = None) -> Objective:
    """f(x) = ½ xᵀAx − bᵀx (1-d: ½ a x² − b x) with ∇f = Ax − b and Hessian A.

    For symmetric positive definite A the minimum is A⁻¹b, and ∇f is Lipschitz with L = λ_max(A).
    """
    A = np.array(A, dtype=float)
    if A.ndim not in (0, 2) or (A.ndim == 2 and A.shape[0] != A.shape[1]):
        raise ValueError(f"A must be a number or a square matrix, got shape {A.shape}")
    b = np.zeros(A.shape[:1]) if b is None else np.array(b, dtype=float)
    if b.shape != A.shape[:1]:
        raise ValueError(f"b must have shape {A.shape[:1]} to match A, got {b.shape}")
    if not _finite(A, b):
        raise ValueError("A and b must be finite")

    def f(x: ArrayLike) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if A.ndim == 0:
            return 0.5 * A * x**2 - b * x
        return 0.5 * np.einsum("...i,ij,...j->...", x, A, x) - x @ b

    def grad(x: ArrayLike) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return A * x - b if A.ndim == 0 else x @ A.T - b

    def hess(x: ArrayLike) -> np.ndarray:
        return A.copy()

    return Objective(f, grad, hess)
