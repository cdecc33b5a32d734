"""The two editions as built: the full book has solutions; the student edition has the
same pages and exercises, and no solution (nor a gated solution's code) anywhere."""

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser  # runs after the builds, with the browser checks

ROOT = Path(__file__).resolve().parent.parent
FULL = ROOT / "_build" / "html"
STUDENT = ROOT / "_build" / "student" / "html"


def _chapters(html: Path) -> dict[str, str]:
    if not (html / "index.html").exists():
        pytest.fail(f"{html} is missing: build it first (make book; make student)")
    return {p.name: p.read_text() for p in sorted((html / "notebooks").glob("[0-9][0-9]_*.html"))}


def _count(pattern: str, text: str) -> int:
    return len(re.findall(pattern, text))


def test_student_edition_has_every_page_and_exercise_but_no_solution():
    full, student = _chapters(FULL), _chapters(STUDENT)
    assert full and set(student) == set(full)
    for name, page in full.items():
        exercises = _count(r'class="[^"]*\bexercise\b', page)
        assert exercises >= 3, f"{name}: {exercises} exercises in the full edition"
        assert _count(r'class="[^"]*\bsolution\b', page) >= 3, f"{name}: solutions missing"
        spage = student[name]
        assert _count(r'class="[^"]*\bexercise\b', spage) == exercises, f"{name}: exercises lost"
        assert _count(r'class="[^"]*\bsolution\b', spage) == 0, f"{name}: a solution shows"
        assert "Student edition" in spage


def test_claims_page_lists_every_chapter_with_records():
    page = (FULL / "book" / "claims.html").read_text()
    for name in _chapters(FULL):
        slug = name.removesuffix(".html")
        assert f"{slug}.html" in page, f"the claims page does not link {slug}"
    assert "No claim records" not in page
    assert _count(r"✓", page) >= 10
