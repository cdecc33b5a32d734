"""Speed of the three ways op.ensemble trains E same-shaped models (chapter 05's sweep).

    .venv/bin/python scripts/bench_ensemble.py [--width 32] [--members 5] [--depth 1]
        [--steps 100] [--batch-size N] [--threads 2] [--paths loop,vmap,fused]

All paths do the same work and give the same numbers (tests/test_ensemble.py): Adam on
the same MNIST-1D data (n = 4000 by default), E MLPs initialized with seeds 0..E−1,
evaluated at the same steps. ``loop`` trains each model alone with op.train.train;
``vmap`` is torch.func.vmap over the stacked parameters; ``fused`` puts every member's
first layer in one matrix product (op.ensemble.fused_forward). Times are CPU seconds of
this process (user + sys), less inflated than wall time when other processes share the
machine, and wall seconds; each path is timed ``--repeat`` times, the best kept.
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
        cpu = c1.user - c0.user + c1.system - c0.system
        best = min(best, (cpu, time.perf_counter() - t0))
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--members", type=int, default=5)
    ap.add_argument("--depth", type=int, default=1)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--paths", default="loop,vmap,fused")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    data = op.data.mnist1d(n_train=args.n, n_test=1000, label_noise=0.15, seed=0)
    kw = dict(lr=1e-3, steps=args.steps, optimizer="adam", eval_every=args.steps,
              batch_size=args.batch_size, device="cpu")

    def run(path):
        models = [op.models.mlp(40, args.width, args.depth, 10, seed=s)
                  for s in range(args.members)]
        op.ensemble.train_ensemble(models, data, path=path, **kw)

    print(f"width={args.width} depth={args.depth} members={args.members} steps={args.steps} "
          f"batch={args.batch_size or 'full'} n={args.n} threads={args.threads}")
    times = {}
    for path in args.paths.split(","):
        times[path] = timed(lambda p=path: run(p), args.repeat)
        print(f"{path:>6}: {times[path][0]:7.2f} s CPU {times[path][1]:7.2f} s wall")
    if "loop" in times:
        for path, (cpu, wall) in times.items():
            if path != "loop":
                print(f"speed-up of {path} over loop: {times['loop'][0] / cpu:.2f}x CPU, "
                      f"{times['loop'][1] / wall:.2f}x wall")


if __name__ == "__main__":
    main()
