from __future__ import annotations

from typing import Any

from alerts.routing import RouteInput, explain, route, validate_routes
from stockdrift.config import StockdriftConfig, parse_config


def test_first_matching_rule_wins_and_says_why(cfg: StockdriftConfig) -> None:
    decision = route(RouteInput("oversell_risk", "shopify", "EAST-DC", "high", "SD-1001"), cfg)
    assert decision.owner_id == "ecommerce"
    assert decision.slack_target == "C0ECOMM001"
    assert decision.rule_name == "storefront drift goes to e-commerce"
    assert decision.escalate_to == "ops-lead"
    assert decision.reason == (
        "rule 'storefront drift goes to e-commerce' matched system=shopify, cause=oversell_risk"
    )


def test_rule_with_cause_only_matches_any_system(cfg: StockdriftConfig) -> None:
    decision = route(RouteInput("extract_failed", "shipbob", None, "critical"), cfg)
    assert decision.owner_id == "data-team"
    assert decision.reason.endswith("matched cause=extract_failed")
    # Storefront rule is first, but it only covers oversell/sync causes.
    assert route(RouteInput("stale_system", "shopify", None, "low"), cfg).owner_id == "data-team"


def test_mapping_causes_go_to_mapping_owner_before_any_rule(cfg: StockdriftConfig) -> None:
    data = _data(cfg)
    data["routing"]["rules"].insert(
        0, {"name": "everything to ops lead", "owner": "ops-lead"}
    )
    cfg2 = parse_config(data)
    decision = route(RouteInput("unmapped_sku", "shopify", None, "medium"), cfg2)
    assert (decision.owner_id, decision.rule_name) == ("data-team", "mapping_owner")
    assert "mapping problem" in decision.reason
    other = route(RouteInput("oversell_risk", "shopify", None, "medium"), cfg2)
    assert other.owner_id == "ops-lead"
    assert other.reason.endswith("matched everything (it has no conditions)")


def test_default_owner_when_nothing_matches(cfg: StockdriftConfig) -> None:
    decision = route(RouteInput("oversell_risk", "shipbob", "CICERO-3PL", "low"), cfg)
    assert (decision.owner_id, decision.rule_name) == ("inventory-ops", "default_owner")
    assert decision.escalate_to is None
    assert "no rule matched system=shipbob, cause=oversell_risk" in decision.reason


def test_rule_order_matters(cfg: StockdriftConfig) -> None:
    data = _data(cfg)
    data["routing"]["rules"].insert(
        0, {"name": "critical to ops lead", "when": {"severities": ["critical"]},
            "owner": "ops-lead"},
    )
    cfg2 = parse_config(data)
    critical = RouteInput("oversell_risk", "shopify", None, "critical")
    assert route(critical, cfg2).owner_id == "ops-lead"
    assert route(RouteInput("oversell_risk", "shopify", None, "high"), cfg2).owner_id == "ecommerce"


def test_validate_routes_example_config_is_clean(cfg: StockdriftConfig) -> None:
    assert validate_routes(cfg) == []


def test_validate_routes_flags_shadowed_rule_and_group_default(cfg: StockdriftConfig) -> None:
    data = _data(cfg)
    data["routing"]["rules"].insert(0, {"name": "catch all", "owner": "inventory-ops"})
    data["routing"]["default_owner"] = "data-team"
    problems = validate_routes(parse_config(data))
    assert any("rule 'storefront drift goes to e-commerce' never applies" in p for p in problems)
    assert any("default_owner 'data-team' is a user group" in p for p in problems)


def test_validate_routes_flags_undefined_owner(cfg: StockdriftConfig) -> None:
    # model_construct skips validation, as a hand-built or migrated config might.
    broken_routing = cfg.routing.model_construct(
        default_owner="ghost", mapping_owner="data-team", rules=[],
        escalate_after_minutes=120,
    )
    broken = cfg.model_copy(update={"routing": broken_routing})
    problems = validate_routes(broken)
    assert len(problems) == 1
    assert "owner 'ghost' is used by routing but not defined under owners" in problems[0]


def _data(cfg: StockdriftConfig) -> dict[str, Any]:
    return cfg.model_dump(mode="json")


def test_alert_path_failures_go_to_default_owner_whatever_the_rules(
    cfg: StockdriftConfig,
) -> None:
    data = _data(cfg)
    data["routing"]["rules"].insert(0, {"name": "everything to ops lead", "owner": "ops-lead"})
    decision = route(RouteInput("alert_delivery_failed", "slack", None, "high"),
                     parse_config(data))
    assert (decision.owner_id, decision.rule_name) == ("inventory-ops", "default_owner")
    assert "alert path failing" in decision.reason


def test_explain_walks_the_rules_in_order(cfg: StockdriftConfig) -> None:
    lines = explain(RouteInput("stale_system", "shopify", None, "low"), cfg)
    assert lines == [
        "rules[0] 'storefront drift goes to e-commerce': no, cause=stale_system not in "
        "['oversell_risk', 'sync_lag_breach', 'sync_stopped']",
        "rules[1] 'failed or stale extractions go to the data team': MATCHED "
        "cause=stale_system",
    ]
    assert explain(RouteInput("unmapped_sku", "shopify", None, "low"), cfg)[0].startswith(
        "cause=unmapped_sku is a mapping cause")


def test_sku_tags_route_high_value_skus_first(cfg: StockdriftConfig) -> None:
    data: dict[str, Any] = cfg.model_dump()
    data["sku_tags"] = {"high-value": ["SD-100*", "SD-2001"]}
    data["routing"]["rules"].insert(0, {"name": "high value to ops lead",
                                        "when": {"sku_tags": ["high-value"]},
                                        "owner": "ops-lead"})
    tagged = parse_config(data)
    hit = route(RouteInput("oversell_risk", "shopify", "EAST-DC", "high", "SD-1007"), tagged)
    assert hit.owner_id == "ops-lead"
    assert "sku tags=['high-value']" in hit.reason
    miss = route(RouteInput("oversell_risk", "shopify", "EAST-DC", "high", "SD-1027"), tagged)
    assert miss.owner_id == "ecommerce"
    steps = explain(RouteInput("oversell_risk", "shopify", "EAST-DC", "high", "SD-1027"), tagged)
    assert "share none of ['high-value']" in steps[0]


def test_undefined_sku_tag_in_a_rule_is_a_config_error(cfg: StockdriftConfig) -> None:
    import pytest

    from stockdrift.config import ConfigError

    data: dict[str, Any] = cfg.model_dump()
    data["routing"]["rules"][0]["when"]["sku_tags"] = ["fragile"]
    with pytest.raises(ConfigError, match="'fragile' is not defined under sku_tags"):
        parse_config(data)
