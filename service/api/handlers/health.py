"""``/healthz`` (alive), ``/readyz`` (ready to run the room) and ``/metrics`` (Prometheus).

They sit beside ``/api/v1`` where probes and Prometheus look for them by convention.
``/healthz`` and ``/readyz`` need no login and carry no personal data (reader names
and counts only). ``/metrics`` is read by a Prometheus server: it answers a client
whose address is in ``metrics.allow_from`` (127.0.0.1 and ::1 by default) when the
request did not come through a proxy (no ``Forwarded`` or ``X-Forwarded-For``), or a
client that sends the bearer token kept in ``metrics.token_file``. That token opens
``/metrics`` and nothing else; no staff or device token is needed or accepted there.
"""

from __future__ import annotations

import hmac
import ipaddress
import time
from dataclasses import dataclass
from pathlib import Path

import msgspec
from aiohttp import web

from service import health
from service.api import contract
from service.api.app import RUNTIME, error_response
from service.api.routing import route
from service.api.shapes.health import CheckOut, HealthOut, ReadyOut, ReadyReason
from service.config import Config
from service.errors import ConfigError, Forbidden
from service.i18n import _

STARTED = time.monotonic()
PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class MetricsAccess:
    """Who may read ``/metrics``: the allowed networks, and the scrape token if any."""

    networks: tuple[Network, ...]
    token: str | None

    @classmethod
    def from_config(cls, config: Config) -> MetricsAccess:
        networks = tuple(ipaddress.ip_network(n, strict=False) for n in config.metrics.allow_from)
        return cls(networks, _read_token(config.metrics.token_file))

    def allows(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if self.token is not None and header[:7].lower() == "bearer ":
            return hmac.compare_digest(header[7:].strip().encode(), self.token.encode())
        if any(name in request.headers for name in PROXY_HEADERS):
            return False  # a proxy on this host would make every client look local
        try:
            address = ipaddress.ip_address((request.remote or "").split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)


def _read_token(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"[metrics] token_file {path}: {exc.strerror or exc}") from exc
    if len(token) < 16:
        raise ConfigError(f"[metrics] token_file {path}: the token needs 16 characters or more")
    return token


METRICS_ACCESS = web.AppKey("metrics_access", MetricsAccess)


def setup(app: web.Application, config: Config) -> None:
    """Read who may scrape ``/metrics`` (at start: a missing token file is a config error)."""
    app[METRICS_ACCESS] = MetricsAccess.from_config(config)


@route(
    "GET",
    "/healthz",
    summary="The daemon is alive (its event loop answers)",
    tag="ops",
    roles=None,
    reply=HealthOut,
)
async def healthz(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    return contract.reply(
        HealthOut(
            alive=True,
            stopping=runtime.stopping,
            uptime_s=round(time.monotonic() - STARTED, 1),
        )
    )


@route(
    "GET",
    "/readyz",
    summary="Ready to run the room: database writable, writer answering, door readers online "
    "(503 with the reasons when not)",
    tag="ops",
    roles=None,
    reply=ReadyOut,
    responses={503: ReadyOut},
)
async def readyz(request: web.Request) -> web.Response:
    checks = await health.readiness(request.app[RUNTIME])
    ready = all(c.ok for c in checks)
    body = ReadyOut(
        ready=ready,
        reasons=[
            ReadyReason(check=c.name, message_id=c.message_id, message_en=c.message_en)
            for c in checks
            if not c.ok
        ],
        checks={c.name: msgspec.convert(c.as_dict(), CheckOut) for c in checks},
    )
    return contract.reply(body, status=200 if ready else 503)


@route(
    "GET",
    "/metrics",
    summary="Prometheus metrics (text format): taps, latencies, occupancy, queue, readers, "
    "writer, journal, database errors",
    tag="ops",
    roles=None,
    response=("text/plain", "application/openmetrics-text"),
)
async def metrics(request: web.Request) -> web.Response:
    access = request.app.get(METRICS_ACCESS)
    if access is None or not access.allows(request):
        return error_response(
            request,
            Forbidden(
                _("Metrik hanya untuk alamat di metrics.allow_from atau dengan token metrik."),
            ),
        )
    body, content_type = request.app[RUNTIME].metrics.render(request.headers.get("Accept", ""))
    return web.Response(body=body, headers={"Content-Type": content_type})
