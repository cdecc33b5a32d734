import base64
import json
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from overparam import explorer, plotting  # noqa: E402


def _draw(a, b):
    fig, axes = plotting.figure(height=2.0)
    axes[0, 0].plot([0, 1], [a, b])
    axes[0, 0].set_title(f"a={a} b={b}")
    return fig


def _player_data(html):
    script = re.search(r"<script>(.*?)</script>", html, re.S).group(1)
    return json.loads(re.search(r"var d = (\{.*?\}), uid", script, re.S).group(1))


def test_one_frame_per_combination_in_row_major_order():
    calls = []

    def draw(a, b):
        calls.append((a, b))
        return _draw(a, b)

    ex = explorer.explore(draw, {"a": [1, 2, 3], "b": [0.5, 1.5]}, caption="lines")
    assert len(ex.frames) == 3 * 2
    assert calls == [(1, 0.5), (1, 1.5), (2, 0.5), (2, 1.5), (3, 0.5), (3, 1.5)]
    assert ex.strides == [2, 1]
    assert ex.frame_index([2, 1]) == 5
    assert all(f.startswith(b"\x89PNG") for f in ex.frames)
    assert len(set(ex.frames)) == 6  # each combination drew a different picture
    assert plt.get_fignums() == []  # every figure was closed after rendering


def test_frames_are_drawn_at_the_column_width_without_shrinking():
    ex = explorer.explore(_draw, {"a": [1], "b": [2]}, caption="c")
    w, h = ex.size
    assert w == round(plotting.WIDTH_IN * plotting.DPI) <= plotting.COLUMN_PX
    html = ex._repr_html_()
    assert f'width="{w}"' in html and f'height="{h}"' in html


def test_labels_show_formatted_values_not_indices():
    ex = explorer.explore(_draw, {"a": [0.0, 1e-3, 1e-2], "b": [1, 2]}, fmt={"a": "{:.0e}"},
                          caption="ridge", initial={"a": 1e-2})
    assert ex.labels == [["0e+00", "1e-03", "1e-02"], ["1", "2"]]
    html = ex._repr_html_()
    # the shown value of the initial state, not its index
    assert re.search(r'<span class="opx-name">a</span> = <output[^>]*>1e-02</output>', html)
    assert re.search(r'<span class="opx-name">b</span> = <output[^>]*>1</output>', html)
    data = _player_data(html)
    assert data["labels"] == ex.labels and data["names"] == ["a", "b"]
    assert len(data["frames"]) == 6
    # the image first shown is the frame of the initial values
    first = re.search(r'src="data:image/png;base64,([^"]+)"', html).group(1)
    assert base64.b64decode(first) == ex.frames[ex.frame_index([2, 0])]


def test_default_format_and_callable_format():
    ex = explorer.explore(_draw, {"a": [0.1, 2, 300000], "b": ["x", "y"]}, caption="c")
    assert ex.labels == [["0.1", "2", "300000"], ["x", "y"]]
    ex = explorer.explore(_draw, {"a": [1, 2], "b": [3]}, fmt={"a": lambda v: f"{v} units"}, caption="c")
    assert ex.labels[0] == ["1 units", "2 units"]


def test_html_is_self_contained_with_unique_ids_and_alt_text():
    ex1 = explorer.explore(_draw, {"a": [1, 2], "b": [3]}, caption="Two lines; move a.")
    ex2 = explorer.explore(_draw, {"a": [1, 2], "b": [3]}, caption="Two lines; move a.")
    h1, h2 = ex1._repr_html_(), ex2._repr_html_()
    ids1, ids2 = set(re.findall(r'id="([^"]+)"', h1)), set(re.findall(r'id="([^"]+)"', h2))
    assert len(ids1) == 6 and not ids1 & ids2  # container, image, a slider and a value per control
    assert "<script src" not in h1 and "://" not in h1  # nothing loaded from elsewhere
    assert 'type="range"' in h1
    assert 'alt="Two lines; move a. (a = 1, b = 3)"' in h1
    assert '<p class="opx-caption">Two lines; move a.</p>' in h1
    ex3 = explorer.explore(_draw, {"a": [1], "b": [3]}, caption="", alt="Alt only")
    assert 'alt="Alt only (a = 1, b = 3)"' in ex3._repr_html_()
    assert "opx-caption" not in ex3._repr_html_()


def test_html_escapes_names_and_captions():
    ex = explorer.explore(lambda v: _draw(v, v), {"<b>": ["<i>"]}, caption='a "quoted" <caption>')
    h = ex._repr_html_()
    assert "<b>" not in h.split("<script>")[0] and "&lt;b&gt;" in h
    assert "&quot;quoted&quot;" in h


def test_widget_swaps_frames():
    pytest.importorskip("ipywidgets")
    ex = explorer.explore(_draw, {"a": [1, 2], "b": [3, 4]}, caption="c")
    box = ex.widget()
    sa, sb, image = box.children
    assert [o[0] for o in sa.options] == ["1", "2"]
    sa.value, sb.value = 1, 1
    assert image.value == ex.frames[3]


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(draw=None), TypeError, "draw: expected a function"),
        (dict(controls=[1, 2]), TypeError, "controls: expected a dict"),
        (dict(controls={}), ValueError, "controls: expected at least one control"),
        (dict(controls={"a": []}), ValueError, r"controls\['a'\]: expected at least one value"),
        (dict(controls={"a": "abc"}), TypeError, r"controls\['a'\]: expected a list"),
        (dict(controls={"a": 3}), TypeError, r"controls\['a'\]: expected a list"),
        (dict(controls={"": [1]}), TypeError, "controls: expected each name"),
        (dict(controls={"a": list(range(20)), "b": list(range(20))}), ValueError, "400 combinations"),
        (dict(fmt={"c": "{:g}"}), ValueError, r"fmt: \['c'\] are not control names"),
        (dict(fmt={"a": 3}), TypeError, r"fmt\['a'\]: expected a format string"),
        (dict(fmt={"a": "{:d}"}), ValueError, r"fmt\['a'\]: '\{:d\}' cannot format"),
        (dict(fmt=["a"]), TypeError, "fmt: expected a dict"),
        (dict(controls={"a": [1e-3, 2e-3], "b": [1]}, fmt={"a": "{:.0f}"}), ValueError,
         r"controls\['a'\]: values 0.001 and 0.002 are both shown as '0'"),
        (dict(caption=""), ValueError, "caption: give a caption"),
        (dict(caption=3), TypeError, "caption: expected a string"),
        (dict(initial={"a": 7}), ValueError, r"initial\['a'\]: 7 is not one of the values"),
        (dict(initial={"z": 1}), ValueError, "initial: 'z' is not a control name"),
    ],
)
def test_bad_input_gets_an_error_naming_the_argument(kwargs, error, match):
    args = dict(draw=_draw, controls={"a": [0.5, 1.5], "b": [1]}, caption="c")
    args.update(kwargs)
    draw, controls = args.pop("draw"), args.pop("controls")
    with pytest.raises(error, match=match):
        explorer.explore(draw, controls, **args)
    plt.close("all")


def test_draw_returning_no_figure_or_changing_size_is_named():
    with pytest.raises(TypeError, match=r"draw: expected it to return a matplotlib Figure, got NoneType for a = 1"):
        explorer.explore(lambda a: None, {"a": [1]}, caption="c")

    def resizing(a):
        fig, _ = plotting.figure(height=1.0 + a)
        return fig

    with pytest.raises(ValueError, match="draw: the figure for a = 2 is .* the first was"):
        explorer.explore(resizing, {"a": [1, 2]}, caption="c")

    def too_wide(a):
        fig, _ = plotting.figure(width=plotting.WIDTH_IN * 1.5)
        return fig

    with pytest.raises(ValueError, match="wider than the text column"):
        explorer.explore(too_wide, {"a": [1]}, caption="c")
    assert plt.get_fignums() == []
