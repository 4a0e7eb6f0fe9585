"""DPoP keys for the CPython tests: what the page keeps in IndexedDB as WebCrypto keys,
here in memory with cryptography."""

from __future__ import annotations

import json

from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm


class SoftwareKey:
    """A DpopKey in memory, signing as WebCrypto does (raw r || s)."""

    def __init__(self) -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())

    def public_jwk(self) -> dict[str, str]:
        return json.loads(ECAlgorithm.to_jwk(self.private.public_key()))

    async def sign(self, data: bytes) -> bytes:
        der = ECAlgorithm(ECAlgorithm.SHA256).sign(data, self.private)  # raw r || s already
        return der


class KeyStore:
    """A DpopKeyStore in memory."""

    def __init__(self) -> None:
        self.keys: dict[str, SoftwareKey] = {}
        self.deleted = False

    async def create(self, session_id: str) -> SoftwareKey:
        self.keys[session_id] = SoftwareKey()
        return self.keys[session_id]

    async def load(self, session_id: str) -> SoftwareKey | None:
        return self.keys.get(session_id)

    async def delete_all(self) -> None:
        self.keys.clear()
        self.deleted = True
