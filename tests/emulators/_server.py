"""A small threaded HTTP server for vendor emulators, on 127.0.0.1 only.

An emulator is a function (or any callable) from a :class:`Request` to a
:class:`Response`. :class:`EmulatorServer` serves it on a free loopback port
with HTTP/1.1 keep-alive (so a client's connection pool is exercised as in
production), records every request, and lets a test inject faults in front
of the emulator: canned responses (429, 500, 401), dropped or reset
connections, truncated bodies, delays.

>>> def app(request: Request) -> Response:
...     return Response.json({"hello": request.path})
>>> with EmulatorServer(app) as server:  # doctest: +SKIP
...     server.add_fault(Response.json({"error": "busy"}, status=503), match="/x", times=2)
...     httpx.get(server.base_url + "/x")  # 503, 503, then the app answers
...     server.requests[-1].path
'/x'

Faults are checked in the order they were added; each has a ``skip`` (let
the first N matching requests through) and a ``times`` budget (``None`` for
every matching request). Nothing here listens on anything but 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.emulators._redact import redact_request

__all__ = [
    "DROP",
    "RESET",
    "TRUNCATE",
    "Delay",
    "EmulatorServer",
    "Fault",
    "Request",
    "Response",
]


@dataclass(frozen=True, slots=True)
class Request:
    """One request as the emulator saw it. Header names are lower-case."""

    method: str
    path: str  # without the query string, percent-decoding left to the app
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes
    target: str  # the raw request target: path and query string
    at: float = 0.0  # time.monotonic() when it arrived

    def param(self, name: str, default: str | None = None) -> str | None:
        """The first value of query parameter ``name``."""
        values = self.query.get(name)
        return values[0] if values else default

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        """An ``application/x-www-form-urlencoded`` body, first value per name."""
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8")).items()}

    def redacted(self) -> dict[str, Any]:
        """This request as a log entry, every auth value replaced (see ``_redact``)."""
        return redact_request(self.method, self.target, self.headers, self.body)

    def __repr__(self) -> str:
        # pytest prints reprs in assertion messages: they must not carry credentials
        entry = self.redacted()
        return f"Request({entry['method']} {entry['target']} headers={entry['headers']!r})"


@dataclass(slots=True)
class Response:
    """What to send back. ``body`` is bytes; use :meth:`json` for JSON."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(
        cls, obj: Any, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> Response:
        body = json.dumps(obj, separators=(",", ":")).encode("utf-8")
        return cls(status, body, {"Content-Type": "application/json", **(headers or {})})

    @classmethod
    def text(
        cls, text: str, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> Response:
        return cls(status, text.encode("utf-8"), {"Content-Type": "text/plain", **(headers or {})})


class _Action:
    """A fault that is not a plain response. Compare with the module constants."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: Close the connection without sending a response (client: "server disconnected").
DROP = _Action("DROP")
#: Reset the TCP connection (RST) without a response (client: "connection reset by peer").
RESET = _Action("RESET")
#: Let the app answer, then send only half the body and close (client: incomplete read).
TRUNCATE = _Action("TRUNCATE")


@dataclass(frozen=True, slots=True)
class Delay:
    """Sleep ``seconds`` before letting the app (or the next fault) answer."""

    seconds: float


Matcher = str | Callable[[Request], bool] | None
ActionT = Response | _Action | Delay | Callable[[Request], "Response | None"]


@dataclass(slots=True)
class Fault:
    """An injected fault; ``hits`` counts how often it fired."""

    action: ActionT
    match: Matcher = None
    times: int | None = 1
    skip: int = 0
    hits: int = 0
    seen: int = 0

    def matches(self, request: Request) -> bool:
        if self.match is None:
            return True
        if isinstance(self.match, str):
            if self.match.endswith("*"):
                return request.path.startswith(self.match[:-1])
            return request.path == self.match
        return bool(self.match(request))

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times


App = Callable[[Request], Response]


class EmulatorServer:
    """Serve ``app`` on ``http://127.0.0.1:<free port>`` in a background thread.

    Use as a context manager (or :meth:`start` / :meth:`stop`). Attributes:

    - ``base_url``: ``http://127.0.0.1:PORT`` (``https://`` with ``ssl_context`` or
      ``tls_dir``, which makes a throwaway CA there and sets ``ca_file``)
    - ``requests``: the request log (a deque; ``log_limit`` bounds it)
    - ``request_count``: every request, even when the log is bounded
    """

    def __init__(
        self,
        app: App,
        *,
        ssl_context: ssl.SSLContext | None = None,
        tls_dir: str | os.PathLike[str] | None = None,
        log_limit: int | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("emulators listen on loopback only")
        #: the CA certificate a client must trust (set with ``tls_dir``)
        self.ca_file: Path | None = None
        if tls_dir is not None:
            if ssl_context is not None:
                raise ValueError("give ssl_context or tls_dir, not both")
            from tests.emulators._tls import loopback_tls

            ssl_context, self.ca_file = loopback_tls(Path(tls_dir))
        self.app = app
        self.requests: deque[Request] = deque(maxlen=log_limit)
        self.request_count = 0
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._ssl_context = ssl_context
        self._host = host
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------
    def start(self) -> EmulatorServer:
        """Listen on a free port; an app with a ``base_url`` attribute is told the URL."""
        handler = _make_handler(self)
        httpd = _Server((self._host, 0), handler)
        if self._ssl_context is not None:
            httpd.socket = self._ssl_context.wrap_socket(httpd.socket, server_side=True)
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        if hasattr(self.app, "base_url"):
            self.app.base_url = self.base_url  # links and token audiences name this server
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        scheme = "https" if self._ssl_context is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    # -- faults ----------------------------------------------------------------
    def add_fault(
        self, action: ActionT, *, match: Matcher = None, times: int | None = 1, skip: int = 0
    ) -> Fault:
        """Answer matching requests with ``action`` instead of the app.

        ``match`` is an exact path, a path prefix ending in ``*``, a predicate
        on :class:`Request`, or None for every request. ``action`` is a
        :class:`Response`, :data:`DROP`, :data:`RESET`, :data:`TRUNCATE`, a
        :class:`Delay`, or a callable returning a Response (or None to pass).
        """
        fault = Fault(action=action, match=match, times=times, skip=skip)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_faults(self, request: Request) -> list[Fault]:
        """The faults that fire for this request (delays first, at most one other)."""
        fired: list[Fault] = []
        with self._lock:
            for fault in self._faults:
                if fault.exhausted or not fault.matches(request):
                    continue
                fault.seen += 1
                if fault.seen <= fault.skip:
                    continue
                fault.hits += 1
                fired.append(fault)
                if not isinstance(fault.action, Delay):
                    break
        return fired

    # -- log -------------------------------------------------------------------
    def _record(self, request: Request) -> None:
        with self._lock:
            self.request_count += 1
            self.requests.append(request)

    def requests_to(self, path: str) -> list[Request]:
        """Logged requests whose path equals ``path`` (or starts with it, given ``*``)."""
        probe = Fault(action=DROP, match=path)
        with self._lock:
            return [r for r in self.requests if probe.matches(r)]

    def log(self) -> list[dict[str, Any]]:
        """The request log as entries safe to print: no Authorization, cookie or secret."""
        with self._lock:
            return [r.redacted() for r in self.requests]

    def dump_log(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`log` as JSON lines (to attach to a failed CI run)."""
        with open(path, "w", encoding="utf-8") as out:
            for entry in self.log():
                out.write(json.dumps(entry, sort_keys=True) + "\n")

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()
            self.request_count = 0

    def __iter__(self) -> Iterator[Request]:
        with self._lock:
            return iter(list(self.requests))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hang up mid-response in fault tests; that is not a server bug.
        pass


def _make_handler(server: EmulatorServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like the real APIs
        # headers and body go out in two writes: without TCP_NODELAY, Nagle and the
        # client's delayed ACK would add ~40 ms to every response
        disable_nagle_algorithm = True
        server_version = "policyengine-emulator"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the request log is server.requests

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            split = urlsplit(self.path)
            request = Request(
                method=self.command,
                path=split.path,
                query=parse_qs(split.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                target=self.path,
                at=time.monotonic(),
            )
            server._record(request)
            response: Response | None = None
            truncate = False
            for fault in server._take_faults(request):
                action = fault.action
                if isinstance(action, Delay):
                    time.sleep(action.seconds)
                elif action is DROP:
                    self.close_connection = True
                    return
                elif action is RESET:
                    self._reset()
                    return
                elif action is TRUNCATE:
                    truncate = True
                elif isinstance(action, Response):
                    response = action
                elif callable(action):
                    response = action(request)
            if response is None:
                try:
                    response = server.app(request)
                except Exception as exc:  # an emulator bug must show, not hang the client
                    response = Response.text(f"emulator error: {exc!r}", status=599)
            self._send(response, truncate=truncate)

        def _send(self, response: Response, *, truncate: bool) -> None:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            if truncate:
                self.send_header("Connection", "close")
            self.end_headers()
            if truncate:
                self.wfile.write(response.body[: len(response.body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(response.body)

        def _reset(self) -> None:
            # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

    return Handler
