"""A retrying, rate-limit-aware JSON client over httpx.

>>> client = HttpClient("https://example.invalid", auth=None)  # doctest: +SKIP
>>> users = client.get_json("/api/v1/users", params={"limit": 200})  # doctest: +SKIP
"""

from __future__ import annotations

import email.utils
import random
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from policyengine.connector.transport import Transport
from policyengine.errors import AuthenticationError, ConnectorError, UsageError
from policyengine.log import get_logger, redact_text

log = get_logger("policyengine.http")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class ServerUnreachable(ConnectorError):
    """No connection could be made (refused, no route, untrusted TLS certificate).

    Every later request would fail the same way, so a connector may stop
    collecting at once instead of trying each part in turn.
    """


class HttpStatusError(ConnectorError):
    """The server answered with an error status that is not retried (``status`` says which)."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try. Delays are ``base * 2**attempt`` with full jitter, capped."""

    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    #: never wait longer than this for a Retry-After / rate-limit reset
    max_wait: float = 120.0

    def backoff(self, attempt: int) -> float:
        return random.uniform(0, min(self.backoff_max, self.backoff_base * (2**attempt)))


class TokenAuth:
    """Bearer-style auth whose token can be fetched again once it expires.

    ``fetch`` returns ``(header_value, base_url_or_None)``; it is called on
    first use and after a 401 (once per 401 in a row).
    """

    def __init__(
        self, fetch: Callable[[], tuple[str, str | None]], *, refreshable: bool = True
    ) -> None:
        self._fetch = fetch
        #: False for long-lived tokens (Okta SSWS): a 401 is final, not a cue to re-fetch
        self.refreshable = refreshable
        self._lock = threading.Lock()
        self._header: str | None = None
        self.base_url: str | None = None
        self.generation = 0

    def header(self) -> str:
        with self._lock:
            if self._header is None:
                self._refresh_locked()
            assert self._header is not None
            return self._header

    def refresh(self, seen_generation: int) -> None:
        """Fetch a new token unless another thread already did since ``seen_generation``."""
        with self._lock:
            if self.generation == seen_generation:
                self._refresh_locked()

    def _refresh_locked(self) -> None:
        header, base_url = self._fetch()
        self._header = header
        if base_url:
            self.base_url = base_url
        self.generation += 1


class _RateGate:
    """Shared pause: when a server says 'slow down', every thread waits."""

    def __init__(self, sleep: Callable[[float], None]) -> None:
        self._lock = threading.Lock()
        self._not_before = 0.0
        self._sleep = sleep

    def wait(self) -> None:
        with self._lock:
            delay = self._not_before - time.monotonic()
        if delay > 0:
            self._sleep(delay)

    def pause_until(self, monotonic_deadline: float) -> None:
        with self._lock:
            self._not_before = max(self._not_before, monotonic_deadline)


def _retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` is seconds or an HTTP date (RFC 9110 s. 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class HttpClient:
    """JSON over HTTPS with retries, rate limits and one re-authentication.

    Three hooks let a connector read its vendor's headers and error bodies:
    ``on_response(response) -> float | None`` may return seconds to pause
    every thread (see :class:`~connectors.http.RateLimitHeaders` for Okta's
    ``X-Rate-Limit-*``); ``fatal_error(response) -> str | None`` names a
    body that must not be retried; ``auth_failure(response) -> bool`` says
    whether a 401/403 means "credentials refused" (AuthenticationError, exit
    2) rather than "no permission for this endpoint" (ConnectorError, missing
    data). ``verify`` is True (the system CA store), a CA bundle path, or an
    SSLContext; False is refused, TLS verification is never turned off.

    Failures: AuthenticationError (refused credentials), ServerUnreachable
    (no connection or an untrusted certificate), ConnectorError (anything
    else, after the retries). Counters ``request_count`` and ``retry_count``
    are kept for logs and benchmarks.
    """

    def __init__(
        self,
        base_url: str,
        *,
        auth: TokenAuth | None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        verify: bool | str | ssl.SSLContext = True,
        headers: Mapping[str, str] | None = None,
        on_response: Callable[[httpx.Response], float | None] | None = None,
        fatal_error: Callable[[httpx.Response], str | None] | None = None,
        auth_failure: Callable[[httpx.Response], bool] | None = None,
        retryable: Callable[[httpx.Response], bool] | None = None,
        max_connections: int = 16,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.retry = retry or RetryPolicy()
        self._on_response = on_response
        self._fatal_error = fatal_error
        self._auth_failure = auth_failure
        #: a vendor's "slow down" outside 429/5xx (Google's 403 rateLimitExceeded)
        self._retryable = retryable
        self._sleep = sleep
        self._gate = _RateGate(sleep)
        self.request_count = 0
        self.retry_count = 0
        self._count_lock = threading.Lock()
        self._client = httpx.Client(
            timeout=timeout,
            verify=self._verify(verify),
            headers={"Accept": "application/json", "User-Agent": "policyengine", **(headers or {})},
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            follow_redirects=False,
            transport=transport,
        )

    @staticmethod
    def _verify(verify: bool | str | ssl.SSLContext) -> bool | ssl.SSLContext:
        """httpx 0.28 wants an SSLContext for a CA file; verification is never turned off."""
        if verify is False:
            raise ValueError("TLS verification cannot be turned off; pass a CA bundle instead")
        if isinstance(verify, str):
            try:
                return ssl.create_default_context(cafile=verify)
            except (OSError, ssl.SSLError) as exc:
                raise UsageError(f"cannot load CA file {verify}: {exc}") from None
        return verify

    @classmethod
    def for_transport(
        cls,
        base_url: str,
        settings: Transport,
        *,
        auth: TokenAuth | None,
        max_attempts: int | None = None,
        on_response: Callable[[httpx.Response], float | None] | None = None,
        fatal_error: Callable[[httpx.Response], str | None] | None = None,
        auth_failure: Callable[[httpx.Response], bool] | None = None,
        retryable: Callable[[httpx.Response], bool] | None = None,
        max_connections: int = 16,
        transport: httpx.BaseTransport | None = None,
    ) -> HttpClient:
        """A client with a connector's shared transport options (timeout, CA file, retries).

        ``max_attempts`` overrides the configured tries (a token call that retries itself).
        """
        return cls(
            base_url,
            auth=auth,
            timeout=settings.timeout,
            retry=RetryPolicy(
                max_attempts=max_attempts or settings.max_attempts,
                backoff_base=settings.retry_backoff,
            ),
            verify=settings.verify,
            on_response=on_response,
            fatal_error=fatal_error,
            auth_failure=auth_failure,
            retryable=retryable,
            max_connections=max_connections,
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        base = (self.auth.base_url if self.auth and self.auth.base_url else None) or self.base_url
        return base.rstrip("/") + "/" + path_or_url.lstrip("/")

    def request(self, method: str, path_or_url: str, **kwargs: Any) -> httpx.Response:
        """Send with retries; return a 2xx response or raise ConnectorError/AuthenticationError."""
        reauthenticated = False
        attempt = 0
        while True:
            self._gate.wait()
            headers = dict(kwargs.pop("headers", None) or {})
            generation = 0
            if self.auth is not None:
                generation = self.auth.generation
                headers["Authorization"] = self.auth.header()
            url = self.url(path_or_url)
            with self._count_lock:
                self.request_count += 1
            try:
                response = self._client.request(method, url, headers=headers, **kwargs)
            except httpx.TimeoutException as exc:
                error = f"timed out after {self._client.timeout.read}s: {method} {_safe(url)}"
                cause: Exception = exc
            except httpx.TransportError as exc:
                if _certificate_failure(exc):
                    # not transient: retrying cannot help, and the user must act
                    raise ServerUnreachable(
                        f"TLS certificate of {_safe(url)} not trusted ({_cert_reason(exc)}); "
                        "pass the CA bundle that signed it (ca_file)"
                    ) from None
                error = f"connection failed ({type(exc).__name__}): {method} {_safe(url)}"
                cause = exc
            else:
                pause = self._on_response(response) if self._on_response else None
                if pause:
                    self._gate.pause_until(time.monotonic() + min(pause, self.retry.max_wait))
                if response.status_code < 300:
                    return response
                if (
                    response.status_code == 401
                    and self.auth is not None
                    and self.auth.refreshable
                    and not reauthenticated
                ):
                    # An access token can expire mid-run: fetch a new one, once.
                    log.info("http.reauthenticate", url=_safe(url))
                    self.auth.refresh(generation)
                    reauthenticated = True
                    kwargs["headers"] = headers
                    continue
                vendor_retry = self._retryable is not None and self._retryable(response)
                if (
                    response.status_code in (401, 403)
                    and not vendor_retry
                    and self._is_auth_failure(response)
                ):
                    raise AuthenticationError(
                        f"{_safe(url)} refused the credentials: HTTP {response.status_code} "
                        f"{_error_summary(response)}"
                    )
                fatal = self._fatal_error(response) if self._fatal_error else None
                if fatal:
                    raise ConnectorError(f"{method} {_safe(url)}: {fatal}")
                if response.status_code not in RETRY_STATUSES and not vendor_retry:
                    raise HttpStatusError(
                        f"{method} {_safe(url)} failed: HTTP {response.status_code} "
                        f"{_error_summary(response)}",
                        status=response.status_code,
                    )
                error = (
                    f"HTTP {response.status_code} {_error_summary(response)}: {method} {_safe(url)}"
                )
                cause = ConnectorError(error)
                wait = _retry_after_seconds(response.headers.get("Retry-After"))
                if wait is not None:
                    self._gate.pause_until(time.monotonic() + min(wait, self.retry.max_wait))
            attempt += 1
            if attempt >= self.retry.max_attempts:
                kind = (
                    ServerUnreachable if isinstance(cause, httpx.ConnectError) else ConnectorError
                )
                raise kind(f"gave up after {attempt} attempts: {error}") from cause
            delay = self.retry.backoff(attempt)
            with self._count_lock:
                self.retry_count += 1
            log.warning("http.retry", attempt=attempt, delay=round(delay, 3), error=error)
            kwargs["headers"] = headers
            self._sleep(delay)

    def _is_auth_failure(self, response: httpx.Response) -> bool:
        if self._auth_failure is not None:
            return self._auth_failure(response)
        return response.status_code == 401 or (
            response.status_code == 403 and "INSUFFICIENT" not in response.text
        )

    def get_json(self, path_or_url: str, **kwargs: Any) -> Any:
        """GET and decode; a malformed body is fetched again like a 5xx would be."""
        return self.fetch_json("GET", path_or_url, **kwargs)[1]

    def get_json_or_none(self, path_or_url: str, **kwargs: Any) -> Any:
        """:meth:`get_json`, or None when the server answers 404 (the object is gone)."""
        try:
            return self.get_json(path_or_url, **kwargs)
        except HttpStatusError as exc:
            if exc.status == 404:
                return None
            raise

    def send(
        self, method: str, path_or_url: str, *, missing_ok: bool = False, **kwargs: Any
    ) -> bool:
        """One write; False when ``missing_ok`` and the server answers 404 (already gone)."""
        try:
            self.request(method, path_or_url, **kwargs)
        except HttpStatusError as exc:
            if missing_ok and exc.status == 404:
                return False
            raise
        return True

    def fetch_json(
        self, method: str, path_or_url: str, **kwargs: Any
    ) -> tuple[httpx.Response, Any]:
        """Send, decode, and return ``(response, data)``.

        A body that is not JSON (a proxy's HTML error page, a truncated
        answer) is requested again within the retry budget, then reported as
        a ConnectorError naming the URL.
        """
        attempt = 0
        while True:
            response = self.request(method, path_or_url, **kwargs)
            try:
                return response, self.decode(response)
            except ConnectorError as exc:
                attempt += 1
                if attempt >= self.retry.max_attempts:
                    raise
                with self._count_lock:
                    self.retry_count += 1
                log.warning("http.retry", attempt=attempt, error=exc.message)
                self._sleep(self.retry.backoff(attempt))

    def get_json_post(self, url: str, form: Mapping[str, str]) -> Any:
        """POST a form (``application/x-www-form-urlencoded``) and decode the JSON answer."""
        return self.fetch_json("POST", url, data=dict(form))[1]

    def decode(self, response: httpx.Response) -> Any:
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise ConnectorError(
                f"malformed JSON from {_safe(str(response.request.url))} "
                f"(HTTP {response.status_code}, {len(response.content)} bytes): {exc}"
            ) from None


def _certificate_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)


def _cert_reason(exc: BaseException) -> str:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return str(seen.verify_message or seen.reason or "verification failed")
        seen = seen.__cause__ or seen.__context__
    return "verification failed"


def _safe(url: str) -> str:
    """A URL fit for a message: no query string secrets."""
    return redact_text(url.split("?", 1)[0] if "token" in url.lower() else url)


def _error_summary(response: httpx.Response) -> str:
    """The vendor's error code and message, short and redacted."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return redact_text(response.text[:200])
    if isinstance(body, list) and body and isinstance(body[0], dict):
        body = body[0]  # Salesforce: [{"message": ..., "errorCode": ...}]
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]  # Google: {"error": {"message", "errors": [{"reason"}]}}
        reasons = [e.get("reason") for e in error.get("errors") or [] if isinstance(e, dict)]
        # Microsoft Graph: {"error": {"code": "Authorization_RequestDenied", "message"}}
        code = reasons[0] if reasons else error.get("status") or error.get("code", "")
        body = {**error, "error": code}
    if isinstance(body, dict):
        code = body.get("errorCode") or body.get("error") or ""
        message = (
            body.get("message") or body.get("errorSummary") or body.get("error_description") or ""
        )
        return redact_text(f"{code} {message}".strip())[:300]
    return ""
