"""The shared "unknown value, did you mean ..." validator (stockdrift/choices.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stockdrift.choices import UnknownChoice, require_choice, require_seed, seed_names

SEEDS = Path(__file__).resolve().parents[2] / "dbt" / "seeds"


def test_require_choice_returns_a_valid_value_and_names_the_nearest_for_a_typo() -> None:
    assert require_choice("owner", "ecommerce", ["data-team", "ecommerce"]) == "ecommerce"
    with pytest.raises(UnknownChoice) as info:
        require_choice("owner", "ecomerce", ["ecommerce", "data-team", "inventory-ops"])
    assert str(info.value) == ("unknown owner 'ecomerce'; did you mean 'ecommerce'? "
                               "valid owners: data-team, ecommerce, inventory-ops")
    assert isinstance(info.value, ValueError) and info.value.nearest == "ecommerce"


def test_nothing_near_lists_the_valid_values_only() -> None:
    with pytest.raises(UnknownChoice, match=r"^unknown status 'zzz'; valid statuses: a, b$"):
        require_choice("status", "zzz", ["b", "a"])


def test_seeds_come_from_the_seed_folder() -> None:
    names = seed_names(SEEDS)
    assert "sku_map" in names and "location_map" in names and "_seeds" not in names
    assert require_seed(None, SEEDS) is None
    assert require_seed("sku_map", SEEDS) == "sku_map"
    with pytest.raises(UnknownChoice, match="unknown seed 'sku_mapp'; did you mean 'sku_map'"):
        require_seed("sku_mapp", SEEDS)
