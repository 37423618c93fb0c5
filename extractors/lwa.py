"""Login with Amazon (LWA) access tokens for SP-API: refresh-token grant, cached until expiry.

vendor_api_facts.md §2.1: `POST https://api.amazon.com/auth/o2/token`, form body
`grant_type=refresh_token&refresh_token=Atzr|…&client_id=…&client_secret=…`, answer
`{"access_token": "Atza|…", "token_type": "bearer", "expires_in": 3600, …}`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx

from extractors.errors import ExtractionError
from extractors.http import Sleep, attempts_of, parse_json, request_with_retries
from extractors.vendor_errors import copy_error

DEFAULT_ENDPOINT = "https://api.amazon.com/auth/o2/token"
EXPIRY_MARGIN_S = 60.0  # refresh a minute early: a token expiring mid-page costs a retry


class LwaTokens:
    """Hands out a valid access token; `invalidate()` after a 401/403 forces a refresh."""

    def __init__(
        self,
        client: httpx.Client,
        endpoint: str,
        *,
        refresh_token: str,
        client_id: str,
        client_secret: str,
        system_id: str,
        sleep: Sleep = time.sleep,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client, self._endpoint = client, endpoint
        self._form = {
            "grant_type": "refresh_token", "refresh_token": refresh_token,
            "client_id": client_id, "client_secret": client_secret,
        }
        self.system_id, self._sleep, self._now = system_id, sleep, now
        self._token: str | None = None
        self._expires_at = 0.0
        self.refreshes = 0
        self.requests = 0  # HTTP attempts spent on the token endpoint

    @property
    def secrets(self) -> tuple[str, ...]:
        extra = (self._token,) if self._token else ()
        return (self._form["refresh_token"], self._form["client_secret"], *extra)

    def invalidate(self) -> None:
        self._token = None

    def token(self) -> str:
        if self._token is None or self._now() >= self._expires_at:
            self._refresh()
        assert self._token is not None
        return self._token

    def _refresh(self) -> None:
        try:
            response = request_with_retries(
                self._client, "POST", self._endpoint, system_id=self.system_id, page="LWA token",
                data=self._form, sleep=self._sleep, secrets=self.secrets,
                headers={"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"},
            )
        except ExtractionError as exc:
            self.requests += exc.attempts
            raise self._oauth_error(exc) from None
        self.requests += attempts_of(response)
        data = parse_json(response, system_id=self.system_id, page="LWA token",
                          secrets=self.secrets)
        token = data.get("access_token") if isinstance(data, dict) else None
        expires = data.get("expires_in", 3600) if isinstance(data, dict) else None
        if not isinstance(token, str) or not token or not isinstance(expires, int | float):
            raise ExtractionError(
                self.system_id, "schema", method="POST", url=httpx.URL(self._endpoint).path,
                page="LWA token", detail="LWA answer lacks access_token/expires_in",
                attempts=attempts_of(response),
            )
        self._token = token
        self._expires_at = self._now() + float(expires) - EXPIRY_MARGIN_S
        self.refreshes += 1

    def _oauth_error(self, exc: ExtractionError) -> ExtractionError:
        """OAuth 2 error body (RFC 6749 §5.2): {"error": "invalid_grant", "error_description"}."""
        try:
            body = json.loads(exc.exchange.body) if exc.exchange else None
        except ValueError:
            body = None
        if isinstance(body, dict) and "error" in body:
            return copy_error(
                exc, kind="auth", vendor_code=str(body["error"]),
                vendor_message=str(body.get("error_description") or "") or None,
                detail="LWA refused the refresh token; re-authorize the app (new refresh token)",
            )
        return exc
