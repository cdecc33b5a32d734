"""Train a stack of same-shaped models at once with ``torch.func`` (one loop, one set of kernels).

The models of one architecture that differ only in their initialization (the seeds of a
sweep) are stacked parameter by parameter with :func:`torch.func.stack_module_state`:
each parameter becomes a tensor with a leading member axis E. The forward pass is
``vmap(functional_call(base, params_e, x))`` over that axis, and the loss is the *sum*
of the members' mean losses, so the gradient with respect to member e's slice is exactly
the gradient of member e's own loss (up to float rounding of the sum). SGD and Adam act elementwise, so one optimizer on
the stacked tensors updates every member exactly as its own optimizer would: the
ensemble is a faster way to run the same experiment, not a different experiment
(``tests/test_ensemble.py`` checks the equality against separately trained models).

For MLPs built of ``nn.Linear`` layers, :func:`fused_forward` goes further: the first
layers of all members share one input, so they are one matrix product of the inputs
with the members' stacked weights (E·w rows), and later layers are batched products in
an (E, features, batch) layout that needs no copies forward or backward. On a CPU this
beats both ``vmap`` and a loop of separate models (``scripts/bench_ensemble.py``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from overparam import device as _device
from overparam._check import as_generator, check_device, check_option, check_positive, check_positive_int, check_seed
from overparam.train import LOSSES, DivergenceError, _check_data, _make_optimizer, loss_value, train

PATHS = ("auto", "fused", "vmap", "loop")


@dataclass
class EnsembleHistory:
    """Like :class:`overparam.train.History`, with one value per member at each evaluation.

    Each list holds one 1-D tensor of length E (the number of members) per evaluation.
    """

    step: list[int] = field(default_factory=list)
    train_loss: list[torch.Tensor] = field(default_factory=list)
    train_acc: list[torch.Tensor] = field(default_factory=list)
    test_loss: list[torch.Tensor] = field(default_factory=list)
    test_acc: list[torch.Tensor] = field(default_factory=list)
    diverged_at: int | None = None  # step at which the loss became non-finite (on_divergence="stop")

    @property
    def final(self) -> dict[str, torch.Tensor]:
        """The last evaluation as a dict of (E,) tensors (and the step)."""
        keys = ("train_loss", "train_acc", "test_loss", "test_acc")
        out = {k: getattr(self, k)[-1] for k in keys if getattr(self, k)}
        return {"step": self.step[-1], **out} if self.step else out


def stack(models: list[nn.Module]) -> tuple[nn.Module, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """(base, params, buffers): a stateless copy of the architecture and the stacked state.

    ``params[name]`` has shape (E, ...) where ... is the parameter's own shape; the models must share one
    architecture (same parameter names and shapes).
    """
    if not isinstance(models, (list, tuple)) or not all(isinstance(m, nn.Module) for m in models):
        raise TypeError(f"models: expected a list of nn.Module, got {type(models).__name__}")
    if not models:
        raise ValueError("models: expected a non-empty list of nn.Module")
    shapes = [[(k, tuple(v.shape)) for k, v in m.named_parameters()] for m in models]
    if any(s != shapes[0] for s in shapes):
        raise ValueError("models: expected models of one architecture (same parameter names and shapes)")
    params, buffers = stack_module_state(models)
    base = copy.deepcopy(models[0]).to("meta")
    return base, params, buffers


def forward(base: nn.Module, params: dict, buffers: dict, x: torch.Tensor) -> torch.Tensor:
    """Outputs of every member on the same inputs: x (B, d) → (E, B, d_out)."""

    def one(p, b, x):
        return functional_call(base, (p, b), (x,))

    return vmap(one, in_dims=(0, 0, None))(params, buffers, x)


def _linear_layers(base: nn.Module) -> list[tuple[str, nn.Module | None]] | None:
    """[(parameter prefix, activation after it)] if ``base`` is Linear (act Linear)*, else None."""
    if not isinstance(base, nn.Sequential) or len(base) == 0:
        return None
    mods = list(base.named_children())
    layers: list[tuple[str, nn.Module | None]] = []
    for i, (name, mod) in enumerate(mods):
        if i % 2 == 0:
            if type(mod) is not nn.Linear or mod.bias is None:
                return None
            layers.append((name, None))
        elif isinstance(mod, (nn.ReLU, nn.Tanh, nn.GELU, nn.Identity)):
            layers[-1] = (layers[-1][0], mod)
        else:
            return None
    return layers if len(mods) % 2 == 1 else None


def fused_forward(layers, params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Outputs of every member of a stacked MLP, in the layout (E, d_out, B).

    The first layer of all E members is one matrix product: the stacked weights
    (E, w, d) viewed as one (E·w, d) matrix times xᵀ (d, B) give every member's hidden
    units at once, (E·w, B) → viewed (E, w, B). Later layers are batched products
    W_e (E, out, in) @ h (E, in, B), so every operand stays contiguous (no copies) in
    the forward and the backward pass. ``layers`` as returned by ``_linear_layers``.
    ``x`` may also be (E, B, d), one batch per member; the first layer is then a batched
    product too.
    """
    (name, act), *rest = layers
    W, b = params[f"{name}.weight"], params[f"{name}.bias"]
    E, w, d = W.shape
    if x.ndim == 3:  # one batch per member, x (E, B, d): a batched product
        h = torch.baddbmm(b.unsqueeze(-1), W, x.transpose(1, 2))  # (E, w, B)
        h = act(h) if act is not None else h
    else:
        h = torch.addmm(b.reshape(E * w, 1), W.reshape(E * w, d), x.T)  # (E·w, B)
        h = (act(h) if act is not None else h).view(E, w, -1)  # (E, w, B)
    for name, act in rest:
        W, b = params[f"{name}.weight"], params[f"{name}.bias"]
        h = torch.baddbmm(b.unsqueeze(-1), W, h)  # (E, out, B)
        if act is not None:
            h = act(h)
    return h


def unstack(base_models: list[nn.Module], params: dict[str, torch.Tensor]) -> list[nn.Module]:
    """Copy member e's slice of ``params`` into ``base_models[e]`` (in place) and return them."""
    with torch.no_grad():
        for e, m in enumerate(base_models):
            for name, p in m.named_parameters():
                p.copy_(params[name][e])
    return base_models


def _accuracy(outs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if y.is_floating_point():
        return torch.full(outs.shape[:1], float("nan"), dtype=torch.float64)
    return (outs.argmax(-1) == y).double().mean(-1)  # (E,)


def train_ensemble(
    models: list[nn.Module],
    data,
    *,
    lr: float,
    steps: int,
    loss: str = "cross_entropy",
    optimizer: str = "adam",
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    batch_size: int | None = None,
    seed: int = 0,
    orders: str = "shared",
    eval_every: int | None = None,
    path: str = "auto",
    on_divergence: str = "raise",
    sam_rho: float = 0.0,
    device: torch.device | str | None = None,
) -> tuple[list[nn.Module], EnsembleHistory]:
    """Full-batch training of E models of one architecture together; returns (models, history).

    Args:
        models: E models of one architecture (e.g. ``op.models.mlp(..., seed=s)`` for E
            seeds); they are updated in place with the trained weights at the end.
        data: ``(x_train, y_train)`` or a Split (then the test part is evaluated too);
            every member sees the same data.
        lr, steps, loss, optimizer, momentum, weight_decay: as in :func:`overparam.train.train`
            with ``batch_size=None`` (full-batch), which this reproduces member by member.
            ``lr`` may also be a sequence of E learning rates η_e, one per member (a
            learning-rate sweep in one run), for ``optimizer="sgd"`` without weight decay:
            the optimizer then runs with η = 1 on gradients scaled by η_e, which is the
            same update (with momentum too: the buffer is linear in the gradients).
        batch_size: ``None`` for full-batch training; else minibatches drawn exactly as
            :func:`overparam.train.train` draws them from ``seed`` (every member sees the
            same batches, so member e reproduces ``train(models[e], ..., seed=seed)``).
        seed: seeds the minibatch order (unused when full-batch).
        orders: ``"shared"`` (default): every member sees the same minibatches, drawn from
            ``seed``; ``"independent"``: member e draws its own minibatch order exactly as
            ``train(models[e], ..., seed=seed + e)`` would, so a seed sweep samples the
            batch-order noise too. The E orders are kept as one (E, n) index tensor and each
            step gathers the (E, B) batches in one indexing op; the first layer then becomes
            a batched product (E, w, d) @ (E, d, B) instead of one shared matrix product.
        eval_every: evaluate every this many steps (and at step 0 and the end); default
            about 50 evaluations.
        path: how the members are computed, all giving the same numbers up to float
            rounding: ``"fused"`` (MLPs of ``nn.Linear`` layers: every member's first layer
            in one matrix product, later layers as batched products in a (E, features, n)
            layout, :func:`fused_forward`), ``"vmap"`` (any architecture, :func:`forward`),
            ``"loop"`` (each member trained alone by :func:`overparam.train.train`), or
            ``"auto"`` (``"fused"`` when the architecture allows it, else ``"vmap"``;
            ``scripts/bench_ensemble.py`` measures the three).
        on_divergence: as in :func:`overparam.train.train`: ``"raise"`` a
            :class:`overparam.train.DivergenceError` naming the step, lr and the members
            whose loss is not finite, or ``"stop"`` every member there and record
            ``history.diverged_at`` (on the ``"loop"`` path: the first member's divergence
            step, the histories cut to the shortest).
        sam_rho: ρ > 0 trains every member with sharpness-aware minimization around the
            optimizer (Foret et al. 2021; :class:`overparam.sam.SAM` with ``adaptive=False``):
            member e's gradient is taken at ``w_e + ρ g_e / ‖g_e‖``, its own perturbation
            on its own minibatch, the norm over all of its parameters. Each step then costs
            two gradients. Not on the ``"loop"`` path. 0: plain training.
    """
    if not isinstance(models, (list, tuple)) or not all(isinstance(m, nn.Module) for m in models):
        raise TypeError(f"models: expected a list of nn.Module, got {type(models).__name__}")
    check_option("on_divergence", on_divergence, ("raise", "stop"))
    check_option("orders", orders, ("shared", "independent"))
    seed = check_seed("seed", seed)
    device = check_device("device", device)
    check_positive_int("steps", steps, allow_zero=True)
    check_positive("weight_decay", weight_decay, allow_zero=True)
    check_positive("sam_rho", sam_rho, allow_zero=True)
    if sam_rho and path == "loop":
        raise ValueError("sam_rho: SAM is not available on path='loop'; use 'auto', 'fused' or 'vmap'")
    lr_members = None
    if isinstance(lr, (list, tuple, torch.Tensor)):
        lr_members = [check_positive("lr", float(v)) for v in lr]
        if len(lr_members) != len(models):
            raise ValueError(f"lr: expected one learning rate per member ({len(models)}), got {len(lr_members)}")
        if optimizer != "sgd" or weight_decay:
            raise ValueError("lr: one learning rate per member needs optimizer='sgd' and no weight_decay, "
                             f"got optimizer={optimizer!r}, weight_decay={weight_decay}")
    else:
        check_positive("lr", lr)
    if loss not in LOSSES:
        raise ValueError(f"loss: expected one of {LOSSES}, got {loss!r}")
    if path not in PATHS:
        raise ValueError(f"path: expected one of {PATHS}, got {path!r}")
    if eval_every is not None:
        check_positive_int("eval_every", eval_every)
    dev = torch.device(device) if device is not None else _device.default()
    tensors = [t.to(dev) for t in _check_data(data)]
    x, y = tensors[0], tensors[1]
    test = tensors[2:] if len(tensors) == 4 else None
    n = len(x)
    if batch_size is not None:
        check_positive_int("batch_size", batch_size)
        if batch_size > n:
            raise ValueError(f"batch_size: expected at most the {n} training examples, got {batch_size}")
    independent = orders == "independent" and batch_size is not None
    if path == "loop":
        seeds = [seed + e if independent else seed for e in range(len(models))]
        lrs = lr_members if lr_members is not None else [lr] * len(models)
        return _train_loop_members(models, data, lrs=lrs, seeds=seeds, steps=steps, loss=loss,
                                   optimizer=optimizer, momentum=momentum,
                                   weight_decay=weight_decay, batch_size=batch_size,
                                   eval_every=eval_every, on_divergence=on_divergence, device=dev)
    for m in models:
        m.to(dev)
    base, params, buffers = stack(models)
    layers = _linear_layers(base)
    if path == "fused" and layers is None:
        raise ValueError("path: 'fused' needs an nn.Sequential of nn.Linear layers and activations")
    fused = layers is not None and path in ("fused", "auto")
    E = len(models)
    opt = _make_optimizer(optimizer, list(params.values()), 1.0 if lr_members else lr, momentum, weight_decay)
    scale = None if lr_members is None else torch.tensor(lr_members, device=dev)  # (E,) η_e
    eval_every = eval_every or max(1, steps // 50)
    history = EnsembleHistory()

    def outputs(inputs: torch.Tensor) -> torch.Tensor:  # (E, B, d_out)
        if fused:
            return fused_forward(layers, params, inputs).transpose(1, 2)
        return forward(base, params, buffers, inputs)

    def members_loss(outs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return vmap(loss_value, in_dims=(0, None, None))(outs, targets, loss)  # (E,)

    @torch.no_grad()
    def record(step: int) -> None:
        history.step.append(step)
        outs = outputs(x)
        history.train_loss.append(members_loss(outs, y).double().cpu())
        history.train_acc.append(_accuracy(outs, y).cpu())
        if test is not None:
            outs = outputs(test[0])
            history.test_loss.append(members_loss(outs, test[1]).double().cpu())
            history.test_acc.append(_accuracy(outs, test[1]).cpu())

    def member_outputs(xb: torch.Tensor) -> torch.Tensor:  # xb (E, B, d) → (E, B, d_out)
        if fused:
            return fused_forward(layers, params, xb).transpose(1, 2)
        return vmap(lambda p, b, xe: functional_call(base, (p, b), (xe,)))(params, buffers, xb)

    def total_loss(xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        """Σ_e mean_i ℓ(e, i), computed as E × (mean over all E·B rows): one loss call.

        ``xb`` (B, d) shared by all members, or (E, B, d) with ``yb`` (E, B, ...): one
        batch per member (``orders="independent"``)."""
        per_member = independent
        if fused and loss == "cross_entropy":
            logits = fused_forward(layers, params, xb)  # (E, K, B): classes on dim 1
            return F.cross_entropy(logits, yb if per_member else yb.expand(E, -1)) * E
        outs = member_outputs(xb) if per_member else outputs(xb)
        y_all = (yb.reshape(-1, *yb.shape[2:]) if per_member
                 else yb.repeat(E, *([1] * (yb.ndim - 1))))  # (E·B, ...): each member's targets
        return loss_value(outs.reshape(-1, outs.shape[-1]), y_all, loss) * E

    gens = [as_generator(seed + e) for e in range(E)] if independent else [as_generator(seed)]
    order, cursor = None, n
    record(0)
    for step in range(1, steps + 1):
        if batch_size is None:
            xb, yb = x, y
        else:  # the same draws as overparam.train.train
            if cursor + batch_size > n:  # one permutation per generator: (1 or E, n)
                order = torch.stack([torch.randperm(n, generator=g) for g in gens]).to(dev)
                cursor = 0
            idx = order[:, cursor:cursor + batch_size]  # (1 or E, B)
            cursor += batch_size
            if not independent:
                idx = idx[0]
            xb, yb = x[idx], y[idx]  # (B, d) shared, or (E, B, d): all members in one gather
        value = total_loss(xb, yb)
        if not torch.isfinite(value):
            with torch.no_grad():
                outs = member_outputs(xb) if independent else outputs(xb)
                per = (vmap(loss_value, in_dims=(0, 0, None))(outs, yb, loss) if independent
                       else members_loss(outs, yb))
                bad = (~torch.isfinite(per)).nonzero().flatten().tolist()
            if step == 1:  # no update yet: the models or the data, not the learning rate
                raise ValueError(f"models: the training loss of members {bad} is not finite before any "
                                 "update; check their parameters and the data's scale")
            if on_divergence == "stop":
                history.diverged_at = step
                break
            raise DivergenceError(f"training loss became {value.item()} at step {step} with lr={lr} "
                                  f"(members {bad}); lower the learning rate "
                                  "(or pass on_divergence='stop' to record it)")
        opt.zero_grad(set_to_none=True)
        value.backward()
        if sam_rho:  # each member's gradient again, at its own w_e + ρ g_e / ‖g_e‖
            with torch.no_grad():
                norms = torch.stack([p.grad.reshape(E, -1).pow(2).sum(1)
                                     for p in params.values()]).sum(0).sqrt()  # (E,)
                factor = sam_rho / norms.clamp_min(1e-12)
                eps = {k: p.grad * factor.to(p.dtype).view(E, *[1] * (p.ndim - 1))
                       for k, p in params.items()}
                for k, p in params.items():
                    p.add_(eps[k])
            opt.zero_grad(set_to_none=True)
            total_loss(xb, yb).backward()
            with torch.no_grad():
                for k, p in params.items():
                    p.sub_(eps[k])
        if scale is not None:  # member e's step: η_e · g_e with the optimizer's η = 1
            for p in params.values():
                p.grad.mul_(scale.to(p.dtype).view(E, *[1] * (p.ndim - 1)))
        opt.step()
        if step % eval_every == 0 or step == steps:
            record(step)
    return unstack(models, {k: v.detach() for k, v in params.items()}), history


def _train_loop_members(models, data, *, lrs, seeds, device, **kw) -> tuple[list[nn.Module], EnsembleHistory]:
    """The ``"loop"`` path: member e trained alone with its own η_e and minibatch seed."""
    parts = [_train_loop([m], data, lr=lr, seed=s, device=device, **kw)[1]
             for m, lr, s in zip(models, lrs, seeds)]
    length = min(len(h.step) for h in parts)
    stops = [h.diverged_at for h in parts if h.diverged_at is not None]
    history = EnsembleHistory(step=parts[0].step[:length], diverged_at=min(stops) if stops else None)
    for key in ("train_loss", "train_acc", "test_loss", "test_acc"):
        if getattr(parts[0], key):
            setattr(history, key, [torch.cat([getattr(h, key)[i] for h in parts]) for i in range(length)])
    return models, history


def _train_loop(models, data, *, device, **kw) -> tuple[list[nn.Module], EnsembleHistory]:
    """The ``"loop"`` path: each member trained alone, histories stacked member-wise."""
    hists = [train(m, data, progress=False, device=device, **kw) for m in models]
    length = min(len(h.step) for h in hists)  # shorter only when a member stopped on divergence
    stops = [h.diverged_at for h in hists if h.diverged_at is not None]
    history = EnsembleHistory(step=list(hists[0].step[:length]), diverged_at=min(stops) if stops else None)
    for key in ("train_loss", "train_acc", "test_loss", "test_acc"):
        columns = [getattr(h, key)[:length] for h in hists]
        if columns[0]:
            rows = torch.tensor(columns, dtype=torch.float64).T  # (evaluations, E)
            setattr(history, key, list(rows))
    return models, history
