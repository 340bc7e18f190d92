"""The cookies of a staff login and what they depend on: is the site served over
HTTPS, and who is the client.

- **HTTPS** when ``security.https`` says so (the site is reached over TLS, directly or
  through a proxy), when the connection itself is TLS, or when a proxy listed in
  ``security.trusted_proxies`` says so in ``X-Forwarded-Proto`` (that header is
  ignored from anyone else). Over HTTPS the cookies are ``Secure`` and carry the
  ``__Host-`` prefix (the browser then keeps them to this host, path ``/``).
- **The client's address** is the peer's, or, from a trusted proxy, the nearest
  address in ``X-Forwarded-For`` that is not itself a trusted proxy. The login
  throttle counts failures per address.

Every cookie is HttpOnly and SameSite=Strict. The session cookie has no lifetime (it
goes with the browser), the known-device cookie lasts 180 days.
"""

from __future__ import annotations

import ipaddress
from functools import cache

from aiohttp import web

from service.config import SecurityConfig
from service.throttle import DEVICE_COOKIE_DAYS

SESSION = "bidroom_session"
DEVICE = "bidroom_device"
LOGIN_FORM = "bidroom_login"  # the login page's own CSRF value (double-submit)
HOST_PREFIX = "__Host-"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _trusted(address: str | None, proxies: tuple[str, ...]) -> bool:
    if not address or not proxies:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in _networks(proxies))


def over_https(request: web.Request, security: SecurityConfig) -> bool:
    if security.https or request.secure:
        return True
    if _trusted(request.remote, security.trusted_proxies):
        proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
        return proto == "https"
    return False


def client_address(request: web.Request, security: SecurityConfig) -> str:
    proxies = security.trusted_proxies
    peer = request.remote or "unknown"
    if not _trusted(peer, proxies):
        return peer
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a proxy that forwards garbage: count it against the proxy
    return peer


def name(request: web.Request, security: SecurityConfig, base: str) -> str:
    return HOST_PREFIX + base if over_https(request, security) else base


def read(request: web.Request, security: SecurityConfig, base: str) -> str | None:
    return request.cookies.get(name(request, security, base))


def put(
    request: web.Request,
    security: SecurityConfig,
    response: web.StreamResponse,
    base: str,
    value: str,
    max_age: int | None = None,
) -> None:
    secure = over_https(request, security)
    response.set_cookie(
        name(request, security, base),
        value,
        max_age=max_age,
        path="/",
        secure=secure,
        httponly=True,
        samesite="Strict",
    )


def drop(
    request: web.Request, security: SecurityConfig, response: web.StreamResponse, base: str
) -> None:
    secure = over_https(request, security)
    response.del_cookie(
        name(request, security, base), path="/", secure=secure, httponly=True, samesite="Strict"
    )


def put_login(
    request: web.Request,
    security: SecurityConfig,
    response: web.StreamResponse,
    session: str,
    device: str,
) -> None:
    """The new session cookie, and the known-device cookie of the browser that logged in."""
    put(request, security, response, SESSION, session)
    put(request, security, response, DEVICE, device, max_age=DEVICE_COOKIE_DAYS * 86400)
