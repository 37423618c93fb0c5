"""Typed configuration: the three decisions every deployment names, validated at start.

Read at run time (never at import time). A wrong config raises `ConfigError` whose message
names the offending key and how to fix it.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

Role = Literal["erp", "wms", "storefront", "marketplace", "3pl", "pos", "supplier"]
Connector = Literal[
    "netsuite_suiteql", "shopify_rest", "shipbob",
    # issue 3: more kinds of system (extractors/README.md)
    "shopify_graphql", "amazon_fba", "square", "edi846", "csv_drop", "sql_wms",
    "amazon_mfn",
]
Severity = Literal["critical", "high", "medium", "low"]
# Connectors whose API filters on a change time: they can extract incrementally between
# full refreshes (`full_refresh_every_minutes`, extractors/cursors.py).
INCREMENTAL_CONNECTORS: frozenset[str] = frozenset({
    "shopify_rest", "shopify_graphql", "amazon_fba", "square", "sql_wms", "amazon_mfn",
})

CAUSES: tuple[str, ...] = (
    "extract_failed",
    "stale_system",
    "sync_stopped",
    "sync_lag_breach",
    "oversell_risk",
    "negative_available",
    "bundle_overstated",
    "unmapped_sku",
    "unmapped_location",
    "missing_listing",
    "duplicate_record",
    "return_restock_delayed",
    "lot_serial_mismatch",
    "canceled_order_not_released",
    "on_hand_pushed_as_available",
    "channel_edited_directly",
    "unexplained_increase",
    "incoming_stuck",
    "alert_delivery_failed",
)
MAPPING_CAUSES: frozenset[str] = frozenset({"unmapped_sku", "unmapped_location"})
# Roles whose number is a listed quantity (compared to master available) rather than a
# physical count (compared to master on-hand at the same location).
LISTING_ROLES: frozenset[str] = frozenset({"storefront", "marketplace"})


class ConfigError(ValueError):
    """A configuration problem, phrased as key + fix."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SystemConfig(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    role: Role
    connector: Connector
    # http(s) for APIs; file:// for drop folders (EDI 846, CSV); sqlite:///, duckdb:/// or
    # postgresql:// for a database export (SQL WMS connector).
    base_url: str = Field(pattern=r"^(https?|file|sqlite|duckdb|postgres(ql)?)://")
    # Names of environment variables holding secrets, keyed by the connector's credential
    # name (e.g. {"access_token": "SHOPIFY_ACCESS_TOKEN"}). Values are never in the file.
    credentials: dict[str, str] = Field(default_factory=dict)
    freshness_target_minutes: int = Field(gt=0, le=10080)
    timezone: str = "UTC"
    channel_buffer: int = Field(default=0, ge=0)
    timeout_seconds: float = Field(default=10.0, gt=0)
    # Requests in flight at once for this system (independent pages/batches; cursor chains
    # stay sequential). Throttle signals slow every worker (extractors/README.md).
    max_concurrency: int = Field(default=1, ge=1, le=32)
    # Incremental extraction between full refreshes (connectors with a change filter): a
    # full refresh runs when the last one is older than this. None = every cycle is full.
    full_refresh_every_minutes: int | None = Field(default=None, gt=0)
    options: dict[str, str] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _check_zone(value)

    @field_validator("options", mode="before")
    @classmethod
    def _scalar_options_as_text(cls, value: Any) -> Any:
        """Options are text; YAML flags and numbers (`lots: true`, `page_size: 50`) are
        spelled as their text ("true", "50") instead of failing."""
        if not isinstance(value, dict):
            return value
        return {k: ("true" if v else "false") if isinstance(v, bool)
                else str(v) if isinstance(v, int | float) else v for k, v in value.items()}

    @model_validator(mode="after")
    def _incremental_supported(self) -> SystemConfig:
        if self.full_refresh_every_minutes is not None \
                and self.connector not in INCREMENTAL_CONNECTORS:
            raise ValueError(
                f"full_refresh_every_minutes: connector {self.connector} has no change filter "
                "and always extracts in full; remove the key (incremental connectors: "
                f"{', '.join(sorted(INCREMENTAL_CONNECTORS))})")
        return self

    def credential(self, name: str) -> str:
        """Resolve a secret from the environment; the error names the variable, not the value."""
        env_name = self.credentials.get(name)
        if env_name is None:
            raise ConfigError(
                f"systems[{self.id}].credentials.{name}: missing; add "
                f"`{name}: <ENV_VAR_NAME>` naming the variable that holds it"
            )
        value = os.environ.get(env_name)
        if not value:
            raise ConfigError(
                f"systems[{self.id}].credentials.{name}: environment variable {env_name} "
                "is not set; export it (see .env.example)"
            )
        return value


class LocationConfig(_Strict):
    id: str = Field(pattern=r"^[A-Z0-9][A-Z0-9_-]*$")
    name: str
    timezone: str
    master: str | None = None  # overrides the inventory master for this location

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _check_zone(value)


class Tolerances(_Strict):
    units: int = Field(default=0, ge=0)
    percent: float = Field(default=0.0, ge=0, le=100)
    # A system is one `sync_stopped` incident (not a flood) when at least this share of its
    # compared keys are in settled drift, and at least `sync_stopped_min_keys` of them.
    sync_stopped_share: float = Field(default=0.3, gt=0, le=1)
    sync_stopped_min_keys: int = Field(default=5, ge=1)


class OwnerConfig(_Strict):
    # Slack channel id (C…), user id (U…/W…), user group id (S…) or an e-mail address.
    slack: str
    name: str = ""

    @field_validator("slack")
    @classmethod
    def _slack_target(cls, value: str) -> str:
        if "@" in value or value[:1] in {"C", "G", "U", "W", "S", "#"}:
            return value
        raise ValueError(
            "must be a Slack channel id (C…), user id (U…), user group id (S…), "
            "#channel-name or an e-mail address"
        )


class RouteMatch(_Strict):
    systems: list[str] = Field(default_factory=list)
    locations: list[str] = Field(default_factory=list)
    causes: list[str] = Field(default_factory=list)
    severities: list[Severity] = Field(default_factory=list)
    # Tag names from the top-level `sku_tags` (e.g. high-value, hazmat); a rule with tags
    # matches a SKU carrying any of them.
    sku_tags: list[str] = Field(default_factory=list)

    @field_validator("causes")
    @classmethod
    def _known_causes(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(CAUSES))
        if unknown:
            raise ValueError(f"unknown cause(s) {unknown}; known causes: {', '.join(CAUSES)}")
        return value


class RouteRule(_Strict):
    name: str
    when: RouteMatch = Field(default_factory=RouteMatch)
    owner: str
    escalate_to: str | None = None


class RoutingConfig(_Strict):
    default_owner: str
    mapping_owner: str
    escalate_after_minutes: int = Field(default=120, gt=0)
    # Thread reminders while an alerted exception stays open (not acknowledged or snoozed).
    reminder_every_minutes: int = Field(default=240, gt=0)
    # These severities get no individual alert: one digest per owner per day instead.
    digest_severities: list[Severity] = Field(default_factory=lambda: list[Severity](["low"]))
    digest_hour_utc: int = Field(default=8, ge=0, le=23)
    rules: list[RouteRule] = Field(default_factory=list)


class SlackConfig(_Strict):
    base_url: str = Field(default="https://slack.com/api/", pattern=r"^https?://")
    token_env: str = "SLACK_BOT_TOKEN"
    # Where out/report.html is served (http/https): alerts link "Drift report" to it.
    # Unset: alerts name the local file instead (a path is not a link Slack can open).
    report_url: str | None = None
    dagster_url: str = "http://127.0.0.1:3000"
    # Failed sends of one alert before its owner gets an `alert_delivery_failed` exception.
    max_attempts: int = Field(default=5, ge=1)
    # Daily "the monitor is alive" message to the default owner, first cycle after this hour.
    heartbeat_hour_utc: int = Field(default=8, ge=0, le=23)

    @field_validator("report_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is None or value.startswith(("http://", "https://")):
            return value
        raise ValueError(
            f"'{value}' is not a web address; set the http(s) URL where report.html is "
            "served, or remove the key (alerts then name the local file)"
        )

    def token(self) -> str | None:
        return os.environ.get(self.token_env) or None


class RolesConfig(_Strict):
    """Who may change what, by owner id; `admins` may always. An empty list means admins only
    for config and mapping edits, and every exception's own owner for exception decisions."""

    config_editors: list[str] = Field(default_factory=list)
    mapping_editors: list[str] = Field(default_factory=list)
    exception_deciders: list[str] = Field(default_factory=list)


class StockdriftConfig(_Strict):
    warehouse_path: str = "out/stockdrift.duckdb"
    out_dir: str = "out"
    master: str
    systems: list[SystemConfig]
    locations: list[LocationConfig]
    tolerances: Tolerances = Field(default_factory=Tolerances)
    owners: dict[str, OwnerConfig]
    routing: RoutingConfig
    slack: SlackConfig = Field(default_factory=SlackConfig)
    admins: list[str] = Field(default_factory=list)
    # tag -> SKU patterns (fnmatch: `SD-10*`), used by routing rules' `when.sku_tags`.
    sku_tags: dict[str, list[str]] = Field(default_factory=dict)
    roles: RolesConfig = Field(default_factory=RolesConfig)

    @model_validator(mode="after")
    def _cross_references(self) -> StockdriftConfig:
        ids = [s.id for s in self.systems]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"systems: duplicate id(s) {dupes}; give each system a unique id")
        if self.master not in ids:
            raise ValueError(f"master: '{self.master}' is not a system id; use one of {ids}")
        for loc in self.locations:
            if loc.master is not None and loc.master not in ids:
                raise ValueError(
                    f"locations[{loc.id}].master: '{loc.master}' is not a system id; "
                    f"use one of {ids}"
                )
        self._check_owner("routing.default_owner", self.routing.default_owner)
        self._check_owner("routing.mapping_owner", self.routing.mapping_owner)
        for role, members in self.roles.model_dump().items():
            for i, member in enumerate(members):
                self._check_owner(f"roles.{role}[{i}]", member)
        loc_ids = {loc.id for loc in self.locations}
        for i, rule in enumerate(self.routing.rules):
            self._check_owner(f"routing.rules[{i}].owner", rule.owner)
            if rule.escalate_to is not None:
                self._check_owner(f"routing.rules[{i}].escalate_to", rule.escalate_to)
            for sid in rule.when.systems:
                if sid not in ids:
                    raise ValueError(
                        f"routing.rules[{i}].when.systems: '{sid}' is not a system id; "
                        f"use one of {ids}"
                    )
            for tag in rule.when.sku_tags:
                if tag not in self.sku_tags:
                    raise ValueError(
                        f"routing.rules[{i}].when.sku_tags: '{tag}' is not defined under "
                        f"sku_tags: {sorted(self.sku_tags)}"
                    )
            for lid in rule.when.locations:
                if lid not in loc_ids:
                    raise ValueError(
                        f"routing.rules[{i}].when.locations: '{lid}' is not a location id; "
                        f"use one of {sorted(loc_ids)}"
                    )
        return self

    def _check_owner(self, key: str, owner: str) -> None:
        if owner not in self.owners:
            raise ValueError(
                f"{key}: owner '{owner}' is not defined under owners: {sorted(self.owners)}"
            )

    def system(self, system_id: str) -> SystemConfig:
        for s in self.systems:
            if s.id == system_id:
                return s
        raise KeyError(system_id)

    def tags_for(self, sku: str | None) -> frozenset[str]:
        """The tags whose patterns match this canonical SKU (none for system-level items)."""
        if not sku:
            return frozenset()
        return frozenset(
            tag for tag, patterns in self.sku_tags.items()
            if any(fnmatch.fnmatchcase(sku, pattern) for pattern in patterns)
        )

    def master_for(self, location_id: str) -> str:
        for loc in self.locations:
            if loc.id == location_id and loc.master:
                return loc.master
        return self.master


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone '{value}'; use an IANA name like Europe/Berlin"
        ) from exc
    return value


def _format_error(source: str, exc: ValidationError) -> str:
    lines = [f"{source}: invalid configuration"]
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key; remove it or check its spelling"
        elif err["type"] == "missing":
            msg = "required key is missing; add it"
        lines.append(f"  - {key}: {msg}")
    return "\n".join(lines)


def parse_config(data: Any, source: str = "<config>") -> StockdriftConfig:
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: expected a mapping at the top level, got {type(data).__name__}"
        )
    try:
        return StockdriftConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_error(source, exc)) from None


def load_config(path: str | Path) -> StockdriftConfig:
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: config file not found; copy stockdrift.example.yml and edit it")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc}); save the file as UTF-8") from None
    return parse_config(data, str(path))
