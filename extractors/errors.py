"""One exception type for every way an extraction can fail, phrased for the person on call.

`str(error)` is the whole story on one line: which system, what went wrong, on which request
and page, what the vendor said, and how many attempts were made. Secrets never reach it: the
message is built from redacted parts, and `redact()` is applied again by the landing code.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from extractors.base import Exchange

Kind = Literal[
    "http_status", "auth", "rate_limited", "timeout", "connection", "malformed", "schema"
]

REDACTED = "***"


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of every secret (longest first, so prefixes don't leak)."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def redact_bytes(data: bytes, secrets: Iterable[str]) -> bytes:
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        data = data.replace(secret.encode(), REDACTED.encode())
    return data


class ExtractionError(Exception):
    """An extraction failed; the snapshot is recorded as failed, never as zero stock."""

    def __init__(
        self,
        system_id: str,
        kind: Kind,
        *,
        method: str = "",
        url: str = "",
        status_code: int | None = None,
        vendor_code: str | None = None,
        vendor_message: str | None = None,
        request_id: str | None = None,
        page: int | str | None = None,
        attempts: int = 1,
        detail: str | None = None,
        exchange: Exchange | None = None,
    ) -> None:
        self.system_id = system_id
        self.kind: Kind = kind
        self.method = method
        self.url = url  # path + query only: hosts are config, not evidence
        self.status_code = status_code
        self.vendor_code = vendor_code
        self.vendor_message = vendor_message
        self.request_id = request_id
        self.page = page
        self.attempts = attempts
        self.detail = detail  # our own explanation (malformed/schema/transport)
        # The response that failed, kept so landing can store it for forensics.
        self.exchange = exchange
        super().__init__(self.summary())

    def summary(self) -> str:
        what = {
            "http_status": f"HTTP {self.status_code}",
            "auth": f"HTTP {self.status_code} (authentication/permission)",
            "rate_limited": f"HTTP {self.status_code} (rate limited)",
            "timeout": "timed out",
            "connection": "connection failed",
            "malformed": "malformed response",
            "schema": "unexpected response schema",
        }[self.kind]
        where = f" from {self.method} {self.url}".rstrip() if self.method or self.url else ""
        page = f" (page {self.page})" if self.page is not None else ""
        said = ": ".join(p for p in (self.vendor_code, self.vendor_message) if p)
        parts = [f"{self.system_id}: {what}{where}{page}"]
        if said:
            parts.append(said)
        if self.detail:
            parts.append(self.detail)
        text = ": ".join(parts)
        if self.request_id:
            text += f" [request id {self.request_id}]"
        noun = "attempt" if self.attempts == 1 else "attempts"
        return " ".join(f"{text} after {self.attempts} {noun}".split())

    def __str__(self) -> str:
        return self.summary()

    def redacted(self, secrets: Iterable[str]) -> str:
        return redact(self.summary(), secrets)
