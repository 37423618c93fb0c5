"""Who gets an exception: routing is data (config `routing:`), this module only reads it.

Order of precedence, so a person can predict the owner from the config alone:
1. mapping causes (unmapped SKU/location) go to `routing.mapping_owner`;
   the alert path's own failures (`alert_delivery_failed`) go to `routing.default_owner`;
2. the first rule whose `when` matches (an empty list matches anything);
3. `routing.default_owner`.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

from stockdrift.config import CAUSES, MAPPING_CAUSES, ConfigError, RouteRule, StockdriftConfig

SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low")
# The alert path watching itself: never routed by rules, which might point back at the
# very channel that is failing.
SELF_CAUSES: frozenset[str] = frozenset({"alert_delivery_failed"})


@dataclass(frozen=True)
class RouteInput:
    cause: str
    system_id: str | None
    location: str | None
    severity: str
    sku: str | None = None


@dataclass(frozen=True)
class RouteDecision:
    owner_id: str
    slack_target: str
    rule_name: str  # the rule's name, or "mapping_owner" / "default_owner"
    reason: str  # in words, for the alert and the audit log
    escalate_to: str | None


def route(item: RouteInput, cfg: StockdriftConfig) -> RouteDecision:
    """Decide the owner of one exception."""
    if item.cause in MAPPING_CAUSES:
        owner = cfg.routing.mapping_owner
        reason = (
            f"cause={item.cause} is a mapping problem, so it goes to "
            f"routing.mapping_owner '{owner}'"
        )
        return _decision(cfg, owner, "mapping_owner", reason, None)
    if item.cause in SELF_CAUSES:
        owner = cfg.routing.default_owner
        reason = (
            f"cause={item.cause} is the alert path failing, so it goes to "
            f"routing.default_owner '{owner}'"
        )
        return _decision(cfg, owner, "default_owner", reason, None)
    tags = cfg.tags_for(item.sku)
    for rule in cfg.routing.rules:
        if _matches(rule, item, tags):
            reason = f"rule '{rule.name}' matched {_describe_match(rule, item, tags)}"
            return _decision(cfg, rule.owner, rule.name, reason, rule.escalate_to)
    owner = cfg.routing.default_owner
    reason = (
        f"no rule matched {_describe_input(item)}, so it goes to "
        f"routing.default_owner '{owner}'"
    )
    return _decision(cfg, owner, "default_owner", reason, None)


def explain(item: RouteInput, cfg: StockdriftConfig) -> list[str]:
    """Every step of the decision in order: why each earlier rule did not match."""
    if item.cause in MAPPING_CAUSES:
        return [f"cause={item.cause} is a mapping cause: routing.mapping_owner, rules not read"]
    if item.cause in SELF_CAUSES:
        return [f"cause={item.cause} is the alert path itself: routing.default_owner"]
    lines = []
    tags = cfg.tags_for(item.sku)
    for i, rule in enumerate(cfg.routing.rules):
        misses = _misses(rule, item, tags)
        if not misses:
            lines.append(f"rules[{i}] '{rule.name}': MATCHED {_describe_match(rule, item, tags)}")
            return lines
        lines.append(f"rules[{i}] '{rule.name}': no, {'; '.join(misses)}")
    lines.append("no rule matched: routing.default_owner")
    return lines


def require_valid_routes(cfg: StockdriftConfig, source: str = "config") -> None:
    """Fail at start, naming every routing problem, rather than misroute alerts later."""
    problems = validate_routes(cfg)
    if problems:
        raise ConfigError(
            f"{source}: routing does not reach an owner for everything it must route:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )


def validate_routes(cfg: StockdriftConfig) -> list[str]:
    """Every (system, location, cause, severity) must reach an owner Slack can deliver to.

    Returns human-readable problems (empty = fine). Also flags rules that can never win,
    because a rule nobody reaches is usually a config mistake (wrong order or cause).
    """
    problems: list[str] = []
    used: set[str] = set()
    systems: list[str | None] = [s.id for s in cfg.systems] + [None]
    locations: list[str | None] = [loc.id for loc in cfg.locations] + [None]
    for system_id, location, cause, severity in product(systems, locations, CAUSES, SEVERITIES):
        item = RouteInput(cause, system_id, location, severity)
        decision = _safe_route(item, cfg, problems)
        if decision is None:
            continue
        used.add(decision.rule_name)
        if decision.escalate_to is not None and decision.escalate_to not in cfg.owners:
            _add(problems, f"rule '{decision.rule_name}': escalate_to "
                           f"'{decision.escalate_to}' is not defined under owners")
    default = cfg.owners.get(cfg.routing.default_owner)
    if default is not None and default.slack.startswith("S"):
        problems.append(
            f"routing.default_owner '{cfg.routing.default_owner}' is a user group "
            f"({default.slack}); user-group owners are posted in the default owner's channel "
            "with a mention, so the default owner must be a channel, user or e-mail"
        )
    for rule in cfg.routing.rules:
        if rule.name not in used:
            problems.append(
                f"rule '{rule.name}' never applies: earlier rules or the mapping owner take "
                "everything it matches; reorder the rules or narrow the earlier ones"
            )
    return problems


def _safe_route(
    item: RouteInput, cfg: StockdriftConfig, problems: list[str]
) -> RouteDecision | None:
    try:
        return route(item, cfg)
    except KeyError as exc:
        _add(problems, f"owner {exc} is used by routing but not defined under owners "
                       f"(first seen for {_describe_input(item)})")
        return None


def _add(problems: list[str], text: str) -> None:
    # One line per distinct problem, not one per combination that hits it.
    key = text.split(" (first seen")[0]
    if not any(p.split(" (first seen")[0] == key for p in problems):
        problems.append(text)


def _decision(
    cfg: StockdriftConfig, owner: str, rule: str, reason: str, escalate_to: str | None
) -> RouteDecision:
    owner_cfg = cfg.owners.get(owner)
    if owner_cfg is None:
        raise KeyError(owner)
    return RouteDecision(owner, owner_cfg.slack, rule, reason, escalate_to)


def _matches(rule: RouteRule, item: RouteInput, tags: frozenset[str] = frozenset()) -> bool:
    when = rule.when
    return (
        (not when.sku_tags or bool(tags & set(when.sku_tags)))
        and (not when.systems or item.system_id in when.systems)
        and (not when.locations or item.location in when.locations)
        and (not when.causes or item.cause in when.causes)
        and (not when.severities or item.severity in when.severities)
    )


def _misses(rule: RouteRule, item: RouteInput, tags: frozenset[str] = frozenset()) -> list[str]:
    when = rule.when
    tag_miss = (
        [f"sku tags {sorted(tags) or '-'} share none of {when.sku_tags}"]
        if when.sku_tags and not tags & set(when.sku_tags) else []
    )
    return tag_miss + [
        f"{name}={value or '-'} not in {allowed}"
        for name, value, allowed in (
            ("system", item.system_id, when.systems),
            ("location", item.location, when.locations),
            ("cause", item.cause, when.causes),
            ("severity", item.severity, when.severities),
        )
        if allowed and value not in allowed
    ]


def _describe_match(rule: RouteRule, item: RouteInput,
                    tags: frozenset[str] = frozenset()) -> str:
    when = rule.when
    parts = [f"sku tags={sorted(tags & set(when.sku_tags))}"] if when.sku_tags else []
    parts += [
        f"{name}={value}"
        for name, value, constrained in (
            ("system", item.system_id, when.systems),
            ("location", item.location, when.locations),
            ("cause", item.cause, when.causes),
            ("severity", item.severity, when.severities),
        )
        if constrained
    ]
    return ", ".join(parts) if parts else "everything (it has no conditions)"


def _describe_input(item: RouteInput) -> str:
    parts = [f"system={item.system_id or '-'}", f"cause={item.cause}"]
    if item.location:
        parts.append(f"location={item.location}")
    parts.append(f"severity={item.severity}")
    return ", ".join(parts)
