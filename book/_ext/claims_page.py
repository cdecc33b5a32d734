"""Fill the book's claims page from the claim records the chapters wrote in this build.

``book/claims.md`` holds the marker ``<!-- claims-table -->``; when Sphinx reads that page,
the marker is replaced by one table per chapter built from
``_build/claims/<scale>/<slug>.json`` (the records :meth:`overparam.claims.Claims.report`
writes), in the order of ``_toc.yml``. The chapters are executed before Sphinx reads any
page (``make html`` runs them in parallel first), so the records are this build's.
A chapter without records is listed as missing, never silently dropped.
"""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path

MARKER = "<!-- claims-table -->"
DOCNAME = "book/claims"


def _fmt(value) -> str:
    if isinstance(value, list):
        return ", ".join(_fmt(v) for v in value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _chapters(root: Path) -> list[str]:
    toc = (root / "_toc.yml").read_text()
    return re.findall(r"file:\s*notebooks/(\d\d_\w+)", toc)


def _cite(source: str) -> str:
    keys = [k.strip() for k in source.split(",") if k.strip()]
    return "{cite:t}`" + ",".join(keys) + "`" if keys else ""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(root: Path, scale: str) -> str:
    """The MyST text of the claims tables for every chapter in the toc."""
    folder = root / "_build" / "claims" / scale
    out = [f"All claims of this build, at scale `{scale}`.\n"]
    summary = []
    for name in _chapters(root):
        slug = name.split("_", 1)[1]
        path = folder / f"{slug}.json"
        out.append(f"## [](../notebooks/{name}.md)\n")
        if not path.is_file():
            out.append(f"*No claim records for this chapter in this build ({path.name}).*\n")
            summary.append((name, 0, 0, None))
            continue
        records = json.loads(path.read_text())
        seconds = max(r["seconds"] for r in records)
        failed = sum(not r["ok"] for r in records)
        summary.append((name, len(records), failed, seconds))
        out.append(f"Run time of the chapter: {seconds:.0f} s.\n")
        out.append("| | claim | statement | measured | criterion | source |")
        out.append("|---|---|---|---|---|---|")
        for r in records:
            mark = "✓" if r["ok"] else "✗ failed"
            out.append(
                f"| {mark} | `{r['id']}` | {_cell(r['statement'])} | {_cell(_fmt(r['measured']))} "
                f"| {_cell(html.unescape(r['expect']))} | {_cite(r['source'])} |"
            )
        out.append("")
    head = ["| chapter | claims | failed | run time |", "|---|---|---|---|"]
    for name, n, nfail, seconds in summary:
        t = "—" if seconds is None else f"{seconds:.0f} s"
        head.append(f"| [](../notebooks/{name}.md) | {n} | {nfail} | {t} |")
    return "\n".join(["## Summary\n", *head, "", *out])


def _fill(app, docname, source):
    if docname != DOCNAME or MARKER not in source[0]:
        return
    root = Path(app.srcdir)
    scale = os.environ.get("OVERPARAM_SCALE", "book")
    source[0] = source[0].replace(MARKER, render(root, scale))


def setup(app):
    app.connect("source-read", _fill)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
