"""The stochastic network, the posterior optimization and the certificate (chapter 14)."""

import math

import pytest
import torch

import overparam as op
from overparam import bounds


def _net(width=5, seed=0, dtype=torch.float64):
    return op.models.mlp(3, width, 1, 2, sigma_b2=0.1, seed=seed).to(dtype)


def _params(model):
    return {k: v.detach().clone() for k, v in model.named_parameters()}


def test_grid_constants_worked_by_hand():
    # Dziugaite & Roy (2017): B_RE = (KL + 2 ln j + ln(π² m / 6δ)) / (m − 1), λ_j = c e^{−j/b}.
    # KL = 5, m = 1000, δ = 0.025, j = 200: 2 ln 200 = 10.59663, ln(π² 1000 / 0.15) = 11.09434
    rhs = (5 + 10.596634733 + 11.094335036) / 999
    assert rhs == pytest.approx(0.0267176875, abs=1e-9)
    assert bounds.dziugaite_roy_bound(0.1, 5.0, 1000, 0.025, j=200) == pytest.approx(
        bounds.kl_inverse(0.1, rhs), abs=1e-9)
    # the union-bound weights 6 / (π² j²) sum to one over j = 1, 2, ...
    assert sum(6 / (math.pi**2 * j**2) for j in range(1, 200001)) == pytest.approx(1.0, abs=1e-5)


def test_gibbs_logits_without_noise_is_the_network():
    model = _net()
    x = torch.randn(7, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    mean = _params(model)
    sigma = {k: torch.full_like(v, 1e-300) for k, v in mean.items()}
    out = bounds.gibbs_logits(model, mean, sigma, x, torch.Generator().manual_seed(0))
    torch.testing.assert_close(out, model(x).detach(), rtol=1e-12, atol=1e-12)


def test_gibbs_logits_matches_drawing_whole_networks():
    # the error of one input under Q: by drawing N networks explicitly, and by the
    # local reparameterization with the input repeated N times; both are means of N
    # Bernoulli draws with the same p, so they agree within a few binomial s.e.
    model = _net(width=4)
    mean = _params(model)
    sigma = {k: 0.8 * torch.ones_like(v) for k, v in mean.items()}
    x = torch.tensor([[0.5, -1.0, 2.0]], dtype=torch.float64)
    n = 40000
    g = torch.Generator().manual_seed(3)
    outs = []
    for _ in range(n // 1000):
        w = {k: mean[k] + sigma[k] * torch.randn((1000, *v.shape), generator=g, dtype=v.dtype)
             for k, v in mean.items()}
        h = torch.relu(torch.einsum("ni,nji->nj", x.expand(1000, 3), w["0.weight"]) + w["0.bias"])
        outs.append(torch.einsum("nj,nkj->nk", h, w["2.weight"]) + w["2.bias"])
    p_full = (torch.cat(outs).argmax(-1) == 1).double().mean().item()
    out = bounds.gibbs_logits(model, mean, sigma, x.expand(n, 3), torch.Generator().manual_seed(4))
    p_local = (out.argmax(-1) == 1).double().mean().item()
    se = math.sqrt(2 * p_full * (1 - p_full) / n)
    assert 0.05 < p_full < 0.95  # a case where the noise matters
    assert abs(p_full - p_local) < 4 * se
    err = bounds.gibbs_error(model, mean, sigma, x.expand(n, 3), torch.zeros(n, dtype=torch.long), seed=4)
    assert err == pytest.approx(p_local, abs=1e-12)  # same draws, label 0: error = P(class 1)


@pytest.fixture
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: threads only contend
    yield
    torch.set_num_threads(n)


def test_optimize_posterior_lowers_the_surrogate(one_thread):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 3, generator=g, dtype=torch.float64)
    y = (x[:, 0] > 0).long()
    model = _net(width=16)
    w0 = _params(model)
    op.train.train(model, (x, y), lr=0.1, steps=100, progress=False)
    before = _params(model)
    post = bounds.optimize_posterior(model, x, y, w0, steps=100, lr=1e-2, record_every=10, seed=0)
    assert post.objective[-1] < post.objective[0]
    for k, v in _params(model).items():  # the model itself is not touched
        assert torch.equal(v, before[k])
    assert all(bool((s > 0).all()) for s in post.sigma.values()) and post.lam > 0
    with pytest.raises(ValueError, match="w0"):
        bounds.optimize_posterior(model, x, y, {"0.weight": w0["0.weight"]}, steps=1)
    with pytest.raises(TypeError, match="model"):
        bounds.optimize_posterior(torch.nn.Linear(3, 2), x, y, w0, steps=1)


def test_certificate_terms_by_hand():
    model = _net(width=4)
    w0 = _params(model)
    g = torch.Generator().manual_seed(5)
    mean = {k: v + 0.1 * torch.randn(v.shape, generator=g, dtype=v.dtype) for k, v in w0.items()}
    sigma = {k: 0.05 * torch.ones_like(v) for k, v in w0.items()}
    lam = 0.1 * math.exp(-123.4 / 100)  # between the grid points j = 123 and j = 124
    post = bounds.Posterior(mean, sigma, lam, [])
    x = torch.randn(300, 3, generator=g, dtype=torch.float64)
    y = torch.randint(0, 2, (300,), generator=g)
    cert = bounds.certify(model, post, w0, x, y, delta=0.025, delta_mc=0.01, repeats=3, seed=2)
    assert cert.j in (123, 124) and cert.lam == pytest.approx(0.1 * math.exp(-cert.j / 100))
    s_hat = bounds.gibbs_error(model, mean, sigma, x, y, repeats=3, seed=2)
    assert cert.s_hat == s_hat and cert.n_draws == 900 and cert.m == 300
    assert cert.q_hat_bound == pytest.approx(bounds.kl_inverse(s_hat, math.log(2 / 0.01) / 900), abs=1e-12)
    flat = bounds.flatten
    kl = float(bounds.gaussian_kl(flat(mean), flat(sigma), flat(w0), cert.lam))
    assert cert.kl == pytest.approx(kl, rel=1e-12)
    rhs = (kl + 2 * math.log(cert.j) + math.log(math.pi**2 * 300 / (6 * 0.025))) / 299
    assert cert.bound == pytest.approx(bounds.kl_inverse(cert.q_hat_bound, rhs), abs=1e-12)
    other = 247 - cert.j  # the other neighbour of 123.4 gives a bound no smaller
    kl_o = float(bounds.gaussian_kl(flat(mean), flat(sigma), flat(w0), 0.1 * math.exp(-other / 100)))
    assert bounds.dziugaite_roy_bound(cert.q_hat_bound, kl_o, 300, 0.025, other) >= cert.bound
    with pytest.raises(ValueError, match="w0"):
        bounds.certify(model, post, {"0.weight": w0["0.weight"]}, x, y)
    with pytest.raises(TypeError, match="post"):
        bounds.certify(model, (mean, sigma), w0, x, y)
