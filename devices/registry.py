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

import logging
from collections.abc import Sequence
from typing import Protocol

from devices.base import ReaderAdapter
from devices.context import DeviceContext, scheme_of
from devices.strike import wrap_strikes
from service.config import ReaderConfig
from service.errors import ConfigError

__all__ = ["SCHEMES", "DeviceContext", "build_adapters", "scheme_of"]

_LOGGER = logging.getLogger(__name__)


class _Builder(Protocol):
    def __call__(
        self, readers: Sequence[ReaderConfig], ctx: DeviceContext
    ) -> list[ReaderAdapter]: ...


def _builder(module: str) -> _Builder:
    """The ``build`` of an adapter module, imported on first use.

    Written as plain import statements (not ``importlib`` by name) so the import
    graph, and the test that keeps it free of cycles, sees every adapter; imported
    here rather than at the top so a command that starts no reader never loads
    nfcpy, libosdp or aiomqtt.
    """
    if module == "osdp":
        from devices.osdp import build
    elif module == "nfc":
        from devices.nfc import build
    elif module == "pcsc":
        from devices.pcsc import build
    elif module == "serial_line":
        from devices.serial_line import build
    elif module == "mqtt":
        from devices.mqtt import build
    else:
        from devices.simulated import build
    return build


# URL scheme -> adapter module (devices/<module>.py).
SCHEMES: dict[str, str] = {
    "osdp": "osdp",
    "nfc": "nfc",
    "pcsc": "pcsc",
    "serial": "serial_line",
    "mqtt": "mqtt",
    "sim": "simulated",
    "agent": "simulated",
}


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
    for module, group in groups.items():
        adapters.extend(_builder(module)(group, ctx))
    # A reader with ``strike = "relay+serial://..."`` opens its door with a serial
    # relay: its adapter's submit is wrapped so granted decisions pulse the relay.
    return [wrap_strikes(adapter, readers) for adapter in adapters]
