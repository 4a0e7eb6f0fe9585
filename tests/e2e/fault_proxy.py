"""A tiny HTTP proxy in front of the local OpenID provider: fault injection for the e2e tests.

Its URL is the issuer (the provider runs with --issuer): the browser, the page and the demo
API only ever talk to it. It passes every request on unchanged (method, path, query, headers
with cookies and Host, body) and every answer back unchanged (Set-Cookie and Location
included), except where a test installed a Fault for that path. The provider stays the
real, certified one; only what travels between it and the page is broken on purpose.

    with proxy.injected(Fault("/token", before=7)):  # removed again at the end, always
        ...
"""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

# RFC 9110 7.6.1: these belong to one connection, not to the message passed on.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                        "te", "trailer", "transfer-encoding", "upgrade", "content-length"})
UPSTREAM_TIMEOUT = 30.0


@dataclass(frozen=True)
class Request:
    """A request as the browser (or the API) sent it."""

    method: str
    path: str
    query: str
    headers: Message
    body: bytes

    def form(self) -> dict[str, str]:
        """The body's form fields (token, revocation requests); {} for any other body."""
        if not (self.headers.get("Content-Type") or "").startswith(
                "application/x-www-form-urlencoded"):
            return {}
        return dict(parse_qsl(self.body.decode(errors="replace")))


@dataclass(frozen=True)
class Answer:
    """A response: the provider's, or one a Fault makes up."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    @classmethod
    def json(cls, status: int, value: Any, *headers: tuple[str, str]) -> Answer:
        return cls(status, (("Content-Type", "application/json; charset=utf-8"),
                            ("Cache-Control", "no-store"), *headers), json.dumps(value).encode())

    @classmethod
    def text(cls, status: int, text: str) -> Answer:
        return cls(status, (("Content-Type", "text/plain; charset=utf-8"),), text.encode())

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def with_header(self, name: str, value: str) -> Answer:
        kept = tuple((k, v) for k, v in self.headers if k.lower() != name.lower())
        return replace(self, headers=(*kept, (name, value)))

    def json_body(self) -> Any:
        return json.loads(self.body)

    def with_json(self, value: Any) -> Answer:
        return replace(self, body=json.dumps(value).encode())


# What a Fault does to the provider's answer; it may keep state (a key rotation does).
Change = Callable[[Answer, Request], Answer]


@dataclass(frozen=True)
class Fault:
    """What to do to the requests for `path` (and the paths below it) that `when` picks.
    CORS preflights (OPTIONS) always pass: they are the browser's, not the page's.

    In this order: wait `before` seconds; answer `answer` without asking the provider (it
    never sees the request), or pass the request on and `change` its answer; then wait
    `after` seconds (the provider has done its work, the answer is late).
    """

    path: str
    before: float = 0.0
    answer: Answer | None = None
    change: Change | None = None
    after: float = 0.0
    when: Callable[[Request], bool] | None = None

    def applies_to(self, request: Request) -> bool:
        on_path = request.path == self.path or request.path.startswith(self.path + "/")
        return (on_path and request.method != "OPTIONS"
                and (self.when is None or self.when(request)))


@dataclass(frozen=True)
class Passed:
    """One request through the proxy, for the tests to count."""

    method: str
    path: str
    status: int
    at: float  # time.time() when it arrived


@dataclass
class FaultProxy:
    """Serves in a daemon thread from `start()` to `stop()`; `upstream` is the provider."""

    upstream: str = ""
    _faults: list[Fault] = field(default_factory=list)
    _passed: list[Passed] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self, host: str = "127.0.0.1") -> FaultProxy:
        server = ThreadingHTTPServer((host, 0), _Handler)
        server.daemon_threads = True  # a connection kept alive must not hold the exit
        server.proxy = self  # type: ignore[attr-defined]
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True, name="fault-proxy").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- faults

    def install(self, *faults: Fault | list[Fault]) -> None:
        """Until clear(): for a whole test, with a fixture that clears afterwards."""
        with self._lock:
            self._faults.extend(_flat(faults))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    @contextlib.contextmanager
    def injected(self, *faults: Fault | list[Fault]) -> Iterator[None]:
        """These faults for the block only, however it ends."""
        added = _flat(faults)
        with self._lock:
            self._faults.extend(added)
        try:
            yield
        finally:
            with self._lock:
                self._faults[:] = [f for f in self._faults if all(f is not a for a in added)]

    # -- the log

    def passed(self, path: str | None = None, since: float = 0.0) -> list[Passed]:
        """Requests for `path` (exactly; any path if None) that arrived at `since` or later."""
        with self._lock:
            return [p for p in self._passed
                    if (path is None or p.path == path) and p.at >= since]

    def reset_log(self) -> None:
        with self._lock:
            self._passed.clear()

    # -- the work, in the server's threads

    def handle(self, request: Request) -> Answer:
        arrived = time.time()
        with self._lock:
            faults = [f for f in self._faults if f.applies_to(request)]
        time.sleep(sum(f.before for f in faults))
        made_up = next((f.answer for f in faults if f.answer is not None), None)
        answer = self.readable(made_up, request) if made_up else self.forward(request)
        if made_up is None:
            for fault in faults:
                if fault.change is not None:
                    answer = fault.change(answer, request)
        time.sleep(sum(f.after for f in faults))
        with self._lock:
            self._passed.append(Passed(request.method, request.path, answer.status, arrived))
        return answer

    def readable(self, made_up: Answer, request: Request) -> Answer:
        """A made-up answer with the CORS header the provider gives this request's origin,
        so that the page reads it (else the browser reports a network error). The provider
        is asked with a preflight, which it answers for its allowed origins only."""
        origin = request.headers.get("Origin")
        if origin is None:
            return made_up
        preflight = self.forward(Request("OPTIONS", request.path, "", _headers({
            "Host": request.headers.get("Host") or "", "Origin": origin,
            "Access-Control-Request-Method": request.method}), b""))
        allowed = preflight.header("Access-Control-Allow-Origin")
        return made_up.with_header("Access-Control-Allow-Origin", allowed) if allowed else made_up

    def forward(self, request: Request) -> Answer:
        target = urlsplit(self.upstream)
        connection = http.client.HTTPConnection(target.hostname or "", target.port,
                                                timeout=UPSTREAM_TIMEOUT)
        # Host and Accept-Encoding go as they came: http.client adds neither when present.
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
        if request.body or request.method in ("POST", "PUT", "PATCH"):
            headers.append(("Content-Length", str(len(request.body))))
        try:
            connection.putrequest(request.method, request.path + (
                f"?{request.query}" if request.query else ""), skip_host=True,
                skip_accept_encoding=True)
            for name, value in headers:
                connection.putheader(name, value)
            connection.endheaders(request.body or None)
            response = connection.getresponse()
            body = response.read()
        except OSError as error:
            return Answer.text(502, f"fault proxy: the provider did not answer ({error})")
        finally:
            connection.close()
        kept = tuple((k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP)
        return Answer(response.status, kept, body)


def _headers(values: dict[str, str]) -> Message:
    message = Message()
    for name, value in values.items():
        message[name] = value
    return message


def _flat(faults: tuple[Fault | list[Fault], ...]) -> list[Fault]:
    return [f for item in faults for f in (item if isinstance(item, list) else [item])]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as browsers expect of a server
    timeout = 60  # an idle kept-alive connection is closed after a minute

    def _proxy(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        request = Request(self.command, path, query, self.headers, body)
        answer = self.server.proxy.handle(request)  # type: ignore[attr-defined]
        # send_response_only: the provider's own Date (and no Server header of ours).
        self.send_response_only(answer.status)
        for name, value in answer.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_OPTIONS = do_HEAD = do_PATCH = _proxy

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the provider logs every request already
