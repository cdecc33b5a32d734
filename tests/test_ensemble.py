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
