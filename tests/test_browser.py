"""The built book in a real browser: Chromium (Debian's) driven by Playwright over 127.0.0.1.

Run after the book is built (`make book`); `make test` does both. Screenshots of every
page are kept under _build/screenshots/ to be looked at.
"""

import functools
import http.server
import os
import re
import threading
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

# OVERPARAM_BOOK_ROOT points the checks at another built book (e.g. one chapter built alone).
ROOT = Path(os.environ.get("OVERPARAM_BOOK_ROOT", Path(__file__).resolve().parent.parent))
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
# Console messages that are not errors of the book, each with its reason. Keep this short.
ALLOWED_CONSOLE = [
    re.compile(r"Got invalid theme mode"),  # pydata-sphinx-theme logs this once on first load
    # @jupyter-widgets/html-manager 1.0.6 validates widget state with ajv, which warns about its own schema
    re.compile(r"^strict mode: use allowUnionTypes to allow union type keyword"),
]
PAGES = [f"{entry}.html" for entry in re.findall(r"(?:file|root):\s*(\S+)", (ROOT / "_toc.yml").read_text())]
CHAPTERS = [p for p in PAGES if p.startswith("notebooks/")]


@pytest.fixture(scope="module")
def server():
    if not (HTML / "index.html").exists():
        pytest.fail("_build/html is missing: build the book first (make book)")
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: apt-get install chromium (.ci/run does this)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield b
        b.close()


def _open(browser, url):
    """Open url; return (page, problems) where problems are console errors and failed requests."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning") and not any(p.search(m.text) for p in ALLOWED_CONSOLE) else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    page.goto(url, wait_until="networkidle")
    page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
    page.wait_for_load_state("networkidle")
    return page, problems


@pytest.mark.parametrize("path", PAGES)
def test_page_renders(server, browser, path):
    page, problems = _open(browser, f"{server}/{path}")
    try:
        assert problems == [], f"{path}: " + "; ".join(problems)
        # every image has loaded
        broken = page.evaluate("() => [...document.images].filter(i => !(i.complete && i.naturalWidth > 0))"
                               ".map(i => i.src)")
        assert broken == [], f"{path}: images not loaded: {broken}"
        # math is typeset: every math node became MathJax output, and no raw TeX delimiters remain
        n_math = page.locator("div.math, span.math").count()
        n_rendered = page.locator("mjx-container").count()
        assert n_rendered >= n_math, f"{path}: {n_math} math nodes but {n_rendered} rendered by MathJax"
        text = page.inner_text("article")
        assert "$$" not in text and "\\begin{" not in text, f"{path}: raw TeX left in the page"
        assert ".. py:" not in text and ".. automodule" not in text, f"{path}: raw reStructuredText in the page"
        # glued values and figures were all found (myst-nb leaves a warning box otherwise)
        assert "glue target not found" not in text.lower()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / (path.replace("/", "_").replace(".html", ".png"))), full_page=True)
    finally:
        page.close()


@pytest.mark.parametrize("path", CHAPTERS)
def test_chapter_launch_buttons_open_its_notebook(server, browser, path):
    page, _ = _open(browser, f"{server}/{path}")
    try:
        stem = Path(path).stem
        colab = page.eval_on_selector_all("a[href*='colab.research.google.com']", "els => els.map(e => e.href)")
        assert colab and all(h.endswith(f"notebooks/{stem}.ipynb") for h in colab), colab
        binder = page.eval_on_selector_all("a[href*='mybinder.org']", "els => els.map(e => e.href)")
        assert binder and all(f"notebooks%2F{stem}.ipynb" in h or f"notebooks/{stem}.ipynb" in h
                              for h in binder), binder
        assert page.locator("table.overparam-claims").count() == 1, "the claims table is missing"
        assert page.locator("table.overparam-claims tr.claim-failed").count() == 0
    finally:
        page.close()


def test_widgets_render_in_static_page(server, browser):
    """Chapters with an explorer ship its widget state; the local embed manager renders it."""
    with_widgets = [p for p in CHAPTERS if "application/vnd.jupyter.widget-view+json" in (HTML / p).read_text()]
    assert with_widgets, "no chapter has an ipywidgets explorer"
    for path in with_widgets:
        page, problems = _open(browser, f"{server}/{path}")
        try:
            page.wait_for_selector(".jupyter-widgets", timeout=15000)
            assert problems == [], f"{path}: " + "; ".join(problems)
        finally:
            page.close()


def test_search_finds_a_chapter(server, browser):
    page, problems = _open(browser, f"{server}/search.html?q=interpolant")
    try:
        page.wait_for_selector("#search-results li", timeout=20000)
        hits = page.eval_on_selector_all("#search-results li a", "els => els.map(e => e.href)")
        assert any("02_min_norm" in h for h in hits), hits
        assert problems == [], "; ".join(problems)
    finally:
        page.close()
