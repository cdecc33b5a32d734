"""The one training loop of the book.

:func:`train` runs full-batch or minibatch SGD/Adam on a model and returns a
:class:`History`. Anything else that must happen during training (measuring
sharpness, saving weights, changing data) is a *callback* ``cb(step, model, history)``,
called after every update. The learning-rate schedule is a pure function of the step.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from overparam import device as _device
from overparam._check import (
    DivergenceError,
    as_generator,
    check_bool,
    check_device,
    check_finite,
    check_option,
    check_positive,
    check_positive_int,
    check_seed,
    env_flag,
)

LOSSES = ("cross_entropy", "mse")
OPTIMIZERS = ("sgd", "adam", "adamw")


__all__ = ["DivergenceError", "History", "evaluate", "loss_value", "train"]  # DivergenceError: from _check


@dataclass
class History:
    """What :func:`train` measured, one entry per evaluation (``step`` says when)."""

    step: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    extras: dict[str, list] = field(default_factory=dict)  # filled by callbacks
    diverged_at: int | None = None  # step at which the loss became non-finite, if it did

    def log(self, key: str, value) -> None:
        """Append ``value`` to ``extras[key]`` (for callbacks)."""
        self.extras.setdefault(key, []).append(value)

    @property
    def final(self) -> dict[str, float]:
        """The last evaluation as a dict."""
        keys = ("step", "train_loss", "train_acc", "test_loss", "test_acc")
        return {k: getattr(self, k)[-1] for k in keys if getattr(self, k)}


def loss_value(outputs: torch.Tensor, targets: torch.Tensor, loss: str) -> torch.Tensor:
    """Mean loss over the batch.

    ``"cross_entropy"``: softmax cross-entropy, integer targets.
    ``"mse"``: ½‖f(x) − y‖² averaged over samples; integer targets become one-hot vectors.
    """
    check_option("loss", loss, LOSSES)
    for name, t in (("outputs", outputs), ("targets", targets)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name}: expected a torch.Tensor, got {type(t).__name__}")
    if outputs.ndim == 0 or len(outputs) != len(targets):
        raise ValueError(f"targets: expected one target per output row, got shapes {tuple(outputs.shape)} "
                         f"and {tuple(targets.shape)}")
    if loss == "cross_entropy":
        return F.cross_entropy(outputs, targets)
    if loss == "mse":
        if not targets.is_floating_point():
            targets = F.one_hot(targets, outputs.shape[-1]).to(outputs.dtype)
        targets = targets.reshape(outputs.shape)
        return 0.5 * ((outputs - targets) ** 2).reshape(outputs.shape[0], -1).sum(1).mean()
    raise ValueError(f"loss: expected one of {LOSSES}, got {loss!r}")


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss: str = "cross_entropy",
             batch_size: int = 8192) -> tuple[float, float]:
    """(mean loss, accuracy) of ``model`` on (x, y); accuracy is NaN for real-valued targets."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected an nn.Module, got {type(model).__name__}")
    x, y = _check_data((x, y), names=("x", "y"))
    check_option("loss", loss, LOSSES)
    batch_size = check_positive_int("batch_size", batch_size)
    outs = torch.cat([model(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])
    acc = (outs.argmax(-1) == y).double().mean().item() if not y.is_floating_point() else math.nan
    return loss_value(outs, y, loss).item(), acc


def _make_optimizer(name, params, lr, momentum, weight_decay):
    if not callable(name):
        check_option("optimizer", name, OPTIMIZERS)
    if momentum and name != "sgd":
        raise ValueError(
            f"momentum: only optimizer='sgd' takes momentum (Adam's β₁ plays that role), "
            f"got momentum={momentum} with optimizer={name!r}"
        )
    if callable(name):
        if weight_decay:
            raise ValueError("weight_decay: give it to your optimizer callable; it would be ignored here")
        return name(params)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"optimizer: expected one of {OPTIMIZERS} or a callable params -> Optimizer, got {name!r}")


def _progress_default() -> bool:
    """``$OVERPARAM_PROGRESS``: on unless 0/false/no/off (any case); unset or empty: on."""
    return env_flag("OVERPARAM_PROGRESS", True)


def _check_data(data, names=("data.x_train", "data.y_train", "data.x_test", "data.y_test")):
    """The tensors of ``data`` after checking types, lengths and finite values (bad data is a
    ``ValueError`` naming the tensor, never reported later as a divergence)."""
    if not isinstance(data, (tuple, list)):
        raise TypeError("data: expected (x_train, y_train) or a Split (x_train, y_train, x_test, y_test), "
                        f"got {type(data).__name__}")
    if len(data) not in (2, 4):
        raise ValueError("data: expected (x_train, y_train) or a Split (x_train, y_train, x_test, y_test), "
                         f"got {len(data)} items")
    x, y, *test = data
    parts = (x, y, *test) if test and test[0] is not None else (x, y)
    for name, t in zip(names, parts):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name}: expected a torch.Tensor, got {type(t).__name__}")
        if t.ndim == 0:
            raise ValueError(f"{name}: expected one row per example, got a 0-d tensor")
        check_finite(name, t)
    if len(x) == 0:
        raise ValueError(f"{names[0]}: the training set is empty")
    short = [n.split(".")[-1] for n in names]
    if len(x) != len(y):
        raise ValueError(f"{names[1]}: {short[0]} has {len(x)} rows but {short[1]} has {len(y)}")
    if len(parts) == 4 and len(test[0]) != len(test[1]):
        raise ValueError(f"{names[3]}: {short[2]} has {len(test[0])} rows but {short[3]} has {len(test[1])}")
    return parts


def train(
    model: nn.Module,
    data,
    *,
    lr: float,
    steps: int,
    batch_size: int | None = None,
    loss: str = "cross_entropy",
    optimizer: str | Callable = "sgd",
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    schedule: Callable[[int], float] | None = None,
    eval_every: int | None = None,
    callbacks: Sequence[Callable[[int, nn.Module, History], None]] = (),
    seed: int = 0,
    on_divergence: str = "raise",
    progress: bool | None = None,
    device: torch.device | str | None = None,
) -> History:
    """Train ``model`` in place and return its :class:`History`.

    Args:
        model: any ``nn.Module`` mapping a batch of inputs to outputs.
        data: ``(x_train, y_train)`` or a :class:`overparam.data.Split` (then the test
            part is evaluated too).
        lr: learning rate η > 0 (multiplied by ``schedule(step)`` if given).
        steps: number of parameter updates.
        batch_size: ``None`` for full-batch gradient descent; else minibatches drawn
            without replacement in an order seeded by ``seed`` (reshuffled each epoch;
            a last incomplete batch is dropped).
        loss: ``"cross_entropy"`` or ``"mse"`` (see :func:`loss_value`).
        optimizer: ``"sgd"``, ``"adam"``, ``"adamw"`` or a callable ``params -> Optimizer``.
        momentum, weight_decay: passed to the optimizer.
        eval_every: evaluate every this many steps (and at step 0 and the end);
            default: about 50 evaluations.
        callbacks: called as ``cb(step, model, history)`` after each update.
        on_divergence: ``"raise"`` (a :class:`DivergenceError` naming step and lr) or
            ``"stop"`` (record ``history.diverged_at`` and return) when the loss is not finite.
        progress: show a tqdm bar; default from ``$OVERPARAM_PROGRESS`` (on unless
            0/false/no/off).
        device: where to train; default :func:`overparam.device.default`.
    """
    check_positive("lr", lr)
    check_positive_int("steps", steps, allow_zero=True)
    if batch_size is not None:
        check_positive_int("batch_size", batch_size)
    check_positive("momentum", momentum, allow_zero=True)
    check_positive("weight_decay", weight_decay, allow_zero=True)
    check_option("loss", loss, LOSSES)
    check_option("on_divergence", on_divergence, ("raise", "stop"))
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected an nn.Module, got {type(model).__name__}")
    if eval_every is not None:
        check_positive_int("eval_every", eval_every)
    if schedule is not None and not callable(schedule):
        raise TypeError(f"schedule: expected a function step -> factor, got {type(schedule).__name__}")
    if not all(callable(cb) for cb in callbacks):
        raise TypeError("callbacks: expected a sequence of functions cb(step, model, history)")
    if progress is not None:
        check_bool("progress", progress)
    seed = check_seed("seed", seed)
    dev = check_device("device", device) or _device.default()
    tensors = [t.to(dev) for t in _check_data(data)]
    x, y = tensors[0], tensors[1]
    test = tensors[2:] if len(tensors) == 4 else None
    n = len(x)
    if batch_size is not None and batch_size > n:
        raise ValueError(f"batch_size: expected at most the {n} training examples, got {batch_size}")
    model.to(dev)
    opt = _make_optimizer(optimizer, model.parameters(), lr, momentum, weight_decay)
    eval_every = eval_every or max(1, steps // 50)
    gen = as_generator(seed)
    history = History()

    def record(step: int) -> None:
        model.eval()
        tl, ta = evaluate(model, x, y, loss)
        history.step.append(step)
        history.train_loss.append(tl)
        history.train_acc.append(ta)
        if test is not None:
            vl, va = evaluate(model, test[0], test[1], loss)
            history.test_loss.append(vl)
            history.test_acc.append(va)
        model.train()

    order, cursor = None, n
    show = _progress_default() if progress is None else progress
    bar = None
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, leave=False)
    record(0)
    model.train()
    for step in range(1, steps + 1):
        if batch_size is None:
            xb, yb = x, y
        else:
            if cursor + batch_size > n:
                order, cursor = torch.randperm(n, generator=gen).to(dev), 0
            idx = order[cursor:cursor + batch_size]
            cursor += batch_size
            xb, yb = x[idx], y[idx]
        if schedule is not None:
            for group in opt.param_groups:
                group["lr"] = lr * schedule(step - 1)
        value = loss_value(model(xb), yb, loss)
        if not torch.isfinite(value):
            current_lr = opt.param_groups[0]["lr"]
            if step == 1:  # no update yet: the model or the data, not the learning rate
                raise ValueError(f"model: the training loss is {value.item()} before any update; "
                                 "check the model's parameters and the data's scale")
            if on_divergence == "stop":
                history.diverged_at = step
                break
            raise DivergenceError(
                f"training loss became {value.item()} at step {step} with lr={current_lr}; "
                f"lower the learning rate (or pass on_divergence='stop' to record it)"
            )
        opt.zero_grad(set_to_none=True)
        value.backward()
        if getattr(opt, "requires_closure", False):  # e.g. overparam.sam.SAM: re-evaluates the batch
            def closure(xb=xb, yb=yb):
                opt.zero_grad(set_to_none=True)
                out = loss_value(model(xb), yb, loss)
                out.backward()
                return out

            opt.step(closure)
        else:
            opt.step()
        for cb in callbacks:
            cb(step, model, history)
        if step % eval_every == 0 or step == steps:
            record(step)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return history
