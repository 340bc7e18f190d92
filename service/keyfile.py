"""The site's key file: one master secret and the OSDP readers' Secure Channel keys.

The daemon creates the file on first start with mode 0600 and refuses to use one
that others can read. Every purpose gets its own key derived from the master with
HKDF (``derive("nik-encryption")``, ``derive("nik-lookup")``, ``derive("badge-token")``),
so one leaked derived key does not give away the others. OSDP Secure Channel base
keys are random per reader and set only by ``bidroom reader install-key``.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import stat
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from service.errors import ConfigError

_LOGGER = logging.getLogger(__name__)


class KeyFile:
    def __init__(self, path: Path, master: bytes, readers: dict[str, bytes]) -> None:
        self.path = path
        self._master = master
        self._readers = dict(readers)

    @classmethod
    def open(cls, path: Path) -> KeyFile:
        """Open the key file, creating it (0600) with a fresh master key if missing."""
        if not path.exists():
            keyfile = cls(path, secrets.token_bytes(32), {})
            keyfile._write()
            _LOGGER.warning("created new key file %s (mode 0600); back it up", path)
            return keyfile
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(
                f"key file {path} is readable by others (mode {oct(mode & 0o777)}); chmod 600 it"
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            master = base64.b64decode(data["master"])
            readers = {k: bytes.fromhex(v) for k, v in data.get("osdp", {}).items()}
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"key file {path} is damaged: {exc}") from exc
        if len(master) != 32:
            raise ConfigError(f"key file {path}: master key must be 32 bytes")
        return cls(path, master, readers)

    def derive(self, purpose: str) -> bytes:
        """A 32-byte key for one purpose, derived from the master secret."""
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode())
        return hkdf.derive(self._master)

    def reader_key(self, reader: str) -> bytes | None:
        """The OSDP Secure Channel base key of one reader, if one was installed."""
        return self._readers.get(reader)

    def set_reader_key(self, reader: str, key: bytes) -> None:
        if len(key) != 16:
            raise ValueError("an OSDP SCBK is 16 bytes")
        self._readers[reader] = key
        self._write()
        _LOGGER.warning("installed a new Secure Channel key for reader %s", reader)

    def _write(self) -> None:
        data = {
            "master": base64.b64encode(self._master).decode(),
            "osdp": {k: v.hex() for k, v in sorted(self._readers.items())},
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
