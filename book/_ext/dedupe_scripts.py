"""Drop repeated inline <script> blocks from every page.

sphinx-thebe registers its configuration script on ``env-before-read-docs``, which runs
again when sphinxcontrib-bibtex asks for a second reading pass; the page then declares
``const THEBE_JS_URL`` twice and the browser reports a SyntaxError. Keep the first copy.
"""


def _dedupe(app, pagename, templatename, context, doctree):
    seen, kept = set(), []
    for script in context.get("script_files", []):
        filename = getattr(script, "filename", script) or ""  # None and "" both mean inline
        key = (str(filename), tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"] = kept


def setup(app):
    app.connect("html-page-context", _dedupe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
