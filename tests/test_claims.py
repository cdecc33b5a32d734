import json
import math

import pytest
import torch

from overparam import claims


@pytest.fixture
def claims_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("OVERPARAM_CLAIMS_DIR", str(tmp_path))
    monkeypatch.setenv("OVERPARAM_SCALE", "test")
    return tmp_path


def test_report_writes_records_and_passes(claims_dir):
    c = claims.Claims("demo")
    c.check("a", measured=torch.tensor(0.5), ok=torch.tensor(0.5) < 1, expect="< 1", statement="s", source="k")
    assert c.records[-1].ok is True
    c.report()
    records = json.loads((claims_dir / "test" / "demo.json").read_text())
    assert [r["id"] for r in records] == ["a"]
    r = records[0]
    assert r["measured"] == 0.5 and r["ok"] is True and r["scale"] == "test" and r["source"] == "k"
    assert r["seconds"] > 0


def test_failed_claim_writes_then_raises(claims_dir):
    c = claims.Claims("demo")
    c.check("good", measured=1.0, ok=True, expect="", statement="")
    c.check("bad", measured=2.0, ok=False, expect="< 1", statement="two is small")
    with pytest.raises(claims.ClaimFailed, match="(?s)1 of 2 claims failed.*bad"):
        c.report()
    records = json.loads((claims_dir / "test" / "demo.json").read_text())
    assert [r["ok"] for r in records] == [True, False]


def test_non_finite_measurement_never_passes(claims_dir):
    c = claims.Claims("demo")
    c.check("nan", measured=math.nan, ok=True, expect="", statement="")
    assert c.records[-1].ok is False


def test_ok_must_be_a_bool():
    c = claims.Claims("demo")
    with pytest.raises(TypeError, match="ok: expected a bool"):
        c.check("x", measured=1.0, ok=1, expect="", statement="")


def test_duplicate_and_empty_ids_rejected():
    c = claims.Claims("demo")
    c.check("x", measured=1.0, ok=True, expect="", statement="")
    with pytest.raises(ValueError, match="already checked"):
        c.check("x", measured=1.0, ok=True, expect="", statement="")
    with pytest.raises(ValueError, match="id: expected"):
        c.check("", measured=1.0, ok=True, expect="", statement="")


def test_report_without_claims_fails():
    with pytest.raises(claims.ClaimFailed, match="no claims"):
        claims.Claims("demo").report()


def test_bad_chapter_name():
    with pytest.raises(ValueError, match="chapter: expected the chapter's slug"):
        claims.Claims("05 double descent!")


def test_claims_dir_found_from_book_root(tmp_path, monkeypatch):
    monkeypatch.delenv("OVERPARAM_CLAIMS_DIR", raising=False)
    (tmp_path / "_config.yml").write_text("title: x\n")
    (tmp_path / "notebooks").mkdir()
    assert claims.claims_dir(tmp_path / "notebooks") == tmp_path / "_build" / "claims"


def test_nowhere_to_write_outside_a_book(tmp_path, monkeypatch):
    monkeypatch.delenv("OVERPARAM_CLAIMS_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    c = claims.Claims("demo")
    c.check("x", measured=1.0, ok=True, expect="", statement="")
    assert c.write() is None
    c.report()  # renders, writes nothing, does not raise
    assert list(tmp_path.iterdir()) == []


def test_table_escapes_html():
    c = claims.Claims("demo")
    c.check("x", measured=1.0, ok=True, expect="a < b", statement="<b>")
    table = c.table_html()
    assert "&lt;b&gt;" in table and "a &lt; b" in table
