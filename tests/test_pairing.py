"""Every chapter's .md source and its .ipynb pair agree; every chapter is in the toc."""

import json
import re
from pathlib import Path

import jupytext
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.md"))
TOC = (ROOT / "_toc.yml").read_text()


def _cells(nb):
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def test_there_are_chapters():
    assert SOURCES, "no notebooks/NN_slug.md chapters found"


@pytest.mark.parametrize("md", SOURCES, ids=lambda p: p.stem)
def test_ipynb_pair_has_same_cells_and_no_outputs(md):
    ipynb = md.with_suffix(".ipynb")
    assert ipynb.exists(), f"{ipynb.name} missing: run `make sync`"
    source, paired = jupytext.read(md), jupytext.read(ipynb)
    assert _cells(source) == _cells(paired), f"{ipynb.name} is out of date with {md.name}: run `make sync`"
    raw = json.loads(ipynb.read_text())
    for cell in raw["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, f"{ipynb.name} has outputs"
    assert raw["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("md", SOURCES, ids=lambda p: p.stem)
def test_chapter_is_in_toc(md):
    assert f"notebooks/{md.stem}" in TOC, f"{md.name} is not listed in _toc.yml"


def test_toc_entries_exist():
    for entry in re.findall(r"file:\s*(\S+)", TOC):
        assert (ROOT / f"{entry}.md").exists(), f"_toc.yml lists {entry}, which has no .md file"


def test_setup_cell_is_the_same_everywhere_and_uses_the_repository_url():
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    first_cells = {md.stem: next(c.source for c in jupytext.read(md).cells if c.cell_type == "code")
                   for md in SOURCES}
    assert len(set(first_cells.values())) == 1, "the Colab set-up cell differs between chapters"
    cell = next(iter(first_cells.values()))
    assert f'url = "{url}"' in cell, "the set-up cell must install from _config.yml's repository.url"
    assert 'find_spec("overparam") is None' in cell, "the set-up cell must install only when overparam is missing"


@pytest.mark.parametrize("md", SOURCES, ids=lambda p: p.stem)
def test_chapter_checks_its_claims(md):
    slug = md.stem.split("_", 1)[1]
    text = md.read_text()
    assert f'Claims("{slug}")' in text, f"{md.name} must create op.claims.Claims({slug!r})"
    assert "claims.report()" in text, f"{md.name} must end its claims with claims.report()"


@pytest.mark.parametrize("md", SOURCES, ids=lambda p: p.stem)
def test_chapter_shape(md):
    """The parts every chapter has (DESIGN.md, 'Chapter shape'): cited sources, named and
    captioned figures, at least three exercises each with a solution."""
    text = md.read_text()
    assert re.search(r"\{cite(:[tp])?\}`", text), f"{md.name} cites no source"
    exercises = re.findall(r":label: (ex-[\w-]+)", text)
    # a solution is one block ({solution}) or gated ({solution-start} ... {solution-end})
    solutions = re.findall(r"\{solution(?:-start)?\} (ex-[\w-]+)", text)
    starts, ends = text.count("{solution-start}"), text.count("{solution-end}")
    assert starts == ends, f"{md.name}: {starts} solution-start but {ends} solution-end"
    assert len(exercises) >= 3, f"{md.name} has {len(exercises)} exercises, expected at least 3"
    assert set(solutions) >= set(exercises), f"{md.name}: exercises without solution: {set(exercises) - set(solutions)}"
    for block in re.findall(r"```\{glue:figure\}[^\n]*\n(.*?)```", text, flags=re.S):
        assert ":name:" in block, f"{md.name}: a glued figure has no :name:"
        caption = "\n".join(line for line in block.splitlines() if line and not line.startswith(":"))
        assert len(caption.split()) >= 8, f"{md.name}: a glued figure has no real caption"
