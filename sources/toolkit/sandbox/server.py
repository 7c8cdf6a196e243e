"""The base of every sandbox: a threaded HTTP server on loopback with routing, request
counting, latency and fault injection.

A sandbox subclasses :class:`SandboxServer` and declares handlers with :func:`route`::

    class PetsSandbox(SandboxServer):
        @route("GET", r"/v1/pets/(?P<pet_id>\\d+)")
        def get_pet(self, request, pet_id):
            return Response.json({"id": pet_id})

    with PetsSandbox() as sandbox:          # binds 127.0.0.1 on a free port
        requests.get(sandbox.url + "/v1/pets/1")
        sandbox.request_counts["GET /v1/pets/{pet_id}"]   # -> 1

Faults are queued per endpoint pattern (``"*"`` for any) and served before the real
handler: ``sandbox.inject(Fault(429, retry_after=1), times=3, endpoint="GET /v1/pets")``.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from sources.toolkit.sandbox.truth import TRUTH_PATH, TableTruth


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def int_arg(self, name: str, default: int | None = None) -> int | None:
        """Query parameter ``name`` as an integer (``default`` when absent or blank); a
        ``ValueError`` naming it otherwise, which each sandbox answers in its API's words."""
        raw = self.arg(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{name} must be an integer, got {raw!r}") from None

    def args(self, name: str) -> list[str]:
        """Every value of a repeated query parameter, comma-separated values split."""
        out: list[str] = []
        for value in self.query.get(name, []):
            out.extend(v for v in value.split(",") if v != "")
        return out

    def json(self) -> Any:
        if not self.body:
            return None
        return json.loads(self.body.decode("utf-8"))

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> "Response":
        return cls(
            status,
            json.dumps(payload, separators=(",", ":")).encode("utf-8"),
            {"Content-Type": "application/json;charset=utf-8", **(headers or {})},
        )

    @classmethod
    def empty(cls, status: int = 204) -> "Response":
        return cls(status, b"", {})


@dataclass
class Fault:
    """An injected failure: an HTTP status (429, 500, 503…), an optional ``Retry-After``
    value, an optional body, and/or a delay before answering (a slow response)."""

    status: int | None = None
    retry_after: float | None = None
    delay: float = 0.0
    body: Any = None


def route(method: str, pattern: str) -> Callable:
    """Mark a sandbox method as the handler of ``method`` requests whose path matches the
    regular expression ``pattern`` fully; named groups become keyword arguments."""

    def mark(fn: Callable) -> Callable:
        fn._sandbox_route = (method.upper(), pattern)
        return fn

    return mark


def _endpoint_name(method: str, pattern: str) -> str:
    """``GET /v1/pets/(?P<pet_id>\\d+)`` -> ``GET /v1/pets/{pet_id}``."""
    return f"{method} " + re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)


class SandboxServer:
    """A threaded HTTP server on ``127.0.0.1`` (port 0 by default: the OS picks a free one).

    Attributes:
        url: ``http://127.0.0.1:<port>`` once started.
        request_counts: ``Counter`` of handled requests by endpoint name (``"GET /v1/x/{id}"``).
        latency: seconds added before answering every request (simulates a remote API).
    """

    name = "sandbox"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, latency: float = 0.0):
        self.host = host
        self.port = port
        self.latency = latency
        self.request_counts: Counter[str] = Counter()
        self.lock = threading.RLock()
        self._faults: list[tuple[str, Fault]] = []
        self._after_request_actions: list[list] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._routes = self._collect_routes()

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> "SandboxServer":
        handler = _make_handler(self)
        self._httpd = _LoopbackServer((self.host, self.port), handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        # A 50 ms shutdown poll: stop() returns at once rather than after up to 0.5 s.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=f"{self.name}-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def serve_forever(self, announce: Callable[["SandboxServer"], None] | None = None) -> None:
        """Run in the foreground (``lakeflow sandbox``, ``python -m ...``) until interrupted;
        ``announce(self)`` is called once the port is bound (to print the real URL)."""
        self.start()
        if announce is not None:
            announce(self)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def __enter__(self) -> "SandboxServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def connection_options(self) -> dict[str, str]:
        """The connector options that point a connector at this sandbox (subclasses add
        their credentials)."""
        return {"base_url": self.url}

    # -- the demo (``lakeflow demo``) --------------------------------------------------
    #: The ``seed`` the demo starts this sandbox with (``None``: the constructor's default).
    demo_seed: int | None = None

    def describe(self) -> str:
        """What the sandbox holds, in a few words (printed by ``lakeflow demo``)."""
        return "running"

    # -- the truth (what the suite compares reads with) ---------------------------------
    def truth_tables(self) -> list[str]:
        """The tables :meth:`truth` answers for (none: this sandbox has no truth)."""
        return []

    def truth(self, table: str) -> "TableTruth":
        """Every live record of ``table`` as the API returns it, and the deleted keys."""
        raise NotImplementedError(f"{type(self).__name__} does not expose its truth")

    # -- scenarios the suite drives through (a sandbox implements what its API allows) ----
    def scenario(self, table: str, change: str, n: int) -> list:
        """Apply ``n`` changes of kind ``create``, ``update``, ``delete`` (that a delete flow
        reports), ``burst`` (``n`` new records sharing one cursor value, later than every
        other), ``tie`` (``n`` new records at the cursor value of the newest record) or
        ``tie_update`` (``n`` other records updated to that value) to ``table`` and return
        the records touched; ``NotImplementedError`` saying why when the API cannot make
        such a change (the suite then skips the check by name, with that reason)."""
        raise NotImplementedError(f"{type(self).__name__} has no {change!r} scenario for {table!r}")

    def after_requests(self, n: int, action: Callable[[], Any]) -> None:
        """Run ``action`` once, right after the ``n``-th request from now is answered (a
        change that lands while a connector is paging)."""
        with self.lock:
            self._after_request_actions.append([n, action])

    def _run_request_hooks(self) -> None:
        due = []
        with self.lock:
            for hook in list(self._after_request_actions):
                hook[0] -= 1
                if hook[0] <= 0:
                    self._after_request_actions.remove(hook)
                    due.append(hook[1])
        for action in due:
            action()

    def _truth_response(self, table: str) -> Response:
        if table not in self.truth_tables():
            return Response.json({"error": f"no truth for table {table!r}", "tables": self.truth_tables()}, status=404)
        with self.lock:
            return Response.json(self.truth(table).to_json())

    def demo_changes(self) -> str:
        """Create, update and delete some records between the demo's two runs; return a
        one-line account of what changed."""
        raise NotImplementedError(f"{type(self).__name__} has no demo changes")

    # -- faults ------------------------------------------------------------------------
    def inject(self, fault: Fault, times: int = 1, endpoint: str = "*") -> None:
        """Serve ``fault`` for the next ``times`` requests to ``endpoint`` (an endpoint name
        such as ``"GET /api/v1/{table}"``, or ``"*"`` for any)."""
        with self.lock:
            self._faults.extend((endpoint, fault) for _ in range(times))

    def _take_fault(self, endpoint: str) -> Fault | None:
        with self.lock:
            for i, (target, fault) in enumerate(self._faults):
                if target in ("*", endpoint):
                    del self._faults[i]
                    return fault
        return None

    def reset_counts(self) -> None:
        with self.lock:
            self.request_counts.clear()

    # -- hooks for subclasses ----------------------------------------------------------
    def authenticate(self, request: Request) -> Response | None:
        """Return an error response to reject the request, ``None`` to accept it."""
        return None

    def before_handle(self, request: Request, endpoint: str) -> Response | None:
        """Called after authentication, before the handler (rate limits live here)."""
        return None

    def after_handle(self, request: Request, endpoint: str, response: Response) -> Response:
        return response

    def not_found(self, request: Request) -> Response:
        return Response.json({"error": f"no route for {request.method} {request.path}"}, status=404)

    def fault_response(self, fault: Fault, endpoint: str) -> Response:
        body = fault.body if fault.body is not None else {"error": f"injected HTTP {fault.status}"}
        headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
        return Response.json(body, status=fault.status or 500, headers=headers)

    # -- dispatch ----------------------------------------------------------------------
    def extra_routes(self) -> list[tuple[str, str, Callable]]:
        """Routes built at start-up rather than declared with ``@route``: ``(method, pattern,
        handler)`` (a declared sandbox's tables)."""
        return []

    def _collect_routes(self):
        routes = []
        for name in dir(type(self)):
            fn = getattr(type(self), name, None)
            spec = getattr(fn, "_sandbox_route", None)
            if spec:
                method, pattern = spec
                routes.append((method, re.compile(pattern + r"/?"), _endpoint_name(method, pattern), getattr(self, name)))
        for method, pattern, handler in self.extra_routes():
            routes.append((method, re.compile(pattern + r"/?"), _endpoint_name(method, pattern), handler))
        # Longer patterns first so specific routes win over general ones.
        routes.sort(key=lambda r: -len(r[1].pattern))
        return routes

    def dispatch(self, request: Request) -> Response:
        if request.method == "GET" and request.path.startswith(TRUTH_PATH):
            return self._truth_response(request.path[len(TRUTH_PATH):].strip("/"))
        if self.latency:
            time.sleep(self.latency)
        for method, regex, endpoint, handler in self._routes:
            if method != request.method:
                continue
            match = regex.fullmatch(request.path)
            if not match:
                continue
            with self.lock:
                self.request_counts[endpoint] += 1
            fault = self._take_fault(endpoint)
            if fault is not None:
                if fault.delay:
                    time.sleep(fault.delay)
                if fault.status is not None:
                    return self.fault_response(fault, endpoint)
            denied = self.authenticate(request)
            if denied is not None:
                return denied
            limited = self.before_handle(request, endpoint)
            if limited is not None:
                return limited
            try:
                response = handler(request, **match.groupdict())
            except SandboxError as exc:
                response = exc.response
            response = self.after_handle(request, endpoint, response)
            if self._after_request_actions:
                self._run_request_hooks()
            return response
        return self.not_found(request)


class SandboxError(Exception):
    """Raise from a handler to answer with ``response`` (a 400, 404, 409…)."""

    def __init__(self, response: Response):
        super().__init__(response.status)
        self.response = response


class _LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True
    # The default listen backlog (5) drops bursts of connections from parallel readers.
    request_queue_size = 128


def _make_handler(server: SandboxServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes; without TCP_NODELAY every response
        # would wait ~40 ms for the client's delayed ACK.
        disable_nagle_algorithm = True

        def log_message(self, format, *args):  # quiet: tests read counters, not logs
            pass

        def _handle(self):
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Request(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            try:
                response = server.dispatch(request)
            except Exception as exc:  # a sandbox bug must surface as a 500, not a hang
                response = Response.json({"error": f"sandbox error: {type(exc).__name__}: {exc}"}, status=500)
            self.send_response(response.status)
            for key, value in response.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if response.body:
                self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    return Handler
