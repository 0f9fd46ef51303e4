"""Secrets at rest and opaque tokens.

SSO tokens, client secrets and device codes are encrypted with Fernet (AES-CBC with an
HMAC), under keys from `AUTH_TOKEN_ENCRYPTION_KEY`; the first key encrypts and every
key decrypts, so a key can be rotated without ending sessions. Session and attempt
tokens are random and only their SHA-256 is stored: a 256-bit random value needs no
slow hash, and a stolen table yields nothing that opens a session.
"""

import hashlib
import hmac
import json
import secrets
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretBox:
    def __init__(self, keys: str) -> None:
        fernets = [Fernet(key.strip().encode()) for key in keys.split(",") if key.strip()]
        if not fernets:
            raise ValueError("no token encryption key given")
        self._fernet = MultiFernet(fernets)

    def seal(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode())

    def open(self, sealed: bytes) -> str:
        """The plaintext; `InvalidToken` if the data was changed or the key is gone."""
        return self._fernet.decrypt(sealed).decode()

    def seal_json(self, value: dict[str, Any]) -> bytes:
        return self.seal(json.dumps(value))

    def open_json(self, sealed: bytes) -> dict[str, Any]:
        return json.loads(self.open(sealed))


def new_token() -> str:
    return secrets.token_urlsafe(32)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def same_digest(value: str, expected_digest: str) -> bool:
    return hmac.compare_digest(digest(value), expected_digest)


__all__ = ["InvalidToken", "SecretBox", "digest", "new_token", "same_digest"]
