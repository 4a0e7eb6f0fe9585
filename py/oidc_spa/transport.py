"""The two kinds of request the session makes, as a protocol the browser shell implements."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class HttpResponse:
    status: int
    text: str


class Http(Protocol):
    """Raises NetworkError when nothing usable came back (offline, refused, timed out)."""

    async def get(
        self, url: str, *, headers: Mapping[str, str] | None = None, timeout: float
    ) -> HttpResponse: ...

    async def post_form(
        self, url: str, form: Mapping[str, str], *, timeout: float
    ) -> HttpResponse: ...
