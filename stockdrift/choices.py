"""Refuse an unknown value, naming the valid ones and the nearest: a typo in a filter
(`--owner ecomerce`) must not look like "nothing to see" (an empty list, exit 0).

`UnknownChoice` is a `ValueError`, so `stockdrift`'s `main` prints it and exits 1.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path


class UnknownChoice(ValueError):
    def __init__(self, kind: str, value: str, valid: Iterable[str]) -> None:
        self.kind, self.value = kind, value
        self.valid = sorted(set(valid))
        close = difflib.get_close_matches(value, self.valid, n=1, cutoff=0.6)
        if not close:  # `OPEN`, `Ecommerce`: the same word in another case
            close = [v for v in self.valid if v.lower() == value.lower()][:1]
        self.nearest: str | None = close[0] if close else None
        hint = f"; did you mean '{self.nearest}'? " if self.nearest else "; "
        plural = f"{kind}es" if kind.endswith("s") else f"{kind}s"
        super().__init__(f"unknown {kind} '{value}'{hint}valid {plural}: "
                         f"{', '.join(self.valid)}")


def require_choice(kind: str, value: str, valid: Iterable[str]) -> str:
    """`value` if it is one of `valid`, else `UnknownChoice` (message: valid values, nearest)."""
    options = set(valid)
    if value in options:
        return value
    raise UnknownChoice(kind, value, options)


def require_optional(kind: str, value: str | None, valid: Iterable[str]) -> str | None:
    """`require_choice` for an optional filter: `None` (not given) passes."""
    return None if value is None else require_choice(kind, value, valid)


def seed_names(seeds_dir: Path) -> list[str]:
    """The dbt seeds (`dbt/seeds/<name>.csv`), by name."""
    return sorted(p.stem for p in Path(seeds_dir).glob("*.csv"))


def require_seed(value: str | None, seeds_dir: Path) -> str | None:
    """A `--seed` option checked against the seed folder (`None`: not given)."""
    return require_optional("seed", value, seed_names(seeds_dir))
