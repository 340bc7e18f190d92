"""Replies of ``/healthz`` and ``/readyz`` (:mod:`service.api.handlers.health`)."""

from __future__ import annotations

from msgspec import UNSET, UnsetType

from service.api import contract


class HealthOut(contract.Reply):
    alive: bool
    stopping: bool
    uptime_s: float


class ReadyReason(contract.Reply):
    """A check that failed, and why in both languages."""

    check: str
    message_id: str
    message_en: str


class CheckOut(contract.Reply):
    """One check: ok, why not, and what it measured (each only where it applies)."""

    ok: bool
    message_id: str | UnsetType = UNSET
    message_en: str | UnsetType = UNSET
    ms: float | UnsetType = UNSET
    queue_depth: int | UnsetType = UNSET
    online: list[str] | UnsetType = UNSET
    offline: list[str] | UnsetType = UNSET


class ReadyOut(contract.Reply):
    """Ready to run the room (200), or not and why (503, the same shape)."""

    ready: bool
    reasons: list[ReadyReason]
    checks: dict[str, CheckOut]
