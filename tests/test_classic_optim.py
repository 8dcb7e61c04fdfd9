"""Post 2: Newton's method and gradient descent both minimise a local quadratic surrogate (plain numpy)."""

import itertools

import numpy as np
import pytest

from kerasgen.classic import (
    QUARTIC,
    ROSENBROCK,
    gradient_descent,
    local_quadratic,
    newton,
    quadratic,
)

# Critical points of x⁴ − 3x² + x: roots of f' = 4x³ − 6x + 1 (independent of the code under test).
_ROOTS = np.sort(np.roots([4.0, 0.0, -6.0, 1.0]).real)
GLOBAL_MIN, LOCAL_MAX, LOCAL_MIN = _ROOTS


def quartic_third_derivative(x):
    return 24.0 * x


# --------------------------------------------------------------------------------------------------
# Newton


def test_newton_converges_quadratically_near_a_minimum():
    traj = newton(*QUARTIC, 1.5, max_steps=20, tol=1e-13)
    assert traj.converged and traj.reason == "converged"
    assert abs(traj.x - LOCAL_MIN) < 1e-12
    errors = np.abs(traj.points - LOCAL_MIN)
    # Steps where the error is still well above rounding: e_{n+1} ≤ C e_n², with C near |f'''/(2f'')|.
    C_theory = quartic_third_derivative(LOCAL_MIN) / (2 * QUARTIC.hess(LOCAL_MIN))
    usable = [(e0, e1) for e0, e1 in itertools.pairwise(errors) if e0 > 1e-6]
    assert len(usable) >= 4
    ratios = np.array([e1 / e0**2 for e0, e1 in usable])
    assert np.all(ratios < 2 * C_theory), ratios
    # The ratio tends to the theoretical constant (a linearly convergent method would blow it up).
    assert ratios[-1] == pytest.approx(C_theory, rel=0.05)
    # Correct digits roughly double once close.
    digits = -np.log10([e for e in errors if e > 1e-15])
    close = digits[digits > 2]
    assert np.all(close[1:] >= 1.8 * close[:-1] - 0.5), digits


def test_newton_where_curvature_is_negative_goes_uphill_while_gd_goes_down():
    x0 = 0.0  # f''(0) = −6 < 0: the local parabola opens downward
    assert QUARTIC.hess(x0) < 0
    nt = newton(*QUARTIC, x0)
    assert nt.values[1] > nt.values[0]  # the first Newton step increases f
    assert nt.converged and nt.x == pytest.approx(LOCAL_MAX, abs=1e-10)  # ... and lands on the maximum
    assert QUARTIC.hess(nt.x) < 0

    gd = gradient_descent(QUARTIC.f, QUARTIC.grad, x0, step_size=0.01, max_steps=2000)
    assert gd.values[1] < gd.values[0]
    assert np.all(np.diff(gd.values) <= 1e-12)  # non-increasing up to rounding
    assert gd.converged and gd.x == pytest.approx(GLOBAL_MIN, abs=1e-8)


def test_newton_on_a_2d_quadratic_takes_one_step():
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    b = np.array([1.0, -4.0])
    traj = newton(*quadratic(A, b), [5.0, -7.0])
    assert traj.converged and traj.steps == 1
    np.testing.assert_allclose(traj.points[1], np.linalg.solve(A, b), atol=1e-12)
    assert traj.points.shape == (2, 2) and traj.values.shape == (2,)


def test_newton_on_rosenbrock_reaches_the_minimum():
    traj = newton(*ROSENBROCK, [-1.2, 1.0])
    assert traj.converged and traj.reason == "converged"
    np.testing.assert_allclose(traj.x, [1.0, 1.0], atol=1e-8)
    assert traj.steps <= 10
    assert traj.values[-1] < 1e-15


def test_rosenbrock_derivatives_match_finite_differences():
    p = np.array([-0.7, 1.3])
    eps = 1e-6
    eye = np.eye(2)
    num_grad = [(ROSENBROCK.f(p + eps * e) - ROSENBROCK.f(p - eps * e)) / (2 * eps) for e in eye]
    num_hess = np.stack(
        [(ROSENBROCK.grad(p + eps * e) - ROSENBROCK.grad(p - eps * e)) / (2 * eps) for e in eye]
    )
    np.testing.assert_allclose(ROSENBROCK.grad(p), num_grad, rtol=1e-6)
    np.testing.assert_allclose(ROSENBROCK.hess(p), num_hess, rtol=1e-6)


# --------------------------------------------------------------------------------------------------
# Gradient descent: h < 2/L converges, h > 2/L diverges


@pytest.mark.parametrize("dim", [1, 2])
def test_gd_step_size_threshold_is_two_over_lipschitz(dim):
    L = 10.0
    obj = quadratic(L) if dim == 1 else quadratic(np.diag([1.0, L]))
    x0 = 1.0 if dim == 1 else np.array([1.0, 1.0])

    ok = gradient_descent(obj.f, obj.grad, x0, step_size=1.9 / L, max_steps=2000, tol=1e-9)
    assert ok.converged and np.linalg.norm(ok.x) < 1e-8

    bad = gradient_descent(obj.f, obj.grad, x0, step_size=2.1 / L, max_steps=60)
    assert not bad.converged and bad.reason == "max steps"
    norms = np.linalg.norm(np.reshape(bad.points, (len(bad.points), -1)), axis=1)
    assert norms[-1] > 100 * norms[0]
    assert np.all(np.diff(bad.values[1:]) > 0)  # the loss grows every step


def test_gd_overflow_stops_cleanly_as_diverged():
    obj = quadratic(1.0)
    traj = gradient_descent(obj.f, obj.grad, 1.0, step_size=10.0, max_steps=10_000)
    assert traj.reason == "diverged" and not traj.converged
    assert traj.steps < 10_000
    assert np.all(np.isfinite(traj.points)) and np.all(np.isfinite(traj.values))


def test_gd_is_x_minus_h_grad():
    traj = gradient_descent(None, ROSENBROCK.grad, [-1.2, 1.0], step_size=1e-4, max_steps=3)
    x = np.array([-1.2, 1.0])
    for point in traj.points[1:]:
        x = x - 1e-4 * ROSENBROCK.grad(x)
        np.testing.assert_allclose(point, x, rtol=1e-14)
    assert traj.values is None and traj.steps == 3


# --------------------------------------------------------------------------------------------------
# The local quadratic surrogate


@pytest.mark.parametrize("x_n", [1.5, -0.4, 0.9])
def test_surrogate_matches_f_to_first_order_and_newton_jumps_to_its_minimum(x_n):
    q = local_quadratic(QUARTIC.f, QUARTIC.grad, QUARTIC.hess, x_n)
    eps = 1e-5
    assert q(x_n) == pytest.approx(QUARTIC.f(x_n), abs=1e-12)
    dq = (q(x_n + eps) - q(x_n - eps)) / (2 * eps)
    df = (QUARTIC.f(x_n + eps) - QUARTIC.f(x_n - eps)) / (2 * eps)
    assert dq == pytest.approx(df, abs=1e-6)
    d2q = (q(x_n + eps) - 2 * q(x_n) + q(x_n - eps)) / eps**2
    assert d2q == pytest.approx(QUARTIC.hess(x_n), rel=1e-3)

    step = newton(*QUARTIC, x_n, max_steps=1).points[1]
    grid = np.linspace(x_n - 3, x_n + 3, 600_001)
    if QUARTIC.hess(x_n) > 0:
        assert step == pytest.approx(grid[np.argmin(q(grid))], abs=2e-5)
    else:  # concave: Newton's point is the surrogate's maximum
        assert step == pytest.approx(grid[np.argmax(q(grid))], abs=2e-5)
    assert q.stationary_point == pytest.approx(step, abs=1e-12)


def test_gd_step_minimises_the_surrogate_with_curvature_one_over_h():
    h, x_n = 0.05, 0.0
    q = local_quadratic(QUARTIC.f, QUARTIC.grad, 1.0 / h, x_n)
    assert q.opens_upward
    grid = np.linspace(-1, 1, 200_001)
    step = gradient_descent(QUARTIC.f, QUARTIC.grad, x_n, step_size=h, max_steps=1).points[1]
    assert step == pytest.approx(grid[np.argmin(q(grid))], abs=2e-5)


def test_surrogate_in_2d():
    x_n = np.array([-1.2, 1.0])
    q = local_quadratic(*ROSENBROCK, x_n)
    assert q(x_n) == pytest.approx(ROSENBROCK.f(x_n))
    eps = 1e-6
    num_grad = [(q(x_n + eps * e) - q(x_n - eps * e)) / (2 * eps) for e in np.eye(2)]
    np.testing.assert_allclose(num_grad, ROSENBROCK.grad(x_n), rtol=1e-6)
    x1 = newton(*ROSENBROCK, x_n, max_steps=1).points[1]
    grad_q_at_x1 = [(q(x1 + eps * e) - q(x1 - eps * e)) / (2 * eps) for e in np.eye(2)]
    np.testing.assert_allclose(grad_q_at_x1, 0.0, atol=1e-4)  # stationary point of q
    assert q.opens_upward and q(x1) < q(x_n)
    assert q(np.stack([x_n, x1])).shape == (2,)  # evaluates batches of points (contour plots)


# --------------------------------------------------------------------------------------------------
# Zero curvature and bad inputs


def test_zero_curvature_stops_cleanly():
    traj = newton(*QUARTIC, 1.0 / np.sqrt(2.0))  # f'' = 12·½ − 6 = 0 (up to rounding)
    assert traj.reason == "zero curvature" and not traj.converged and traj.steps == 0
    assert np.all(np.isfinite(traj.points))

    # A curvature that vanishes after the first step: the run stops there and keeps the points so far.
    traj = newton(None, lambda x: 1.0, lambda x: 1.0 if x > -0.5 else 0.0, 0.0)
    assert traj.reason == "zero curvature" and traj.steps == 1 and traj.x == -1.0

    singular = np.array([[1.0, 1.0], [1.0, 1.0]])
    traj = newton(None, lambda x: singular @ x - 1.0, lambda x: singular, [3.0, 0.0])
    assert traj.reason == "zero curvature" and traj.steps == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"x0": np.nan}, "x0 must be finite"),
        ({"x0": [0.0, np.inf]}, "x0 must be finite"),
        ({"x0": [[1.0, 2.0]]}, "scalar or a 1-d vector"),
        ({"x0": "abc"}, "x0 must be a real number"),
        ({"max_steps": 0}, "max_steps must be >= 1"),
        ({"max_steps": 2.5}, "max_steps must be an integer"),
        ({"tol": -1.0}, "tol must be finite and >= 0"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, message):
    args = {"x0": 1.0, "max_steps": 5, "tol": 1e-8} | kwargs
    with pytest.raises(ValueError, match=message):
        newton(*QUARTIC, **args)
    with pytest.raises(ValueError, match=message):
        gradient_descent(QUARTIC.f, QUARTIC.grad, step_size=0.1, **args)


def test_wrong_output_shapes_raise_value_error():
    with pytest.raises(ValueError, match=r"grad must return a vector of shape \(2,\).*shape \(3,\)"):
        newton(None, lambda x: np.zeros(3), lambda x: np.eye(2), [1.0, 2.0])
    with pytest.raises(ValueError, match=r"hess must return a matrix of shape \(2, 2\)"):
        newton(None, lambda x: x, lambda x: np.ones(2), [1.0, 2.0])
    with pytest.raises(ValueError, match=r"hess must return a scalar"):
        newton(None, lambda x: x, lambda x: np.eye(1), 1.0)
    with pytest.raises(ValueError, match="f must return a scalar"):
        gradient_descent(lambda x: np.array([1.0, 2.0]), lambda x: x, 1.0, step_size=0.1)


@pytest.mark.parametrize("h", [0.0, -0.1, np.inf, np.nan])
def test_gd_rejects_bad_step_size(h):
    with pytest.raises(ValueError, match="step_size must be finite and > 0"):
        gradient_descent(QUARTIC.f, QUARTIC.grad, 1.0, step_size=h)


def test_trajectory_is_immutable():
    traj = newton(*QUARTIC, 1.5)
    with pytest.raises(AttributeError):
        traj.converged = False
    with pytest.raises(ValueError):
        traj.points[0] = 0.0
