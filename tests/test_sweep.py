"""Sweeps: results in grid order, cached with provenance, resumable after a failure,
on a thread pool and on a Dask cluster with a worker killed mid-sweep."""

import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from overparam import sweep


def square(x, log, fail_on=None, die_on=None, sleep=0.0):
    """x², appending x to the file ``log`` (so a test counts the calls made)."""
    time.sleep(sleep)
    if die_on is not None and x == die_on and not Path(log + ".died").exists():
        Path(log + ".died").write_text("once")
        os._exit(1)  # the worker process dies, as when a node is lost
    if fail_on is not None and x == fail_on and not Path(log + ".fixed").exists():
        raise ValueError(f"failing on {x}")
    with open(log, "a") as f:
        f.write(f"{x}\n")
    return {"x": x, "y": x * x}


def calls(log) -> list[int]:
    return sorted(int(s) for s in Path(log).read_text().split()) if Path(log).exists() else []


def test_product_is_in_grid_order():
    grid = sweep.product(width=[8, 16], seed=[0, 1, 2])
    assert grid[:3] == [{"width": 8, "seed": 0}, {"width": 8, "seed": 1}, {"width": 8, "seed": 2}]
    assert len(grid) == 6
    with pytest.raises(ValueError, match="width"):
        sweep.product(width=[])


def test_in_process_run_caches_with_provenance_and_does_not_recompute(tmp_path):
    log = str(tmp_path / "log")
    grid = sweep.product(x=[3, 1, 2], log=[log])
    out = sweep.run(square, grid, cache_dir=tmp_path / "cache")
    assert [r["y"] for r in out] == [9, 1, 4]
    record = sweep.load(tmp_path / "cache", square, grid[0])
    assert record["result"] == {"x": 3, "y": 9} and record["config"] == grid[0]
    prov = record["provenance"]
    assert {"torch", "numpy", "overparam", "scale", "seed", "time", "seconds"} <= set(prov)
    again = sweep.run(square, grid, cache_dir=tmp_path / "cache")
    assert again == out and calls(log) == [1, 2, 3]  # nothing computed twice
    assert sweep.key(square, {"x": 1, "log": log}) == sweep.key(square, {"log": log, "x": 1})


def test_failure_keeps_the_finished_and_a_rerun_resumes(tmp_path):
    log = str(tmp_path / "log")
    grid = sweep.product(x=[1, 2, 3, 4], log=[log], fail_on=[3])
    with pytest.raises(sweep.SweepIncomplete, match="1 of 4 configurations failed") as info:
        sweep.run(square, grid, cache_dir=tmp_path / "cache")
    assert info.value.results[2] is None and info.value.results[3]["y"] == 16
    Path(log + ".fixed").write_text("")
    out = sweep.run(square, grid, cache_dir=tmp_path / "cache")
    assert [r["y"] for r in out] == [1, 4, 9, 16]
    assert calls(log) == [1, 2, 3, 4]  # 3 computed once, after the fix; the rest not again


def test_thread_pool_executor_gives_the_same_results(tmp_path):
    log = str(tmp_path / "log")
    grid = sweep.product(x=list(range(6)), log=[log])
    with ThreadPoolExecutor(2) as pool:
        out = sweep.run(square, grid, executor=pool)
    assert [r["y"] for r in out] == [x * x for x in range(6)]


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="fn"):
        sweep.run(3, [{"x": 1}])
    with pytest.raises(ValueError, match="grid"):
        sweep.run(square, [])
    with pytest.raises(TypeError, match="grid"):
        sweep.run(square, [{"x": object()}])
    with pytest.raises(TypeError, match="executor"):
        sweep.run(square, [{"x": 1}], executor="dask")


def test_dask_local_cluster_survives_a_killed_worker_and_resumes(tmp_path):
    """Two worker processes; one dies mid-sweep. With no retries allowed the sweep stops
    with what finished cached; run again, it computes only the configurations missing."""
    distributed = pytest.importorskip("distributed")
    import cloudpickle
    import dask

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers need not import tests/
    log = str(tmp_path / "log")
    grid = sweep.product(x=list(range(8)), log=[log], die_on=[5], sleep=[0.2])
    cache = tmp_path / "cache"
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster:
            with distributed.Client(cluster) as client:
                with pytest.raises(sweep.SweepIncomplete) as info:
                    sweep.run(square, grid, executor=client.get_executor(), cache_dir=cache)
                assert Path(log + ".died").exists()
                failed = set(info.value.errors)
                assert 5 in failed  # its worker was killed
                done_first = calls(log)
                assert done_first and 5 not in done_first
                first = {p.name: p.read_bytes() for p in cache.glob("*.json")}
                assert len(first) == 8 - len(failed)
            with distributed.Client(cluster) as client:  # the resumed job: a new client
                out = sweep.run(square, grid, executor=client.get_executor(), cache_dir=cache)
    assert [r["y"] for r in out] == [x * x for x in range(8)]
    # the resumed sweep kept every record of the first (not recomputed, not rewritten)
    # and added exactly the failed ones; the log cannot show this, since Dask may re-run
    # a task whose result died with the worker even after the first sweep returned
    second = {p.name: p.read_bytes() for p in cache.glob("*.json")}
    assert {k: second[k] for k in first} == first
    added = [json.loads(second[k])["config"]["x"] for k in set(second) - set(first)]
    assert sorted(added) == sorted(failed)
    assert json.loads(next(cache.glob("*.json")).read_text())["provenance"]["scale"]
