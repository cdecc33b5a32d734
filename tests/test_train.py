import pytest
import torch
from torch import nn

from overparam import linear, models, train


def _linear_problem(n=12, p=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, p, generator=g), torch.randn(n, generator=g)


def test_full_batch_sgd_is_gradient_descent_on_least_squares():
    # loss="mse" is ½·mean‖f − y‖², so full-batch SGD on a bias-free linear model must
    # reproduce GD on ‖Xw − y‖²/(2n) exactly (float64).
    X, y = _linear_problem()
    model = nn.Linear(5, 1, bias=False)
    nn.init.zeros_(model.weight)
    train.train(model, (X, y), lr=0.1, steps=40, loss="mse", progress=False, device="cpu")
    expected = linear.gd_least_squares(X, y, lr=0.1, steps=40)
    assert torch.allclose(model.weight.detach().squeeze(0), expected, atol=1e-12)


def test_one_step_worked_by_hand():
    # f(x) = w x, one example (x=2, y=1), w0 = 0: L = ½(2w − 1)², L'(0) = −2, so w1 = 0 + 0.25·2 = 0.5
    model = nn.Linear(1, 1, bias=False)
    nn.init.zeros_(model.weight)
    train.train(model, (torch.tensor([[2.0]]), torch.tensor([1.0])), lr=0.25, steps=1, loss="mse",
                progress=False, device="cpu")
    assert model.weight.item() == pytest.approx(0.5)


def test_history_and_callbacks():
    X, y = _linear_problem(n=20)
    labels = (y > 0).long()
    seen = []
    hist = train.train(
        models.mlp(5, 8, 1, 2), (X[:16], labels[:16], X[16:], labels[16:]), lr=0.1, steps=10,
        eval_every=5, callbacks=[lambda step, m, h: (seen.append(step), h.log("step_seen", step))],
        progress=False, device="cpu",
    )
    assert hist.step == [0, 5, 10]
    assert len(hist.train_loss) == len(hist.test_acc) == 3
    assert seen == list(range(1, 11)) and hist.extras["step_seen"] == seen
    assert 0.0 <= hist.final["test_acc"] <= 1.0


def test_minibatch_order_is_seeded():
    X, y = _linear_problem(n=32)
    labels = (y > 0).long()
    runs = []
    for seed in (0, 0, 1):
        net = models.mlp(5, 8, 1, 2, seed=0)
        train.train(net, (X, labels), lr=0.1, steps=7, batch_size=5, seed=seed, progress=False, device="cpu")
        runs.append(torch.cat([p.flatten() for p in net.parameters()]))
    assert torch.equal(runs[0], runs[1]) and not torch.equal(runs[0], runs[2])


def test_divergence_names_step_and_lr():
    X, y = _linear_problem()
    model = nn.Linear(5, 1, bias=False)
    with pytest.raises(train.DivergenceError, match=r"at step \d+ with lr=1000"):
        train.train(model, (X, y * 1e3), lr=1e3, steps=200, loss="mse", progress=False, device="cpu")


def test_divergence_can_be_recorded():
    X, y = _linear_problem()
    hist = train.train(nn.Linear(5, 1, bias=False), (X, y * 1e3), lr=1e3, steps=200, loss="mse",
                       on_divergence="stop", progress=False, device="cpu")
    assert hist.diverged_at is not None and hist.diverged_at < 200


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(lr=-0.1), "lr: expected a number > 0"),
        (dict(steps=-1), "steps: expected an int >= 0"),
        (dict(batch_size=0), "batch_size: expected an int > 0"),
        (dict(batch_size=100), "batch_size: expected at most the 12"),
        (dict(loss="hinge"), "loss: expected one of"),
        (dict(optimizer="lbfgs"), "optimizer: expected one of"),
    ],
)
def test_bad_arguments(kwargs, match):
    X, y = _linear_problem()
    args = dict(lr=0.1, steps=1, progress=False, device="cpu") | kwargs
    with pytest.raises((ValueError, TypeError), match=match):
        train.train(nn.Linear(5, 1), (X, y), **args)


def test_bad_data():
    X, y = _linear_problem()
    with pytest.raises(ValueError, match="x_train has 12 rows but y_train has 11"):
        train.train(nn.Linear(5, 1), (X, y[:-1]), lr=0.1, steps=1, progress=False)
    with pytest.raises(ValueError, match="training set is empty"):
        train.train(nn.Linear(5, 1), (X[:0], y[:0]), lr=0.1, steps=1, progress=False)
    with pytest.raises(ValueError, match="data: expected"):
        train.train(nn.Linear(5, 1), (X,), lr=0.1, steps=1, progress=False)
