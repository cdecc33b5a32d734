import matplotlib
import matplotlib.pyplot as plt
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
