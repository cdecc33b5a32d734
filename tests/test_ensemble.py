"""overparam.ensemble: a vmapped stack trains exactly like separate models."""

import pytest
import torch

import overparam as op


def _data():
    d = op.data.mnist1d(n_train=120, n_test=60, label_noise=0.1, seed=0)
    return op.data.Split(d.x_train.double(), d.y_train, d.x_test.double(), d.y_test)


@pytest.mark.parametrize("optimizer,loss", [("adam", "cross_entropy"), ("sgd", "mse")])
def test_matches_separate_models(optimizer, loss):
    data, seeds = _data(), [0, 1, 2]
    models = [op.models.mlp(40, 12, 2, 10, seed=s).double() for s in seeds]
    models, hist = op.ensemble.train_ensemble(models, data, lr=1e-2, steps=40, optimizer=optimizer,
                                              loss=loss, weight_decay=1e-3, eval_every=20)
    for e, s in enumerate(seeds):
        ref = op.models.mlp(40, 12, 2, 10, seed=s).double()
        ref_hist = op.train.train(ref, data, lr=1e-2, steps=40, optimizer=optimizer, loss=loss,
                                  weight_decay=1e-3, eval_every=20, progress=False, device="cpu")
        # Same seeds → same numbers, up to float64 rounding of batched vs single matmuls.
        for p, q in zip(models[e].parameters(), ref.parameters()):
            assert torch.allclose(p, q, rtol=0, atol=1e-12)
        assert hist.step == ref_hist.step
        for key in ("train_loss", "test_loss"):
            got = torch.stack(getattr(hist, key))[:, e]
            assert torch.allclose(got, torch.tensor(getattr(ref_hist, key), dtype=torch.float64), atol=1e-12)
        for key in ("train_acc", "test_acc"):
            assert torch.stack(getattr(hist, key))[:, e].tolist() == getattr(ref_hist, key)


def test_forward_shape_and_training_helps():
    data = _data()
    models = [op.models.mlp(40, 8, 1, 10, seed=s).double() for s in range(4)]
    base, params, buffers = op.ensemble.stack(models)
    assert op.ensemble.forward(base, params, buffers, data.x_train).shape == (4, 120, 10)
    _, hist = op.ensemble.train_ensemble(models, data[:2], lr=1e-2, steps=100, optimizer="adam")
    assert (hist.final["train_loss"] < hist.train_loss[0]).all()
    assert hist.test_loss == []


def test_errors():
    with pytest.raises(ValueError, match="models"):
        op.ensemble.stack([])
    with pytest.raises(ValueError, match="one architecture"):
        op.ensemble.stack([op.models.mlp(4, 3, 1, 2), op.models.mlp(4, 5, 1, 2)])
    with pytest.raises(ValueError, match="loss"):
        op.ensemble.train_ensemble([op.models.mlp(40, 3, 1, 10)], _data(), lr=0.1, steps=1, loss="hinge")
    with pytest.raises(ValueError, match="lr"):
        op.ensemble.train_ensemble([op.models.mlp(40, 3, 1, 10)], _data(), lr=-1.0, steps=1)


@pytest.mark.parametrize("path", ["fused", "vmap", "loop"])
@pytest.mark.parametrize("depth,loss", [(1, "cross_entropy"), (2, "mse")])
def test_paths_match_separate_minibatch_training(path, depth, loss):
    """Every path, full batch or minibatch, reproduces op.train.train member by member."""
    data, seeds = _data(), [0, 1, 2]
    for batch_size in (None, 32):
        models = [op.models.mlp(40, 9, depth, 10, seed=s).double() for s in seeds]
        models, hist = op.ensemble.train_ensemble(
            models, data, lr=1e-2, steps=12, optimizer="adam", loss=loss, batch_size=batch_size,
            seed=5, eval_every=6, path=path)
        for e, s in enumerate(seeds):
            ref = op.models.mlp(40, 9, depth, 10, seed=s).double()
            ref_hist = op.train.train(ref, data, lr=1e-2, steps=12, optimizer="adam", loss=loss,
                                      batch_size=batch_size, seed=5, eval_every=6, progress=False,
                                      device="cpu")
            for p, q in zip(models[e].parameters(), ref.parameters()):
                assert torch.allclose(p, q, rtol=0, atol=1e-12)
            got = torch.stack(hist.test_loss)[:, e]
            assert torch.allclose(got, torch.tensor(ref_hist.test_loss, dtype=torch.float64), atol=1e-12)
            assert torch.stack(hist.train_acc)[:, e].tolist() == ref_hist.train_acc


def test_fused_forward_by_hand():
    """A one-member, one-unit network worked by hand: relu(2·x + 1)·3 − 1."""
    model = op.models.mlp(1, 1, 1, 1)
    with torch.no_grad():
        model[0].weight.fill_(2.0), model[0].bias.fill_(1.0)
        model[2].weight.fill_(3.0), model[2].bias.fill_(-1.0)
    base, params, _ = op.ensemble.stack([model])
    layers = op.ensemble._linear_layers(base)
    x = torch.tensor([[-1.0], [0.0], [2.0]])
    out = op.ensemble.fused_forward(layers, params, x)  # (E, d_out, B)
    assert out.shape == (1, 1, 3)
    assert out.flatten().tolist() == [-1.0, 2.0, 14.0]


def test_fused_needs_linear_layers():
    ntk = [op.models.mlp(40, 3, 1, 10, parameterization="ntk", seed=s) for s in range(2)]
    with pytest.raises(ValueError, match="path"):
        op.ensemble.train_ensemble(ntk, _data(), lr=0.1, steps=1, path="fused")
    with pytest.raises(ValueError, match="path"):
        op.ensemble.train_ensemble(ntk, _data(), lr=0.1, steps=1, path="gpu")
    with pytest.raises(ValueError, match="batch_size"):
        op.ensemble.train_ensemble(ntk, _data(), lr=0.1, steps=1, batch_size=10**6)
    _, hist = op.ensemble.train_ensemble(ntk, _data(), lr=0.1, steps=2)  # auto → vmap
    assert len(hist.step) == 3


@pytest.mark.parametrize("path", ["fused", "vmap", "loop"])
def test_one_learning_rate_per_member(path):
    """lr as a sequence: member e trains exactly like train() with its own η_e (SGD, momentum)."""
    data, lrs = _data(), [3e-3, 1e-2, 3e-2]
    models = [op.models.mlp(40, 9, 2, 10, seed=1).double() for _ in lrs]
    models, hist = op.ensemble.train_ensemble(
        models, data, lr=lrs, steps=12, optimizer="sgd", momentum=0.9, loss="mse",
        batch_size=32, seed=5, eval_every=6, path=path)
    for e, lr in enumerate(lrs):
        ref = op.models.mlp(40, 9, 2, 10, seed=1).double()
        ref_hist = op.train.train(ref, data, lr=lr, steps=12, optimizer="sgd", momentum=0.9,
                                  loss="mse", batch_size=32, seed=5, eval_every=6,
                                  progress=False, device="cpu")
        for p, q in zip(models[e].parameters(), ref.parameters()):
            assert torch.allclose(p, q, rtol=0, atol=1e-12)
        got = torch.stack(hist.test_loss)[:, e]
        assert torch.allclose(got, torch.tensor(ref_hist.test_loss, dtype=torch.float64), atol=1e-12)
    # Negative control: the members' weights differ (the rates were applied, not one of them).
    assert not torch.allclose(models[0][0].weight, models[2][0].weight)


def test_one_learning_rate_per_member_errors():
    models = [op.models.mlp(40, 3, 1, 10, seed=s) for s in range(2)]
    with pytest.raises(ValueError, match="one learning rate per member"):
        op.ensemble.train_ensemble(models, _data(), lr=[0.1], steps=1, optimizer="sgd")
    with pytest.raises(ValueError, match="optimizer='sgd'"):
        op.ensemble.train_ensemble(models, _data(), lr=[0.1, 0.2], steps=1, optimizer="adam")
    with pytest.raises(ValueError, match="lr"):
        op.ensemble.train_ensemble(models, _data(), lr=[0.1, -1.0], steps=1, optimizer="sgd")


@pytest.mark.parametrize("path", ["fused", "vmap", "loop"])
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_independent_orders_match_separate_training(path, loss):
    """orders='independent': member e trains exactly like train(..., seed=seed + e) alone."""
    data, seeds, lrs = _data(), [0, 1, 2], [1e-2, 3e-2, 1e-2]
    models = [op.models.mlp(40, 9, 2, 10, seed=s).double() for s in seeds]
    models, hist = op.ensemble.train_ensemble(
        models, data, lr=lrs, steps=12, optimizer="sgd", momentum=0.9, loss=loss,
        batch_size=32, seed=5, orders="independent", eval_every=6, path=path)
    for e, s in enumerate(seeds):
        ref = op.models.mlp(40, 9, 2, 10, seed=s).double()
        ref_hist = op.train.train(ref, data, lr=lrs[e], steps=12, optimizer="sgd",
                                  momentum=0.9, loss=loss, batch_size=32, seed=5 + e,
                                  eval_every=6, progress=False, device="cpu")
        for p, q in zip(models[e].parameters(), ref.parameters()):
            assert torch.allclose(p, q, rtol=0, atol=1e-12)
        got = torch.stack(hist.test_loss)[:, e]
        assert torch.allclose(got, torch.tensor(ref_hist.test_loss, dtype=torch.float64), atol=1e-12)
        assert torch.stack(hist.train_acc)[:, e].tolist() == ref_hist.train_acc


def test_independent_orders_differ_from_shared():
    """Negative control: two identical members end equal with shared orders, not with
    independent ones; full batch ignores ``orders``; a bad option is named."""
    data = _data()
    for orders, same in (("shared", True), ("independent", False)):
        models = [op.models.mlp(40, 9, 1, 10, seed=0).double() for _ in range(2)]
        models, _ = op.ensemble.train_ensemble(models, data, lr=0.1, steps=8, optimizer="sgd",
                                               batch_size=16, orders=orders)
        gap = (models[0][0].weight - models[1][0].weight).abs().max().item()
        assert (gap < 1e-12) if same else (gap > 1e-3)  # rounding only, or different batches
    models = [op.models.mlp(40, 9, 1, 10, seed=0).double() for _ in range(2)]
    models, _ = op.ensemble.train_ensemble(models, data, lr=0.1, steps=3, optimizer="sgd",
                                           orders="independent")
    assert (models[0][0].weight - models[1][0].weight).abs().max() < 1e-12
    with pytest.raises(ValueError, match="orders"):
        op.ensemble.train_ensemble(models, data, lr=0.1, steps=1, orders="random")


def test_independent_orders_hand_case():
    """Two linear members, n = 4, B = 2, mse ½(w·x + b − 1)², zero init, η = 1: one step
    gives b = 1 and w = mean of the member's own batch (its randperm's first two rows)."""
    x = torch.arange(8, dtype=torch.float64).reshape(4, 2)
    y = torch.ones(4, 1, dtype=torch.float64)
    models = [torch.nn.Linear(2, 1).double() for _ in range(2)]
    for m in models:
        torch.nn.init.zeros_(m.weight), torch.nn.init.zeros_(m.bias)
    models, _ = op.ensemble.train_ensemble(models, (x, y), lr=1.0, steps=1, loss="mse",
                                           optimizer="sgd", batch_size=2, seed=3,
                                           orders="independent", path="vmap")
    firsts = []
    for e, m in enumerate(models):
        idx = torch.randperm(4, generator=torch.Generator().manual_seed(3 + e))[:2]
        firsts.append(set(idx.tolist()))
        assert m.bias.item() == 1.0
        assert torch.allclose(m.weight.flatten(), x[idx].mean(0), rtol=0, atol=1e-15)
    assert firsts[0] != firsts[1]  # the two seeds' first batches differ (else the test is moot)


@pytest.mark.parametrize("path", ["fused", "vmap"])
def test_sam_members_match_the_sam_optimizer(path):
    """sam_rho: member e trains exactly like train() with op.sam.SAM around SGD."""
    from functools import partial

    data, seeds, lrs, rho = _data(), [0, 1, 2], [0.1, 0.3, 0.2], 0.05
    models = [op.models.mlp(40, 9, 2, 10, seed=s).double() for s in seeds]
    models, _ = op.ensemble.train_ensemble(
        models, data, lr=lrs, steps=10, optimizer="sgd", momentum=0.9, batch_size=32,
        seed=5, orders="independent", path=path, sam_rho=rho)
    for e, s in enumerate(seeds):
        ref = op.models.mlp(40, 9, 2, 10, seed=s).double()
        make = partial(op.sam.SAM, base_optimizer=torch.optim.SGD, rho=rho, lr=lrs[e],
                       momentum=0.9)
        op.train.train(ref, data, lr=lrs[e], steps=10, optimizer=make, batch_size=32,
                       seed=5 + e, progress=False, device="cpu")
        for p, q in zip(models[e].parameters(), ref.parameters()):
            assert torch.allclose(p, q, rtol=0, atol=1e-12)
    # negative control: SAM's steps differ from SGD's; errors are named
    plain = [op.models.mlp(40, 9, 2, 10, seed=0).double()]
    plain, _ = op.ensemble.train_ensemble(plain, data, lr=0.1, steps=10, optimizer="sgd",
                                          momentum=0.9, batch_size=32, seed=5, path=path)
    assert (plain[0][0].weight - models[0][0].weight).abs().max() > 1e-4
    with pytest.raises(ValueError, match="sam_rho"):
        op.ensemble.train_ensemble(plain, data, lr=0.1, steps=1, sam_rho=-1.0)
    with pytest.raises(ValueError, match="sam_rho"):
        op.ensemble.train_ensemble(plain, data, lr=0.1, steps=1, sam_rho=0.1, path="loop")
