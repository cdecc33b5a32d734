"""Deep matrix factorization trained by gradient descent on matrix sensing and completion.

The model of chapter 04 (Gunasekar et al. 2017; Arora, Cohen, Hu & Luo 2019). A
ground-truth matrix W* (d1, d2) is seen through m linear measurements
yᵢ = ⟨Aᵢ, W*⟩ (sensing) or through m of its entries (completion, Aᵢ = e_j e_kᵀ).
The end-to-end matrix of a depth-N factorization is

    W = W_N ⋯ W_2 W_1,   W_1 (k, d2), W_j (k, k) for 1 < j < N, W_N (d1, k),

with hidden width k = min(d1, d2) by default, so the factorization can express every
matrix and rank is never constrained explicitly. Gradient descent runs on

    L(W_1, …, W_N) = ½ Σᵢ (⟨Aᵢ, W⟩ − yᵢ)²,

whose gradient in factor j is (W_N ⋯ W_{j+1})ᵀ G (W_{j−1} ⋯ W_1)ᵀ with
G = Σᵢ (⟨Aᵢ, W⟩ − yᵢ) Aᵢ the gradient in W. Every function runs a batch of B
independent factorizations at once (one per initialization scale or seed).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from overparam._check import DivergenceError, as_generator, check_positive, check_positive_int, check_tensor


def _shape(shape) -> tuple[int, int]:
    if not isinstance(shape, (tuple, list)) or len(shape) != 2:
        raise TypeError(f"shape: expected a pair (d1, d2), got {shape!r}")
    return check_positive_int("shape[0]", shape[0]), check_positive_int("shape[1]", shape[1])


@dataclass(frozen=True)
class Measurements:
    """A linear measurement operator 𝒜: ℝ^{d1×d2} → ℝ^m.

    Sensing: ``A`` holds the matrices Aᵢ, shape (m, d1, d2). Completion: ``rows`` and
    ``cols`` (m,) index the observed entries and ``A`` is None (never materialized).
    """

    shape: tuple[int, int]  # (d1, d2)
    A: torch.Tensor | None = None  # (m, d1, d2) for sensing
    rows: torch.Tensor | None = None  # (m,) int64 for completion
    cols: torch.Tensor | None = None  # (m,) int64 for completion

    @property
    def m(self) -> int:
        return int(self.A.shape[0]) if self.A is not None else int(self.rows.numel())

    def __call__(self, W: torch.Tensor) -> torch.Tensor:
        """𝒜(W): (..., d1, d2) → (..., m)."""
        if self.A is None:
            return W[..., self.rows, self.cols]
        return torch.einsum("mij,...ij->...m", self.A.to(W.dtype), W)

    def adjoint(self, r: torch.Tensor) -> torch.Tensor:
        """𝒜*(r) = Σᵢ rᵢ Aᵢ: (..., m) → (..., d1, d2)."""
        if self.A is None:
            out = r.new_zeros((*r.shape[:-1], *self.shape))
            out[..., self.rows, self.cols] = r
            return out
        return torch.einsum("mij,...m->...ij", self.A.to(r.dtype), r)

    def mask(self) -> torch.Tensor:
        """Boolean (d1, d2) mask of observed entries (completion only)."""
        if self.A is not None:
            raise ValueError("mask: only a completion operator has observed entries")
        out = torch.zeros(self.shape, dtype=torch.bool)
        out[self.rows, self.cols] = True
        return out


def low_rank_matrix(d1: int, d2: int, rank: int, seed: int | torch.Generator = 0,
                    dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """A random rank-``rank`` matrix W* = U Vᵀ with Gaussian U (d1, r), V (d2, r),
    scaled so that ‖W*‖_F = √(d1 d2) (entries of root-mean-square 1)."""
    d1, d2 = check_positive_int("d1", d1), check_positive_int("d2", d2)
    rank = check_positive_int("rank", rank)
    if rank > min(d1, d2):
        raise ValueError(f"rank: expected at most min(d1, d2) = {min(d1, d2)}, got {rank}")
    g = as_generator(seed)
    U = torch.randn(d1, rank, generator=g, dtype=dtype)
    V = torch.randn(d2, rank, generator=g, dtype=dtype)
    W = U @ V.T
    return W * (d1 * d2) ** 0.5 / torch.linalg.matrix_norm(W)


def completion(shape: tuple[int, int], m: int, seed: int | torch.Generator = 0) -> Measurements:
    """Observe m entries of a (d1, d2) matrix, drawn uniformly without replacement."""
    d1, d2 = _shape(shape)
    m = check_positive_int("m", m)
    if m > d1 * d2:
        raise ValueError(f"m: expected at most d1·d2 = {d1 * d2} observed entries, got {m}")
    idx = torch.randperm(d1 * d2, generator=as_generator(seed))[:m].sort().values
    return Measurements((d1, d2), rows=idx // d2, cols=idx % d2)


def gaussian_sensing(shape: tuple[int, int], m: int, seed: int | torch.Generator = 0,
                     dtype: torch.dtype = torch.float64) -> Measurements:
    """m Gaussian measurement matrices Aᵢ with i.i.d. N(0, 1/m) entries, so that
    E‖𝒜(W)‖² = ‖W‖_F² (the normalization under which such 𝒜 satisfy RIP, Candès & Plan 2011)."""
    d1, d2 = _shape(shape)
    m = check_positive_int("m", m)
    A = torch.randn(m, d1, d2, generator=as_generator(seed), dtype=dtype) / m**0.5
    return Measurements((d1, d2), A=A)


def init_factors(shape: tuple[int, int], depth: int, scale: torch.Tensor | float, width: int | None = None,
                 seed: int | torch.Generator = 0, dtype: torch.dtype = torch.float64) -> list[torch.Tensor]:
    """Random factors W_1 … W_N with i.i.d. N(0, α²/k) entries for each scale α in ``scale``.

    ``scale`` is a number or a 1-D tensor of B scales; the same Gaussian draw is used for
    every α, so runs differ only in scale. Returns N tensors of shape (B, rows, cols).
    With k = width, ‖W_j‖_op ≈ 2α, so the end-to-end matrix starts at size about (2α)^N.
    """
    d1, d2 = _shape(shape)
    depth = check_positive_int("depth", depth)
    scales = check_tensor("scale", scale, ndim=(0, 1), real=True, convert=True, dtype=dtype).reshape(-1)
    if (scales < 0).any():
        raise ValueError(f"scale: expected initialization scales >= 0, got {scale}")
    k = min(d1, d2) if width is None else check_positive_int("width", width)
    dims = [d2] + [k] * (depth - 1) + [d1]  # W_j maps dims[j-1] → dims[j]
    g = as_generator(seed)
    factors = []
    for j in range(depth):
        G = torch.randn(dims[j + 1], dims[j], generator=g, dtype=dtype) / k**0.5
        factors.append(scales[:, None, None] * G)  # (B, dims[j+1], dims[j])
    return factors


def scale_for_norm(shape: tuple[int, int], depth: int, norm: torch.Tensor | float,
                   width: int | None = None, seed: int | torch.Generator = 0,
                   dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Per-factor scales α that give the end-to-end matrix W(0) = W_N ⋯ W_1 a chosen size.

    The product is homogeneous of degree N in α, so with ν = ‖W(0)‖_F at α = 1 (same
    ``seed`` and ``width`` as :func:`init_factors`), α = (norm / ν)^{1/N} gives
    ‖W(0)‖_F = norm exactly. Comparing depths at equal end-to-end scale, rather than at
    equal α (which starts depth N at size ~α^N), removes the confound between depth and
    initialization size. Returns a (B,) tensor for B values of ``norm``.
    """
    norms = torch.as_tensor(norm, dtype=dtype).reshape(-1)
    if not bool(torch.isfinite(norms).all()) or bool((norms <= 0).any()):
        raise ValueError(f"norm: expected end-to-end norms > 0, got {norm}")
    depth = check_positive_int("depth", depth)
    unit = product(init_factors(shape, depth, 1.0, width=width, seed=seed, dtype=dtype))
    nu = torch.linalg.matrix_norm(unit[0])
    return (norms / nu) ** (1.0 / depth)


def balanced_factors(W0: torch.Tensor, depth: int) -> list[torch.Tensor]:
    """A balanced depth-N factorization of W0 (d1, d2) or of a batch (B, d1, d2).

    With W0 = U diag(s) Vᵀ (thin SVD, k = min(d1, d2)): W_1 = diag(s^{1/N}) Vᵀ,
    W_j = diag(s^{1/N}) for 1 < j < N, W_N = U diag(s^{1/N}). Then W_N ⋯ W_1 = W0 and
    W_{j+1}ᵀ W_{j+1} = W_j W_jᵀ for every j, the balancedness that gradient flow preserves
    and under which Arora et al. (2019) derive the singular-value dynamics. Returns N
    tensors of shape (B, rows, cols), usable as ``init=`` of :func:`train`.
    """
    if not isinstance(W0, torch.Tensor) or W0.ndim not in (2, 3) or not W0.is_floating_point():
        raise ValueError("W0: expected a floating tensor of shape (d1, d2) or (B, d1, d2)")
    depth = check_positive_int("depth", depth)
    W0 = W0 if W0.ndim == 3 else W0[None]
    if depth == 1:
        return [W0.clone()]
    U, s, Vh = torch.linalg.svd(W0, full_matrices=False)  # (B, d1, k), (B, k), (B, k, d2)
    root = s ** (1.0 / depth)  # (B, k)
    first = root[..., :, None] * Vh
    middle = [torch.diag_embed(root) for _ in range(depth - 2)]
    last = U * root[..., None, :]
    return [first, *middle, last]


def product(factors: list[torch.Tensor]) -> torch.Tensor:
    """End-to-end matrix W_N ⋯ W_1, shape (B, d1, d2)."""
    if not isinstance(factors, (list, tuple)) or not factors or not all(isinstance(F, torch.Tensor) for F in factors):
        raise TypeError(f"factors: expected a non-empty list of tensors (B, rows, cols), got {type(factors).__name__}")
    W = factors[0]
    for F in factors[1:]:
        W = F @ W
    return W


def factor_gradients(factors: list[torch.Tensor], G: torch.Tensor) -> list[torch.Tensor]:
    """Gradients in each factor given the gradient G (B, d1, d2) in the end-to-end matrix:
    ∂L/∂W_j = (W_N ⋯ W_{j+1})ᵀ G (W_{j−1} ⋯ W_1)ᵀ."""
    N = len(factors)
    right = [None] * N  # right[j] = W_{j-1} ⋯ W_1 (identity for j = 0)
    acc = None
    for j in range(N):
        right[j] = acc
        acc = factors[j] if acc is None else factors[j] @ acc
    grads = [None] * N
    left_t_G = G  # (W_N ⋯ W_{j+1})ᵀ G, built from the top
    for j in range(N - 1, -1, -1):
        grads[j] = left_t_G if right[j] is None else left_t_G @ right[j].transpose(-1, -2)
        left_t_G = factors[j].transpose(-1, -2) @ left_t_G
    return grads


@dataclass(frozen=True)
class History:
    """What :func:`train` records every ``record_every`` steps."""

    steps: torch.Tensor  # (T,) step counts at which the rows below were taken
    singular_values: torch.Tensor  # (T, B, min(d1, d2)) of the end-to-end matrix, descending
    loss: torch.Tensor  # (T, B) ½‖𝒜(W) − y‖²
    W: torch.Tensor  # (B, d1, d2) final end-to-end matrix


def train(ops: Measurements, y: torch.Tensor, depth: int, scale: torch.Tensor | float | None, lr: float,
          steps: int, record_every: int = 100, width: int | None = None, seed: int | torch.Generator = 0,
          tol: float = 0.0, init: list[torch.Tensor] | None = None) -> History:
    """Full-batch gradient descent on ½‖𝒜(W_N ⋯ W_1) − y‖² from :func:`init_factors`.

    Args:
        ops: the measurement operator 𝒜.
        y: measurements (m,).
        depth: N >= 1 (N = 1 is plain gradient descent on W from a small random W).
        scale: initialization scale α (number or (B,) tensor; a batch of runs).
        lr: step size η.
        steps: number of steps.
        record_every: spacing of the history.
        tol: stop early once every run's loss is below ``tol`` (0 disables).
        init: the initial factors W_1 … W_N themselves (e.g. :func:`balanced_factors`),
            each (B, rows, cols) or (rows, cols); then ``scale`` must be None and
            ``seed`` and ``width`` are not used.

    Raises:
        FloatingPointError: if the iterates become non-finite (η too large).
    """
    if not isinstance(ops, Measurements):
        raise TypeError(f"ops: expected a Measurements, got {type(ops).__name__}")
    if not isinstance(y, torch.Tensor) or y.shape != (ops.m,):
        got = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise ValueError(f"y: expected a tensor of shape ({ops.m},) with one value per measurement, got {got}")
    check_positive("lr", lr)
    steps = check_positive_int("steps", steps, allow_zero=True)
    record_every = check_positive_int("record_every", record_every)
    tol = check_positive("tol", tol, allow_zero=True)
    y = check_tensor("y", y, real=True)
    if init is None:
        if scale is None:
            raise ValueError("scale: expected an initialization scale (or give init=)")
        factors = init_factors(ops.shape, depth, scale, width=width, seed=seed, dtype=y.dtype)
    else:
        factors = _given_factors(init, ops.shape, depth, scale, y.dtype)
    rec_t, rec_s, rec_l = [], [], []
    if ops.A is None:  # completion: work with the dense mask, 𝒜*(𝒜(W) − y) = mask ⊙ W − 𝒜*(y)
        mask, target = ops.mask().to(y.dtype), ops.adjoint(y)

        def gradient(W):
            return mask * W - target
    else:
        def gradient(W):
            return ops.adjoint(ops(W) - y)
    for t in range(steps + 1):
        W = product(factors)  # (B, d1, d2)
        G = gradient(W)  # (B, d1, d2) gradient in the end-to-end matrix
        loss = 0.5 * (G**2).sum((-2, -1)) if ops.A is None else 0.5 * ((ops(W) - y) ** 2).sum(-1)
        done = t == steps or (tol > 0 and bool((loss < tol).all()))
        if t % record_every == 0 or done:
            if not torch.isfinite(loss).all():
                raise DivergenceError(f"lr: gradient descent diverged by step {t} with lr={lr}: lower the step size")
            rec_t.append(t)
            rec_s.append(torch.linalg.svdvals(W))
            rec_l.append(loss)
        if done:
            break
        grads = factor_gradients(factors, G)
        factors = [F - lr * g for F, g in zip(factors, grads)]
    return History(torch.tensor(rec_t), torch.stack(rec_s), torch.stack(rec_l), W)


def _given_factors(init, shape, depth, scale, dtype) -> list[torch.Tensor]:
    """Check the ``init=`` factors of :func:`train`: N tensors chaining d2 → … → d1."""
    if scale is not None:
        raise ValueError("scale: expected None when init= gives the initial factors")
    if not isinstance(init, (list, tuple)) or len(init) != depth:
        raise ValueError(f"init: expected a list of depth = {depth} factor tensors")
    factors = []
    for j, F in enumerate(init):
        if not isinstance(F, torch.Tensor) or F.ndim not in (2, 3):
            raise ValueError(f"init[{j}]: expected a tensor (rows, cols) or (B, rows, cols)")
        factors.append((F if F.ndim == 3 else F[None]).to(dtype).clone())
    if len({F.shape[0] for F in factors}) != 1:
        raise ValueError("init: expected the same batch size B in every factor")
    cols = shape[1]
    for j, F in enumerate(factors):
        if F.shape[-1] != cols or not torch.isfinite(F).all():
            raise ValueError(f"init[{j}]: expected finite values and {cols} columns, got shape "
                             f"{tuple(F.shape)}")
        cols = F.shape[-2]
    if cols != shape[0]:
        raise ValueError(f"init: the last factor must have {shape[0]} rows, got {cols}")
    return factors
