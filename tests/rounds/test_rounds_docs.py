from pathlib import Path

import pytest

import active_learning as al

ROOT = Path(__file__).resolve().parents[2]
README = "\n".join(p.read_text() for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])


@pytest.mark.parametrize("name", al.strategy_names())
def test_every_strategy_is_documented(name: str) -> None:
    assert f"`{name}`" in README
