"""Run a chapter without Jupyter: for a batch job on a GPU node or a cluster.

::

    python -m overparam run notebooks/07_ntk.md --scale paper --out runs/ntk

executes the chapter (its MyST ``.md`` source or its ``.ipynb``) in a fresh kernel at the
given scale, writes the executed notebook to ``<out>/<slug>.ipynb`` and the claim records to
``<out>/claims/<scale>/<chapter>.json``, prints the claims, and exits non-zero when a cell
fails or a claim does not hold (exit status 1), or when the arguments are wrong (2).
Needs ``jupytext``, ``nbclient`` and ``ipykernel`` (all in the book's requirements).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

SCALES = ("test", "book", "paper")


def _need(module: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise SystemExit(
            f"overparam run needs the package {module!r}: pip install jupytext nbclient ipykernel"
        ) from None


def run_chapter(path: Path, scale: str, out: Path, timeout: int = 3600) -> int:
    """Execute one chapter; return 0 if every cell ran and every claim held, else 1."""
    jupytext = _need("jupytext")
    nbclient = _need("nbclient")
    nb = jupytext.read(path)
    slug = path.stem
    out.mkdir(parents=True, exist_ok=True)
    claims_dir = out / "claims"
    env = {"OVERPARAM_SCALE": scale, "OVERPARAM_CLAIMS_DIR": str(claims_dir.resolve()), "OVERPARAM_PROGRESS": "0"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits this process's environment
    t0 = time.time()
    status, error = 0, None
    try:
        client = nbclient.NotebookClient(
            nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
        )
        client.execute()
    except nbclient.exceptions.CellExecutionError as err:
        status, error = 1, err
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    executed = out / f"{slug}.ipynb"
    jupytext.write(nb, executed, fmt="ipynb")
    seconds = time.time() - t0
    print(f"{slug}: executed at scale {scale} in {seconds:.0f} s -> {executed}")
    records = sorted(claims_dir.glob(f"{scale}/*.json"))
    for record_file in records:
        for r in json.loads(record_file.read_text()):
            print(f"  {'ok  ' if r['ok'] else 'FAIL'} {r['id']}: {r['measured']} (expect {r['expect']})")
    if error is not None:
        last = str(error).strip().splitlines()
        print(f"{slug}: a cell failed: {last[-1] if last else error}", file=sys.stderr)
    elif not records:
        print(f"{slug}: the chapter wrote no claim records", file=sys.stderr)
        status = 1
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m overparam", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute a chapter headless and check its claims")
    run.add_argument("chapter", type=Path, help="notebooks/NN_slug.md (or .ipynb)")
    run.add_argument("--scale", choices=SCALES, default=os.environ.get("OVERPARAM_SCALE", "book"))
    run.add_argument("--out", type=Path, default=None, help="output folder (default runs/<slug>-<scale>)")
    run.add_argument("--timeout", type=int, default=3600, help="seconds per cell (default 3600)")
    args = parser.parse_args(argv)
    if args.chapter.suffix not in (".md", ".ipynb") or not args.chapter.is_file():
        parser.error(f"chapter: expected an existing .md or .ipynb file, got {args.chapter}")
    if args.timeout <= 0:
        parser.error(f"--timeout: expected seconds > 0, got {args.timeout}")
    out = args.out or Path("runs") / f"{args.chapter.stem}-{args.scale}"
    return run_chapter(args.chapter, args.scale, out, args.timeout)
