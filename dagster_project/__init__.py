"""Dagster wiring for stockdrift: thin assets over the domain packages, plus the CLI."""
