"""The site's rules as plain values, built once from the configuration."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from service.domain.taps import ReaderRole

TokenCheck = Callable[[str, str, str | None], bool]
"""(badge label, uid, token read from the badge) -> does the token verify?"""


@dataclass(frozen=True, slots=True)
class ReaderPolicy:
    name: str
    role: ReaderRole
    facility: str | None = None
    verify_token: bool = False


@dataclass(frozen=True, slots=True)
class KindPolicy:
    kind: str
    label: str
    prefix: str


def _always_ok(label: str, uid: str, token: str | None) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class Policy:
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Jakarta"))
    capacity: int = 20
    opening: time = time(8, 0)
    closing: time = time(16, 0)
    days: tuple[int, ...] = (1, 2, 3, 4, 5)
    door_open_s: float = 4.0
    turnover_gap: timedelta = timedelta(seconds=60)
    hold: timedelta = timedelta(minutes=5)
    desk_assigns_free: bool = True
    standards: dict[str, timedelta] = field(
        default_factory=lambda: {s: timedelta(minutes=5) for s in ("2", "3", "8", "9")}
    )
    readers: dict[str, ReaderPolicy] = field(default_factory=dict)
    kinds: dict[str, KindPolicy] = field(default_factory=dict)
    slots: tuple[str, ...] = tuple(f"L-{n:02d}" for n in range(1, 41))
    require_token: bool = False
    token_check: TokenCheck = _always_ok

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.tz)

    def day_of(self, at: datetime) -> date:
        return at.astimezone(self.tz).date()

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(self.tz)
        return local.isoweekday() in self.days and self.opening <= local.time() < self.closing

    def closing_at(self, day: date) -> datetime:
        return datetime.combine(day, self.closing, tzinfo=self.tz)

    def day_bounds(self, day: date) -> tuple[datetime, datetime]:
        start = datetime.combine(day, time(0, 0), tzinfo=self.tz)
        return start, start + timedelta(days=1)
