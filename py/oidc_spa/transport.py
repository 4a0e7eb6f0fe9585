"""The one kind of request the session makes, as a protocol the browser shell implements."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple, Protocol
from urllib.parse import urlencode


class HttpResponse(NamedTuple):
    status: int
    text: str
    # The headers the page may read (a cross-origin answer: only those CORS exposes),
    # names lowercased. DPoP needs two: DPoP-Nonce and WWW-Authenticate.
    headers: Mapping[str, str] = {}


class Http(Protocol):
    """Raises NetworkError when nothing usable came back (offline, refused, timed out)."""

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: str | None = None,
        timeout: float,
    ) -> HttpResponse: ...

    def send_detached(
        self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
        body: str | None = None,
    ) -> None:
        """Send a request nobody waits for; it must survive the page navigating away
        (in the browser: fetch with keepalive). Never raises."""
        ...


async def get(
    http: Http, url: str, *, headers: Mapping[str, str] | None = None, timeout: float
) -> HttpResponse:
    return await http.request("GET", url, headers=headers, timeout=timeout)


def post_form_detached(http: Http, url: str, form: Mapping[str, str]) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    http.send_detached("POST", url, headers=headers, body=urlencode(form))


async def post_form(
    http: Http, url: str, form: Mapping[str, str], *, timeout: float,
    headers: Mapping[str, str] | None = None,
) -> HttpResponse:
    """A form POST: a CORS "simple" request, so the browser sends no preflight (unless
    `headers` adds one that is not safelisted, as DPoP does)."""
    sent = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
    return await http.request("POST", url, headers=sent, body=urlencode(form),
                              timeout=timeout)
