"""The neural tangent kernel: empirical (finite width), analytic (infinite width, ReLU), and
the predictions of the linearized network under gradient flow.

For a network f(x; θ) with O outputs, the *empirical NTK* (Jacot et al. 2018) is the
O × O block

    Θ̂(x, x′) = J(x) J(x′)ᵀ,   J(x) = ∂f(x; θ)/∂θ  (O × P),

and at infinite width, in NTK parameterization, it becomes the deterministic kernel Θ
computed by :func:`relu_ntk` (Jacot et al. 2018, Theorem 1; Arora et al. 2019, eq. 7).
Under gradient flow on the squared loss the linearized network f_lin(x; θ) =
f(x; θ₀) + J(x)(θ − θ₀) has closed-form predictions (Lee et al. 2019, eqs. 9–11):
:func:`linearized_predict`.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn
from torch.func import functional_call, jacrev, jvp, vjp, vmap

from overparam._check import check_matrix, check_positive, check_positive_int

MODES = ("full", "trace")
METHODS = ("auto", "jacobian", "ntvp")


def _functional(model: nn.Module):
    """(f(params, x) -> (batch, O), the trainable parameters as a detached dict).

    Frozen parameters (``requires_grad=False``, e.g. the copy θ₀ inside :class:`Centered`)
    are not differentiated: they enter as constants, like buffers.
    """
    params = {k: v.detach() for k, v in model.named_parameters() if v.requires_grad}
    buffers = {k: v.detach() for k, v in model.named_parameters() if not v.requires_grad}
    buffers.update({k: v.detach() for k, v in model.named_buffers()})

    def f(p, x):
        out = functional_call(model, (p, buffers), (x,))
        return out.reshape(x.shape[0], -1)  # (B, O)

    return f, params


def _check_inputs(model: nn.Module, x1: torch.Tensor, x2: torch.Tensor, mode: str) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    for name, x in (("x1", x1), ("x2", x2)):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{name}: expected a torch.Tensor, got {type(x).__name__}")
        if x.ndim < 2 or x.shape[0] == 0:
            raise ValueError(f"{name}: expected a non-empty batch (N, ...), got shape {tuple(x.shape)}")
    if x1.shape[1:] != x2.shape[1:]:
        raise ValueError(f"x1, x2: expected the same input shape, got {tuple(x1.shape[1:])} and {tuple(x2.shape[1:])}")
    if mode not in MODES:
        raise ValueError(f"mode: expected one of {MODES}, got {mode!r}")


def _jacobian(f, params, x):
    """dict name -> (B, O, *param.shape): the Jacobian of every output at every input."""

    def single(p, xi):
        return f(p, xi.unsqueeze(0)).squeeze(0)  # (O,)

    return vmap(jacrev(single), (None, 0))(params, x)


def _chunks(n: int, size: int):
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def _ntk_jacobian(f, params, x1, x2, mode, chunk):
    same = x1 is x2
    n1, n2 = x1.shape[0], x2.shape[0]
    blocks = []
    jac2_cache = None
    rows2 = _chunks(n2, chunk)
    if n2 <= chunk:  # the whole of J(x2) fits the memory budget: compute it once
        jac2_cache = [_jacobian(f, params, x2)]
    for s1 in _chunks(n1, chunk):
        j1 = _jacobian(f, params, x1[s1])
        row = []
        for k, s2 in enumerate(rows2):
            if jac2_cache is not None:
                j2 = jac2_cache[k]
            elif same and s2 == s1:
                j2 = j1
            else:
                j2 = _jacobian(f, params, x2[s2])
            eq = "naf,maf->nm" if mode == "trace" else "naf,mbf->nmab"
            row.append(sum(torch.einsum(eq, j1[k_].flatten(2), j2[k_].flatten(2)) for k_ in j1))
        blocks.append(torch.cat(row, dim=1))
    return torch.cat(blocks, dim=0)


def _ntk_ntvp(f, params, x1, x2, mode, chunk):
    """NTK-vector products: for each basis vector e of the outputs at x2, J(x1) (J(x2)ᵀ e)."""
    out2, vjp_fn = vjp(lambda p: f(p, x2), params)  # out2: (M, O)
    m, o = out2.shape
    basis = torch.eye(m * o, dtype=out2.dtype, device=out2.device).reshape(m * o, m, o)

    def column(e):
        (tangent,) = vjp_fn(e)  # J(x2)ᵀ e, shaped like params
        return jvp(lambda p: f(p, x1), (params,), (tangent,))[1]  # (N, O)

    cols = vmap(column, chunk_size=chunk)(basis)  # (M·O, N, O)
    k = cols.reshape(m, o, x1.shape[0], o).permute(2, 0, 3, 1)  # (N, M, O_x1, O_x2)
    if mode == "trace":
        return k.diagonal(dim1=2, dim2=3).sum(-1)
    return k


def empirical_ntk(
    model: nn.Module,
    x1: torch.Tensor,
    x2: torch.Tensor,
    mode: str = "full",
    *,
    method: str = "auto",
    max_bytes: float = 2**28,
) -> torch.Tensor:
    """The empirical NTK Θ̂(x1, x2) = J(x1) J(x2)ᵀ of ``model`` at its current parameters.

    Args:
        model: maps a batch (B, ...) to outputs (B, O) (or (B,), read as O = 1).
        x1: inputs, shape (N, ...); x2: inputs, shape (M, ...) (pass the same tensor
            for the Gram matrix; its Jacobian is then reused).
        mode: ``"full"``: the (N, M, O, O) blocks Θ̂(x1_n, x2_m); ``"trace"``: (N, M),
            the trace of each block, Σ_o Θ̂_oo (for O = 1 the kernel itself).
        method: ``"jacobian"`` (Jacobian contraction: materialize J on chunks of inputs
            with ``vmap(jacrev)`` and contract), ``"ntvp"`` (NTK-vector products: one
            ``vjp`` at x2 and one ``jvp`` at x1 per output basis vector of x2, never
            materializing J), or ``"auto"``. Both follow the torch.func NTK tutorial.
            The contraction costs about N·M·O²·P multiply-adds plus the Jacobians; the
            NTVP about M·O forward-and-backward passes over all N + M inputs, so it only
            wins when M·O is small. ``"auto"`` picks ``"jacobian"`` unless x2 holds a
            single output vector (M·O = 1). ``scripts/bench_ntk.py`` times both (on a
            width-4096 MLP over 200 inputs the contraction is the faster one on a CPU).
        max_bytes: memory budget of one Jacobian chunk (and of one batch of NTVP
            tangents); inputs are processed in chunks that fit it.

    Returns:
        (N, M, O, O) for ``"full"``, (N, M) for ``"trace"``, in the parameters' dtype.
    """
    _check_inputs(model, x1, x2, mode)
    if method not in METHODS:
        raise ValueError(f"method: expected one of {METHODS}, got {method!r}")
    check_positive("max_bytes", max_bytes)
    f, params = _functional(model)
    n_params = sum(p.numel() for p in params.values())
    item = next(iter(params.values())).element_size()
    with torch.no_grad():
        o = f(params, x2[:1]).shape[1]
    if method == "auto":
        method = "ntvp" if x2.shape[0] * o == 1 else "jacobian"
    chunk = max(1, int(max_bytes // (n_params * o * item)))
    if method == "jacobian":
        return _ntk_jacobian(f, params, x1, x2, mode, chunk)
    return _ntk_ntvp(f, params, x1, x2, mode, max(1, int(max_bytes // (n_params * item))))


# ---------------------------------------------------------------- the infinite-width kernel


def _relu_expectations(cov: torch.Tensor, var1: torch.Tensor, var2: torch.Tensor):
    """E[relu(u) relu(v)] and E[relu′(u) relu′(v)] for (u, v) centred Gaussian.

    The arc-cosine kernels of degree 1 and 0 (Cho & Saul 2009):
    √(ab)/(2π) · (sin φ + (π − φ) cos φ) and (π − φ)/(2π), with cos φ = c/√(ab).
    """
    norm = torch.sqrt(var1[:, None] * var2[None, :])  # (N, M)
    cos = torch.where(norm > 0, cov / norm.clamp_min(torch.finfo(cov.dtype).tiny), torch.ones_like(cov))
    phi = torch.arccos(cos.clamp(-1.0, 1.0))
    k1 = norm / (2 * math.pi) * (torch.sin(phi) + (math.pi - phi) * torch.cos(phi))
    k0 = (math.pi - phi) / (2 * math.pi)
    return k1, k0


def relu_ntk(
    x1: torch.Tensor,
    x2: torch.Tensor,
    depth: int,
    sigma_w2: float = 2.0,
    sigma_b2: float = 0.0,
    *,
    return_nngp: bool = False,
):
    """The infinite-width NTK of the ReLU MLP of :func:`overparam.models.mlp` in
    ``parameterization="ntk"`` with ``depth`` hidden layers and one output, in float64.

    With Σ⁰(x, x′) = x·x′/d_in, the pre-activation covariances and the NTK follow
    (Jacot et al. 2018, Theorem 1; Lee et al. 2019, eq. 14)

        Σ¹ = σ_w² Σ⁰ + σ_b²,                     Θ¹ = Σ¹,
        Σˡ⁺¹ = σ_w² E[φ(u)φ(v)] + σ_b²,           Σ̇ˡ⁺¹ = σ_w² E[φ′(u)φ′(v)],
        Θˡ⁺¹ = Σˡ⁺¹ + Σ̇ˡ⁺¹ · Θˡ,                 (u, v) ~ N(0, Σˡ restricted to x, x′),

    and the kernel of the network's output is Θ^{depth+1}. φ = ReLU gives the
    arc-cosine expectations in closed form.

    Args:
        x1: (N, d_in); x2: (M, d_in).
        depth: number of hidden layers L ≥ 0 (0: the linear model, Θ = σ_w² Σ⁰ + σ_b²).
        sigma_w2, sigma_b2: σ_w², σ_b² of the network.
        return_nngp: also return Σ^{depth+1}, the NNGP kernel (the covariance of the
            network's output at initialization).

    Returns:
        Θ of shape (N, M) in float64; with ``return_nngp``, the pair (Θ, Σ).
    """
    check_matrix("x1", x1)
    check_matrix("x2", x2)
    if x1.shape[1] != x2.shape[1]:
        raise ValueError(f"x1, x2: expected the same number of columns, got {x1.shape[1]} and {x2.shape[1]}")
    check_positive_int("depth", depth, allow_zero=True)
    sw, sb = check_positive("sigma_w2", sigma_w2), check_positive("sigma_b2", sigma_b2, allow_zero=True)
    a, b = x1.to(torch.float64), x2.to(torch.float64)
    d = a.shape[1]
    cov = sw * (a @ b.T) / d + sb  # Σ¹(x, x′): (N, M)
    var1 = sw * (a * a).sum(1) / d + sb  # Σ¹(x, x): (N,)
    var2 = sw * (b * b).sum(1) / d + sb  # (M,)
    theta = cov.clone()
    for _ in range(depth):
        k1, k0 = _relu_expectations(cov, var1, var2)
        cov = sw * k1 + sb
        theta = cov + sw * k0 * theta
        var1, var2 = sw * var1 / 2 + sb, sw * var2 / 2 + sb  # E[relu(u)²] = Var(u)/2
    return (theta, cov) if return_nngp else theta


# ---------------------------------------------------------------- the linearized network


def linearized_predict(
    k_test_train: torch.Tensor,
    k_train_train: torch.Tensor,
    y_train: torch.Tensor,
    time: float = math.inf,
    f0_train: torch.Tensor | None = None,
    f0_test: torch.Tensor | None = None,
    rtol: float = 1e-12,
) -> torch.Tensor:
    """Predictions of the linearized network after gradient flow on the squared loss.

    The loss is L(θ) = 1/(2n) Σᵢ (f(xᵢ) − yᵢ)², as ``op.train.train(loss="mse")``
    minimizes it; ``time`` is η·t (learning rate times steps; gradient flow is the
    small-η limit). With Θ = ``k_train_train`` (n × n) and Θ_* = ``k_test_train``
    (Lee et al. 2019, eqs. 9–11):

        f_t(X) = y + e^{−Θt/n} (f₀(X) − y),
        f_t(x) = f₀(x) + Θ_* Θ⁻¹ (I − e^{−Θt/n}) (y − f₀(X)),

    and at t = ∞ kernel regression, f₀(x) + Θ_* Θ⁺ (y − f₀(X)).

    Args:
        k_test_train: (n_test, n) kernel between test and training inputs.
        k_train_train: (n, n) symmetric positive semi-definite kernel.
        y_train: (n,) or (n, k) targets.
        time: η·t ≥ 0, or ``math.inf``.
        f0_train, f0_test: the network's outputs at initialization (zero if None).
        rtol: eigenvalues below rtol · λ_max are treated as zero (pseudo-inverse).

    Returns:
        (n_test,) or (n_test, k) predictions, in float64.
    """
    check_matrix("k_train_train", k_train_train)
    check_matrix("k_test_train", k_test_train)
    n = k_train_train.shape[0]
    if k_train_train.shape != (n, n) or k_test_train.shape[1] != n:
        raise ValueError(f"k_train_train, k_test_train: expected (n, n) and (n_test, n), got "
                         f"{tuple(k_train_train.shape)} and {tuple(k_test_train.shape)}")
    if not isinstance(y_train, torch.Tensor) or y_train.shape[0] != n:
        raise ValueError(f"y_train: expected a tensor with {n} rows")
    if not (isinstance(time, (int, float)) and not isinstance(time, bool) and time >= 0):
        raise ValueError(f"time: expected a number >= 0 (η·t) or math.inf, got {time!r}")
    y = y_train.to(torch.float64)
    vec = y.ndim == 1
    y = y.reshape(n, -1)
    r = y - (0 if f0_train is None else f0_train.to(torch.float64).reshape(n, -1))
    lam, v = torch.linalg.eigh(k_train_train.to(torch.float64))
    keep = lam > rtol * lam.abs().max()
    lam_safe = torch.where(keep, lam, torch.ones_like(lam))
    if math.isinf(time):
        gain = torch.where(keep, 1 / lam_safe, torch.zeros_like(lam))
    else:  # (1 − e^{−λt/n})/λ, which tends to t/n as λ → 0
        gain = torch.where(keep, -torch.expm1(-lam_safe * time / n) / lam_safe, torch.full_like(lam, time / n))
    out = k_test_train.to(torch.float64) @ (v @ (gain[:, None] * (v.T @ r)))  # (n_test, k)
    if f0_test is not None:
        out = out + f0_test.to(torch.float64).reshape(out.shape)
    return out.reshape(-1) if vec else out


# ---------------------------------------------------------------- laziness


class Centered(nn.Module):
    """f(x; θ) − f(x; θ₀) (times ``scale``): a network whose output at initialization is zero.

    θ₀ is a frozen copy of ``model``'s parameters at construction. The empirical NTK is
    the model's times scale²; the predictions of the linearized network reduce to
    Θ_* Θ⁻¹(I − e^{−Θt/n}) y. ``scale`` is Chizat et al.'s (2019) α: large α (with the
    learning rate divided by α²) makes training lazy.
    """

    def __init__(self, model: nn.Module, scale: float = 1.0):
        super().__init__()
        self.model = model
        self.initial = copy.deepcopy(model).requires_grad_(False)
        self.scale = check_positive("scale", scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            f0 = self.initial(x)
        return self.scale * (self.model(x) - f0)


def parameter_movement(model: nn.Module, initial: nn.Module) -> float:
    """Relative movement ‖θ − θ₀‖₂ / ‖θ₀‖₂ over all parameters of two models of one shape."""
    num = den = 0.0
    for (name, p), (name0, p0) in zip(model.named_parameters(), initial.named_parameters(), strict=True):
        if p.shape != p0.shape:
            raise ValueError(f"initial: parameter {name0} has shape {tuple(p0.shape)}, model's {name} {tuple(p.shape)}")
        num += (p.detach() - p0.detach()).double().pow(2).sum().item()
        den += p0.detach().double().pow(2).sum().item()
    if den == 0:
        raise ValueError("initial: all parameters are zero, relative movement is undefined")
    return math.sqrt(num / den)


def relative_change(new: torch.Tensor, old: torch.Tensor) -> float:
    """‖new − old‖_F / ‖old‖_F (e.g. how far a kernel moved in training)."""
    if new.shape != old.shape:
        raise ValueError(f"new, old: expected equal shapes, got {tuple(new.shape)} and {tuple(old.shape)}")
    den = torch.linalg.norm(old.double())
    if den == 0:
        raise ValueError("old: expected a non-zero tensor")
    return (torch.linalg.norm(new.double() - old.double()) / den).item()
