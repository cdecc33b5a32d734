"""The built book in a real browser: Chromium (Debian's) driven by Playwright over 127.0.0.1.

Run after the book is built (`make book`); `make test` does both. Screenshots of every
page are kept under _build/screenshots/ (1280 px wide) and _build/screenshots/390/ (phone)
to be looked at.
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


def _toc_pages(toc: str) -> list[str]:
    """The pages of _toc.yml in order, with each `glob:` entry expanded like Sphinx does."""
    pages = []
    for key, entry in re.findall(r"(file|root|glob):\s*(\S+)", toc):
        if key == "glob":
            pages += sorted(str(p.relative_to(ROOT).with_suffix("")) for p in ROOT.glob(entry + ".md"))
        else:
            pages.append(entry)
    return [f"{p}.html" for p in pages]


PAGES = _toc_pages((ROOT / "_toc.yml").read_text())
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


# Everything wider than its box at 1280 px is a defect: the reader would have to scroll sideways.
_OVERFLOW_JS = """() => {
  const art = document.querySelector("article.bd-article") || document.querySelector("article");
  // open what is folded (solutions, hidden cells), so that it is checked too
  document.querySelectorAll(".toggle-hidden").forEach(e => e.classList.remove("toggle-hidden"));
  document.querySelectorAll("details").forEach(e => { e.open = true; });
  const right = art.getBoundingClientRect().right;
  const name = el => {
    const raw = (el.innerText || el.textContent || "").trim().replace(/\\s+/g, " ");
    const text = Array.from(raw).slice(0, 50).join("");  // whole code points, no lone surrogate
    const cls = (el.getAttribute("class") || "").split(" ")[0];
    return `${el.tagName.toLowerCase()}${cls ? "." + cls : ""} "${text}"`;
  };
  const sel = "pre, div.cell_output > *, table, .pst-scrollable-table-container, div.math, " +
              "mjx-container[display='true'], .overparam-explorer";
  const wide = [];
  for (const el of art.querySelectorAll(sel)) {
    if (el.offsetParent === null && el.tagName !== "MJX-CONTAINER") continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0) continue;
    const scroll = el.scrollWidth - el.clientWidth, out = box.right - right;
    if (scroll > 1 || out > 1)
      wide.push(`${name(el)}: ${Math.round(Math.max(el.scrollWidth, box.width))} px wide, ` +
                `${Math.round(scroll > 1 ? el.clientWidth : box.width - out)} px of room`);
  }
  const shrunk = [], alts = [];
  for (const img of art.querySelectorAll("img")) {
    if (!img.naturalWidth || img.offsetParent === null) continue;
    const shown = img.getBoundingClientRect().width;
    const label = (img.alt || img.src.split("/").pop()).slice(0, 60);
    if (shown < 0.8 * img.naturalWidth)
      shrunk.push(`"${label}": ${img.naturalWidth} px drawn, ${Math.round(shown)} px shown`);
    if (!img.alt.trim() || /\\.(png|jpe?g|svg|gif)$/i.test(img.alt.trim()) || /^[0-9a-f]{16,}/.test(img.alt))
      alts.push(`"${img.src.split("/").pop().slice(0, 60)}" has alt text ${JSON.stringify(img.alt)}`);
  }
  return {wide, shrunk, alts};
}"""


@pytest.mark.parametrize("path", PAGES)
def test_page_fits_the_column(server, browser, path):
    """At 1280 px nothing scrolls sideways, figures are shown at >= 80 % of their drawn width
    (their text stays readable) and have descriptive alt text; a 390 px (phone) screenshot
    of every page is kept under _build/screenshots/390/ for review."""
    page, _ = _open(browser, f"{server}/{path}")
    try:
        found = page.evaluate(_OVERFLOW_JS)
        problems = [f"wider than its box: {w}" for w in found["wide"]]
        problems += [f"figure shrunk below 80 %: {s}" for s in found["shrunk"]]
        problems += [f"figure without descriptive alt text: {a}" for a in found["alts"]]
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(300)
        (SHOTS / "390").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "390" / (path.replace("/", "_").replace(".html", ".png"))),
                        full_page=True)
        assert problems == [], f"{path}: {len(problems)} problems:\n  " + "\n  ".join(problems)
    finally:
        page.close()


def test_no_page_embeds_ipywidgets():
    """ipywidgets controls do nothing in the static page (no kernel): use op.explorer.explore."""
    with_widgets = [p for p in PAGES if "application/vnd.jupyter.widget-view+json" in (HTML / p).read_text()]
    assert with_widgets == [], f"pages with ipywidgets (dead without a kernel): {with_widgets}"


_EXPLORER_STATE_JS = """ex => ({
  src: ex.querySelector("img").src.length + ":" + ex.querySelector("img").src.slice(-64),
  alt: ex.querySelector("img").alt,
  values: [...ex.querySelectorAll("output")].map(o => o.textContent),
  sliders: [...ex.querySelectorAll("input[type=range]")].map(i => [+i.value, +i.max]),
})"""


def test_explorers_play_in_static_page(server, browser):
    """Every explorer on every page: moving any of its sliders changes the picture and the value shown."""
    with_explorers = [p for p in PAGES if "overparam-explorer" in (HTML / p).read_text()]
    assert with_explorers, "no page has an explorer (op.explorer.explore)"
    failures = []
    for path in with_explorers:
        page, problems = _open(browser, f"{server}/{path}")
        try:
            failures += [f"{path}: {p}" for p in problems]
            explorers = page.locator(".overparam-explorer")
            for k in range(explorers.count()):
                ex = explorers.nth(k)
                ex.scroll_into_view_if_needed()
                sliders = ex.locator("input[type=range]")
                for j in range(sliders.count()):
                    before = ex.evaluate(_EXPLORER_STATE_JS)
                    value, top = before["sliders"][j]
                    if top == 0:
                        failures.append(f"{path}: explorer {k} slider {j} has a single value")
                        continue
                    sliders.nth(j).focus()
                    page.keyboard.press("Home" if value == top else "End")
                    after = ex.evaluate(_EXPLORER_STATE_JS)
                    where = f"{path}: explorer {k}, slider {j} ({before['values'][j]} -> {after['values'][j]})"
                    if after["sliders"][j][0] == value:
                        failures.append(f"{where}: the slider did not move")
                    if after["src"] == before["src"]:
                        failures.append(f"{where}: the picture did not change")
                    if after["values"][j] == before["values"][j]:
                        failures.append(f"{where}: the value shown did not change")
                    if after["alt"] == before["alt"]:
                        failures.append(f"{where}: the alt text did not follow")
        finally:
            page.close()
    assert failures == [], "\n".join(failures)


def test_search_finds_a_chapter(server, browser):
    page, problems = _open(browser, f"{server}/search.html?q=interpolant")
    try:
        page.wait_for_selector("#search-results li", timeout=20000)
        hits = page.eval_on_selector_all("#search-results li a", "els => els.map(e => e.href)")
        assert any("02_min_norm" in h for h in hits), hits
        assert problems == [], "; ".join(problems)
    finally:
        page.close()
