"""Speed of the two empirical-NTK methods of op.ntk.empirical_ntk on one wide MLP.

    .venv/bin/python scripts/bench_ntk.py [--width 4096] [--depth 1] [--n 200] [--outputs 1]

Jacobian contraction (materialize J on chunks of inputs, contract) against NTK-vector
products (a vjp and a jvp per output basis vector, never materializing J), on the Gram
matrix of --n inputs. Both give the same kernel (checked here, and in float64 by
tests/test_ntk.py). Times are CPU seconds of this process (user + sys), not inflated by
other processes sharing the machine, and wall seconds; best of --repeat.
"""

import argparse

import torch
from benchtime import timed

import overparam as op


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--width", type=int, default=4096)
    ap.add_argument("--depth", type=int, default=1)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--d-in", type=int, default=40)
    ap.add_argument("--outputs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    net = op.models.mlp(args.d_in, args.width, args.depth, args.outputs, parameterization="ntk", seed=0)
    x = torch.randn(args.n, args.d_in, generator=torch.Generator().manual_seed(0))
    n_params = op.models.count_parameters(net)
    print(f"MLP d_in={args.d_in} width={args.width} depth={args.depth} outputs={args.outputs} "
          f"({n_params:,} parameters), Gram matrix of {args.n} inputs, {args.threads} threads")
    kernels = {}
    for method in ("jacobian", "ntvp"):
        (cpu, wall), kernels[method] = timed(lambda m=method: op.ntk.empirical_ntk(net, x, x, method=m), args.repeat)
        print(f"  {method:9s} cpu {cpu:7.2f} s   wall {wall:7.2f} s")
    a, b = kernels["jacobian"], kernels["ntvp"]
    print(f"  max relative difference between the methods: {((a - b).abs().max() / a.abs().max()).item():.1e}")


if __name__ == "__main__":
    main()
