"""One figure style for the whole book, and gluing results into the page.

:func:`glue` hands a number or a figure to myst-nb so the prose can cite it
(``{glue:text}`name:.3f```, ``{glue:figure} name``); the figure is then closed so it
does not also appear in the cell output. Without myst-nb (Colab, plain Jupyter)
figures are shown inline and numbers printed, so a chapter runs anywhere.
"""

from __future__ import annotations

import math
import numbers

import matplotlib as mpl
import matplotlib.pyplot as plt

from overparam._check import check_bool, check_positive, check_positive_int

# Colour-blind-safe palette (Okabe & Ito 2008), in the order series are drawn.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]

# The text column of a page at a 1280 px wide window is 688 CSS px (sphinx-book-theme,
# measured in Chromium), and a glued figure is shown at most 672 px wide inside it. A
# figure drawn at the default width, WIDTH_IN * DPI = 660 px (a few pixels more once
# saved with a tight bounding box), is shown at its pixel size, never shrunk: 10 pt text
# at 110 dpi is ~15 px on screen.
COLUMN_PX = 688
DPI = 110
WIDTH_IN = 6.0

STYLE = {
    "figure.figsize": (WIDTH_IN, 3.6),
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "figure.constrained_layout.use": True,
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    # a light box, so a line that passes behind a legend never runs through its text
    "legend.frameon": True,
    "legend.framealpha": 0.85,
    "legend.facecolor": "white",
    "legend.edgecolor": "none",
    "lines.linewidth": 1.8,
}


def use_style() -> None:
    """Apply the book's matplotlib style (call once, at the top of a chapter)."""
    mpl.rcParams.update(STYLE)


def figure(ncols: int = 1, nrows: int = 1, width: float = WIDTH_IN, height: float = 3.6, **kw):
    """``plt.subplots`` in the book's style, sized per panel row.

    Args:
        ncols: panels per row.
        nrows: rows of panels.
        width: figure width in inches; the default is the text column's width
            (:data:`COLUMN_PX` pixels at :data:`DPI`). A wider figure is shrunk in the page
            and its text becomes too small to read, so pass only smaller widths.
        height: height of one row of panels in inches.
        **kw: passed on to ``plt.subplots`` (e.g. ``sharey=True``).

    Returns:
        ``(fig, axes)`` with ``axes`` a 2-D array of shape (nrows, ncols).
    """
    check_positive_int("ncols", ncols)
    check_positive_int("nrows", nrows)
    check_positive("width", width)
    check_positive("height", height)
    use_style()
    return plt.subplots(nrows, ncols, figsize=(width, height * nrows), squeeze=False, **kw)


def log_ticks(ax, values, axis: str = "x", fmt: str = "{:g}") -> None:
    """Label a log axis at ``values`` only, in plain numbers (no minor labels).

    Matplotlib labels minor ticks ("2×10¹  3×10¹ …") when a log axis spans about one
    decade; in a narrow panel they run into each other. Use this for axes whose values
    are a short grid (widths, batch sizes, learning rates).
    """
    if axis not in ("x", "y"):
        raise ValueError(f"axis: expected 'x' or 'y', got {axis!r}")
    values = [float(v) for v in values]
    if not values or any(not math.isfinite(v) or v <= 0 for v in values):
        raise ValueError(f"values: expected positive finite tick positions, got {values}")
    which = ax.xaxis if axis == "x" else ax.yaxis
    which.set_minor_formatter(mpl.ticker.NullFormatter())
    values = sorted(values)
    while True:  # drop labels that would be printed over their neighbour (keep the ends)
        which.set_major_locator(mpl.ticker.FixedLocator(values))
        which.set_major_formatter(mpl.ticker.FixedFormatter([fmt.format(v) for v in values]))
        clash = _first_clash(ax, which)
        if clash is None or len(values) <= 2:
            return
        i = clash + 1 if clash + 1 < len(values) - 1 else clash
        values.pop(i)


def _drawn_labels(axis, renderer, minor: bool = True) -> list[tuple[str, object]]:
    """(text, bounding box) of the tick labels drawn inside the axis's view, in axis order."""
    lo, hi = sorted(axis.get_view_interval())
    ticks = axis.get_major_ticks() + (axis.get_minor_ticks() if minor else [])
    labels = []
    for tick in ticks:
        label = tick.label1
        if not (label.get_visible() and label.get_text().strip()):
            continue
        if not lo - 1e-12 * abs(lo) <= tick.get_loc() <= hi + 1e-12 * abs(hi):
            continue
        labels.append((label.get_text(), label.get_window_extent(renderer)))
    along = 0 if axis.axis_name == "x" else 1
    labels.sort(key=lambda item: (item[1].x0, item[1].y0)[along])
    return labels


def _clashes(labels) -> list[int]:
    """Indices i at which label i overlaps label i + 1."""
    return [i for i, ((_, a), (_, b)) in enumerate(zip(labels, labels[1:])) if a.overlaps(b)]


def _first_clash(ax, axis) -> int | None:
    """Index i of the first major tick whose label overlaps the next one's, as drawn."""
    ax.figure.canvas.draw()
    clashes = _clashes(_drawn_labels(axis, ax.figure.canvas.get_renderer(), minor=False))
    return clashes[0] if clashes else None


def overlapping_labels(fig) -> list[tuple[str, str]]:
    """Pairs of tick labels of ``fig`` that overlap as drawn (each axis, both kinds).

    Only labels drawn inside the axis's view are compared. :func:`glue` refuses a figure
    for which this is not empty, so no page shows tick labels printed over each other.
    """
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    pairs = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            labels = _drawn_labels(axis, renderer)
            pairs += [(labels[i][0], labels[i + 1][0]) for i in _clashes(labels)]
    return pairs


def _in_book_build() -> bool:
    try:
        import myst_nb  # noqa: F401
    except ImportError:
        return False
    return True


def glue(name: str, value, display: bool = False) -> None:
    """Glue ``value`` (a number, string or matplotlib figure) under ``name`` for the page.

    Figures are closed after gluing. ``display=True`` also shows the value in the cell.
    A NaN is refused: it would print as "nan" in the prose (an infinite value may be meant).
    """
    if not isinstance(name, str) or not name.strip():
        raise TypeError(f"name: expected a non-empty string (the glue key), got {name!r}")
    check_bool("display", display)
    number = value.item() if hasattr(value, "item") and getattr(value, "ndim", None) == 0 else value
    if isinstance(number, numbers.Real) and math.isnan(number):
        raise ValueError(f"value: expected a number to glue under {name!r}, got NaN")
    is_figure = isinstance(value, mpl.figure.Figure)
    if is_figure and (clashes := overlapping_labels(value)):
        plt.close(value)
        raise ValueError(f"value: figure {name!r} has tick labels printed over each other "
                         f"{clashes[:3]}; set fewer ticks (op.plotting.log_ticks for a "
                         "log axis)")
    if _in_book_build():
        from myst_nb import glue as _glue

        _glue(name, value, display=display)
    elif is_figure:
        from IPython.display import display as show

        show(value)
    else:
        print(f"{name} = {value}")
    if is_figure:
        plt.close(value)
