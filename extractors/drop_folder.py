"""A drop folder that file feeds (EDI 846, CSV) land in, each file processed once.

Layout under the folder named by `base_url` (`file:///srv/feeds/acme-846`):
- new files sit at the top level (matched by `options.pattern`, e.g. `*.edi,*.x12`);
- `processed/` receives a file once the snapshot that read it has been fully extracted;
- `rejected/` receives a file that cannot be read, with `<name>.error.txt` saying why.

A cycle with no new file re-reads the newest processed file ("carried forward"): a feed's
last statement stays the system's view, and its own timestamp (not the cycle's) becomes the
snapshot's `source_as_of`, so a silent feed turns stale instead of turning into zero stock.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from fnmatch import fnmatch
from pathlib import Path
from urllib.parse import unquote, urlsplit

from extractors.base import Exchange
from extractors.errors import ExtractionError

PROCESSED, REJECTED, QUARANTINE = "processed", "rejected", "quarantine"


def folder_from_url(base_url: str) -> Path:
    parts = urlsplit(base_url)
    if parts.scheme != "file":
        raise ValueError(f"{base_url!r}: a drop folder is a file:// URL")
    return Path(unquote(parts.path))


class DropFolder:
    def __init__(self, system_id: str, base_url: str, patterns: Iterable[str]) -> None:
        self.system_id = system_id
        self.root = folder_from_url(base_url)
        self.patterns = tuple(p.strip() for p in patterns if p.strip())

    def _matches(self, path: Path) -> bool:
        return path.is_file() and any(fnmatch(path.name, p) for p in self.patterns)

    def new_files(self) -> list[Path]:
        """Oldest first (mtime, then name), so a later file's statement wins downstream."""
        if not self.root.is_dir():
            raise ExtractionError(self.system_id, "connection", url=str(self.root),
                                  detail=f"drop folder {self.root} does not exist")
        files = [p for p in self.root.iterdir() if self._matches(p)]
        return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))

    def latest_processed(self) -> Path | None:
        folder = self.root / PROCESSED
        if not folder.is_dir():
            return None
        files = [p for p in folder.iterdir() if self._matches(p)]
        return max(files, key=lambda p: (p.stat().st_mtime_ns, p.name), default=None)

    def mark_processed(self, paths: Iterable[Path]) -> list[Path]:
        """Move (atomic rename) into processed/; mtime is kept so order survives."""
        return [self._move(p, PROCESSED) for p in paths]

    def reject(self, path: Path, reason: str) -> Path:
        target = self._move(path, REJECTED)
        target.with_name(target.name + ".error.txt").write_text(reason + "\n", encoding="utf-8")
        return target

    def _move(self, path: Path, sub: str) -> Path:
        folder = self.root / sub
        folder.mkdir(exist_ok=True)
        target = folder / path.name
        if target.exists():  # same name sent twice: keep both
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            target = folder / f"{path.stem}.{stamp}{path.suffix}"
        os.replace(path, target)
        return target

    def quarantine_path(self, name: str) -> Path:
        folder = self.root / QUARANTINE
        folder.mkdir(exist_ok=True)
        return folder / name


def file_exchange(path: Path, data: bytes, *, carried: bool = False) -> Exchange:
    """A file read, stored like an HTTP exchange so `raw.payloads` keeps every input."""
    stat = path.stat()
    headers = {
        "content-length": str(len(data)),
        "x-file-sha256": hashlib.sha256(data).hexdigest(),
        "x-file-mtime": datetime.fromtimestamp(stat.st_mtime, UTC).isoformat(),
        "x-carried-forward": "true" if carried else "false",
    }
    return Exchange("READ", f"file://{path.parent.name}/{path.name}", 200, headers, data)
