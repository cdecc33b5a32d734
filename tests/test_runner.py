"""The headless runner executes a chapter, writes the executed notebook and the claim
records, and exits non-zero when a claim fails."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

CHAPTER = '''\
---
jupytext:
  text_representation: {extension: .md, format_name: myst}
kernelspec: {display_name: Python 3, language: python, name: python3}
---

# A chapter

```{code-cell} ipython3
import overparam as op
claims = op.claims.Claims("tiny")
value = {value}
claims.check("holds", op.criteria.at_most(value, 1.0), statement="value is small")
print("scale", op.scale.current())
claims.report()
```
'''


def _run(tmp_path: Path, value: float, *extra: str):
    src = tmp_path / "99_tiny.md"
    src.write_text(CHAPTER.replace("{value}", repr(value)))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "overparam", "run", str(src), "--scale", "test", "--out", str(out), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180), out


@pytest.mark.parametrize("value, status", [(0.5, 0), (2.0, 1)])
def test_run_writes_notebook_and_claims_and_exits_on_failure(tmp_path, value, status):
    proc, out = _run(tmp_path, value)
    assert proc.returncode == status, proc.stdout + proc.stderr
    records = json.loads((out / "claims" / "test" / "tiny.json").read_text())
    assert records[0]["id"] == "holds" and records[0]["ok"] is (status == 0)
    executed = json.loads((out / "99_tiny.ipynb").read_text())
    outputs = [o for c in executed["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    assert outputs, "the executed notebook keeps its outputs"
    if status == 0:
        assert "scale test" in proc.stdout and "ok   holds" in proc.stdout
    else:
        assert "FAIL holds" in proc.stdout and "a cell failed" in proc.stderr


def test_bad_arguments_exit_2(tmp_path):
    cmd = [sys.executable, "-m", "overparam", "run", str(tmp_path / "missing.md")]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 2 and "chapter: expected an existing" in proc.stderr
    proc = subprocess.run(cmd[:4] + ["--scale", "huge"], capture_output=True, text=True)
    assert proc.returncode == 2 and "--scale" in proc.stderr
