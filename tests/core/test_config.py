from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from stockdrift.config import ConfigError, load_config, parse_config

EXAMPLE = Path(__file__).resolve().parents[2] / "stockdrift.example.yml"


def example() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
    return data


def test_example_config_is_valid() -> None:
    cfg = load_config(EXAMPLE)
    assert cfg.master == "erp"
    # every kind of system PRODUCT.md names: ERP, WMS, storefront, marketplace (FBA and
    # merchant-fulfilled), 3PL, POS, supplier EDI 846 and a partner's CSV drop
    assert {s.id for s in cfg.systems} == {"erp", "shopify", "shipbob", "wms", "amazon",
                                            "amazon_mfn", "square", "supplier", "partner_csv"}
    assert cfg.system("shipbob").freshness_target_minutes == 15


def test_unknown_key_is_named_with_fix() -> None:
    data = example()
    data["systems"][0]["freshnes_target_minutes"] = 5
    with pytest.raises(ConfigError) as err:
        parse_config(data, "my.yml")
    text = str(err.value)
    assert "my.yml" in text
    assert "systems.0.freshnes_target_minutes: unknown key" in text


def test_master_must_be_a_system() -> None:
    data = example()
    data["master"] = "sap"
    with pytest.raises(ConfigError, match=r"master: 'sap' is not a system id; use one of"):
        parse_config(data)


def test_route_to_undefined_owner_names_the_rule() -> None:
    data = example()
    data["routing"]["rules"][0]["owner"] = "nobody"
    with pytest.raises(
        ConfigError, match=r"routing.rules\[0\].owner: owner 'nobody' is not defined"
    ):
        parse_config(data)


def test_unknown_cause_and_zone_are_explained() -> None:
    data = example()
    data["routing"]["rules"][0]["when"]["causes"] = ["oversold"]
    data["locations"][0]["timezone"] = "Mars/Olympus"
    with pytest.raises(ConfigError) as err:
        parse_config(data)
    text = str(err.value)
    assert "unknown cause(s) ['oversold']" in text
    assert "unknown time zone 'Mars/Olympus'" in text


def test_missing_required_key() -> None:
    data = example()
    del data["systems"][1]["freshness_target_minutes"]
    with pytest.raises(ConfigError, match=r"systems.1.freshness_target_minutes: required key"):
        parse_config(data)


def test_credentials_come_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load_config(EXAMPLE)
    shopify = cfg.system("shopify")
    monkeypatch.delenv("SHOPIFY_ACCESS_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="SHOPIFY_ACCESS_TOKEN is not set") as err:
        shopify.credential("access_token")
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", "shpat_secret")
    assert shopify.credential("access_token") == "shpat_secret"
    assert "shpat_secret" not in str(err.value)


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("systems: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
