"""Speed of training E models together (vmapped, op.ensemble) against a loop of E separate models.

    .venv/bin/python scripts/bench_ensemble.py [--width 32] [--members 5] [--steps 300]

Both sides do the same work: full-batch Adam on the same MNIST-1D data, E MLPs initialized
with seeds 0..E−1, evaluated at the same steps; the loop uses op.train.train. Times are
CPU seconds of this process (user + sys), which are not inflated by other processes
sharing the machine, and wall seconds; each side is timed `--repeat` times, best kept.
"""

import argparse
import os
import time

import torch

import overparam as op


def timed(fn, repeat):
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), os.times()
        fn()
        c1 = os.times()
        best = min(best, (c1.user - c0.user + c1.system - c0.system, time.perf_counter() - t0))
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--members", type=int, default=5)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    data = op.data.mnist1d(n_train=args.n, n_test=1000, label_noise=0.15, seed=0)
    seeds = range(args.members)
    kw = dict(lr=1e-2, steps=args.steps, optimizer="adam", eval_every=args.steps)

    def loop():
        for s in seeds:
            op.train.train(op.models.mlp(40, args.width, 1, 10, seed=s), data, progress=False, device="cpu", **kw)

    def stacked():
        op.ensemble.train_ensemble([op.models.mlp(40, args.width, 1, 10, seed=s) for s in seeds], data,
                                   device="cpu", **kw)

    cpu_loop, wall_loop = timed(loop, args.repeat)
    cpu_vmap, wall_vmap = timed(stacked, args.repeat)
    print(f"width={args.width} members={args.members} steps={args.steps} n={args.n} threads={args.threads}")
    print(f"loop of separate models: {cpu_loop:.2f} s CPU, {wall_loop:.2f} s wall")
    print(f"vmapped ensemble:        {cpu_vmap:.2f} s CPU, {wall_vmap:.2f} s wall")
    print(f"speed-up: {cpu_loop / cpu_vmap:.2f}x CPU, {wall_loop / wall_vmap:.2f}x wall")


if __name__ == "__main__":
    main()
