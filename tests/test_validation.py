"""The library refuses bad input at its boundary (overparam._check's policy), by category.

Each case calls a public function with one typical mistake and checks the error type and
that the message names the public argument and what was expected. The functions' own
test files check their numbers; this file checks the policy across modules.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

import overparam as op
from overparam._check import ConvergenceError, DivergenceError

F64 = torch.float64


def _X(n=6, p=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, p, generator=g, dtype=F64), torch.randn(n, generator=g, dtype=F64)


def _with_nan(t: torch.Tensor, value=math.nan) -> torch.Tensor:
    t = t.clone()
    t.view(-1)[0] = value
    return t


X, Y = _X()
XS, YS, _ = op.margin.separable_data(8, 3, margin=0.5, seed=1)
LAM = torch.tensor([3.0, 2.0, 1.0, 0.5], dtype=F64)
XC = torch.randn(12, 4, generator=torch.Generator().manual_seed(2), dtype=F64)
YC = torch.arange(12) % 3


def _mlp():
    return op.models.mlp(4, 8, 1, 3, seed=0)


# --- types: the wrong kind of object -------------------------------------------------------------

TYPES = [
    (lambda: op.linear.min_norm(X.tolist(), Y), "X: expected a torch.Tensor"),
    (lambda: op.linear.ridge(X, Y, "0.1"), "alpha: expected a tensor, a number or a list"),
    (lambda: op.linear.gd_least_squares(X, Y, lr="0.1", steps=3), "lr: expected a number"),
    (lambda: op.linear.gd_least_squares(X, Y, lr=0.1, steps=2.5), "steps: expected an int"),
    (lambda: op.risk.spectrum("abc"), "eigenvalues: expected a tensor"),
    (lambda: op.risk.ridgeless_risk_finite(10, 20.0), "p: expected an int"),
    (lambda: op.data.gaussian_design(5, None), "eigenvalues: expected a tensor"),
    (lambda: op.data.teacher_regression("5", 3, LAM, torch.ones(4)), "n_train: expected an int"),
    (lambda: op.data.gaussian_design(5, LAM, dtype=torch.int64), "dtype: expected a floating"),
    (lambda: op.models.count_parameters("model"), "model: expected an nn.Module"),
    (lambda: op.train.train(_mlp(), [XC, YC], lr=0.1, steps=1, progress="no"), "progress: expected True or False"),
    (lambda: op.train.train(_mlp(), XC, lr=0.1, steps=1, progress=False), "data: expected"),
    (lambda: op.train.evaluate(_mlp(), XC.tolist(), YC), "x: expected a torch.Tensor"),
    (lambda: op.train.loss_value("out", YC, "mse"), "outputs: expected a torch.Tensor"),
    (lambda: op.ensemble.train_ensemble("models", (XC, YC), lr=0.1, steps=1), "models: expected a list"),
    (lambda: op.capacity.chance_interval(None, YC, 3), "y_true: expected a torch.Tensor"),
    (lambda: op.capacity.steps_to_fit(["a"], [1.0]), "steps: expected an int"),
    (lambda: op.margin.asymptote(XS, YS, 0.1, "svm"), "svm: expected"),
    (lambda: op.factorized.product(None), "factors: expected a non-empty list"),
    (lambda: op.factorized.completion(4, 3), "shape: expected a pair"),
    (lambda: op.features.relu_features(XC, (1, 2)), "layer: expected a RandomReLU"),
    (lambda: op.plotting.figure(ncols=1.5), "ncols: expected an int"),
    (lambda: op.plotting.glue(3, 1.0), "name: expected a non-empty string"),
    (lambda: op.claims.Claims("demo").check("a", measured=1.0, ok=True, expect=3, statement="s"), "expect:"),
]


@pytest.mark.parametrize("call, match", TYPES, ids=[m.split(":")[0] + f"-{i}" for i, (_, m) in enumerate(TYPES)])
def test_types(call, match):
    with pytest.raises((TypeError, ValueError), match=match):
        call()


# --- dtypes: integers promoted where the math needs real numbers ---------------------------------


def test_integer_spectra_are_not_truncated():
    assert torch.allclose(op.linear.ridge_shrinkage([1, 2], 0.5), torch.tensor([2 / 3, 4 / 5], dtype=F64))
    assert torch.allclose(op.linear.ridge_shrinkage(torch.tensor([1, 2]), 1), torch.tensor([0.5, 2 / 3], dtype=F64))
    # 1 − (1 − 0.1·λ)^t with integer λ and t: by hand for λ = 1, t = 2: 1 − 0.81 = 0.19
    got = op.linear.gd_shrinkage([1, 2], 0.1, [2, 2])
    assert torch.allclose(got, torch.tensor([0.19, 1 - 0.8**2], dtype=F64))
    assert op.risk.spectrum([3, 1]).dtype == F64
    assert op.data.gaussian_design(3, [2, 1]).dtype == F64


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: op.linear.min_norm(X.long(), Y), "X: expected a floating-point"),
        (lambda: op.linear.ridge_shrinkage(torch.tensor([1 + 1j]), 0.5), "eigenvalues: expected real"),
        (lambda: op.linear.gd_path(X, Y, 0.1, torch.tensor([1.5])), "steps: expected a 1-D tensor of integer"),
        (lambda: op.margin.descent(XS, YS, 0.1, 10, record=[1.5, 2.0]), "record: expected integer"),
        (lambda: op.capacity.chance_interval(YC.double(), YC, 3), "y_true: expected integer labels"),
    ],
)
def test_dtypes(call, match):
    with pytest.raises((TypeError, ValueError), match=match):
        call()


# --- non-finite values: a NaN or inf in any input is a ValueError naming it ----------------------

NONFINITE = [
    ("X", lambda bad: op.linear.min_norm(_with_nan(X, bad), Y)),
    ("X", lambda bad: op.linear.ridge(_with_nan(X, bad), Y, 0.1)),
    ("y", lambda bad: op.linear.gd_least_squares(X, _with_nan(Y, bad), lr=0.1, steps=3)),
    ("w0", lambda bad: op.linear.project_to_solutions(X, Y, _with_nan(torch.ones(10, dtype=F64), bad))),
    ("alpha", lambda bad: op.linear.ridge(X, Y, bad)),
    ("lr", lambda bad: op.linear.gd_least_squares(X, Y, lr=bad, steps=3)),
    ("eigenvalues", lambda bad: op.risk.tail_ranks(_with_nan(LAM, bad))),
    ("gamma", lambda bad: op.risk.ridgeless_risk(bad)),
    ("noise", lambda bad: op.risk.ridge_risk(0.5, 0.1, noise=bad)),
    ("data.x_train", lambda bad: op.train.train(_mlp(), (_with_nan(XC, bad), YC), lr=0.1, steps=1,
                                                progress=False)),
    ("data.x_test", lambda bad: op.train.train(_mlp(), (XC, YC, _with_nan(XC, bad), YC), lr=0.1, steps=1,
                                               progress=False)),
    ("data.x_train", lambda bad: op.ensemble.train_ensemble([_mlp(), _mlp()], (_with_nan(XC, bad), YC),
                                                            lr=0.1, steps=1)),
    ("X", lambda bad: op.svm.hard_margin(_with_nan(XS, bad), YS)),
    ("w", lambda bad: op.svm.margin(XS, YS, _with_nan(torch.ones(3, dtype=F64), bad))),
    ("X", lambda bad: op.margin.descent(_with_nan(XS, bad), YS, 0.1, 5)),
    ("W", lambda bad: op.margin.angle(_with_nan(torch.ones(2, 3, dtype=F64), bad), torch.ones(3, dtype=F64))),
    ("x", lambda bad: op.capacity.legendre_features(_with_nan(torch.zeros(5, dtype=F64), bad), 3)),
    ("W", lambda bad: op.nuclear.nuclear_norm(_with_nan(torch.ones(3, 3, dtype=F64), bad))),
    ("X", lambda bad: op.nuclear.svt(_with_nan(torch.ones(3, 3, dtype=F64), bad), 0.1)),
    ("x_train", lambda bad: op.features.ridge_sweep(_with_nan(XC, bad), YC, XC, YC, [4], n_classes=3)),
    ("w_star", lambda bad: op.benign.risk_of(torch.ones(4), _with_nan(torch.ones(4), bad), LAM)),
    ("margin", lambda bad: op.margin.separable_data(5, 2, margin=bad)),
    ("tau", lambda bad: op.nuclear.svt(torch.ones(3, 3), bad)),
]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("name, call", NONFINITE, ids=[f"{n}-{i}" for i, (n, _) in enumerate(NONFINITE)])
def test_non_finite(name, call, bad):
    with pytest.raises(ValueError, match=rf"^{name}: expected"):
        call(bad)


def test_nan_in_training_data_is_bad_data_not_divergence():
    with pytest.raises(ValueError, match="data.x_train: expected finite values") as info:
        op.train.train(_mlp(), (_with_nan(XC), YC), lr=0.1, steps=3, progress=False)
    assert not isinstance(info.value, DivergenceError)
    assert "learning rate" not in str(info.value)


def test_inf_in_X_is_refused_not_turned_into_zeros():
    with pytest.raises(ValueError, match="X: expected finite values, got 1 NaN or infinite entry"):
        op.linear.min_norm(_with_nan(X, math.inf), Y)


# --- shapes and lengths -----------------------------------------------------------------------

SHAPES = [
    (lambda: op.linear.min_norm(X[0], Y), "X: expected a 2-D"),
    (lambda: op.linear.min_norm(X, Y[:-1]), "y: expected shape"),
    (lambda: op.linear.ridge(X, Y, torch.ones(2, 2)), "alpha: expected a 0-D or 1-D"),
    (lambda: op.risk.spectrum(torch.ones(2, 2)), "eigenvalues: expected a 1-D"),
    (lambda: op.risk.spectrum([]), "eigenvalues: expected a non-empty"),
    (lambda: op.data.teacher_regression(5, 3, LAM, torch.ones(3)), "w_star: expected shape"),
    (lambda: op.train.train(_mlp(), (XC, YC[:-1]), lr=0.1, steps=1, progress=False), "data.y_train:"),
    (lambda: op.train.loss_value(torch.randn(5, 3), YC, "mse"), "targets: expected one target per output"),
    (lambda: op.features.ridge_sweep(XC, YC, XC[:, :2], YC, [4], n_classes=3), "x_test: expected 4 columns"),
    (lambda: op.features.ridge_sweep(XC, YC[:-1], XC, YC, [4], n_classes=3), "y_train: expected shape"),
    (lambda: op.benign.excess_risk(torch.randn(3, 8), torch.ones(7), torch.ones(8)), "w_star: expected shape"),
    (lambda: op.margin.asymptote(XS[:, :2], YS, 0.1, op.svm.hard_margin(XS, YS)), "svm: expected the SVM"),
    (lambda: op.capacity.interpolating_relu_net(XC, torch.ones(3)), "y: expected shape"),
]


@pytest.mark.parametrize("call, match", SHAPES, ids=[m.split(":")[0] + f"-{i}" for i, (_, m) in enumerate(SHAPES)])
def test_shapes(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --- ranges -------------------------------------------------------------------------------------

RANGES = [
    (lambda: op.risk.monte_carlo_risk(8, [4], [0.0], noise=-1.0), "noise: expected a number >= 0"),
    (lambda: op.risk.monte_carlo_risk(8, [0], [0.0]), "ps: expected an int in"),
    (lambda: op.risk.monte_carlo_risk(8, [4], [-1.0]), "alphas: expected penalties >= 0"),
    (lambda: op.risk.ridgeless_risk(0.5, noise=-1.0), "noise: expected a number >= 0"),
    (lambda: op.risk.effective_ranks(LAM, 4), r"k: expected an int in \[0, 3\]"),
    (lambda: op.linear.ridge_shrinkage([1.0, -1.0], 0.5), "eigenvalues: expected values >= 0"),
    (lambda: op.linear.gd_shrinkage([1.0], -0.1, 3), "lr: expected a number > 0"),
    (lambda: op.linear.gd_least_squares(X, Y, lr=0.1, steps=-1), "steps: expected an int >= 0"),
    (lambda: op.data.mnist1d(n_train=0), "n_train: expected an int > 0"),
    (lambda: op.data.teacher_regression(5, 3, LAM, torch.ones(4), noise=-0.1), "noise: expected a number >= 0"),
    (lambda: op.train.train(_mlp(), (XC, YC), lr=0.1, steps=1, eval_every=0, progress=False),
     "eval_every: expected an int > 0"),
    (lambda: op.ensemble.train_ensemble([_mlp()], (XC, YC), lr=0.1, steps=1, eval_every=0),
     "eval_every: expected an int > 0"),
    (lambda: op.capacity.vapnik_bound(10, 100, delta=1.5), "delta: expected a probability"),
    (lambda: op.factorized.train(op.factorized.completion((3, 3), 4), torch.ones(4), 2, 0.1, 0.1, 1, tol=-1.0),
     "tol: expected a number >= 0"),
    (lambda: op.plotting.figure(width=-1.0), "width: expected a number > 0"),
    (lambda: op.features.ridge_sweep(XC, YC, XC, YC, [0], n_classes=3), "n_features: expected an int in"),
]


@pytest.mark.parametrize("call, match", RANGES, ids=[m.split(":")[0] + f"-{i}" for i, (_, m) in enumerate(RANGES)])
def test_ranges(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --- options: known strings only; an option that would be ignored is refused ---------------------

OPTIONS = [
    (lambda: op.train.train(_mlp(), (XC, YC), lr=0.1, steps=1, loss="hinge", progress=False), "loss: expected one of"),
    (lambda: op.train.train(_mlp(), (XC, YC), lr=0.1, steps=1, optimizer="lbfgs", progress=False),
     "optimizer: expected one of"),
    (lambda: op.train.train(_mlp(), (XC, YC), lr=0.1, steps=1, on_divergence="ignore", progress=False),
     "on_divergence: expected one of"),
    (lambda: op.ensemble.train_ensemble([_mlp()], (XC, YC), lr=0.1, steps=1, on_divergence="skip"),
     "on_divergence: expected one of"),
    (lambda: op.train.loss_value(torch.randn(12, 3), YC, "l1"), "loss: expected one of"),
    (lambda: op.svm.margin(XS, YS, torch.ones(3), norm="l3"), "norm: expected one of"),
    (lambda: op.margin.descent(XS, YS, 0.1, 5, geometry="l3"), "geometry: expected one of"),
    (lambda: op.models.mlp(4, 8, 1, 3, activation="sigmoid"), "activation: expected one of"),
]


@pytest.mark.parametrize("call, match", OPTIONS, ids=[m.split(":")[0] + f"-{i}" for i, (_, m) in enumerate(OPTIONS)])
def test_options(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("optimizer", ["adam", "adamw"])
def test_momentum_with_adam_is_refused_not_ignored(optimizer):
    with pytest.raises(ValueError, match="momentum: only optimizer='sgd' takes momentum"):
        op.train.train(_mlp(), (XC, YC), lr=0.1, steps=1, optimizer=optimizer, momentum=0.9, progress=False)
    with pytest.raises(ValueError, match="momentum: only optimizer='sgd'"):
        op.ensemble.train_ensemble([_mlp()], (XC, YC), lr=0.1, steps=1, optimizer=optimizer, momentum=0.9)


# --- seeds: ints >= 0 (numpy integers too) or a torch.Generator ----------------------------------

SEEDED = [
    lambda seed: op.data.gaussian_design(3, LAM, seed=seed),
    lambda seed: op.models.mlp(4, 8, 1, 3, seed=seed),
    lambda seed: op.linear.high_norm_interpolant(X, Y, 2.0, seed=seed),
    lambda seed: op.margin.separable_data(5, 2, seed=seed),
    lambda seed: op.factorized.low_rank_matrix(3, 3, 1, seed=seed),
    lambda seed: op.features.random_relu(3, 4, seed=seed),
    lambda seed: op.benign.wishart(3, 5, seed=seed),
    lambda seed: op.train.train(_mlp(), (XC, YC), lr=0.1, steps=1, seed=seed, progress=False),
]


@pytest.mark.parametrize("i", range(len(SEEDED)))
@pytest.mark.parametrize("bad, error", [(1.5, TypeError), ("0", TypeError), (True, TypeError), (-1, ValueError)])
def test_bad_seeds(i, bad, error):
    with pytest.raises(error, match="seed: expected an int >= 0"):
        SEEDED[i](bad)


@pytest.mark.parametrize("i", range(len(SEEDED)))
def test_numpy_integer_seeds_are_ints(i):
    a, b = SEEDED[i](np.int64(5)), SEEDED[i](5)
    if isinstance(a, torch.Tensor):
        assert torch.equal(a, b)


def test_numpy_integers_are_ints_everywhere():
    assert op.risk.ridgeless_risk_finite(np.int64(50), np.int64(100)) == op.risk.ridgeless_risk_finite(50, 100)
    assert op.risk.effective_ranks(LAM, np.int64(1)) == op.risk.effective_ranks(LAM, 1)
    w = op.linear.gd_least_squares(X, Y, lr=np.float32(0.1), steps=np.int64(3))
    assert torch.allclose(w, op.linear.gd_least_squares(X, Y, lr=float(np.float32(0.1)), steps=3))
    spikes = op.benign.spiked_tail_risk(5, [2.0, 1.0], np.int64(50), 0.1, [1.0, 1.0])
    assert torch.isfinite(spikes.bias)


# --- devices ------------------------------------------------------------------------------------


@pytest.mark.parametrize("device, error", [("nodevice", ValueError), (3.5, TypeError)])
def test_bad_device(device, error):
    with pytest.raises(error, match="device: expected"):
        op.train.train(_mlp(), (XC, YC), lr=0.1, steps=1, device=device, progress=False)
    with pytest.raises(error, match="device: expected"):
        op.ensemble.train_ensemble([_mlp()], (XC, YC), lr=0.1, steps=1, device=device)


def test_unavailable_cuda_is_named():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ValueError, match="device: 'cuda' requested but CUDA is not available"):
        op.train.train(_mlp(), (XC, YC), lr=0.1, steps=1, device="cuda", progress=False)


# --- environment variables ----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["off", "false", "0", "no", "OFF", " False "])
def test_progress_off_values(monkeypatch, value):
    monkeypatch.setenv("OVERPARAM_PROGRESS", value)
    assert op.train._progress_default() is False


@pytest.mark.parametrize("value", ["on", "true", "1", "yes", ""])
def test_progress_on_values(monkeypatch, value):
    monkeypatch.setenv("OVERPARAM_PROGRESS", value)
    assert op.train._progress_default() is True


def test_progress_off_shows_no_bar(monkeypatch, capsys):
    monkeypatch.setenv("OVERPARAM_PROGRESS", "off")
    op.train.train(_mlp(), (XC, YC), lr=0.1, steps=3)
    assert "it/s" not in capsys.readouterr().err


def test_progress_unknown_value(monkeypatch):
    monkeypatch.setenv("OVERPARAM_PROGRESS", "maybe")
    with pytest.raises(ValueError, match=r"\$OVERPARAM_PROGRESS='maybe': expected one of"):
        op.train.train(_mlp(), (XC, YC), lr=0.1, steps=1)


def test_bad_device_variable(monkeypatch):
    monkeypatch.setenv("OVERPARAM_DEVICE", "gpu0")
    with pytest.raises(ValueError, match=r"\$OVERPARAM_DEVICE: expected a device"):
        op.device.default()


def test_bad_scale_variable(monkeypatch):
    monkeypatch.setenv("OVERPARAM_SCALE", "huge")
    with pytest.raises(ValueError, match="OVERPARAM_SCALE='huge' is not a scale"):
        op.scale.current()


def _claims(ok: bool):
    c = op.claims.Claims("demo")
    c.check("a", measured=1.0, ok=ok, expect="> 0", statement="s")
    return c


def test_bad_claims_dir_is_named(monkeypatch, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    monkeypatch.setenv("OVERPARAM_CLAIMS_DIR", str(blocker))
    with pytest.raises(op.claims.ClaimsWriteError, match="OVERPARAM_CLAIMS_DIR: could not write"):
        _claims(ok=True).report()


def test_bad_claims_dir_does_not_hide_a_failed_claim(monkeypatch, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    monkeypatch.setenv("OVERPARAM_CLAIMS_DIR", str(blocker))
    with pytest.raises(op.claims.ClaimFailed, match="1 of 1 claims failed") as info:
        _claims(ok=False).report()
    assert "records were not written either" in str(info.value)
    assert "OVERPARAM_CLAIMS_DIR" in str(info.value)


# --- divergence and convergence: a blown-up iteration names its step size -------------------------


def test_gd_least_squares_divergence_names_lr():
    with pytest.raises(DivergenceError, match=r"^lr: gradient descent diverged .* must be below 2/λ_max"):
        op.linear.gd_least_squares(X, Y, lr=1e6, steps=10)
    assert issubclass(DivergenceError, FloatingPointError)  # old `except FloatingPointError` still works


def test_gd_least_squares_just_above_the_threshold_diverges():
    lam_max = torch.linalg.matrix_norm(X, 2).item() ** 2 / X.shape[0]
    op.linear.gd_least_squares(X, Y, lr=1.9 / lam_max, steps=200)  # converges: no error
    with pytest.raises(DivergenceError, match="lr"):
        op.linear.gd_least_squares(X, Y, lr=2.2 / lam_max, steps=200)


def test_gd_path_divergence_is_a_divergence_error():
    with pytest.raises(DivergenceError, match="lr"):
        op.linear.gd_path(X, Y, 1e6, [10])


def _blowup():
    return [op.models.mlp(4, 8, 1, 3, seed=s) for s in range(2)]


def test_train_ensemble_raises_divergence_error():
    with pytest.raises(DivergenceError, match="lower the learning rate"):
        op.ensemble.train_ensemble(_blowup(), (XC, YC), lr=1e6, steps=50, optimizer="sgd", loss="mse")


@pytest.mark.parametrize("path", ["auto", "vmap", "loop"])
def test_train_ensemble_on_divergence_stop(path):
    _, hist = op.ensemble.train_ensemble(_blowup(), (XC, YC), lr=1e6, steps=50, optimizer="sgd", loss="mse",
                                         on_divergence="stop", path=path, eval_every=1)
    assert hist.diverged_at is not None and 1 < hist.diverged_at < 50
    assert len(hist.step) == len(hist.train_loss) <= hist.diverged_at


def test_train_divergence_vs_bad_model():
    hist = op.train.train(nn.Linear(4, 3).double(), (XC, YC), lr=1e6, steps=50, loss="mse",
                          on_divergence="stop", progress=False)
    assert hist.diverged_at is not None
    bad = nn.Linear(4, 3).double()
    with torch.no_grad():
        bad.weight[0, 0] = math.nan
    with pytest.raises(ValueError, match="model: the training loss is nan before any update"):
        op.train.train(bad, (XC, YC), lr=0.1, steps=3, progress=False)


def test_factorized_divergence_names_lr():
    ops = op.factorized.completion((4, 4), 10, seed=0)
    y = ops(op.factorized.low_rank_matrix(4, 4, 1, seed=0))
    with pytest.raises(DivergenceError, match="^lr: gradient descent diverged"):
        op.factorized.train(ops, y, depth=2, scale=1.0, lr=50.0, steps=200, record_every=1)


def test_hard_margin_not_converged_is_reported():
    with pytest.raises(ConvergenceError, match=r"max_iter: .*min margin .* expected >= 1"):
        op.svm.hard_margin(XS, YS, max_iter=1)
    svm = op.svm.hard_margin(XS, YS)  # the default converges: feasible, zero duality gap
    assert op.svm.margin(XS, YS, svm.w).item() == pytest.approx(svm.margin, rel=1e-9)
