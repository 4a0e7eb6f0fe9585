"""Both lanes decide the same on the corpus of stored sessions (corpus.py).

test_portable_corpus checks, on CPython and on MicroPython, that the portable rules keep
exactly the ALIVE cases; here the full lane's own Session (PyJWT's lane: config,
SessionStore, restore) must keep exactly the same ones and show the same profile, so
the page never repaints a different state when Pyodide takes over. CPython only.
"""

from __future__ import annotations

import json

import corpus
import pytest
from test_portable_corpus import ALIVE

from oidc_spa import MemoryStorage, Session, parse_settings
from oidc_spa.portable import record
from oidc_spa.portable.settings import read_settings


class NoNetwork:
    """Restoring a kept login must not ask anybody anything."""

    async def request(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("restore() made a request")

    def send_detached(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("restore() sent a request")


class NoVerifier:
    def verify(self, *args: object, **kwargs: object) -> bool:
        raise AssertionError("restore() verified a signature")


def storage_with(items: dict[str, str]) -> MemoryStorage:
    storage = MemoryStorage()
    for key, value in items.items():
        storage.setItem(key, value)
    return storage


@pytest.mark.parametrize("case", corpus.cases(), ids=[case[0] for case in corpus.cases()])
def test_the_full_lane_keeps_what_the_first_lane_keeps(case):
    name, items, config, now = case
    settings = parse_settings(json.dumps(config), corpus.PAGE_URL)
    session = Session(settings, storage=storage_with(items), http=NoNetwork(),
                      verifier=NoVerifier(), clock=lambda: now)
    kept = session.restore()
    assert kept == (name in ALIVE)
    first = read_settings(json.dumps(config), corpus.PAGE_URL)
    painted = record.live_record(storage_with(items), record.Keys(first["client_id"]), now,
                                 first["issuer"], first["client_id"])
    assert (painted is not None) == kept
    if kept:
        assert painted["profile"] == session.user
        assert painted["expires_at"] == session.expires_at
