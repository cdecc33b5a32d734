"""overparam.hessian against a dense torch.autograd.functional.hessian in float64."""

import copy

import pytest
import torch
from torch import nn

import overparam as op
from overparam import hessian


def _small_problem(seed=0, activation="tanh", n=30):
    g = torch.Generator().manual_seed(seed)
    model = op.models.mlp(5, 6, 2, 3, activation=activation, seed=seed).double()
    x = torch.randn(n, 5, generator=g, dtype=torch.float64)
    y = torch.randint(0, 3, (n,), generator=g)
    return model, x, y


@pytest.fixture(scope="module")
def problem():
    model, x, y = _small_problem()
    f, params = hessian.loss_fn(model, "cross_entropy", x, y)
    H = hessian.dense_hessian(f, params)
    return f, params, H


def test_quadratic_by_hand():
    # f(w) = ½ wᵀ A w with A = [[2, 1], [1, 3]]: H = A, so H v = A v and λ = (5 ± √5)/2.
    A = torch.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=torch.float64)

    def f(p):
        return 0.5 * p["w"] @ A @ p["w"]

    params = {"w": torch.tensor([0.3, -0.7], dtype=torch.float64)}
    v = {"w": torch.tensor([1.0, 2.0], dtype=torch.float64)}
    for method in ("double_backward", "forward"):
        torch.testing.assert_close(hessian.hvp(f, params, v, method=method)["w"],
                                   torch.tensor([4.0, 7.0], dtype=torch.float64))
    lam = hessian.top_eigenvalues(f, params, k=2)
    torch.testing.assert_close(lam, torch.tensor([(5 + 5**0.5) / 2, (5 - 5**0.5) / 2], dtype=torch.float64))
    # zᵀAz = 5 + 2 z₁z₂ ∈ {3, 7}: each Rademacher sample is tr A ± 2 |A₁₂|.
    samples = hessian.hutchinson_samples(f, params, n_samples=50, seed=1)
    assert set(samples.tolist()) <= {3.0, 7.0}
    assert samples.mean().item() == hessian.trace(f, params, n_samples=50, seed=1).item()
    # a diagonal Hessian has zᵀHz = tr H for every Rademacher z
    D = {"w": torch.tensor([1.0, -2.0, 4.0], dtype=torch.float64)}
    assert hessian.trace(lambda p: 0.5 * (D["w"] * p["w"] ** 2).sum(), D, n_samples=4).item() == 3.0


def test_hvp_matches_dense(problem):
    f, params, H = problem
    g = torch.Generator().manual_seed(3)
    v = {k: torch.randn(t.shape, generator=g, dtype=torch.float64) for k, t in params.items()}
    flat_v = torch.cat([t.reshape(-1) for t in v.values()])
    ref = H @ flat_v
    for method in ("double_backward", "forward"):
        hv = hessian.hvp(f, params, v, method=method)
        torch.testing.assert_close(torch.cat([t.reshape(-1) for t in hv.values()]), ref, rtol=1e-10, atol=1e-12)
    operator = hessian.HessianOperator(f, params)
    torch.testing.assert_close(operator(flat_v), ref, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(operator(2 * flat_v), 2 * ref, rtol=1e-10, atol=1e-12)  # graph reused


def test_top_eigenvalues_match_dense(problem):
    f, params, H = problem
    ref = torch.linalg.eigvalsh(H).flip(0)
    lam, vecs = hessian.top_eigenvalues(f, params, k=5, tol=1e-10, max_iter=H.shape[0], return_vectors=True)
    torch.testing.assert_close(lam, ref[:5], rtol=1e-8, atol=1e-10)
    assert (lam[:-1] >= lam[1:]).all()
    torch.testing.assert_close(H @ vecs, vecs * lam, rtol=1e-6, atol=1e-8)  # Ritz vectors are eigenvectors


def test_early_stopping_uses_fewer_products(problem):
    f, params, H = problem
    operator = hessian.HessianOperator(f, params)
    lam = hessian.top_eigenvalues(operator, None, k=1, tol=1e-6, max_iter=H.shape[0])
    assert operator.n_products < H.shape[0]
    assert abs(lam[0] - torch.linalg.eigvalsh(H)[-1]) <= 1e-5 * abs(lam[0])


def test_algebraically_largest_not_largest_magnitude():
    # spectrum {-10, 1, 2}: the algebraically largest is 2, not the largest in magnitude
    d = torch.tensor([-10.0, 1.0, 2.0], dtype=torch.float64)
    lam = hessian.top_eigenvalues(lambda p: 0.5 * (d * p["w"] ** 2).sum(), {"w": torch.ones(3, dtype=torch.float64)},
                                  k=2)
    torch.testing.assert_close(lam, torch.tensor([2.0, 1.0], dtype=torch.float64))


def test_hutchinson_matches_exact_trace(problem):
    f, params, H = problem
    samples = hessian.hutchinson_samples(f, params, n_samples=400, seed=0)
    exact = torch.trace(H).item()
    se = samples.std().item() / 400**0.5
    assert abs(samples.mean().item() - exact) <= 4 * se
    # its variance is 2 Σ_{i≠j} H_ij² (Hutchinson 1989)
    off = (H**2).sum() - (torch.diag(H) ** 2).sum()
    assert samples.var().item() == pytest.approx(2 * off.item(), rel=0.3)


def test_slq_is_exact_gauss_quadrature(problem):
    # with one probe and m steps, Σ w θᵖ = vᵀHᵖv/‖v‖² exactly for p < 2m
    f, params, H = problem
    operator = hessian.HessianOperator(f, params)
    v = torch.randn(operator.dim, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    run = hessian.lanczos(operator, v, 8)
    theta, S = torch.linalg.eigh(run.tridiagonal())
    w = S[0] ** 2
    u = v / v.norm()
    Hp = u.clone()
    for p in range(16):
        assert (w * theta**p).sum().item() == pytest.approx(torch.dot(u, Hp).item(), rel=1e-7, abs=1e-9)
        Hp = H @ Hp


def test_slq_moments_match_dense_spectrum(problem):
    f, params, H = problem
    nodes, weights = hessian.spectral_density(f, params, n_iter=20, n_vectors=40, seed=0)
    assert weights.sum().item() == pytest.approx(1.0, abs=1e-12)
    assert nodes.shape == weights.shape == (40 * 20,)
    ev = torch.linalg.eigvalsh(H)
    dim = H.shape[0]
    # moment p of the measure is the mean over probes of zᵀHᵖz/dim, a Hutchinson estimate of
    # tr(Hᵖ)/dim with variance 2 Σ_{i≠j} (Hᵖ)_ij² / dim² per probe: allow 4 standard errors
    for p in (1, 2, 3):
        Hp = torch.linalg.matrix_power(H, p)
        se = (2 * ((Hp**2).sum() - (torch.diag(Hp) ** 2).sum()) / dim**2 / 40).sqrt().item()
        assert abs((weights * nodes**p).sum().item() - (ev**p).mean().item()) <= 4 * se
    # the extreme nodes bracket the spectrum and the top node finds λ_max
    assert nodes.max().item() == pytest.approx(ev.max().item(), rel=1e-6)
    density = hessian.smooth_density(nodes, weights, torch.linspace(-50, 50, 20001), sigma=0.05)
    assert (density.sum() * 100 / 20000).item() == pytest.approx(1.0, abs=1e-3)


def test_loss_fn_keeps_batchnorm_statistics():
    g = torch.Generator().manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 2)).double()
    x = torch.randn(16, 4, generator=g, dtype=torch.float64)
    y = torch.randint(0, 2, (16,), generator=g)
    before = {k: b.clone() for k, b in model.named_buffers()}
    for mode in (model.train, model.eval):
        mode()
        f, params = hessian.loss_fn(model, "cross_entropy", x, y)
        H = hessian.dense_hessian(f, params)
        lam = hessian.top_eigenvalues(f, params, k=1, tol=1e-10, max_iter=200)
        assert lam[0].item() == pytest.approx(torch.linalg.eigvalsh(H)[-1].item(), rel=1e-7)
        torch.testing.assert_close(f(params), nn.functional.cross_entropy(copy.deepcopy(model)(x), y))
    for k, b in model.named_buffers():
        assert torch.equal(b, before[k])


def test_bad_input_is_named():
    model, x, y = _small_problem()
    with pytest.raises(ValueError, match="criterion"):
        hessian.loss_fn(model, "hinge", x, y)
    f, params = hessian.loss_fn(model, "mse", x, y)
    with pytest.raises(ValueError, match="k"):
        hessian.top_eigenvalues(f, params, k=10**6)
    with pytest.raises(ValueError, match="v"):
        hessian.hvp(f, params, {"nope": torch.zeros(1)})


def test_sharpness_callback_with_warm_start_matches_dense():
    model, x, y = _small_problem(seed=2, n=40)
    cb = hessian.sharpness_callback(x, y, "mse", every=2, tol=1e-8, max_iter=200)
    hist = op.train.train(model, (x, y), lr=0.2, steps=4, loss="mse", callbacks=[cb], progress=False,
                          device="cpu")
    steps, lams = zip(*hist.extras["sharpness"])
    assert steps == (2, 4)
    f, params = hessian.loss_fn(model, "mse", x, y)
    assert lams[-1] == pytest.approx(torch.linalg.eigvalsh(hessian.dense_hessian(f, params))[-1].item(), rel=1e-6)
    with pytest.raises(ValueError, match="v0"):
        hessian.top_eigenvalues(f, params, v0=torch.ones(3))
