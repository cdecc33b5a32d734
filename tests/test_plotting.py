import matplotlib
import matplotlib.pyplot as plt
import pytest
import torch

from overparam import device, plotting


def test_figure_uses_the_book_style():
    fig, axes = plotting.figure(ncols=2, nrows=1)
    assert axes.shape == (1, 2)
    assert matplotlib.rcParams["axes.prop_cycle"].by_key()["color"][:2] == plotting.PALETTE[:2]
    plt.close(fig)


def test_glue_closes_figures():
    fig, _ = plotting.figure()
    plotting.glue("test-figure", fig)
    assert not plt.fignum_exists(fig.number)


def test_device_default_and_override(monkeypatch):
    monkeypatch.delenv("OVERPARAM_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert device.default().type == expected
    monkeypatch.setenv("OVERPARAM_DEVICE", "cpu")
    assert device.default() == torch.device("cpu")


def _crowded_log_figure():
    fig, axes = plotting.figure(ncols=2, height=3.0)
    for ax in axes[0]:
        ax.plot([16, 32, 48, 64, 96, 128, 256], range(7))
        ax.set(xscale="log")
    return fig, axes


def test_overlapping_labels_finds_crowded_minor_labels():
    fig, axes = _crowded_log_figure()  # negative control: one decade, narrow panels
    assert plotting.overlapping_labels(fig)
    for ax in axes[0]:
        plotting.log_ticks(ax, [16, 32, 64, 128, 256])
    assert plotting.overlapping_labels(fig) == []
    assert [t.get_text() for t in axes[0, 0].get_xticklabels()] == ["16", "32", "64", "128", "256"]
    plt.close(fig)


def test_glue_refuses_a_figure_with_overlapping_labels():
    fig, _ = _crowded_log_figure()
    with pytest.raises(ValueError, match="tick labels"):
        plotting.glue("crowded", fig)
    assert not plt.fignum_exists(fig.number)


def test_log_ticks_rejects_bad_values():
    fig, axes = plotting.figure()
    with pytest.raises(ValueError, match="values"):
        plotting.log_ticks(axes[0, 0], [0, 10])
    with pytest.raises(ValueError, match="axis"):
        plotting.log_ticks(axes[0, 0], [1, 10], axis="z")
    plt.close(fig)


def test_log_ticks_drops_labels_that_would_collide():
    fig, axes = plotting.figure(ncols=3, height=2.5)  # narrow panels: not all eight fit
    widths = [32, 64, 128, 256, 512, 1024, 2048, 4096]
    ax = axes[0, 0]
    ax.plot(widths, range(8))
    ax.set(xscale="log")
    plotting.log_ticks(ax, widths)
    shown = [float(t.get_text()) for t in ax.get_xticklabels() if t.get_text()]
    assert shown[0] == 32 and shown[-1] == 4096 and 2 <= len(shown) < len(widths)
    assert plotting.overlapping_labels(fig) == []
    plt.close(fig)
