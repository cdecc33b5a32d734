"""The student edition: the same book with every solution removed, exercises kept.

``make student`` builds with ``OVERPARAM_EDITION=student``; this extension then turns on
sphinx-exercise's ``hide_solutions`` and puts a banner on every page. Any other value (or
none) builds the full edition.
"""

import os

EDITIONS = ("full", "student")


def _configure(app, config):
    edition = os.environ.get("OVERPARAM_EDITION", "full")
    if edition not in EDITIONS:
        raise ValueError(f"OVERPARAM_EDITION: expected one of {EDITIONS}, got {edition!r}")
    if edition == "student":
        config.hide_solutions = True
        options = dict(config.html_theme_options or {})
        options["announcement"] = "Student edition: the exercises are here, their solutions are not."
        config.html_theme_options = options


def setup(app):
    app.connect("config-inited", _configure)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
