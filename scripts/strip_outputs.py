"""Remove outputs and execution counts from the given notebooks (a pre-commit hook).

Exits 1 when it changed a file, so that the commit is re-made with the clean files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def strip(path: Path) -> bool:
    """Strip one notebook in place; return True if it changed."""
    nb = json.loads(path.read_text())
    changed = False
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        if cell.get("outputs") or cell.get("execution_count") is not None:
            cell["outputs"], cell["execution_count"] = [], None
            changed = True
    if changed:
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return changed


def main(paths: list[str]) -> int:
    changed = [p for p in paths if strip(Path(p))]
    for p in changed:
        print(f"stripped outputs from {p}")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
