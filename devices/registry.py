"""From the configured readers to running adapters, chosen by device URL scheme.

Each adapter module exposes ``build(readers, ctx) -> list[ReaderAdapter]`` and gets
every configured reader whose URL has its scheme, so a module that drives a bus
(OSDP: several readers by address on one RS-485 line) can group them.

| URL | module |
|---|---|
| ``osdp+serial:///dev/ttyUSB0?addr=1``, ``osdp+socket://127.0.0.1:9001?addr=1`` | devices.osdp |
| ``nfc:usb:072f:2200``, ``nfc:tty:USB0:pn532``, ``nfc:udp:127.0.0.1:54321`` | devices.nfc |
| ``pcsc:ACR122`` (part of the PC/SC reader name) | devices.pcsc |
| ``serial:///dev/ttyUSB0?baud=9600``, ``serial+socket://host:port`` | devices.serial_line |
| ``mqtt://127.0.0.1:1883/bidroom/readers/meja-01`` | devices.mqtt |
| ``sim:`` (demo, driven from the page and ``bidroom simulate tap``) | devices.simulated |
| ``agent:`` (taps arrive from ``bidroom agent`` over the API) | devices.simulated |

A reader's ``strike = "relay+serial:///dev/bidroom-relay0?channel=1"`` adds a serial
relay door strike (devices.relay) to any reader: see :func:`devices.strike.wrap_strikes`.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

from devices.base import ReaderAdapter
from devices.strike import wrap_strikes
from service.config import ReaderConfig
from service.errors import ConfigError
from service.keyfile import KeyFile

_LOGGER = logging.getLogger(__name__)

SCHEMES: dict[str, str] = {
    "osdp": "devices.osdp",
    "nfc": "devices.nfc",
    "pcsc": "devices.pcsc",
    "serial": "devices.serial_line",
    "mqtt": "devices.mqtt",
    "sim": "devices.simulated",
    "agent": "devices.simulated",
}


@dataclass(frozen=True, slots=True)
class DeviceContext:
    """What adapters may need besides their own config."""

    keys: KeyFile
    # Key that signs the badge's NDEF token (KeyFile.derive("badge-token")).
    token_key: bytes
    # Door contact, tamper, reader on/offline events (objects with reader, kind, at);
    # the runtime shows them on the status page and journals them.
    on_device_event: Callable[[Any], Awaitable[None]] | None = None


class _Builder(Protocol):
    def __call__(
        self, readers: Sequence[ReaderConfig], ctx: DeviceContext
    ) -> list[ReaderAdapter]: ...


def scheme_of(url: str) -> str:
    head = url.split(":", 1)[0]
    return head.split("+", 1)[0].lower()


def build_adapters(readers: Sequence[ReaderConfig], ctx: DeviceContext) -> list[ReaderAdapter]:
    """Group readers by scheme and let each adapter module build its adapters."""
    groups: dict[str, list[ReaderConfig]] = {}
    for reader in readers:
        scheme = scheme_of(reader.url)
        if scheme not in SCHEMES:
            raise ConfigError(
                f"reader {reader.name}: unknown device URL scheme {scheme!r} "
                f"(known: {', '.join(sorted(SCHEMES))})"
            )
        groups.setdefault(SCHEMES[scheme], []).append(reader)
    adapters: list[ReaderAdapter] = []
    for module_name, group in groups.items():
        module = importlib.import_module(module_name)
        build = cast(_Builder, module.build)
        adapters.extend(build(group, ctx))
    # A reader with ``strike = "relay+serial://..."`` opens its door with a serial
    # relay: its adapter's submit is wrapped so granted decisions pulse the relay.
    return [wrap_strikes(adapter, readers) for adapter in adapters]
