"""Execute every chapter of the book in parallel, into the cache the book build reads.

``make html`` runs this before ``jupyter-book build``: it empties the jupyter-cache
(``_build/.jupyter_cache``), executes every MyST notebook listed in ``_toc.yml`` on
``--jobs`` kernels at once (default: one per CPU core), and caches each executed
notebook under the hash myst-nb computes, so that Sphinx (``execute_notebooks: cache``)
renders this run's outputs instead of executing the chapters again one by one. Every
build re-runs every chapter; nothing from an earlier build is reused.

Each kernel gets ``cores // jobs`` threads (OMP, MKL, OpenBLAS, torch), at least one.
The kernels write their claim records as usual (``$OVERPARAM_CLAIMS_DIR`` or
``_build/claims``); given ``--claims``, the chapters that took longest in the previous run
are started first. Exits 1, after all chapters ran, if any chapter failed, printing each
traceback.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import re
import resource
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def toc_notebooks(root: Path) -> list[Path]:
    """The pages of ``_toc.yml`` that are MyST notebooks (a ``kernelspec`` in the front matter)."""
    found = []
    for entry in re.findall(r"(?:file|root):\s*(\S+)", (root / "_toc.yml").read_text()):
        path = root / f"{entry}.md"
        if path.is_file() and re.match(r"---\n(?:.*\n)*?kernelspec:", path.read_text()):
            found.append(path)
    return found


def _md_config(root: Path):
    from myst_parser.config.main import MdParserConfig

    config = (root / "_config.yml").read_text()
    block = re.search(r"myst_enable_extensions:\n((?:\s+- \S+\n)+)", config)
    extensions = re.findall(r"- (\S+)", block.group(1)) if block else []
    return MdParserConfig(enable_extensions=set(extensions))


def read(path: Path, root: Path = ROOT):
    """The notebook exactly as myst-nb reads it during the build (so the cache hashes match)."""
    from myst_nb.core.read import read_myst_markdown_notebook

    return read_myst_markdown_notebook(
        path.read_text("utf8"), config=_md_config(root), add_source_map=True, path=str(path)
    )


def _execute(path: str, timeout: int) -> tuple[str, dict | None, float, float, str | None]:
    """Run one notebook in its own folder; return (path, notebook, wall s, kernel CPU s, error)."""
    import nbformat
    from jupyter_cache.executors.utils import single_nb_execution

    nb = read(Path(path))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.time()
    try:
        result = single_nb_execution(nb, cwd=str(Path(path).parent), timeout=timeout,
                                     allow_errors=False, meta_override=True)
    except Exception:  # the kernel died, or could not start: report it like a failed cell
        import traceback

        return path, None, time.time() - start, 0.0, traceback.format_exc()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if result.err is not None:
        return path, None, result.time, cpu, result.exc_string or repr(result.err)
    return path, nbformat.writes(result.nb), result.time, cpu, None


def _previous_seconds(claims: Path, paths: list[Path]) -> dict[Path, float]:
    """Each chapter's time in the last run at this scale (0 when unknown), to start long ones first."""
    out = {}
    for path in paths:
        record = claims / f"{path.stem.split('_', 1)[-1]}.json"
        try:
            out[path] = max(r["seconds"] for r in json.loads(record.read_text()))
        except (OSError, ValueError, KeyError, TypeError):
            out[path] = 0.0
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("OVERPARAM_JOBS", os.cpu_count() or 1)),
                        help="chapters executed at once (default: $OVERPARAM_JOBS or the number of cores)")
    parser.add_argument("--cache", type=Path, default=ROOT / "_build" / ".jupyter_cache")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    parser.add_argument("--claims", type=Path, default=None,
                        help="this scale's claim-record folder: read for the previous run's chapter "
                             "times (longest chapters start first), then emptied")
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook in _toc.yml")
    args = parser.parse_args()
    if args.jobs < 1:
        parser.error(f"--jobs: expected at least 1, got {args.jobs}")

    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    paths = [p.resolve() for p in args.notebooks] or toc_notebooks(ROOT)
    jobs = min(args.jobs, len(paths)) or 1
    threads = max(1, (os.cpu_count() or 1) // jobs)
    for var in THREAD_VARS:  # inherited by every kernel the workers start
        os.environ[var] = str(threads)
    scale = os.environ.get("OVERPARAM_SCALE", "book")
    if args.claims is not None:
        previous = _previous_seconds(args.claims, paths)
        paths.sort(key=lambda p: -previous[p])
        shutil.rmtree(args.claims, ignore_errors=True)  # only this run's records remain

    shutil.rmtree(args.cache, ignore_errors=True)  # every build executes every chapter
    cache = get_cache(str(args.cache))
    print(f"executing {len(paths)} notebooks at scale {scale}: {jobs} at a time, "
          f"{threads} thread(s) each", flush=True)
    start = time.time()
    failed = []
    with cf.ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(_execute, str(p), args.timeout) for p in paths]
        for future in cf.as_completed(futures):
            path, text, seconds, cpu, error = future.result()
            name = Path(path).relative_to(ROOT) if Path(path).is_relative_to(ROOT) else path
            if error is not None:
                failed.append(str(name))
                print(f"FAILED   {name} after {seconds:.1f} s:\n{error}", flush=True)
                continue
            record = cache.add_nb_to_project(path, read_data={"name": "myst_nb_md", "type": "plugin"})
            cache.cache_notebook_bundle(
                CacheBundleIn(nbformat.reads(text, as_version=4), record.uri,
                              data={"execution_seconds": seconds}),
                check_validity=False, overwrite=True,
            )
            print(f"executed {name} in {seconds:6.1f} s wall, {cpu:6.1f} s CPU", flush=True)
    print(f"all notebooks executed in {time.time() - start:.1f} s wall", flush=True)
    if failed:
        print("\nfailed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
