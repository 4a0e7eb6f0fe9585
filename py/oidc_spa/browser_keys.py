"""DPoP keys in the page: WebCrypto P-256 key pairs whose private half cannot be
exported, kept in IndexedDB so every tab of the app signs with the login's one key.

One database per app (`oidc_spa:<client id>:dpop`, portable.record.Keys.dpop_keys; store
`keys`, one key pair per login id). Logout deletes the database: a new login makes a new
key. A script that runs on the origin can still ask the browser to sign while the page
is open, but it cannot take the key away: tokens copied out of localStorage are useless
elsewhere (RFC 9449 11.1).
"""

from __future__ import annotations

import asyncio
from typing import Any

import js  # type: ignore[import-not-found]  # Pyodide's bridge to the page
from pyodide.ffi import create_proxy, to_js  # type: ignore[import-not-found]

from .portable.record import Keys

STORE = "keys"
KEY_ALGORITHM = {"name": "ECDSA", "namedCurve": "P-256"}
SIGN_ALGORITHM = {"name": "ECDSA", "hash": "SHA-256"}


def _js(value: dict[str, Any]) -> Any:
    return to_js(value, dict_converter=js.Object.fromEntries)


async def _done(request: Any) -> Any:
    """An IndexedDB request's result, or its error raised (IDB has events, not promises)."""
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def succeeded(_event: Any) -> None:
        if not future.done():
            future.set_result(request.result)

    def failed(_event: Any) -> None:
        if not future.done():
            future.set_exception(RuntimeError(f"IndexedDB: {request.error}"))

    handlers = [create_proxy(succeeded), create_proxy(failed)]
    request.onsuccess, request.onerror = handlers
    try:
        return await future
    finally:
        for handler in handlers:
            handler.destroy()


class WebCryptoKey:
    """One login's key pair (oidc_spa.dpop.DpopKey): signs with ES256."""

    def __init__(self, pair: Any, public_jwk: dict[str, str]) -> None:
        self.pair = pair
        self._public_jwk = public_jwk

    @classmethod
    async def from_pair(cls, pair: Any) -> WebCryptoKey:
        exported = await js.crypto.subtle.exportKey("jwk", pair.publicKey)
        jwk = {name: str(getattr(exported, name)) for name in ("kty", "crv", "x", "y")}
        return cls(pair, jwk)

    def public_jwk(self) -> dict[str, str]:
        return dict(self._public_jwk)

    async def sign(self, data: bytes) -> bytes:
        signature = await js.crypto.subtle.sign(_js(SIGN_ALGORITHM), self.pair.privateKey,
                                                to_js(data))
        return bytes(js.Uint8Array.new(signature).to_py())


class IndexedDbKeys:
    """oidc_spa.dpop.DpopKeyStore on IndexedDB; each call opens and closes the database,
    so a logout in another tab can delete it without waiting for this one."""

    def __init__(self, client_id: str) -> None:
        self.name = Keys(client_id).dpop_keys  # the first lane's logout deletes it too

    @staticmethod
    def available() -> bool:
        return (getattr(js, "indexedDB", None) is not None
                and getattr(js.crypto, "subtle", None) is not None)

    async def create(self, session_id: str) -> WebCryptoKey:
        # extractable=False: the private key can sign but never be exported.
        pair = await js.crypto.subtle.generateKey(_js(KEY_ALGORITHM), False,
                                                  to_js(["sign", "verify"]))
        await self._run("readwrite", lambda store: store.put(pair, session_id))
        return await WebCryptoKey.from_pair(pair)

    async def load(self, session_id: str) -> WebCryptoKey | None:
        pair = await self._run("readonly", lambda store: store.get(session_id))
        if pair is None or not getattr(pair, "privateKey", None):
            return None
        return await WebCryptoKey.from_pair(pair)

    async def delete_all(self) -> None:
        await _done(js.indexedDB.deleteDatabase(self.name))

    async def _run(self, mode: str, action: Any) -> Any:
        opening = js.indexedDB.open(self.name, 1)
        upgrade = create_proxy(lambda _event: opening.result.createObjectStore(STORE))
        opening.onupgradeneeded = upgrade
        try:
            database = await _done(opening)
        finally:
            upgrade.destroy()
        try:
            store = database.transaction(STORE, mode).objectStore(STORE)
            return await _done(action(store))
        finally:
            database.close()
