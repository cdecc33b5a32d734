"""Explorers: a figure with sliders that works in the static book page, Jupyter and Colab.

:func:`explore` draws the figure for *every* combination of the control values up front
and returns an :class:`Explorer`, whose HTML is a self-contained player: one range
slider per control, labelled with the control's name and its current *value*, swapping
one image. No kernel and no external script is needed, so the control works in the
built HTML book exactly as in a live notebook. ::

    def draw(noise, alpha):
        fig, axes = op.plotting.figure()
        ...
        return fig

    op.explorer.explore(
        draw,
        {"label noise": [0.0, 0.1, 0.2], "α": [0.0, 1e-3, 1e-2]},
        fmt={"α": "{:.0e}"},
        caption="Test error against width; move α to see ridge flatten the peak.",
    )

In a live kernel, :meth:`Explorer.widget` gives the same frames as an ipywidgets control.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
import math
import numbers
from collections.abc import Callable, Mapping, Sequence

__all__ = ["Explorer", "explore", "MAX_FRAMES"]

MAX_FRAMES = 200
"""Most frames one explorer may pre-render (each is a PNG embedded in the page)."""

_counter = itertools.count()


def _default_format(value) -> str:
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return f"{value:g}"
    return str(value)


def _formatter(name: str, spec) -> Callable[[object], str]:
    if spec is None:
        return _default_format
    if callable(spec):
        return lambda v: str(spec(v))
    if isinstance(spec, str):
        return spec.format
    raise TypeError(f"fmt[{name!r}]: expected a format string such as '{{:.0e}}' or a callable, "
                    f"got {type(spec).__name__}")


class Explorer:
    """Pre-rendered frames of a figure and the controls that choose among them.

    Built by :func:`explore`; displaying it (``_repr_html_``) shows the player.

    Attributes:
        names: the control names, in order.
        labels: for each control, the displayed text of each of its values.
        frames: PNG images (bytes), one per combination of values; the frame of value
            indices ``(i_1, ..., i_k)`` is ``frames[i_1 * s_1 + ... + i_k * s_k]`` with
            row-major strides ``s_j`` (the last control varies fastest).
        initial: the value index of each control shown first.
        size: width and height of every frame in pixels.
        caption: text shown under the image.
        alt: the image's alt text, completed by the current values.
    """

    def __init__(self, names, labels, frames, initial, size, caption, alt):
        self.names = list(names)
        self.labels = [list(lab) for lab in labels]
        self.frames = list(frames)
        self.initial = list(initial)
        self.size = tuple(size)
        self.caption = caption
        self.alt = alt
        digest = hashlib.sha1(b"".join(self.frames)).hexdigest()[:10]
        self.uid = f"opx-{digest}-{next(_counter)}"

    @property
    def strides(self) -> list[int]:
        strides, step = [], 1
        for lab in reversed(self.labels):
            strides.append(step)
            step *= len(lab)
        return strides[::-1]

    def frame_index(self, indices: Sequence[int]) -> int:
        """Index into :attr:`frames` of the value indices ``indices`` (one per control)."""
        if len(indices) != len(self.names):
            raise ValueError(f"indices: expected {len(self.names)} value indices, got {len(indices)}")
        return sum(i * s for i, s in zip(indices, self.strides))

    def alt_text(self, indices: Sequence[int]) -> str:
        values = ", ".join(f"{n} = {lab[i]}" for n, lab, i in zip(self.names, self.labels, indices))
        return f"{self.alt} ({values})"

    def __repr__(self) -> str:
        controls = ", ".join(f"{n}: {len(lab)} values" for n, lab in zip(self.names, self.labels))
        return f"Explorer({controls}; {len(self.frames)} frames)"

    def _repr_html_(self) -> str:
        uid, esc = self.uid, html.escape
        w, h = self.size
        controls = []
        for j, (name, labels) in enumerate(zip(self.names, self.labels)):
            i = self.initial[j]
            text = f"{name} = {labels[i]}"
            controls.append(
                f'<div class="opx-control" style="{_ROW_CSS}"><label for="{uid}-c{j}" '
                f'style="{_LABEL_CSS}"><span class="opx-name">{esc(name)}</span> = '
                f'<output id="{uid}-v{j}" for="{uid}-c{j}">{esc(labels[i])}</output></label>'
                f'<input type="range" id="{uid}-c{j}" min="0" max="{len(labels) - 1}" step="1" '
                f'value="{i}" aria-valuetext="{esc(text)}" style="{_INPUT_CSS}"></div>'
            )
        first = self.frame_index(self.initial)
        frames = [base64.b64encode(f).decode("ascii") for f in self.frames]
        data = json.dumps({"frames": frames, "labels": self.labels, "names": self.names,
                           "strides": self.strides, "alt": self.alt})
        caption = f'<p class="opx-caption">{esc(self.caption)}</p>' if self.caption else ""
        return (
            f'<div class="overparam-explorer" id="{uid}">'
            f'<div class="opx-controls">{"".join(controls)}</div>'
            f'<img id="{uid}-img" class="opx-frame" width="{w}" height="{h}" '
            f'style="max-width:100%;height:auto" alt="{esc(self.alt_text(self.initial))}" '
            f'src="data:image/png;base64,{frames[first]}">{caption}'
            f"<script>{_PLAYER_JS.replace('__UID__', uid).replace('__DATA__', data)}</script>"
            "</div>"
        )

    def widget(self):
        """The same frames as an ipywidgets control (for a live kernel; needs ipywidgets)."""
        import ipywidgets as widgets

        image = widgets.Image(value=self.frames[self.frame_index(self.initial)], format="png",
                              layout=widgets.Layout(max_width="100%"))
        sliders = [
            widgets.SelectionSlider(options=[(lab, i) for i, lab in enumerate(labels)],
                                    value=self.initial[j], description=name,
                                    style={"description_width": "initial"})
            for j, (name, labels) in enumerate(zip(self.names, self.labels))
        ]

        def update(_change=None):
            image.value = self.frames[self.frame_index([s.value for s in sliders])]

        for s in sliders:
            s.observe(update, names="value")
        return widgets.VBox([*sliders, image])


# Inline styles, so the player looks the same in the book, Jupyter and Colab.
_ROW_CSS = "display:flex;flex-wrap:wrap;align-items:center;gap:0.2em 1em;margin:0.3em 0"
_LABEL_CSS = "min-width:11em;font-variant-numeric:tabular-nums"
_INPUT_CSS = "flex:1 1 12em;max-width:26em"

# The player: finds its own elements by id, swaps the image on every slider move.
_PLAYER_JS = """(function () {
  var d = __DATA__, uid = "__UID__";
  var img = document.getElementById(uid + "-img");
  var inputs = d.names.map(function (_, j) { return document.getElementById(uid + "-c" + j); });
  var outs = d.names.map(function (_, j) { return document.getElementById(uid + "-v" + j); });
  if (!img) { return; }
  function show() {
    var k = 0, parts = [];
    inputs.forEach(function (input, j) {
      var i = parseInt(input.value, 10), text = d.labels[j][i];
      k += i * d.strides[j];
      outs[j].textContent = text;
      input.setAttribute("aria-valuetext", d.names[j] + " = " + text);
      parts.push(d.names[j] + " = " + text);
    });
    img.src = "data:image/png;base64," + d.frames[k];
    img.alt = d.alt + " (" + parts.join(", ") + ")";
  }
  inputs.forEach(function (input) { input.addEventListener("input", show); });
})();"""


def _check_controls(controls) -> tuple[list[str], list[list]]:
    if not isinstance(controls, Mapping):
        raise TypeError("controls: expected a dict mapping each control's name to its list of "
                        f"values, got {type(controls).__name__}")
    if not controls:
        raise ValueError("controls: expected at least one control, got an empty dict")
    names, values = [], []
    for name, vals in controls.items():
        if not isinstance(name, str) or not name.strip():
            raise TypeError(f"controls: expected each name to be a non-empty string, got {name!r}")
        if isinstance(vals, (str, bytes)) or not isinstance(vals, Sequence):
            raise TypeError(f"controls[{name!r}]: expected a list of values, got {type(vals).__name__}")
        if len(vals) == 0:
            raise ValueError(f"controls[{name!r}]: expected at least one value, got an empty list")
        names.append(name)
        values.append(list(vals))
    n_frames = math.prod(len(v) for v in values)
    if n_frames > MAX_FRAMES:
        sizes = " × ".join(str(len(v)) for v in values)
        raise ValueError(f"controls: {sizes} = {n_frames} combinations, more than the {MAX_FRAMES} "
                         "frames an explorer pre-renders; offer fewer values")
    return names, values


def _labels(names, values, fmt) -> list[list[str]]:
    if fmt is None:
        fmt = {}
    if not isinstance(fmt, Mapping):
        raise TypeError(f"fmt: expected a dict mapping control names to format strings, got {type(fmt).__name__}")
    unknown = [k for k in fmt if k not in names]
    if unknown:
        raise ValueError(f"fmt: {unknown} are not control names; the controls are {names}")
    labels = []
    for name, vals in zip(names, values):
        form = _formatter(name, fmt.get(name))
        try:
            texts = [form(v) for v in vals]
        except (ValueError, TypeError, IndexError, KeyError) as err:
            raise ValueError(f"fmt[{name!r}]: {fmt.get(name)!r} cannot format the values "
                             f"{vals!r}: {err}") from None
        seen = {}
        for v, t in zip(vals, texts):
            if t in seen:
                raise ValueError(f"controls[{name!r}]: values {seen[t]!r} and {v!r} are both shown as "
                                 f"{t!r}; give distinct values or a finer fmt[{name!r}]")
            seen[t] = v
        labels.append(texts)
    return labels


def _initial(names, values, initial) -> list[int]:
    if initial is None:
        return [0] * len(names)
    if not isinstance(initial, Mapping):
        raise TypeError(f"initial: expected a dict mapping control names to values, got {type(initial).__name__}")
    out = []
    for k in initial:
        if k not in names:
            raise ValueError(f"initial: {k!r} is not a control name; the controls are {names}")
    for name, vals in zip(names, values):
        if name not in initial:
            out.append(0)
            continue
        matches = [i for i, v in enumerate(vals) if v is initial[name] or v == initial[name]]
        if not matches:
            raise ValueError(f"initial[{name!r}]: {initial[name]!r} is not one of the values {vals!r}")
        out.append(matches[0])
    return out


def _render(fig, values_text: str, column_px: int | None) -> tuple[bytes, tuple[int, int]]:
    import matplotlib.figure
    import matplotlib.pyplot as plt

    if not isinstance(fig, matplotlib.figure.Figure):
        raise TypeError(f"draw: expected it to return a matplotlib Figure, got {type(fig).__name__} "
                        f"for {values_text}")
    try:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=fig.dpi)  # no tight bbox: every frame the same size
        w, h = (round(x) for x in fig.get_size_inches() * fig.dpi)
    finally:
        plt.close(fig)
    if column_px is not None and w > column_px:
        raise ValueError(f"draw: the figure for {values_text} is {w} px wide, wider than the text "
                         f"column ({column_px} px) it would be shrunk to; draw it with "
                         "op.plotting.figure() at its default width")
    return buf.getvalue(), (w, h)


def explore(
    draw: Callable[..., object],
    controls: Mapping[str, Sequence],
    *,
    fmt: Mapping[str, str | Callable] | None = None,
    caption: str = "",
    alt: str | None = None,
    initial: Mapping[str, object] | None = None,
) -> Explorer:
    """Pre-render ``draw`` at every combination of ``controls`` and return the player.

    Args:
        draw: ``draw(*values) -> matplotlib.figure.Figure``, called with one value per
            control in the order of ``controls``; the figure is closed after rendering.
            Every frame must have the same size, at most the text column's width
            (:data:`overparam.plotting.COLUMN_PX`); ``op.plotting.figure()`` draws at it.
        controls: ordered dict, control name (shown to the reader, e.g. ``"α"``) → list
            of its values. There are ``prod(len(values))`` frames, at most
            :data:`MAX_FRAMES`.
        fmt: control name → format string (``"{:.0e}"``) or callable giving the text shown
            for a value; default ``"{:g}"`` for numbers and ``str`` otherwise. Distinct
            values must be shown as distinct texts.
        caption: what to look at, shown under the figure; also the alt text unless
            ``alt`` is given.
        alt: the image's alt text (the substance of the caption); the current values are
            appended to it. One of ``caption`` and ``alt`` is required.
        initial: control name → the value shown first (default: each control's first).

    Returns:
        An :class:`Explorer`; its HTML is a self-contained player (range sliders showing
        the values, one image, inline script) that works without a kernel.

    Raises:
        TypeError, ValueError: naming the argument (``draw``, ``controls``, ``fmt``,
            ``caption``, ``initial``) and what was expected.
    """
    if not callable(draw):
        raise TypeError(f"draw: expected a function draw(*values) -> Figure, got {type(draw).__name__}")
    names, values = _check_controls(controls)
    labels = _labels(names, values, fmt)
    start = _initial(names, values, initial)
    if not isinstance(caption, str):
        raise TypeError(f"caption: expected a string, got {type(caption).__name__}")
    if alt is not None and not isinstance(alt, str):
        raise TypeError(f"alt: expected a string, got {type(alt).__name__}")
    alt_text = (alt if alt is not None else caption).strip()
    if not alt_text:
        raise ValueError("caption: give a caption (or alt=) that says what the figure shows; "
                         "it is the image's alt text")
    from overparam import plotting

    frames, size = [], None
    for combo in itertools.product(*(range(len(v)) for v in values)):
        args = [values[j][i] for j, i in enumerate(combo)]
        text = ", ".join(f"{n} = {labels[j][i]}" for j, (n, i) in enumerate(zip(names, combo)))
        png, wh = _render(draw(*args), text, plotting.COLUMN_PX)
        if size is None:
            size = wh
        elif wh != size:
            raise ValueError(f"draw: the figure for {text} is {wh[0]}×{wh[1]} px, the first was "
                             f"{size[0]}×{size[1]} px; draw every frame at the same size")
        frames.append(png)
    return Explorer(names, labels, frames, start, size, caption, alt_text)
