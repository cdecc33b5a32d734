"""Magnitude pruning, masked training and iterative magnitude pruning (lottery tickets).

A *mask* is a dict ``name -> bool tensor`` over the prunable parameters of a model (its
weight matrices and convolution kernels, i.e. parameters with two or more dimensions;
biases are never pruned); ``True`` means the weight is kept.

Masked training keeps the pruned weights at exactly 0.0 by one mechanism that composes
with both training loops of the book: :func:`masked_optimizer` builds an optimizer
(``params -> Optimizer``, the callable form that :func:`overparam.train.train` and
:func:`overparam.ensemble.train_ensemble` accept) that multiplies the weights by their
masks once when it is built and again after every ``step()``. Multiplying by 0.0 gives
exactly 0.0, so the pruned entries are exactly zero at every forward pass. For an
ensemble the masks are stacked like the parameters, (E, ...), one mask per member.

:func:`imp` is iterative magnitude pruning (Frankle & Carbin 2019): train, remove the
fraction ``rate`` of the remaining weights with the smallest trained magnitude, rewind
the survivors to their values at step ``rewind_step`` (0: the original initialization;
k > 0: an early step, Frankle, Dziugaite, Roy & Carbin 2020), and repeat. Every round
trains all seeds together with :func:`overparam.ensemble.train_ensemble`, and the two
controls of Frankle & Carbin (same mask with a fresh initialization; a random mask with
the ticket's per-layer counts and the original initialization) ride in the same
ensemble, so one round is one vectorized full-batch training run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from overparam._check import (
    as_generator,
    check_bool,
    check_fraction,
    check_option,
    check_positive,
    check_positive_int,
    check_seed,
)

__all__ = ["ImpResult", "apply_masks", "imp", "magnitude_masks", "masked_optimizer",
           "prunable", "random_masks", "remaining", "train_masked"]

SCOPES = ("global", "layer")
_OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}


def prunable(model: nn.Module) -> list[str]:
    """Names of the parameters that pruning acts on: those with ``ndim >= 2`` (weights, kernels)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected an nn.Module, got {type(model).__name__}")
    return [name for name, p in model.named_parameters() if p.ndim >= 2]


def _check_masks(model: nn.Module, masks) -> dict[str, torch.Tensor]:
    if not isinstance(masks, dict):
        raise TypeError(f"masks: expected a dict name -> bool tensor, got {type(masks).__name__}")
    params = dict(model.named_parameters())
    for name, m in masks.items():
        if name not in params:
            raise ValueError(f"masks: {name!r} is not a parameter of the model")
        if not isinstance(m, torch.Tensor) or m.dtype != torch.bool:
            raise TypeError(f"masks: {name!r} must be a bool tensor")
        if m.shape != params[name].shape:
            raise ValueError(f"masks: {name!r} has shape {tuple(m.shape)}, the parameter "
                             f"{tuple(params[name].shape)}")
    return masks


def magnitude_masks(model: nn.Module, sparsity: float, scope: str = "global",
                    masks: dict[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
    """Keep the largest-magnitude weights; remove exactly ``round(sparsity · N)`` entries.

    Args:
        model: its prunable parameters (:func:`prunable`) are scored by ``|w|``.
        sparsity: fraction s ∈ [0, 1] of entries to remove (of all prunable entries for
            ``scope="global"``, N = their total; of each tensor's N_l entries, separately,
            for ``scope="layer"``).
        scope: ``"global"`` (one threshold over all layers, Frankle et al. 2020) or
            ``"layer"`` (the same fraction in every layer, Frankle & Carbin 2019 for MLPs).
        masks: entries already pruned (``False``) are removed first, whatever their
            value, so iterative pruning never revives a weight (they count toward the total).

    Returns:
        dict name -> bool tensor of the parameter's shape, ``True`` = kept. Ties in ``|w|``
        are broken by position: the earlier entry (earlier layer, then row-major order) is
        removed first.
    """
    names = prunable(model)
    sparsity = check_fraction("sparsity", sparsity)
    check_option("scope", scope, SCOPES)
    if masks is not None:
        _check_masks(model, masks)
    params = dict(model.named_parameters())
    scores = {}
    for name in names:
        s = params[name].detach().abs().double().flatten().clone()
        if masks is not None and name in masks:
            s[~masks[name].flatten()] = -1.0  # already pruned: below every magnitude
        scores[name] = s

    def keep(score: torch.Tensor) -> torch.Tensor:
        k = round(sparsity * score.numel())
        order = torch.sort(score, stable=True).indices  # ascending; ties keep position order
        kept = torch.ones(score.numel(), dtype=torch.bool)
        kept[order[:k]] = False
        return kept

    if scope == "layer":
        return {n: keep(scores[n]).reshape(params[n].shape) for n in names}
    flat = keep(torch.cat([scores[n] for n in names]))
    out, i = {}, 0
    for n in names:
        out[n] = flat[i:i + params[n].numel()].reshape(params[n].shape)
        i += params[n].numel()
    return out


def random_masks(like: dict[str, torch.Tensor], seed: int | torch.Generator = 0) -> dict[str, torch.Tensor]:
    """Random masks with the same number of kept entries per tensor as ``like``.

    The random-pruning control of Frankle & Carbin 2019: the sparsity profile of the ticket
    (per-layer counts) without its choice of entries. Drawn from ``seed`` only.
    """
    if not isinstance(like, dict):
        raise TypeError(f"like: expected a dict name -> bool tensor, got {type(like).__name__}")
    gen = as_generator(seed)
    out = {}
    for name, m in like.items():
        if not isinstance(m, torch.Tensor) or m.dtype != torch.bool:
            raise TypeError(f"like: {name!r} must be a bool tensor")
        kept = torch.zeros(m.numel(), dtype=torch.bool)
        kept[torch.randperm(m.numel(), generator=gen)[:int(m.sum())]] = True
        out[name] = kept.reshape(m.shape)
    return out


def remaining(masks: dict[str, torch.Tensor]) -> float:
    """Fraction of the masked entries that are kept."""
    total = sum(m.numel() for m in masks.values())
    return sum(int(m.sum()) for m in masks.values()) / total


@torch.no_grad()
def apply_masks(model: nn.Module, masks: dict[str, torch.Tensor]) -> nn.Module:
    """Set the pruned weights of ``model`` to 0.0 in place; returns the model."""
    _check_masks(model, masks)
    params = dict(model.named_parameters())
    for name, m in masks.items():
        params[name].mul_(m.to(params[name].dtype))
    return model


def masked_optimizer(masks: list[torch.Tensor | None], optimizer: str = "adam", *,
                     schedule: Callable[[int], float] | None = None, offset: int = 0,
                     **kwargs) -> Callable[[list[torch.Tensor]], torch.optim.Optimizer]:
    """An optimizer factory ``params -> Optimizer`` that keeps pruned weights at exactly 0.0.

    Args:
        masks: one entry per parameter, in the order the training loop passes them
            (``model.named_parameters()`` order for both :func:`overparam.train.train` and
            :func:`overparam.ensemble.train_ensemble`): a bool tensor of the parameter's
            shape (stacked (E, ...) for an ensemble), or ``None`` for an unmasked one.
        optimizer: ``"sgd"``, ``"adam"`` or ``"adamw"``.
        schedule: the learning rate of step t (t = 0, 1, ...) is ``lr · schedule(offset + t)``
            (a pure function of the step, as in :func:`overparam.train.train`); ``None``: constant.
        offset: steps already taken by the run this optimizer continues (a run resumed from
            the rewinding point k uses ``offset=k``, so the schedule is not restarted).
        **kwargs: passed to the optimizer (``lr``, ``momentum``, ...).

    The optimizer multiplies each masked parameter by its mask when it is built and after
    every ``step()``; the gradients of pruned entries are not touched (their optimizer
    state is wasted but never reaches the weights).
    """
    check_option("optimizer", optimizer, tuple(_OPTIMIZERS))
    if not isinstance(masks, (list, tuple)):
        raise TypeError(f"masks: expected a list of bool tensors or None, got {type(masks).__name__}")
    base = _OPTIMIZERS[optimizer]

    if schedule is not None and not callable(schedule):
        raise TypeError(f"schedule: expected a function step -> factor, got {type(schedule).__name__}")
    check_positive_int("offset", offset, allow_zero=True)

    class Masked(base):  # type: ignore[valid-type, misc]
        @torch.no_grad()
        def step(self, closure=None):
            if schedule is not None:
                factor = float(schedule(offset + self._t))
                for group in self.param_groups:
                    group["lr"] = group["initial_lr"] * factor
                self._t += 1
            out = super().step(closure)
            for p, m in pairs:
                p.mul_(m)
            return out

    def make(params) -> torch.optim.Optimizer:
        params = list(params)
        if len(params) != len(masks):
            raise ValueError(f"masks: expected one entry per parameter ({len(params)}), got {len(masks)}")
        for p, m in zip(params, masks):
            if m is not None and m.shape != p.shape:
                raise ValueError(f"masks: a mask of shape {tuple(m.shape)} for a parameter of shape "
                                 f"{tuple(p.shape)}")
        pairs[:] = [(p, m.to(p.dtype)) for p, m in zip(params, masks) if m is not None]
        options = dict(kwargs)
        if optimizer in ("adam", "adamw"):
            # one fused kernel for all parameters: 10× faster than the per-tensor loop on
            # CPU (a quarter of a pruning run's time), the same update up to rounding
            options.setdefault("fused", True)
        opt = Masked(params, **options)
        opt._t = 0
        for group in opt.param_groups:
            group["initial_lr"] = group["lr"]
        with torch.no_grad():
            for p, m in pairs:
                p.mul_(m)
        return opt

    pairs: list[tuple[torch.Tensor, torch.Tensor]] = []
    return make


def train_masked(model: nn.Module, masks: dict[str, torch.Tensor], data, *, lr: float,
                 optimizer: str = "adam", momentum: float = 0.0, **train_kwargs):
    """:func:`overparam.train.train` with the weights outside ``masks`` held at exactly 0.0.

    ``train_kwargs`` go to :func:`overparam.train.train` (``steps``, ``batch_size``, ...).
    Returns its History.
    """
    from overparam.train import train

    _check_masks(model, masks)
    kw = {"lr": lr, **({"momentum": momentum} if optimizer == "sgd" else {})}
    make = masked_optimizer([masks.get(n) for n, _ in model.named_parameters()], optimizer, **kw)
    return train(model, data, lr=lr, optimizer=make, **train_kwargs)


@dataclass
class ImpResult:
    """What :func:`imp` measured; lists have one entry per round r = 0, 1, ..., rounds.

    ``remaining[r]``: fraction of prunable weights kept in round r (1.0 in round 0, dense).
    ``ticket``, ``reinit``, ``random``: (seeds,) tensors of final test accuracy of the
    ticket (mask + rewound weights), the same mask with a fresh initialization, and a
    random mask of the same per-layer counts with the rewound weights (no controls in
    round 0, nor in rounds outside ``controls``). ``ticket_train``: final training
    accuracy of the ticket. ``ticket_right``, ``reinit_right``, ``random_right``: (seeds,
    n_test) bool tensors, whether each run classifies each test example correctly (the
    accuracies above are their row means; per-example differences give the s.e. of a
    paired comparison that includes the test set's own sampling noise). ``seconds``,
    ``cpu_seconds``: wall and CPU time per round (CPU time of this process, all threads).
    """

    remaining: list[float] = field(default_factory=list)
    ticket: list[torch.Tensor] = field(default_factory=list)
    reinit: list[torch.Tensor | None] = field(default_factory=list)
    random: list[torch.Tensor | None] = field(default_factory=list)
    ticket_train: list[torch.Tensor] = field(default_factory=list)
    ticket_right: list[torch.Tensor] = field(default_factory=list)
    reinit_right: list[torch.Tensor | None] = field(default_factory=list)
    random_right: list[torch.Tensor | None] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    masks: list[list[dict[str, torch.Tensor]]] = field(default_factory=list)  # [round][seed]


def imp(make_model: Callable[[int], nn.Module], seeds: list[int], data, *, rounds: int,
        rate: float, steps: int, lr: float, optimizer: str = "adam", rewind_step: int = 0,
        scope: str = "global", controls: bool | Sequence[int] = True, reinit_offset: int = 10_000,
        batch_size: int | None = None, schedule: Callable[[int], float] | None = None,
        random_control: bool = True, order_seed: int = 0) -> ImpResult:
    """Iterative magnitude pruning with rewinding, all seeds (and controls) in one ensemble.

    Args:
        make_model: ``seed -> model`` (an MLP of ``nn.Linear`` layers trains on the fused
            path of :func:`overparam.ensemble.train_ensemble`).
        seeds: one IMP run per seed.
        data: a Split; every run trains on its training part and is tested on its test part.
        rounds: pruning rounds after the dense run; round r keeps (1 − rate)^r of the weights.
        rate: fraction of the remaining weights removed per round (Frankle & Carbin: 0.2).
        steps: training steps per run (the same T for every round).
        lr, optimizer: of every run.
        rewind_step: k; the survivors restart from the dense run's weights at step k
            (0: the initialization) and train for ``steps − k`` steps (Frankle et al. 2020).
            For k > 0 the dense run is trained in two calls, k then steps − k, so its
            optimizer state restarts at step k.
        scope: ``"global"`` or ``"layer"`` (:func:`magnitude_masks`).
        controls: also train the random-reinitialization and random-mask controls: in
            every round (``True``), in none (``False``), or in the rounds listed (e.g.
            ``[5]``: only where the claim is measured; the tickets' rounds are unchanged).
        reinit_offset: the fresh initialization of seed s is ``make_model(s + reinit_offset)``.
        batch_size: ``None`` for full-batch training; else minibatches, the same draws for
            every member and round (:func:`overparam.ensemble.train_ensemble`, ``seed=0``).
        schedule: learning-rate factor of step t = 0 .. steps − 1 of every run (e.g. a
            cosine decay to 0 at ``steps``); runs that start at the rewinding point k
            continue it from step k (:func:`masked_optimizer`). ``None``: constant.
        random_control: with the controls, also train the random-mask control (``False``:
            only the random re-initialization; ``random`` is then None in every round).
        order_seed: seeds the minibatch order (``seed`` of
            :func:`overparam.ensemble.train_ensemble`), the same for every round.
    """
    import time

    from overparam.ensemble import train_ensemble
    from overparam.train import _check_data

    if not isinstance(seeds, (list, tuple)) or not seeds:
        raise ValueError("seeds: expected a non-empty list of ints")
    check_positive_int("rounds", rounds, allow_zero=True)
    rate = check_fraction("rate", rate)
    if not 0 < rate < 1:
        raise ValueError(f"rate: expected 0 < rate < 1, got {rate}")
    check_positive_int("steps", steps)
    check_positive("lr", lr)
    check_option("scope", scope, SCOPES)
    check_positive_int("rewind_step", rewind_step, allow_zero=True)
    if rewind_step >= steps:
        raise ValueError(f"rewind_step: expected less than steps={steps}, got {rewind_step}")
    if isinstance(controls, bool):
        control_rounds = set(range(1, rounds + 1)) if controls else set()
    elif isinstance(controls, (list, tuple, range, set)) and all(
            isinstance(r, int) and not isinstance(r, bool) and 1 <= r <= rounds for r in controls):
        control_rounds = set(controls)
    else:
        raise ValueError(f"controls: expected a bool or a list of rounds in 1..{rounds}, got {controls!r}")
    check_bool("random_control", random_control)
    order_seed = check_seed("order_seed", order_seed)
    parts = _check_data(data)
    if len(parts) != 4:
        raise ValueError("data: expected a Split with a test part (every run is tested)")
    x_train, y_train, x_test, y_test = parts
    E = len(seeds)
    result = ImpResult()

    def run(states, masks, n_steps, offset):
        """Train models with the given state dicts and masks together; (models, history)."""
        models = [make_model(seeds[0]) for _ in states]
        for m, s in zip(models, states):
            m.load_state_dict(s)
        names = [n for n, _ in models[0].named_parameters()]
        stacked = [torch.stack([mk[n] for mk in masks]) if n in masks[0] else None for n in names]
        opt = masked_optimizer(stacked, optimizer, schedule=schedule, offset=offset, lr=lr)
        # the training part only: the test set is evaluated once, after training (right())
        return train_ensemble(models, (x_train, y_train), lr=lr, steps=n_steps, optimizer=opt,
                              eval_every=n_steps, batch_size=batch_size, seed=order_seed)

    @torch.no_grad()
    def right(models):
        """(len(models), n_test) bool: which test examples each model classifies correctly."""
        dev = next(models[0].parameters()).device
        x, y = x_test.to(dev), y_test.to(dev)
        return torch.stack([m(x).argmax(-1) == y for m in models]).cpu()

    def clone(model):
        return {k: v.detach().clone() for k, v in model.state_dict().items()}

    # round 0: the dense networks (all-True masks), with the state at step k kept for rewinding
    t0, c0 = time.perf_counter(), time.process_time()
    inits = [make_model(s) for s in seeds]
    full = [{n: torch.ones_like(p, dtype=torch.bool) for n, p in m.named_parameters() if p.ndim >= 2}
            for m in inits]
    states = [clone(m) for m in inits]
    if rewind_step > 0:
        models, _ = run(states, full, rewind_step, 0)
        states = [clone(m) for m in models]
    rewound = states
    models, hist = run(rewound, full, steps - rewind_step, rewind_step)
    result.remaining.append(1.0)
    result.ticket_right.append(right(models))
    result.ticket.append(result.ticket_right[-1].double().mean(1))
    result.ticket_train.append(hist.train_acc[-1].clone())
    result.reinit.append(None)
    result.random.append(None)
    result.reinit_right.append(None)
    result.random_right.append(None)
    result.masks.append(full)
    result.seconds.append(time.perf_counter() - t0)
    result.cpu_seconds.append(time.process_time() - c0)
    masks = full
    fresh = [clone(make_model(s + reinit_offset)) for s in seeds]
    for r in range(1, rounds + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        sparsity = 1.0 - (1.0 - rate) ** r
        masks = [magnitude_masks(m, sparsity, scope, masks=mk) for m, mk in zip(models, masks)]
        states, all_masks = list(rewound), list(masks)
        ctrl = r in control_rounds
        with_random = ctrl and random_control
        if ctrl:
            states += fresh
            all_masks += list(masks)
        if with_random:
            rand = [random_masks(mk, seed=s + r * 7919) for mk, s in zip(masks, seeds)]
            states += list(rewound)
            all_masks += rand
        trained, hist = run(states, all_masks, steps - rewind_step, rewind_step)
        ok = right(trained)  # (members, n_test)
        models = trained[:E]
        result.remaining.append(remaining(masks[0]))
        result.ticket_right.append(ok[:E])
        result.reinit_right.append(ok[E:2 * E] if ctrl else None)
        result.random_right.append(ok[2 * E:] if with_random else None)
        for key in ("ticket", "reinit", "random"):
            r_ok = getattr(result, f"{key}_right")[-1]
            getattr(result, key).append(None if r_ok is None else r_ok.double().mean(1))
        result.ticket_train.append(hist.train_acc[-1][:E].clone())
        result.masks.append(masks)
        result.seconds.append(time.perf_counter() - t0)
        result.cpu_seconds.append(time.process_time() - c0)
    return result
