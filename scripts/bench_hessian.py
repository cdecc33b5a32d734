"""Top Hessian eigenvalues: op.hessian.top_eigenvalues (Lanczos) against PyHessian (power iteration).

    .venv/bin/python scripts/bench_hessian.py [--width 256] [--n 2000] [--k 5] [--threads 2]

Both sides compute the k largest eigenvalues of the Hessian of the mean cross-entropy of
the same float32 tanh MLP (40 → width → width → 10; 78,858 parameters at width 256) on the
same MNIST-1D batch of n inputs. The reference is float64 ARPACK (scipy's eigsh, "LA")
on a LinearOperator of float64 Hessian-vector products of the same model. PyHessian is a
benchmark-only dependency (``pip install --no-deps pyhessian``), never needed by the book;
it draws its start vectors from torch's global RNG, which this script seeds. Times are
CPU seconds of this process (user + sys; not inflated by other processes sharing the
machine) and wall seconds, best of ``--repeat``.
"""

import argparse
import copy

import numpy as np
import torch
from benchtime import timed
from scipy.sparse.linalg import LinearOperator, eigsh

import overparam as op


def reference(model, x, y, k):
    m64 = copy.deepcopy(model).double()
    f, params = op.hessian.loss_fn(m64, "cross_entropy", x.double(), y)
    H = op.hessian.HessianOperator(f, params)
    lin = LinearOperator((H.dim, H.dim), matvec=lambda v: H(torch.from_numpy(np.ascontiguousarray(v).ravel())).numpy(),
                         dtype=np.float64)
    vals = eigsh(lin, k=k, which="LA", tol=1e-12, return_eigenvectors=False)
    return np.sort(vals)[::-1], H.n_products


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--tol", type=float, default=1e-4, help="Lanczos residual tolerance")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    data = op.data.mnist1d(n_train=args.n, n_test=100, seed=0)
    x, y = data.x_train, data.y_train
    model = op.models.mlp(40, args.width, 2, 10, activation="tanh", sigma_w2=1.0, seed=0)
    # a briefly trained network, so the spectrum has the outliers of a real one
    op.train.train(model, data, lr=0.05, steps=200, optimizer="adam", progress=False, device="cpu")
    print(f"model: {op.models.count_parameters(model):,} parameters, batch of {args.n}; {args.threads} threads")

    ref, n_ref = reference(model, x, y, args.k)
    print(f"reference (float64 ARPACK, {n_ref} products): {np.array2string(ref, precision=6)}")

    def ours():
        f, params = op.hessian.loss_fn(model, "cross_entropy", x, y)
        H = op.hessian.HessianOperator(f, params)
        lam = op.hessian.top_eigenvalues(H, None, k=args.k, tol=args.tol, max_iter=200, seed=0)
        return lam.numpy(), H.n_products

    rows = []
    (cpu, wall), (lam, n_prod) = timed(ours, args.repeat)
    rows.append(("overparam Lanczos", cpu, wall, n_prod, lam))
    try:
        from pyhessian import hessian as pyhessian_hessian
    except ImportError:
        print("PyHessian not installed (pip install --no-deps pyhessian): skipping it")
    else:
        def theirs():
            torch.manual_seed(0)
            h = pyhessian_hessian(model, torch.nn.CrossEntropyLoss(), data=(x, y), cuda=False)
            vals, _ = h.eigenvalues(top_n=args.k)
            return np.array(vals), None

        (cpu, wall), (lam, _) = timed(theirs, args.repeat)
        rows.append(("PyHessian (power, tol 1e-3)", cpu, wall, None, lam))
    print(f"{'method':30s} {'CPU s':>7s} {'wall s':>7s} {'HVPs':>5s}  rel. error  eigenvalues")
    for name, cpu, wall, n_prod, lam in rows:
        err = np.linalg.norm(np.sort(lam)[::-1] - ref) / np.linalg.norm(ref)
        print(f"{name:30s} {cpu:7.2f} {wall:7.2f} {n_prod or '-':>5}  {err:10.2e}  {np.array2string(lam, precision=4)}")
    if len(rows) == 2:
        print(f"speed-up (CPU time): {rows[1][1] / rows[0][1]:.1f}x; (wall): {rows[1][2] / rows[0][2]:.1f}x")


if __name__ == "__main__":
    main()
