"""Personal data under UU 27/2022: encrypted at rest, found by a keyed hash.

- Each data subject (a visitor, ``visitor:12``; or a help request raised for no
  visit, ``help:5``) has a random 32-byte data key, stored only wrapped (AES-GCM)
  by a key derived from the site's key file. Their document, phone and NPWP
  numbers, and the personal fields the journal carries, are encrypted under it.
- Returning visitors are found by ``lookup_hash`` (HMAC-SHA256 under a derived
  key) of document type and number: the table never holds the number in clear.
- At the end of retention the wrapped key is erased ("crypto-shredding"): the
  ciphertext left in the hash-chained journal can no longer be read, yet every
  hash in the chain still verifies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from service.keyfile import KeyFile

_PREFIX = "v1:"


class KeyShredded(Exception):
    """The visitor's key was erased at the end of retention; the data is gone."""


class PersonalData:
    def __init__(self, keys: KeyFile) -> None:
        self._lookup_key = keys.derive("nik-lookup")
        self._wrap = AESGCM(keys.derive("visitor-key-wrap"))

    def lookup_hash(self, doc_type: str, number: str) -> str:
        message = f"{doc_type}:{number}".encode()
        return hmac.new(self._lookup_key, message, hashlib.sha256).hexdigest()

    @staticmethod
    def new_visitor_key() -> bytes:
        return AESGCM.generate_key(bit_length=256)

    @staticmethod
    def _aad(subject: str) -> bytes:
        # A visitor's key has been bound to the bare visitor id since the first release.
        kind, _, ident = subject.partition(":")
        return (ident if kind == "visitor" else subject).encode()

    def wrap(self, subject: str, key: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._wrap.encrypt(nonce, key, self._aad(subject))

    def unwrap(self, subject: str, wrapped: bytes | None) -> bytes:
        if wrapped is None:
            raise KeyShredded(f"{subject}: key erased")
        return self._wrap.decrypt(wrapped[:12], wrapped[12:], self._aad(subject))

    @staticmethod
    def encrypt(key: bytes, plaintext: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), context.encode())
        return _PREFIX + base64.b64encode(nonce + sealed).decode()

    @staticmethod
    def decrypt(key: bytes, token: str, context: str) -> str:
        if not token.startswith(_PREFIX):
            raise ValueError("not a bidroom ciphertext")
        raw = base64.b64decode(token[len(_PREFIX) :])
        try:
            return AESGCM(key).decrypt(raw[:12], raw[12:], context.encode()).decode()
        except InvalidTag as exc:
            raise ValueError("ciphertext does not verify") from exc
