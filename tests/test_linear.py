"""overparam.linear against torch.linalg (pinv, solve, lstsq), a case worked by hand, and limits."""

from __future__ import annotations

import math

import pytest
import torch

from overparam import linear

F64 = torch.float64


def problem(n: int = 12, p: int = 30, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, p, generator=gen, dtype=F64), torch.randn(n, generator=gen, dtype=F64)


def spectrum(X: torch.Tensor) -> torch.Tensor:
    """Non-zero eigenvalues of XᵀX/n, descending, computed independently of the library."""
    lam = torch.linalg.eigvalsh(X @ X.T / X.shape[0]).flip(0)
    return lam[lam > 1e-10 * lam[0]]


def steps_to_converge(lam: torch.Tensor, lr: float, tol: float = 1e-14) -> int:
    """t with (1 − ηλ_min)ᵗ < tol: the slowest direction has then converged to tol."""
    return math.ceil(math.log(tol) / math.log(1 - lr * lam[-1].item()))


# --- a 2×3 case worked by hand -------------------------------------------------------------
# X has orthogonal rows (1, 1, 0) and (0, 0, 1); y = (2, 3); n = 2. XᵀX/n has eigenvalue 1 on
# (1, 1, 0)/√2, 1/2 on e₃ and 0 on (1, −1, 0)/√2. Every solution is (1 + a, 1 − a, 3).
X_HAND = torch.tensor([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]], dtype=F64)
Y_HAND = torch.tensor([2.0, 3.0], dtype=F64)


def test_hand_min_norm_and_projection():
    # ‖(1 + a, 1 − a, 3)‖² = 2 + 2a² + 9 is smallest at a = 0.
    assert torch.allclose(linear.min_norm(X_HAND, Y_HAND), torch.tensor([1.0, 1.0, 3.0], dtype=F64))
    # From w0 = e₁: minimize a² + (1 − a)² + 9 → a = 1/2.
    w0 = torch.tensor([1.0, 0.0, 0.0], dtype=F64)
    proj = linear.project_to_solutions(X_HAND, Y_HAND, w0)
    assert torch.allclose(proj, torch.tensor([1.5, 0.5, 3.0], dtype=F64))
    N = linear.null_space(X_HAND)
    assert N.shape == (3, 1)
    assert torch.allclose(N[:, 0].abs(), torch.tensor([1.0, 1.0, 0.0], dtype=F64) / math.sqrt(2))


def test_hand_gd_steps_and_ridge():
    # One step from 0 with η = 1: w₁ = Xᵀy/n = (1, 1, 1.5); the second step only moves e₃
    # (shrinkage 1 − (1/2)² = 3/4 of 3).
    assert torch.allclose(linear.gd_least_squares(X_HAND, Y_HAND, lr=1.0, steps=1),
                          torch.tensor([1.0, 1.0, 1.5], dtype=F64))
    assert torch.allclose(linear.gd_least_squares(X_HAND, Y_HAND, lr=1.0, steps=2),
                          torch.tensor([1.0, 1.0, 2.25], dtype=F64))
    # Ridge keeps λ/(λ + α) of each coefficient: 1/(1 + α) on (1, 1, 0), (1/2)/(1/2 + α) on e₃.
    assert torch.allclose(linear.ridge(X_HAND, Y_HAND, 1.0), torch.tensor([0.5, 0.5, 1.0], dtype=F64))


# --- gradient descent --------------------------------------------------------------------------


def test_gd_from_zero_converges_to_pinv():
    X, y = problem()
    lam = spectrum(X)
    lr = 1 / lam[0].item()
    w = linear.gd_least_squares(X, y, lr=lr, steps=steps_to_converge(lam, lr))
    ref = torch.linalg.pinv(X) @ y
    assert torch.allclose(w, ref, rtol=0, atol=1e-10 * ref.norm().item())
    assert torch.allclose(linear.min_norm(X, y), ref, rtol=0, atol=1e-12 * ref.norm().item())


def test_gd_iterates_stay_in_row_space():
    X, y = problem()
    N = linear.null_space(X)  # (p, p − n)
    for steps in (1, 5, 40):
        w = linear.gd_least_squares(X, y, lr=0.01, steps=steps)
        assert (N.T @ w).abs().max() < 1e-12 * w.norm()


def test_gd_from_w0_converges_to_projection():
    X, y = problem(seed=1)
    w0 = torch.randn(X.shape[1], generator=torch.Generator().manual_seed(5), dtype=F64)
    lam = spectrum(X)
    lr = 1.5 / lam[0].item()  # above 1/λ_max: the top direction oscillates but converges
    w = linear.gd_least_squares(X, y, lr=lr, steps=steps_to_converge(lam, lr), w0=w0)
    ref = w0 - torch.linalg.pinv(X) @ (X @ w0 - y)
    assert torch.allclose(w, ref, rtol=0, atol=1e-10 * ref.norm().item())
    assert torch.allclose(linear.project_to_solutions(X, y, w0), ref, rtol=0, atol=1e-12 * ref.norm().item())


def test_projection_properties():
    X, y = problem(seed=2)
    gen = torch.Generator().manual_seed(0)
    w0 = torch.randn(X.shape[1], generator=gen, dtype=F64)
    w = linear.project_to_solutions(X, y, w0)
    N = linear.null_space(X)
    assert torch.allclose(X @ w, y, atol=1e-12)
    assert (N.T @ (w - w0)).abs().max() < 1e-12  # the move w − w0 lies in the row space
    # No other solution is closer to w0.
    others = w[None, :] + torch.randn(20, N.shape[1], generator=gen, dtype=F64) @ N.T  # (20, p)
    assert ((others - w0).norm(dim=1) > (w - w0).norm()).all()


def test_gd_zero_steps_returns_start():
    X, y = problem()
    w0 = torch.linspace(-1, 1, X.shape[1], dtype=F64)
    assert torch.equal(linear.gd_least_squares(X, y, lr=0.1, steps=0, w0=w0), w0)
    assert torch.equal(linear.gd_least_squares(X, y, lr=0.1, steps=0), torch.zeros(X.shape[1], dtype=F64))
    assert torch.allclose(linear.gd_path(X, y, 0.1, torch.tensor([0]), w0=w0)[0], w0, atol=1e-13)


def test_gd_path_matches_loop():
    X, y = problem(n=15, p=25, seed=3)
    w0 = torch.randn(25, generator=torch.Generator().manual_seed(1), dtype=F64)
    lr = 1.2 / spectrum(X)[0].item()
    steps = torch.tensor([0, 1, 2, 7, 30, 100])
    path = linear.gd_path(X, y, lr, steps, w0=w0)
    assert path.shape == (6, 25)
    for t, w in zip(steps.tolist(), path, strict=True):
        loop = linear.gd_least_squares(X, y, lr=lr, steps=t, w0=w0)
        assert torch.allclose(w, loop, rtol=0, atol=1e-11 * max(loop.norm().item(), 1.0))


def test_gd_path_limit_is_projection():
    X, y = problem(seed=4)
    w0 = torch.ones(X.shape[1], dtype=F64)
    w_inf = linear.gd_path(X, y, 1 / spectrum(X)[0].item(), torch.tensor([10**7]), w0=w0)[0]
    ref = w0 - torch.linalg.pinv(X) @ (X @ w0 - y)
    assert torch.allclose(w_inf, ref, rtol=0, atol=1e-10 * ref.norm().item())


def test_shrinkage_factors_describe_gd_and_ridge():
    X, y = problem(seed=5)
    U, s, V = linear.svd(X)
    lam = s**2 / X.shape[0]
    c_star = V.T @ linear.min_norm(X, y)  # (r,) coefficients of X⁺y
    lr, t, alpha = 0.5 / lam[0].item(), 17, 0.3
    c_gd = V.T @ linear.gd_least_squares(X, y, lr=lr, steps=t)
    c_ridge = V.T @ linear.ridge(X, y, alpha)
    assert torch.allclose(c_gd, linear.gd_shrinkage(lam, lr, t) * c_star, atol=1e-12)
    assert torch.allclose(c_ridge, linear.ridge_shrinkage(lam, alpha) * c_star, atol=1e-12)
    assert torch.allclose(linear.gd_shrinkage(lam, lr, 0), torch.zeros_like(lam))
    assert torch.allclose(linear.ridge_shrinkage(lam, 0.0), torch.ones_like(lam))


# --- closed forms --------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(10, 30), (30, 10)])
def test_ridge_matches_normal_equations(shape):
    X, y = problem(*shape, seed=6)
    n, p = shape
    alphas = torch.tensor([1e-3, 0.1, 2.0], dtype=F64)
    path = linear.ridge(X, y, alphas)
    assert path.shape == (3, p)
    for a, w in zip(alphas.tolist(), path, strict=True):
        ref = torch.linalg.solve(X.T @ X / n + a * torch.eye(p, dtype=F64), X.T @ y / n)
        assert torch.allclose(w, ref, rtol=0, atol=1e-11 * ref.norm().item())
        assert torch.allclose(linear.ridge(X, y, a), w, atol=1e-14)


def test_ridge_vanishing_penalty_gives_min_norm():
    X, y = problem(seed=7)
    w_mn = linear.min_norm(X, y)
    lam_min = spectrum(X)[-1].item()
    for alpha in (1e-4, 1e-6, 1e-8):
        # Each coefficient is off by the factor α/(λ + α) <= α/λ_min.
        err = (linear.ridge(X, y, alpha) - w_mn).norm() / w_mn.norm()
        assert err <= 1.01 * alpha / lam_min
    assert torch.allclose(linear.ridge(X, y, 0.0), w_mn, atol=1e-13)


def test_min_norm_overdetermined_is_least_squares():
    X, y = problem(40, 8, seed=8)
    assert torch.allclose(linear.min_norm(X, y), torch.linalg.lstsq(X, y).solution, atol=1e-12)


def test_min_norm_rank_deficient_and_matrix_targets():
    gen = torch.Generator().manual_seed(9)
    X = torch.randn(10, 3, generator=gen, dtype=F64) @ torch.randn(3, 20, generator=gen, dtype=F64)  # rank 3
    Y = torch.randn(10, 2, generator=gen, dtype=F64)
    W = linear.min_norm(X, Y)
    assert W.shape == (20, 2)
    assert torch.allclose(W, torch.linalg.pinv(X, rtol=1e-10) @ Y, atol=1e-10)
    N = linear.null_space(X)
    assert N.shape == (20, 17)
    assert torch.allclose(N.T @ N, torch.eye(17, dtype=F64), atol=1e-12)
    assert (X @ N).abs().max() < 1e-12 * torch.linalg.matrix_norm(X, 2)


def test_high_norm_interpolant():
    X, y = problem(seed=10)
    w_mn = linear.min_norm(X, y)
    w = linear.high_norm_interpolant(X, y, norm_ratio=3.0, seed=1)
    assert torch.allclose(X @ w, y, atol=1e-12)
    assert math.isclose(w.norm().item(), 3.0 * w_mn.norm().item(), rel_tol=1e-12)
    assert abs(torch.dot(w - w_mn, w_mn).item()) < 1e-12 * w_mn.norm().item() ** 2  # null-space part
    assert torch.equal(w, linear.high_norm_interpolant(X, y, norm_ratio=3.0, seed=1))
    assert not torch.equal(w, linear.high_norm_interpolant(X, y, norm_ratio=3.0, seed=2))
    assert torch.allclose(linear.high_norm_interpolant(X, y, norm_ratio=1.0), w_mn, atol=1e-14)
    ratios = torch.tensor([1.0, 2.0, 5.0], dtype=F64)
    W = linear.high_norm_interpolant(X, y, norm_ratio=ratios, seed=1)  # (3, p), one null direction
    assert W.shape == (3, X.shape[1])
    assert torch.allclose(W.norm(dim=1), ratios * w_mn.norm(), rtol=1e-12)
    assert torch.allclose(W[1], linear.high_norm_interpolant(X, y, norm_ratio=2.0, seed=1), atol=1e-14)
    assert torch.allclose(X @ W.T, y[:, None].expand(-1, 3), atol=1e-12)


def test_float32_works():
    X, y = problem()
    X32, y32 = X.float(), y.float()
    lr = 1 / spectrum(X)[0].item()
    w = linear.gd_path(X32, y32, lr, torch.tensor([5000]))[0]
    assert w.dtype == torch.float32
    assert torch.allclose(w.double(), linear.min_norm(X, y), atol=1e-4)
    assert linear.ridge(X32, y32, 0.1).dtype == torch.float32


# --- bad input -------------------------------------------------------------------------------


def test_bad_inputs():
    X, y = problem()
    with pytest.raises(ValueError, match="X: expected a 2-D"):
        linear.min_norm(X[0], y)
    with pytest.raises(TypeError, match="X: expected a torch.Tensor"):
        linear.min_norm(X.tolist(), y)
    with pytest.raises(ValueError, match="X: expected at least one row"):
        linear.min_norm(X[:0], y[:0])
    with pytest.raises(ValueError, match="X: expected at least one column"):
        linear.min_norm(X[:, :0], y)
    with pytest.raises(TypeError, match="X: expected a floating-point"):
        linear.min_norm(X.long(), y)
    with pytest.raises(ValueError, match="y: expected shape"):
        linear.min_norm(X, y[:-1])
    with pytest.raises(ValueError, match="y: expected a 1-D"):
        linear.gd_least_squares(X, y[:, None], lr=0.1, steps=3)
    with pytest.raises(ValueError, match="lr: expected a number > 0"):
        linear.gd_least_squares(X, y, lr=-0.1, steps=3)
    with pytest.raises(ValueError, match="lr: expected a number > 0"):
        linear.gd_path(X, y, 0.0, torch.tensor([1]))
    with pytest.raises(ValueError, match="steps: expected an int >= 0"):
        linear.gd_least_squares(X, y, lr=0.1, steps=-1)
    with pytest.raises(ValueError, match="steps: expected a 1-D tensor of integer"):
        linear.gd_path(X, y, 0.1, torch.tensor([1.5]))
    with pytest.raises(ValueError, match="steps: expected a 1-D tensor of integer"):
        linear.gd_path(X, y, 0.1, torch.tensor([-1, 2]))
    with pytest.raises(ValueError, match=r"w0: expected a tensor of shape \(30,\)"):
        linear.gd_least_squares(X, y, lr=0.1, steps=1, w0=torch.zeros(29, dtype=F64))
    with pytest.raises(ValueError, match="alpha: expected a finite penalty >= 0"):
        linear.ridge(X, y, -1.0)
    with pytest.raises(ValueError, match="norm_ratio: expected numbers >= 1"):
        linear.high_norm_interpolant(X, y, norm_ratio=0.5)
    with pytest.raises(ValueError, match="no null-space direction"):
        linear.high_norm_interpolant(*problem(30, 10), norm_ratio=2.0)


def test_divergent_step_is_reported():
    X, y = problem()
    lr = 2.5 / spectrum(X)[0].item()
    with pytest.raises(FloatingPointError, match="lr"):
        linear.gd_path(X, y, lr, torch.tensor([10]))
    with pytest.raises(FloatingPointError, match="diverged"):
        linear.gd_least_squares(X, y, lr=lr, steps=5000)
