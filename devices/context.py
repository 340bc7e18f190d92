"""What every adapter module may import about its surroundings: the context the
daemon hands it and how a device URL names its scheme.

It lives apart from :mod:`devices.registry` because the registry imports the
adapters; an adapter that imported the registry back would close an import cycle.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from service.keyfile import KeyFile


@dataclass(frozen=True, slots=True)
class DeviceContext:
    """What adapters may need besides their own config."""

    keys: KeyFile
    # Key that signs the badge's NDEF token (KeyFile.derive("badge-token")).
    token_key: bytes
    # Door contact, tamper, reader on/offline events (objects with reader, kind, at);
    # the runtime shows them on the status page and journals them.
    on_device_event: Callable[[Any], Awaitable[None]] | None = None


def scheme_of(url: str) -> str:
    """``osdp+serial:///dev/ttyUSB0?addr=1`` -> ``osdp``; ``nfc:usb:…`` -> ``nfc``."""
    head = url.split(":", 1)[0]
    return head.split("+", 1)[0].lower()
