"""overparam.pruning: masks against cases worked by hand, masked training keeps zeros."""

import pytest
import torch
from torch import nn

import overparam as op
from overparam import pruning


def _two_layer(w1, w2):
    """Linear(2→2) then Linear(2→1) with the given weights (float64) and biases 5."""
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1)).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor(w1, dtype=torch.float64))
        model[1].weight.copy_(torch.tensor(w2, dtype=torch.float64))
        model[0].bias.fill_(5.0)
        model[1].bias.fill_(5.0)
    return model


def test_prunable_skips_biases():
    assert pruning.prunable(_two_layer([[1, 2], [3, 4]], [[1, 2]])) == ["0.weight", "1.weight"]


def test_global_mask_by_hand():
    # |w| over both layers: 0.1, -4, 3, 0.2 | 0.5, -1 ; N = 6, sparsity 0.5 removes 3:
    # the three smallest are 0.1, 0.2, 0.5
    model = _two_layer([[0.1, -4], [3, 0.2]], [[0.5, -1]])
    m = pruning.magnitude_masks(model, 0.5, scope="global")
    assert m["0.weight"].tolist() == [[False, True], [True, False]]
    assert m["1.weight"].tolist() == [[False, True]]


def test_layer_mask_by_hand_differs_from_global():
    # layer-wise: round(0.5·4) = 2 removed from layer 0 (0.1, 0.2), round(0.5·2) = 1 from
    # layer 1 (0.5); here the same as global. At sparsity 0.4: global removes round(2.4) = 2
    # (0.1, 0.2), layer-wise removes round(1.6) = 2 and round(0.8) = 1 (0.5 too).
    model = _two_layer([[0.1, -4], [3, 0.2]], [[0.5, -1]])
    g = pruning.magnitude_masks(model, 0.4, scope="global")
    lw = pruning.magnitude_masks(model, 0.4, scope="layer")
    assert g["1.weight"].tolist() == [[True, True]]
    assert lw["1.weight"].tolist() == [[False, True]]
    assert lw["0.weight"].tolist() == g["0.weight"].tolist() == [[False, True], [True, False]]


@pytest.mark.parametrize("sparsity", [0.0, 0.1, 0.33, 0.5, 0.77, 1.0])
@pytest.mark.parametrize("scope", ["global", "layer"])
def test_exact_count_removed(sparsity, scope):
    model = op.models.mlp(7, 13, 2, 3, seed=1)
    m = pruning.magnitude_masks(model, sparsity, scope=scope)
    if scope == "global":
        total = sum(v.numel() for v in m.values())
        assert sum(int((~v).sum()) for v in m.values()) == round(sparsity * total)
    else:
        for v in m.values():
            assert int((~v).sum()) == round(sparsity * v.numel())


def test_removed_are_the_smallest():
    model = op.models.mlp(7, 13, 2, 3, seed=2)
    m = pruning.magnitude_masks(model, 0.6)
    params = dict(model.named_parameters())
    kept = torch.cat([params[n].abs().flatten()[m[n].flatten()] for n in m])
    gone = torch.cat([params[n].abs().flatten()[~m[n].flatten()] for n in m])
    assert gone.max() <= kept.min()


def test_ties_broken_by_position():
    # all magnitudes equal: removing 3 of 6 removes the first three entries in order
    model = _two_layer([[1, -1], [1, 1]], [[-1, 1]])
    m = pruning.magnitude_masks(model, 0.5)
    assert m["0.weight"].tolist() == [[False, False], [False, True]]
    assert m["1.weight"].tolist() == [[True, True]]


def test_previous_mask_never_revives():
    # an entry pruned before is removed first even if its value is now large
    model = _two_layer([[9, 1], [2, 3]], [[4, 5]])
    prev = {"0.weight": torch.tensor([[False, True], [True, True]]),
            "1.weight": torch.tensor([[True, True]])}
    m = pruning.magnitude_masks(model, 2 / 6, masks=prev)
    assert m["0.weight"].tolist() == [[False, False], [True, True]]


def test_random_masks_keep_counts_and_depend_on_seed():
    model = op.models.mlp(7, 13, 2, 3, seed=3)
    m = pruning.magnitude_masks(model, 0.7, scope="global")
    r1, r2 = pruning.random_masks(m, seed=0), pruning.random_masks(m, seed=0)
    r3 = pruning.random_masks(m, seed=1)
    for n in m:
        assert int(r1[n].sum()) == int(m[n].sum())
        assert torch.equal(r1[n], r2[n])
    assert any(not torch.equal(r1[n], r3[n]) for n in m)
    assert pruning.remaining(r1) == pytest.approx(pruning.remaining(m))


def test_bad_input_named():
    model = op.models.mlp(3, 4, 1, 2)
    with pytest.raises(ValueError, match="sparsity"):
        pruning.magnitude_masks(model, 1.5)
    with pytest.raises(ValueError, match="scope"):
        pruning.magnitude_masks(model, 0.5, scope="row")
    with pytest.raises(ValueError, match="masks"):
        pruning.apply_masks(model, {"0.weight": torch.ones(2, 2, dtype=torch.bool)})


def _data():
    """A small MNIST-1D split in the default dtype (float64 under the test fixture)."""
    split = op.data.mnist1d(n_train=200, n_test=100, seed=0)
    dt = torch.get_default_dtype()
    return (split[0].to(dt), split[1], split[2].to(dt), split[3])


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_masked_training_keeps_pruned_weights_exactly_zero(optimizer):
    model = op.models.mlp(40, 32, 2, 10, seed=0).double()
    masks = pruning.magnitude_masks(model, 0.8)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    data = _data()
    pruning.train_masked(model, masks, data, lr=1e-2, steps=30, optimizer=optimizer,
                         momentum=0.9 if optimizer == "sgd" else 0.0, progress=False)
    for n, p in model.named_parameters():
        if n in masks:
            assert (p[~masks[n]] == 0.0).all()
            assert not torch.equal(p[masks[n]], before[n][masks[n]])  # the kept ones trained
        else:
            assert not torch.equal(p, before[n])  # biases train


def test_masked_ensemble_matches_masked_single_runs():
    data = _data()
    seeds = [0, 1]
    models = [op.models.mlp(40, 16, 1, 10, seed=s) for s in seeds]
    masks = [pruning.magnitude_masks(m, 0.7) for m in models]
    singles = [op.models.mlp(40, 16, 1, 10, seed=s) for s in seeds]
    for m, mk in zip(singles, masks):
        pruning.train_masked(m, mk, data, lr=1e-2, steps=20, progress=False)
    names = [n for n, _ in models[0].named_parameters()]
    stacked = [torch.stack([mk[n] for mk in masks]) if n in masks[0] else None for n in names]
    opt = pruning.masked_optimizer(stacked, "adam", lr=1e-2)
    op.ensemble.train_ensemble(models, data, lr=1e-2, steps=20, optimizer=opt)
    for a, b, mk in zip(models, singles, masks):
        for (n, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
            torch.testing.assert_close(p, q, atol=1e-10, rtol=1e-9)
            if n in mk:
                assert (p[~mk[n]] == 0.0).all()


def test_imp_rounds_and_rewinding():
    data = _data()
    res = pruning.imp(lambda s: op.models.mlp(40, 16, 1, 10, seed=s), [0, 1], data,
                      rounds=2, rate=0.5, steps=10, lr=1e-2, rewind_step=3)
    assert res.remaining == pytest.approx([1.0, 0.5, 0.25], abs=1e-3)
    assert res.reinit[0] is None and res.reinit[2].shape == (2,)
    # the round-2 mask is nested in the round-1 mask (IMP never revives a weight)
    for n, m2 in res.masks[2][0].items():
        assert not (m2 & ~res.masks[1][0][n]).any()
    with pytest.raises(ValueError, match="rewind_step"):
        pruning.imp(lambda s: op.models.mlp(40, 4, 1, 10, seed=s), [0], data,
                    rounds=1, rate=0.5, steps=5, lr=1e-2, rewind_step=5)


def test_imp_controls_only_in_the_rounds_listed():
    data = _data()
    kw = dict(rounds=2, rate=0.5, steps=5, lr=1e-2)
    make = lambda s: op.models.mlp(40, 8, 1, 10, seed=s)  # noqa: E731
    part = pruning.imp(make, [0, 1], data, controls=[2], **kw)
    full = pruning.imp(make, [0, 1], data, controls=True, **kw)
    assert part.reinit[1] is None and part.random[1] is None
    assert part.reinit[2].shape == (2,) and part.random[2].shape == (2,)
    # the tickets do not depend on which controls ride along (members train independently)
    for a, b in zip(part.ticket, full.ticket):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(part.reinit[2], full.reinit[2])
    assert len(part.cpu_seconds) == 3 and all(c >= 0 for c in part.cpu_seconds)
    for bad in ([0], [3], "all", [True]):
        with pytest.raises(ValueError, match="controls"):
            pruning.imp(make, [0], data, controls=bad, **kw)


def test_imp_without_the_random_mask_control():
    data = _data()
    kw = dict(rounds=1, rate=0.5, steps=5, lr=1e-2, controls=True)
    make = lambda s: op.models.mlp(40, 8, 1, 10, seed=s)  # noqa: E731
    both = pruning.imp(make, [0, 1], data, **kw)
    reinit_only = pruning.imp(make, [0, 1], data, random_control=False, **kw)
    assert reinit_only.random[1] is None and reinit_only.reinit[1].shape == (2,)
    torch.testing.assert_close(reinit_only.reinit[1], both.reinit[1])
    for a, b in zip(reinit_only.ticket, both.ticket):
        torch.testing.assert_close(a, b)
    with pytest.raises(TypeError, match="random_control"):
        pruning.imp(make, [0], data, random_control="no", **kw)


def test_masked_optimizer_schedule_matches_train_schedule():
    # no mask entry pruned: the masked optimizer with a schedule must reproduce train()'s
    # own schedule step for step; with offset k it continues the schedule from step k
    data = _data()
    f = lambda t: 1.0 / (1 + t)  # noqa: E731
    a, b = op.models.mlp(40, 8, 1, 10, seed=4), op.models.mlp(40, 8, 1, 10, seed=4)
    masks = [None] * len(list(a.parameters()))
    opt = pruning.masked_optimizer(masks, "adam", schedule=f, lr=1e-2)
    op.train.train(a, data, lr=1e-2, steps=6, optimizer=opt, progress=False)
    op.train.train(b, data, lr=1e-2, steps=6, optimizer="adam", schedule=f, progress=False)
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q, atol=1e-12, rtol=1e-10)
    c = op.models.mlp(40, 8, 1, 10, seed=4)
    opt = pruning.masked_optimizer(masks, "sgd", schedule=f, offset=3, lr=0.1)
    op.train.train(c, (data[0], data[1]), lr=0.1, steps=1, optimizer=opt, progress=False)
    d = op.models.mlp(40, 8, 1, 10, seed=4)
    op.train.train(d, (data[0], data[1]), lr=0.1 * f(3), steps=1, optimizer="sgd",
                   progress=False)
    for p, q in zip(c.parameters(), d.parameters()):
        torch.testing.assert_close(p, q, atol=1e-12, rtol=1e-10)
    with pytest.raises(TypeError, match="schedule"):
        pruning.masked_optimizer(masks, "adam", schedule=0.5, lr=1e-2)


def test_imp_records_which_test_examples_each_run_gets_right():
    data = _data()
    make = lambda s: op.models.mlp(40, 8, 1, 10, seed=s)  # noqa: E731
    kw = dict(rounds=1, rate=0.5, steps=6, lr=1e-2, batch_size=50)
    res = pruning.imp(make, [0, 1], data, **kw)
    for key in ("ticket", "reinit", "random"):
        ok = getattr(res, f"{key}_right")[1]
        assert ok.shape == (2, len(data[3])) and ok.dtype == torch.bool
        torch.testing.assert_close(getattr(res, key)[1], ok.double().mean(1))
    assert res.reinit_right[0] is None and res.random_right[0] is None
    # independent reference for round 0: the same dense runs, trained by train_ensemble
    # on the full Split, whose own history evaluates the test set
    models = [make(s) for s in (0, 1)]
    masks = [None if p.ndim < 2 else torch.ones((2, *p.shape), dtype=torch.bool)
             for _, p in models[0].named_parameters()]
    opt = pruning.masked_optimizer(masks, "adam", lr=1e-2)
    _, hist = op.ensemble.train_ensemble(models, data, lr=1e-2, steps=6, optimizer=opt,
                                         batch_size=50)
    torch.testing.assert_close(res.ticket[0], hist.test_acc[-1])
    # the minibatch order is a knob: the same order_seed repeats, another one differs
    again = pruning.imp(make, [0, 1], data, **kw)
    other = pruning.imp(make, [0, 1], data, order_seed=1, **kw)
    assert torch.equal(again.ticket_right[1], res.ticket_right[1])
    assert not torch.equal(other.ticket_right[0], res.ticket_right[0])
    with pytest.raises(ValueError, match="order_seed"):
        pruning.imp(make, [0], data, order_seed=-1, **kw)
    with pytest.raises(ValueError, match="test part"):
        pruning.imp(make, [0], data[:2], **kw)
