import pytest

from overparam import scale


def test_default_is_book(monkeypatch):
    monkeypatch.delenv("OVERPARAM_SCALE", raising=False)
    assert scale.current() == "book"
    assert scale.pick(test=1, book=2, paper=3) == 2


@pytest.mark.parametrize("name,expected", [("test", 1), ("book", 2), ("paper", 3), (" Test ", 1)])
def test_pick_follows_environment(monkeypatch, name, expected):
    monkeypatch.setenv("OVERPARAM_SCALE", name)
    assert scale.pick(test=1, book=2, paper=3) == expected


def test_unknown_scale_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("OVERPARAM_SCALE", "huge")
    with pytest.raises(ValueError, match="OVERPARAM_SCALE='huge'.*test, book, paper"):
        scale.current()


def test_pick_requires_all_three_presets():
    with pytest.raises(TypeError):
        scale.pick(test=1, book=2)  # type: ignore[call-arg]
