"""Sweeps over configurations: in-process, on a process pool, or on a cluster.

A sweep calls ``fn(**config)`` for every configuration of a grid (say widths × seeds ×
label noise) and returns the results in the grid's order::

    grid = sweep.product(width=[8, 16, 32], seed=[0, 1, 2])
    results = sweep.run(train_and_test, grid, cache_dir="_build/sweeps/dd")

``executor`` is any :class:`concurrent.futures.Executor`: None runs in this process; a
``ProcessPoolExecutor`` uses this machine's cores; a Dask ``Client.get_executor()`` runs on
a cluster (a ``LocalCluster``, or ``dask_jobqueue.SLURMCluster`` on an HPC system).

With ``cache_dir``, each result is written as it arrives to ``<cache_dir>/<key>.json``,
where ``key`` hashes the function's name and the configuration, together with its
provenance (versions, scale, seed, time). A sweep that is interrupted — a worker killed, a
job out of time — raises :class:`SweepIncomplete` after keeping what finished; running it
again computes only the configurations that are missing.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import platform
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor, as_completed
from pathlib import Path
from typing import Any

from overparam import scale


class SweepIncomplete(RuntimeError):
    """Some configurations failed; ``results`` holds the finished ones (None elsewhere)."""

    def __init__(self, message: str, results: list, errors: dict[int, BaseException]):
        super().__init__(message)
        self.results = results
        self.errors = errors


def product(**axes: Iterable) -> list[dict[str, Any]]:
    """The Cartesian product of named axes, as a list of configurations (last axis fastest)."""
    if not axes:
        raise ValueError("axes: expected at least one named axis, e.g. width=[8, 16]")
    values = {}
    for name, axis in axes.items():
        axis = list(axis)
        if not axis:
            raise ValueError(f"{name}: expected a non-empty list of values")
        values[name] = axis
    return [dict(zip(values, combo)) for combo in itertools.product(*values.values())]


def _canonical(config: Mapping[str, Any]) -> str:
    try:
        return json.dumps(dict(config), sort_keys=True, separators=(",", ":"))
    except TypeError as err:
        raise TypeError(f"grid: every configuration must be JSON-serializable ({err})") from None


def _fn_name(fn: Callable) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def key(fn: Callable, config: Mapping[str, Any]) -> str:
    """The cache key of one configuration: a hash of the function's name and the config."""
    text = _fn_name(fn) + "|" + _canonical(config)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def provenance(config: Mapping[str, Any]) -> dict[str, Any]:
    """What produced a result: library versions, scale, seed, machine and time."""
    import numpy
    import torch

    from overparam import __version__

    return {
        "overparam": __version__,
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
        "scale": scale.current(),
        "seed": config.get("seed"),
        "host": platform.node(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _call(fn: Callable, config: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """Run one configuration (on whichever worker the executor chose)."""
    t0 = time.perf_counter()
    result = fn(**config)
    meta = provenance(config)
    meta["seconds"] = time.perf_counter() - t0
    return result, meta


def _write(path: Path, record: dict[str, Any]) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record, indent=1))
    tmp.replace(path)  # atomic: a reader sees the old file or the whole new one


def load(cache_dir: str | os.PathLike, fn: Callable, config: Mapping[str, Any]):
    """The cached record (config, result, provenance) of one configuration, or None."""
    path = Path(cache_dir) / f"{key(fn, config)}.json"
    if not path.is_file():
        return None
    record = json.loads(path.read_text())
    if record.get("config") != json.loads(_canonical(config)):
        return None  # a hash collision or a hand-edited file: recompute
    return record


def run(
    fn: Callable[..., Any],
    grid: Iterable[Mapping[str, Any]],
    executor: Executor | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> list[Any]:
    """``[fn(**config) for config in grid]``, in parallel on ``executor``, resumable.

    Args:
        fn: a function of the configuration's keys returning a JSON-serializable result
            (numbers, lists, dicts). With an executor in other processes it must be
            importable there (defined in a module, not in a notebook cell, unless the
            executor pickles by value, as Dask's cloudpickle does).
        grid: the configurations, each a mapping of JSON-serializable values
            (see :func:`product`).
        executor: None (in this process) or any ``concurrent.futures.Executor``.
        cache_dir: where finished results are kept; None keeps nothing.

    Returns:
        The results, in the order of ``grid``.

    Raises:
        SweepIncomplete: some configurations raised (or their worker died); the others'
            results are cached, so calling again computes only the missing ones.
    """
    if not callable(fn):
        raise TypeError(f"fn: expected a callable, got {type(fn).__name__}")
    configs = [dict(c) for c in grid]
    if not configs:
        raise ValueError("grid: expected at least one configuration")
    for c in configs:
        _canonical(c)
    if executor is not None and not isinstance(executor, Executor):
        raise TypeError(f"executor: expected a concurrent.futures.Executor, got {type(executor).__name__}")
    folder = None
    if cache_dir is not None:
        folder = Path(cache_dir)
        folder.mkdir(parents=True, exist_ok=True)

    results: list[Any] = [None] * len(configs)
    todo = []
    for i, c in enumerate(configs):
        record = load(folder, fn, c) if folder is not None else None
        if record is not None:
            results[i] = record["result"]
        else:
            todo.append(i)

    errors: dict[int, BaseException] = {}

    def finish(i: int, outcome: tuple[Any, dict[str, Any]]) -> None:
        result, meta = outcome
        if folder is not None:
            record = {"config": configs[i], "result": result, "fn": _fn_name(fn), "provenance": meta}
            try:
                json.dumps(record)
            except TypeError as err:
                raise TypeError(f"fn: its result must be JSON-serializable to be cached ({err})") from None
            _write(folder / f"{key(fn, configs[i])}.json", record)
        results[i] = result

    if executor is None:
        for i in todo:
            try:
                finish(i, _call(fn, configs[i]))
            except Exception as err:  # keep going: the others are still worth computing
                errors[i] = err
    else:
        futures = {executor.submit(_call, fn, configs[i]): i for i in todo}
        for future in as_completed(futures):
            i = futures[future]
            try:
                finish(i, future.result())
            except Exception as err:
                errors[i] = err
    if errors:
        lines = [f"  {configs[i]}: {type(e).__name__}: {e}" for i, e in sorted(errors.items())]
        where = f"; the {len(configs) - len(errors)} finished are cached in {folder}" if folder else ""
        raise SweepIncomplete(
            f"{len(errors)} of {len(configs)} configurations failed{where}:\n" + "\n".join(lines[:10]),
            results,
            errors,
        )
    return results
