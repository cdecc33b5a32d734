"""Check the claim records a run left in _build/claims/<scale>/ and print the chapter table.

Fails when a chapter in _toc.yml left no record, when any claim failed, or when a
chapter took longer than its budget (DESIGN.md: test 60 s, book 180 s on 2 CPU cores;
a record's `seconds` is the kernel's wall time when the chapter's last claim was checked).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_S = {"test": 60.0, "book": 180.0, "paper": 900.0}


def chapters() -> list[str]:
    toc = (ROOT / "_toc.yml").read_text()
    return re.findall(r"file:\s*notebooks/(\d\d_\w+)", toc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="book", choices=sorted(BUDGET_S))
    parser.add_argument("--dir", type=Path, default=ROOT / "_build" / "claims")
    args = parser.parse_args()
    problems, rows = [], []
    for name in chapters():
        slug = name.split("_", 1)[1]
        path = args.dir / args.scale / f"{slug}.json"
        if not path.is_file():
            shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
            problems.append(f"{name}: no claim records at {shown}")
            continue
        records = json.loads(path.read_text())
        failed = [r["id"] for r in records if not r["ok"]]
        seconds = max(r["seconds"] for r in records)
        rows.append((name, len(records), len(failed), seconds))
        if failed:
            problems.append(f"{name}: failed claims {failed}")
        if seconds > BUDGET_S[args.scale]:
            budget = BUDGET_S[args.scale]
            problems.append(f"{name}: took {seconds:.0f} s, over the {args.scale} budget of {budget:.0f} s")
        for r in records:
            m = r["measured"]
            measured = ", ".join(f"{v:.4g}" for v in m) if isinstance(m, list) else f"{m:.4g}"
            print(f"  {'ok  ' if r['ok'] else 'FAIL'} {slug}.{r['id']}: {measured} (expect {r['expect']})")
    print(f"\nchapter times at scale {args.scale} (budget {BUDGET_S[args.scale]:.0f} s each):")
    for name, n, nfail, seconds in rows:
        print(f"  {name:28s} {seconds:7.1f} s  {n} claims, {nfail} failed")
    print(f"  {'total':28s} {sum(r[3] for r in rows):7.1f} s")
    if problems:
        print("\n" + "\n".join(problems), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
