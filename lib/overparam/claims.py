"""Claims: each chapter states what it shows as checks that fail the build when false.

::

    claims = Claims("double_descent")
    claims.check("peak_at_threshold", measured=p_peak / n, ok=0.8 <= p_peak / n <= 1.25,
                 expect="0.8 ≤ p*/n ≤ 1.25", statement="Test error peaks where p ≈ n",
                 source="belkin2019reconciling")
    claims.report()  # shows the table, writes the records, raises ClaimFailed on a failure

:meth:`Claims.report` writes ``<scale>/<chapter>.json`` under ``$OVERPARAM_CLAIMS_DIR``,
by default ``_build/claims`` in the book's root (the nearest folder above the working
directory holding ``_config.yml``). Without either, it only renders the table.
"""

from __future__ import annotations

import html
import json
import math
import numbers
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from overparam import scale

ENV_VAR = "OVERPARAM_CLAIMS_DIR"


class ClaimFailed(AssertionError):
    """Raised by :meth:`Claims.report` when at least one claim does not hold."""


class ClaimsWriteError(OSError):
    """The claim records could not be written (e.g. a bad ``$OVERPARAM_CLAIMS_DIR``)."""


@dataclass(frozen=True)
class Record:
    id: str
    statement: str
    measured: float | list[float]
    expect: str
    ok: bool
    source: str
    scale: str
    seconds: float


def _process_start() -> float:
    """Wall-clock time at which this process started (the kernel's, in a notebook)."""
    try:
        import psutil

        return psutil.Process().create_time()
    except Exception:  # psutil missing or unsupported: fall back to the import time of this module
        return _IMPORTED


_IMPORTED = time.time()


def claims_dir(start: Path | None = None) -> Path | None:
    """Where records go: ``$OVERPARAM_CLAIMS_DIR``, else ``<book root>/_build/claims``, else None."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_config.yml").is_file():
            return folder / "_build" / "claims"
    return None


def _format(value) -> str:
    if isinstance(value, list):
        return ", ".join(_format(v) for v in value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return str(value)
    return f"{value:.4g}"


class Claims:
    """The claims of one chapter, collected with :meth:`check` and closed by :meth:`report`."""

    def __init__(self, chapter: str):
        if not isinstance(chapter, str) or not chapter.replace("_", "").isalnum():
            raise ValueError(f"chapter: expected the chapter's slug, e.g. 'double_descent', got {chapter!r}")
        self.chapter = chapter
        self.records: list[Record] = []

    def check(
        self,
        id: str,
        verdict=None,
        *,
        statement: str,
        source: str = "",
        measured=None,
        ok=None,
        expect: str | None = None,
    ) -> None:
        """Record one claim, decided by a criterion's ``verdict``.

        ``verdict`` is a :class:`overparam.criteria.Verdict` (measured value, outcome and
        expected condition). Without one, ``measured``, ``ok`` and ``expect`` are given
        directly — for a criterion that lives in the library but returns its parts.
        ``measured`` is a number or a short list of numbers, never a string.

        Returns nothing, so that a notebook cell ending in a check prints nothing; the
        record is ``self.records[-1]``.
        """
        if verdict is not None:
            if measured is not None or ok is not None or expect is not None:
                raise ValueError("verdict: give either a verdict or measured/ok/expect, not both")
            if not all(hasattr(verdict, a) for a in ("measured", "ok", "expect")):
                raise TypeError(f"verdict: expected an overparam.criteria.Verdict, got {type(verdict).__name__}")
            measured, ok, expect = verdict.measured, verdict.ok, verdict.expect
        elif ok is None or measured is None or expect is None:
            raise TypeError("check: give a verdict, or all of measured=, ok= and expect=")
        if not isinstance(id, str) or not id:
            raise ValueError(f"id: expected a non-empty string, got {id!r}")
        for name, value in (("statement", statement), ("expect", expect), ("source", source)):
            if not isinstance(value, str):
                raise TypeError(f"{name}: expected a string, got {type(value).__name__}")
        if any(r.id == id for r in self.records):
            raise ValueError(f"id: claim {id!r} was already checked in chapter {self.chapter!r}")
        if hasattr(ok, "item"):  # a 0-d tensor or numpy bool
            ok = ok.item()
        if not isinstance(ok, bool):
            raise TypeError(f"ok: expected a bool (the outcome of the check), got {type(ok).__name__}")
        if hasattr(measured, "item"):
            measured = measured.item()
        if isinstance(measured, (list, tuple)):
            measured = [float(m.item() if hasattr(m, "item") else m) for m in measured]
            if not measured or not all(math.isfinite(m) for m in measured):
                ok = False  # a NaN or infinite measurement never supports a claim
        elif isinstance(measured, numbers.Real) and not isinstance(measured, bool):
            measured = float(measured)
            if not math.isfinite(measured):
                ok = False
        else:
            raise TypeError(f"measured: expected a number or a list of numbers, got {type(measured).__name__}")
        seconds = time.time() - _process_start()
        self.records.append(Record(id, statement, measured, expect, ok, source, scale.current(), seconds))

    @property
    def failed(self) -> list[Record]:
        return [r for r in self.records if not r.ok]

    def table_html(self) -> str:
        # every cell has a class (styled in book/_static/custom.css; the table wraps to the column)
        rows = "".join(
            f"<tr class=\"{'claim-ok' if r.ok else 'claim-failed'}\">"
            f"<td class=\"claim-status\">{'✓ holds' if r.ok else '✗ FAILED'}</td>"
            f"<td class=\"claim-id\"><code>{html.escape(r.id)}</code></td>"
            f"<td class=\"claim-statement\">{html.escape(r.statement)}</td>"
            f"<td class=\"claim-measured\">{html.escape(_format(r.measured))}</td>"
            f"<td class=\"claim-expect\">{html.escape(r.expect)}</td></tr>"
            for r in self.records
        )
        return (
            f'<table class="overparam-claims"><caption>Claims of this chapter at scale '
            f"<code>{scale.current()}</code></caption><thead><tr><th class=\"claim-status\"></th>"
            f"<th class=\"claim-id\">claim</th><th class=\"claim-statement\">statement</th>"
            f"<th class=\"claim-measured\">measured</th><th class=\"claim-expect\">expected</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>"
        )

    def __str__(self) -> str:
        lines = [f"claims of {self.chapter} at scale {scale.current()}:"]
        for r in self.records:
            mark = "ok  " if r.ok else "FAIL"
            lines.append(f"  [{mark}] {r.id}: {r.statement} (measured {_format(r.measured)}, expected {r.expect})")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.table_html()

    def write(self) -> Path | None:
        """Write the records as JSON under :func:`claims_dir`; return the path (None if nowhere)."""
        folder = claims_dir()
        if folder is None:
            return None
        path = folder / scale.current() / f"{self.chapter}.json"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".json.tmp")
            tmp.write_text(json.dumps([asdict(r) for r in self.records], indent=2, ensure_ascii=False))
            tmp.replace(path)
        except OSError as err:
            origin = f"${ENV_VAR}={os.environ[ENV_VAR]!r}" if os.environ.get(ENV_VAR) else "the book's _build/claims"
            raise ClaimsWriteError(
                f"{ENV_VAR}: could not write the claim records to {path} (from {origin}): "
                f"{type(err).__name__}: {err}; point it at a writable folder"
            ) from err
        return path

    def report(self) -> None:
        """Render the table, write the records, then raise :class:`ClaimFailed` if any claim failed."""
        if not self.records:
            raise ClaimFailed(f"chapter {self.chapter!r} checked no claims")
        try:
            from IPython import get_ipython
            from IPython.display import HTML, display
        except ImportError:
            get_ipython = None
        if get_ipython is not None and get_ipython() is not None:
            display(HTML(self.table_html()))
        else:
            print(self)
        try:
            self.write()
        except ClaimsWriteError as err:
            if not self.failed:
                raise
            write_error = err  # reported with the failed claims, which it must not hide
        else:
            write_error = None
        if self.failed:
            also = f"\n(the records were not written either: {write_error})" if write_error else ""
            raise ClaimFailed(
                f"{len(self.failed)} of {len(self.records)} claims failed in {self.chapter!r}:\n{self}{also}"
            ) from write_error
