from pathlib import Path

import pytest

import active_learning as al

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


@pytest.mark.parametrize("name", al.strategy_names())
def test_every_strategy_is_documented(name: str) -> None:
    assert f"`{name}`" in README
