"""Who may edit config, edit mappings, or decide exceptions: the `roles` named in config.

Admins may always. For config and mapping edits an empty role list means admins only. For
exception decisions an empty list leaves the queue's own rule (the exception's owner or an
admin, enforced in `stockdrift.queue.transition`); a non-empty list narrows who may decide.
"""

from __future__ import annotations

from typing import Literal

from stockdrift.config import StockdriftConfig

Action = Literal["edit_config", "edit_mappings", "decide_exceptions"]

_ROLE = {
    "edit_config": "config_editors",
    "edit_mappings": "mapping_editors",
    "decide_exceptions": "exception_deciders",
}


class NotPermitted(PermissionError):
    """The actor is not in the role the action needs; the message names the config key."""


def allowed(cfg: StockdriftConfig, action: Action, actor: str) -> bool:
    if actor in cfg.admins:
        return True
    members: list[str] = getattr(cfg.roles, _ROLE[action])
    if not members:
        return action == "decide_exceptions" and actor in cfg.owners
    return actor in members


def require(cfg: StockdriftConfig, action: Action, actor: str) -> None:
    if not actor.strip():
        raise NotPermitted(f"{action} needs --actor naming who makes the change")
    if allowed(cfg, action, actor):
        return
    role = _ROLE[action]
    members = getattr(cfg.roles, role) or []
    raise NotPermitted(
        f"{actor!r} may not {action.replace('_', ' ')}: only roles.{role} "
        f"({', '.join(members) or 'none configured'}) or admins "
        f"({', '.join(cfg.admins) or 'none configured'}) may"
    )
