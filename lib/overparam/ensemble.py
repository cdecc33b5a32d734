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
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from overparam import device as _device
from overparam._check import check_positive, check_positive_int
from overparam.train import LOSSES, _check_data, _make_optimizer, loss_value


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
    eval_every: int | None = None,
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
        eval_every: evaluate every this many steps (and at step 0 and the end); default
            about 50 evaluations.
    """
    check_positive("lr", lr)
    check_positive_int("steps", steps, allow_zero=True)
    check_positive("weight_decay", weight_decay, allow_zero=True)
    if loss not in LOSSES:
        raise ValueError(f"loss: expected one of {LOSSES}, got {loss!r}")
    dev = torch.device(device) if device is not None else _device.default()
    tensors = [t.to(dev) for t in _check_data(data)]
    x, y = tensors[0], tensors[1]
    test = tensors[2:] if len(tensors) == 4 else None
    for m in models:
        m.to(dev)
    base, params, buffers = stack(models)
    opt = _make_optimizer(optimizer, list(params.values()), lr, momentum, weight_decay)
    eval_every = eval_every or max(1, steps // 50)
    history = EnsembleHistory()

    def members_loss(outs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return vmap(loss_value, in_dims=(0, None, None))(outs, targets, loss)  # (E,)

    @torch.no_grad()
    def record(step: int) -> None:
        history.step.append(step)
        outs = forward(base, params, buffers, x)
        history.train_loss.append(members_loss(outs, y).double().cpu())
        history.train_acc.append(_accuracy(outs, y).cpu())
        if test is not None:
            outs = forward(base, params, buffers, test[0])
            history.test_loss.append(members_loss(outs, test[1]).double().cpu())
            history.test_acc.append(_accuracy(outs, test[1]).cpu())

    record(0)
    y_all = y.repeat(len(models), *([1] * (y.ndim - 1)))  # (E·n, ...): the targets once per member
    for step in range(1, steps + 1):
        outs = forward(base, params, buffers, x)  # (E, n, d_out)
        # Σ_e mean_i ℓ(e, i) as E × (mean over all E·n rows): one loss call instead of a vmapped one.
        value = loss_value(outs.reshape(-1, outs.shape[-1]), y_all, loss) * len(models)
        if not torch.isfinite(value):
            raise FloatingPointError(f"training loss became {value.item()} at step {step} with lr={lr}")
        opt.zero_grad(set_to_none=True)
        value.backward()
        opt.step()
        if step % eval_every == 0 or step == steps:
            record(step)
    return unstack(models, {k: v.detach() for k, v in params.items()}), history
