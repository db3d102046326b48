"""Secrets at rest: AES-256-GCM with rotatable keys, each ciphertext bound to its row and column.

A ciphertext reads `v1.<key id>.<base64(nonce || ciphertext)>`. The associated data names the table,
column and row, so a value copied into another row or column does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bot.redaction import remember_secret

_VERSION = "v1"
_NONCE_BYTES = 12


class SecretKeyError(ValueError):
    pass


class DecryptionError(ValueError):
    pass


def generate_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def _key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


def _decode_key(text: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode())
    except (binascii.Error, ValueError) as error:
        raise SecretKeyError("a secret key is not valid base64") from error
    if len(key) != 32:
        raise SecretKeyError("each secret key must be 32 bytes, base64-encoded (meetbot keys new)")
    return key


class SecretBox:
    """Encrypts with the first key; decrypts with any, so keys can be rotated without downtime."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise SecretKeyError("at least one secret key is needed")
        decoded = [_decode_key(key) for key in keys]
        self._primary_id = _key_id(decoded[0])
        self._ciphers = {_key_id(key): AESGCM(key) for key in decoded}

    @property
    def primary_key_id(self) -> str:
        return self._primary_id

    def encrypt(self, plaintext: str, *, context: str) -> str:
        remember_secret(plaintext)  # whatever is sealed must never be logged either
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._ciphers[self._primary_id].encrypt(
            nonce, plaintext.encode(), context.encode()
        )
        body = base64.urlsafe_b64encode(nonce + sealed).decode()
        return f"{_VERSION}.{self._primary_id}.{body}"

    def decrypt(self, ciphertext: str, *, context: str) -> str:
        try:
            version, key_id, body = ciphertext.split(".", 2)
        except ValueError as error:
            raise DecryptionError("not a meetbot ciphertext") from error
        cipher = self._ciphers.get(key_id)
        if version != _VERSION or cipher is None:
            raise DecryptionError(f"no key {key_id!r} among MEETBOT_SECRET_KEYS")
        raw = base64.urlsafe_b64decode(body.encode())
        try:
            plaintext = cipher.decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode()
            ).decode()
        except InvalidTag as error:
            raise DecryptionError(
                "ciphertext does not belong to this row or was altered"
            ) from error
        remember_secret(plaintext)
        return plaintext

    def needs_rotation(self, ciphertext: str) -> bool:
        return not ciphertext.startswith(f"{_VERSION}.{self._primary_id}.")
