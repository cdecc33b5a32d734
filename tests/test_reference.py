"""The library reference (book/library.md and book/library/<module>.md) covers every module."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted(p.stem for p in (ROOT / "lib" / "overparam").glob("[a-z]*.py"))


@pytest.mark.parametrize("module", MODULES)
def test_every_module_has_a_reference_page(module):
    page = ROOT / "book" / "library" / f"{module}.md"
    assert page.is_file(), f"{page.relative_to(ROOT)} is missing: copy book/library/linear.md"
    assert f".. automodule:: overparam.{module}\n" in page.read_text()
    assert f"   overparam.{module}\n" in (ROOT / "book" / "library.md").read_text(), (
        f"list overparam.{module} in one of the autosummary tables of book/library.md"
    )


def test_module_pages_are_in_the_toc():
    assert "- glob: book/library/*" in (ROOT / "_toc.yml").read_text()
