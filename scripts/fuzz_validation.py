"""Call every public library function with typical mistakes and count what happens.

Each call starts from a valid baseline and changes one argument to a typical mistake
(a NaN or inf in a tensor, a wrong shape, a negative or non-finite number, a string
where a number goes, an unknown option, a float or bool seed, a bad device). Outcomes:

* clear  -- an exception whose message names the changed argument;
* deep   -- any other exception (a torch/numpy error from deep inside, or no name);
* silent -- no exception: the mistake was accepted.

A second group of calls passes inputs that the policy says must be *accepted*
(numpy integers for ints and seeds, integer spectra, lists where array-likes are
documented); a rejection there counts as ``wrongly rejected``.

Run: ``.venv/bin/python scripts/fuzz_validation.py [-v]`` (a few seconds).
"""

from __future__ import annotations

import math
import os
import re
import signal
import sys
import warnings
from collections import Counter

import numpy as np
import torch

os.environ.setdefault("OVERPARAM_PROGRESS", "0")
os.environ.setdefault("OVERPARAM_DEVICE", "cpu")
torch.set_default_dtype(torch.float64)

import overparam as op  # noqa: E402

VERBOSE = "-v" in sys.argv
g = torch.Generator().manual_seed(0)
X = torch.randn(6, 10, generator=g)
y = torch.randn(6, generator=g)
Xs, ys, _ = op.margin.separable_data(8, 3, margin=0.5, seed=1)
lam = torch.tensor([3.0, 2.0, 1.0, 0.5])
spec = torch.linspace(1, 0.01, 40)
model = lambda: op.models.mlp(4, 8, 1, 3, seed=0)  # noqa: E731
xc = torch.randn(12, 4, generator=g)
yc = torch.randint(0, 3, (12,), generator=g)
ops_c = op.factorized.completion((4, 5), 12, seed=0)
W0 = op.factorized.low_rank_matrix(4, 5, 1, seed=0)
y_c = ops_c(W0)
svm0 = op.svm.hard_margin(Xs, ys)
lay = op.features.random_relu(4, 16, seed=0)
xl = torch.rand(3, 20, generator=g) * 2 - 1
split = op.data.Split(xc, yc, xc[:4], yc[:4])


def clone(v):
    return v.clone() if isinstance(v, torch.Tensor) else v


# name -> (callable, baseline kwargs)
SPECS = {
    "linear.svd": (op.linear.svd, dict(X=X)),
    "linear.min_norm": (op.linear.min_norm, dict(X=X, y=y)),
    "linear.null_space": (op.linear.null_space, dict(X=X)),
    "linear.project_to_solutions": (op.linear.project_to_solutions, dict(X=X, y=y, w0=torch.ones(10))),
    "linear.gd_least_squares": (op.linear.gd_least_squares, dict(X=X, y=y, lr=0.1, steps=5)),
    "linear.gd_path": (op.linear.gd_path, dict(X=X, y=y, lr=0.1, steps=torch.tensor([0, 3]))),
    "linear.ridge": (op.linear.ridge, dict(X=X, y=y, alpha=0.1)),
    "linear.high_norm_interpolant": (op.linear.high_norm_interpolant, dict(X=X, y=y, norm_ratio=2.0, seed=1)),
    "linear.gd_shrinkage": (op.linear.gd_shrinkage, dict(eigenvalues=lam, lr=0.1, steps=3)),
    "linear.ridge_shrinkage": (op.linear.ridge_shrinkage, dict(eigenvalues=lam, alpha=0.5)),
    "risk.ridgeless_risk": (op.risk.ridgeless_risk, dict(gamma=0.5, signal=1.0, noise=1.0)),
    "risk.spectrum": (op.risk.spectrum, dict(eigenvalues=lam)),
    "risk.tail_ranks": (op.risk.tail_ranks, dict(eigenvalues=lam)),
    "risk.effective_ranks": (op.risk.effective_ranks, dict(eigenvalues=lam, k=1)),
    "risk.ridgeless_risk_finite": (op.risk.ridgeless_risk_finite, dict(n=10, p=20, signal=1.0, noise=1.0)),
    "risk.ridge_risk": (op.risk.ridge_risk, dict(gamma=0.5, alpha=0.1, signal=1.0, noise=1.0)),
    "risk.optimal_ridge_risk": (op.risk.optimal_ridge_risk, dict(gamma=0.5, signal=1.0, noise=1.0)),
    "risk.monte_carlo_risk": (op.risk.monte_carlo_risk, dict(n=8, ps=[4, 12], alphas=[0.0], signal=1.0,
                                                             noise=1.0, seeds=[0])),
    "data.gaussian_design": (op.data.gaussian_design, dict(n=5, eigenvalues=lam, seed=0)),
    "data.teacher_regression": (op.data.teacher_regression, dict(n_train=5, n_test=3, eigenvalues=lam,
                                                                 w_star=torch.ones(4), noise=0.1, seed=0)),
    "data.mnist1d": (op.data.mnist1d, dict(n_train=20, n_test=10, label_noise=0.1, shuffle_pixels=False,
                                           seed=0)),
    "models.mlp": (op.models.mlp, dict(d_in=4, width=8, depth=1, d_out=3, activation="relu",
                                       parameterization="standard", sigma_w2=2.0, sigma_b2=0.0, seed=0)),
    "models.count_parameters": (op.models.count_parameters, dict(model=model())),
    "train.loss_value": (op.train.loss_value, dict(outputs=torch.randn(12, 3), targets=yc, loss="mse")),
    "train.evaluate": (op.train.evaluate, dict(model=model(), x=xc, y=yc, loss="cross_entropy", batch_size=4)),
    "train.train": (op.train.train, dict(model=model(), data=(xc, yc), lr=0.1, steps=3, batch_size=4,
                                         loss="cross_entropy", optimizer="sgd", momentum=0.0,
                                         weight_decay=0.0, eval_every=1, seed=0, on_divergence="raise",
                                         progress=False, device="cpu")),
    "ensemble.train_ensemble": (op.ensemble.train_ensemble, dict(models=[model(), model()], data=(xc, yc),
                                                                 lr=0.01, steps=3, loss="cross_entropy",
                                                                 optimizer="adam", momentum=0.0,
                                                                 weight_decay=0.0, eval_every=1,
                                                                 device="cpu")),
    "ensemble.stack": (op.ensemble.stack, dict(models=[model(), model()])),
    "capacity.legendre_features": (op.capacity.legendre_features, dict(x=xl, degree=3)),
    "capacity.legendre_excess_risk": (op.capacity.legendre_excess_risk, dict(x=xl, y=xl.clone(),
                                                                             coef=torch.ones(3),
                                                                             degrees=[1, 2])),
    "capacity.vapnik_bound": (op.capacity.vapnik_bound, dict(vc_dim=10, n=100, delta=0.05, train_error=0.0)),
    "capacity.interpolating_relu_net": (op.capacity.interpolating_relu_net, dict(x=xc, y=torch.randn(12),
                                                                                 seed=0)),
    "capacity.chance_interval": (op.capacity.chance_interval, dict(y_true=yc, y_pred=yc.flip(0), n_classes=3,
                                                                   z=3.0)),
    "capacity.steps_to_fit": (op.capacity.steps_to_fit, dict(steps=[0, 1, 2], train_acc=[0.1, 0.5, 1.0],
                                                             level=1.0)),
    "svm.signed_points": (op.svm.signed_points, dict(X=Xs, y=ys)),
    "svm.is_separable": (op.svm.is_separable, dict(X=Xs, y=ys)),
    "svm.margin": (op.svm.margin, dict(X=Xs, y=ys, w=svm0.w, norm="l2")),
    "svm.hard_margin": (op.svm.hard_margin, dict(X=Xs, y=ys, tol=1e-12, max_iter=200_000)),
    "svm.max_margin": (op.svm.max_margin, dict(X=Xs, y=ys, norm="linf")),
    "margin.separable_data": (op.margin.separable_data, dict(n=8, d=3, margin=0.1, seed=0)),
    "margin.loss_value": (op.margin.loss_value, dict(X=Xs, y=ys, w=torch.ones(3), loss="logistic")),
    "margin.gradient": (op.margin.gradient, dict(X=Xs, y=ys, w=torch.ones(3), loss="exponential")),
    "margin.descent": (op.margin.descent, dict(X=Xs, y=ys, lr=0.1, steps=20, record=[0, 10, 20],
                                               loss="logistic", geometry="l2")),
    "margin.asymptote": (op.margin.asymptote, dict(X=Xs, y=ys, lr=0.1, svm=svm0)),
    "margin.angle": (op.margin.angle, dict(W=torch.randn(4, 3), v=torch.ones(3))),
    "factorized.low_rank_matrix": (op.factorized.low_rank_matrix, dict(d1=4, d2=5, rank=2, seed=0)),
    "factorized.completion": (op.factorized.completion, dict(shape=(4, 5), m=10, seed=0)),
    "factorized.gaussian_sensing": (op.factorized.gaussian_sensing, dict(shape=(4, 5), m=10, seed=0)),
    "factorized.init_factors": (op.factorized.init_factors, dict(shape=(4, 5), depth=2, scale=0.1, seed=0)),
    "factorized.product": (op.factorized.product, dict(factors=[torch.randn(2, 3, 5), torch.randn(2, 4, 3)])),
    "factorized.train": (op.factorized.train, dict(ops=ops_c, y=y_c, depth=2, scale=0.1, lr=0.1, steps=5,
                                                   record_every=1, seed=0, tol=0.0)),
    "nuclear.nuclear_norm": (op.nuclear.nuclear_norm, dict(W=W0)),
    "nuclear.svt": (op.nuclear.svt, dict(X=W0, tau=0.5)),
    "nuclear.effective_rank": (op.nuclear.effective_rank, dict(singular_values=torch.tensor([3.0, 1.0]))),
    "nuclear.min_nuclear_norm": (op.nuclear.min_nuclear_norm, dict(ops=ops_c, y=y_c, tol=1e-6, max_iter=50)),
    "features.random_relu": (op.features.random_relu, dict(d=4, n_features=16, bias_std=0.1, seed=0)),
    "features.relu_features": (op.features.relu_features, dict(x=xc, layer=lay, n_features=8)),
    "features.ridge_sweep": (op.features.ridge_sweep, dict(x_train=xc, y_train=yc, x_test=xc[:4],
                                                           y_test=yc[:4], n_features=[4, 16], alphas=[0.0, 0.1],
                                                           n_classes=3, bias_std=0.0, seed=0)),
    "benign.spiked_spectrum": (op.benign.spiked_spectrum, dict(n_spikes=2, tail_dim=10, tail_value=0.1,
                                                               spike=1.0)),
    "benign.power_law_spectrum": (op.benign.power_law_spectrum, dict(p=10, alpha=1.0)),
    "benign.critical_index": (op.benign.critical_index, dict(eigenvalues=spec, n=5, b=1.0)),
    "benign.bound_terms": (op.benign.bound_terms, dict(eigenvalues=spec, n=5, b=1.0)),
    "benign.risk_of": (op.benign.risk_of, dict(w=torch.ones(4), w_star=torch.zeros(4), eigenvalues=lam)),
    "benign.noise_profile": (op.benign.noise_profile, dict(X=torch.randn(5, 40, generator=g), eigenvalues=spec,
                                                           noise=1.0)),
    "benign.excess_risk": (op.benign.excess_risk, dict(X=torch.randn(5, 40, generator=g), w_star=torch.ones(40),
                                                       eigenvalues=spec, noise=1.0)),
    "benign.wishart": (op.benign.wishart, dict(n=4, dof=10, seed=0)),
    "benign.spiked_tail_risk": (op.benign.spiked_tail_risk, dict(n=5, spikes=[2.0, 1.0], tail_dim=50,
                                                                 tail_value=0.1, w_star=[1.0, 1.0],
                                                                 noise=1.0, seed=0)),
    "plotting.figure": (op.plotting.figure, dict(ncols=1, nrows=1, width=6.4, height=3.6)),
    "plotting.glue": (op.plotting.glue, dict(name="x", value=1.0, display=False)),
    "claims.Claims": (op.claims.Claims, dict(chapter="demo")),
    "claims.Claims.check": (lambda **kw: op.claims.Claims("demo").check(**kw),
                            dict(id="a", measured=1.0, ok=True, expect="> 0", statement="s", source="x")),
}

OPTION_ARGS = {"loss", "optimizer", "norm", "geometry", "activation", "parameterization", "on_divergence"}
SEED_ARGS = {"seed"}
BOOL_ARGS = {"shuffle_pixels", "progress", "display"}
DEVICE_ARGS = {"device"}
# arguments whose value may legitimately be zero / negative / any real: don't count those mutations
ZERO_OK = {("linear.gd_least_squares", "steps"), ("train.train", "steps"), ("ensemble.train_ensemble", "steps"),
           ("margin.separable_data", "margin"), ("models.mlp", "depth"), ("models.mlp", "sigma_b2"),
           ("train.train", "momentum"), ("train.train", "weight_decay"), ("ensemble.train_ensemble", "momentum"),
           ("ensemble.train_ensemble", "weight_decay"), ("factorized.train", "tol"), ("risk.ridgeless_risk", "noise"),
           ("risk.ridgeless_risk", "signal"), ("risk.ridge_risk", "noise"), ("risk.ridge_risk", "signal"),
           ("risk.optimal_ridge_risk", "noise"), ("risk.ridgeless_risk_finite", "noise"),
           ("risk.ridgeless_risk_finite", "signal"), ("risk.monte_carlo_risk", "noise"),
           ("risk.monte_carlo_risk", "signal"), ("data.teacher_regression", "noise"), ("linear.ridge", "alpha"),
           ("linear.ridge_shrinkage", "alpha"), ("features.random_relu", "bias_std"), ("benign.noise_profile",
                                                                                        "noise"),
           ("benign.excess_risk", "noise"), ("benign.spiked_tail_risk", "noise"), ("benign.power_law_spectrum",
                                                                                    "alpha"),
           ("capacity.legendre_features", "degree"), ("capacity.vapnik_bound", "train_error"),
           ("data.mnist1d", "label_noise"), ("nuclear.svt", "tau"), ("benign.spiked_spectrum", "n_spikes"),
           ("factorized.init_factors", "scale"), ("factorized.train", "scale"), ("capacity.steps_to_fit", "level"),
           ("margin.angle", "W"), ("features.ridge_sweep", "bias_std")}
NEG_OK = {("factorized.init_factors", "scale")}


def mutations(fname: str, arg: str, value):
    """(label, bad value) pairs for one argument, by the kind of its baseline value."""
    out = []
    if arg in SEED_ARGS:
        return [("float seed", 1.5), ("str seed", "0"), ("bool seed", True), ("negative seed", -1)]
    if arg in OPTION_ARGS:
        return [("unknown option", "bogus"), ("non-str option", 3)]
    if arg in BOOL_ARGS:
        return [("str bool", "no"), ("int bool", 2)]
    if arg in DEVICE_ARGS:
        return [("unknown device", "nodevice"), ("int device", 3.5)]
    if isinstance(value, torch.Tensor):
        if value.is_floating_point() and value.numel():
            for label, bad in (("nan", math.nan), ("inf", math.inf)):
                t = value.clone()
                t.view(-1)[0] = bad
                out.append((f"{label} in tensor", t))
        out.append(("extra dim", value[None].repeat(2, *([1] * value.ndim))))
        if value.ndim >= 1:
            out.append(("empty", value[:0]))
        if value.ndim >= 1 and value.shape[-1] > 1:
            out.append(("wrong length", value[..., :-1]))
        out.append(("str for tensor", "abc"))
        out.append(("None for tensor", None))
        return out
    if isinstance(value, bool):
        return [("str bool", "no")]
    if isinstance(value, int):
        out = [("float for int", 2.5), ("str for int", "3"), ("bool for int", True), ("None for int", None),
               ("negative int", -1)]
        if (fname, arg) not in ZERO_OK:
            out.append(("zero int", 0))
        return out
    if isinstance(value, float):
        out = [("nan", math.nan), ("inf", math.inf), ("str for float", "0.1"), ("None for float", None)]
        if (fname, arg) not in NEG_OK:
            out.append(("negative", -1.0))
        return out
    if isinstance(value, str):
        return [("non-str", 3), ("empty str", "")]
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, (int, float)) for v in value):
        return [("nan in list", [math.nan, *value[1:]]), ("empty list", []), ("str in list", ["a", *value[1:]]),
                ("negative in list", [-1, *value[1:]])]
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, torch.Tensor) for v in value):
        x0, y0 = value
        bad = x0.clone()
        bad[0, 0] = math.nan
        return [("nan in data", (bad, y0)), ("length mismatch", (x0, y0[:-1])), ("list data", (x0.tolist(), y0)),
                ("None data", None)]
    return [("None", None), ("str", "abc")]


# Inputs the policy accepts: the call must succeed.
ACCEPT = [
    ("np.int64 seed", "data.gaussian_design", "seed", np.int64(3)),
    ("np.int64 n", "data.gaussian_design", "n", np.int64(5)),
    ("np.int64 steps", "linear.gd_least_squares", "steps", np.int64(5)),
    ("np.int64 k", "risk.effective_ranks", "k", np.int64(1)),
    ("np.int64 n", "risk.ridgeless_risk_finite", "n", np.int64(50)),
    ("np.float32 lr", "linear.gd_least_squares", "lr", np.float32(0.1)),
    ("int spectrum", "linear.ridge_shrinkage", "eigenvalues", [1, 2]),
    ("int spectrum", "linear.gd_shrinkage", "eigenvalues", [1, 2]),
    ("list spectrum", "risk.spectrum", "eigenvalues", [3.0, 1.0]),
    ("np spectrum", "data.gaussian_design", "eigenvalues", np.array([2.0, 1.0])),
    ("np.int64 seed", "models.mlp", "seed", np.int64(2)),
    ("np.int64 tail_dim", "benign.spiked_tail_risk", "tail_dim", np.int64(50)),
]


class Timeout(Exception):
    pass


def _alarm(*_):
    raise Timeout


def outcome(fname: str, arg: str, kw: dict) -> tuple[str, str]:
    fn, _ = SPECS[fname]
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(20)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            fn(**kw)
    except Timeout:
        return "deep", "timeout"
    except Exception as err:  # noqa: BLE001
        msg = f"{type(err).__name__}: {err}"
        named = re.search(rf"(?<![A-Za-z_]){re.escape(arg)}(?![A-Za-z_(])", str(err)) is not None
        return ("clear" if named else "deep"), msg.splitlines()[0][:160]
    finally:
        signal.alarm(0)
        import matplotlib.pyplot as plt

        plt.close("all")
    return "silent", ""


def main() -> None:
    counts: Counter = Counter()
    per_module: dict[str, Counter] = {}
    rows = []
    for fname, (_, base) in SPECS.items():
        for arg, value in base.items():
            for label, bad in mutations(fname, arg, value):
                kw = {k: clone(v) for k, v in base.items()}
                kw[arg] = bad
                if fname in ("models.count_parameters", "train.evaluate", "train.train"):
                    kw["model"] = model() if arg != "model" else bad
                if fname in ("ensemble.train_ensemble", "ensemble.stack") and arg != "models":
                    kw["models"] = [model(), model()]
                res, msg = outcome(fname, arg, kw)
                counts[res] += 1
                per_module.setdefault(fname.split(".")[0], Counter())[res] += 1
                rows.append((res, fname, arg, label, msg))
    accepted = Counter()
    for label, fname, arg, good in ACCEPT:
        kw = {k: clone(v) for k, v in SPECS[fname][1].items()}
        kw[arg] = good
        res, msg = outcome(fname, arg, kw)
        accepted["accepted" if res == "silent" else "wrongly rejected"] += 1
        if res != "silent":
            rows.append(("REJECTED", fname, arg, label, msg))
    if VERBOSE:
        for row in sorted(rows):
            print(" | ".join(map(str, row)))
    total = sum(counts.values())
    print(f"{total} calls with mistakes over {len(SPECS)} functions:")
    for k in ("clear", "deep", "silent"):
        print(f"  {k:7s} {counts[k]:4d}  ({100 * counts[k] / total:.0f} %)")
    print("by module:", {m: dict(c) for m, c in sorted(per_module.items())})
    print(f"valid inputs: {dict(accepted)} of {len(ACCEPT)}")


if __name__ == "__main__":
    main()
