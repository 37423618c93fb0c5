from alert_fixtures import cfg, con, row

__all__ = ["cfg", "con", "row"]
