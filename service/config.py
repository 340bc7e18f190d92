"""The one typed, frozen configuration of a bidroom site.

Every command finds its configuration the same way: ``--config FILE``, else
``./bidroom.toml``, else built-in defaults (SQLite ``./bidroom.db``). Each field
below is a key of the TOML file; ``systemd/bidroom.example.toml`` documents them
all, and a test checks that the README and the example name every key.
"""

from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import dataclass, field, fields, replace
from datetime import time
from pathlib import Path
from typing import Any

from service.domain.taps import ReaderRole
from service.errors import ConfigError

DEFAULT_CONFIG_NAME = "bidroom.toml"


@dataclass(frozen=True, slots=True)
class SiteConfig:
    name: str = "LPSE Kota Jambi"
    timezone: str = "Asia/Jakarta"
    letterhead: tuple[str, ...] = (
        "PEMERINTAH KOTA JAMBI",
        "UNIT KERJA PENGADAAN BARANG/JASA",
        "LAYANAN PENGADAAN SECARA ELEKTRONIK (LPSE)",
    )
    address: str = "Jl. Jend. Basuki Rachmat No. 1, Kota Baru, Kota Jambi"
    head_name: str = "Kepala LPSE"
    head_nip: str = "-"
    language: str = "id"


@dataclass(frozen=True, slots=True)
class RoomConfig:
    name: str = "Ruang Bidding"
    capacity: int = 20
    opening: time = time(8, 0)
    closing: time = time(16, 0)
    # ISO weekdays the room is open (1 = Monday).
    days: tuple[int, ...] = (1, 2, 3, 4, 5)
    door_open_s: float = 4.0
    # Numbered slots (laci) where deposited identity documents wait: L-01 .. L-NN.
    deposit_slots: int = 40


@dataclass(frozen=True, slots=True)
class FacilityKindConfig:
    kind: str
    label: str
    prefix: str
    count: int
    # Desk readers by facility number: {"1": "meja-pc-01"}; facility n has reader desks[str(n)].
    desks: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReaderConfig:
    name: str
    role: ReaderRole
    url: str
    # For desk readers: the facility code the reader sits on ("PC-01").
    facility: str | None = None
    # Optional separate door strike for readers without an output of their own.
    strike: str | None = None
    # Refuse badges whose signed NDEF token does not verify (readers that read NDEF).
    verify_token: bool = False
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class QueueConfig:
    # Seconds a freed facility rests before the next ticket is called.
    turnover_gap_s: int = 60
    # Seconds a called ticket holds its facility before it is skipped as a no-show.
    hold_s: int = 300
    # Whether a desk tap may assign a free facility to a visit that has none.
    desk_assigns_free: bool = True


@dataclass(frozen=True, slots=True)
class StandardsConfig:
    """Service-time standard in seconds per SOP step (5 minutes each in the SOP)."""

    step2_s: int = 300
    step3_s: int = 300
    step8_s: int = 300
    step9_s: int = 300


@dataclass(frozen=True, slots=True)
class TapsConfig:
    # A reader's own time for a tap may run ahead of the daemon's by this much at most.
    clock_skew_s: int = 120
    # A tap reported (by a workstation agent's outbox) longer ago than this is refused.
    max_age_s: int = 3600


@dataclass(frozen=True, slots=True)
class PrivacyConfig:
    retention_days: int = 365


@dataclass(frozen=True, slots=True)
class SecurityConfig:
    key_file: Path = Path("bidroom.key")
    require_badge_token: bool = False
    # A staff login ends this long after it began, however busy (absolute timeout) ...
    session_hours: int = 12
    # ... or after this long without a request (idle timeout).
    session_idle_minutes: int = 30
    # The site is reached over HTTPS (directly or through a TLS proxy): cookies get Secure
    # and the __Host- prefix.
    https: bool = False
    # Reverse proxies (addresses or networks) whose X-Forwarded-For/-Proto are believed.
    trusted_proxies: tuple[str, ...] = ()
    # Failed logins in a row (per account; per client address three times as many)
    # before each next attempt waits, 1 s doubling up to login_max_delay_s.
    login_delay_after: int = 3
    login_max_delay_s: int = 60
    # Failed logins in a row that lock an account / a client address until an admin
    # lifts the lock (a browser that logged in as that user before keeps its own count).
    login_lockout_after: int = 10
    login_address_lockout_after: int = 50

    def __post_init__(self) -> None:
        positive = {
            "session_hours": self.session_hours,
            "session_idle_minutes": self.session_idle_minutes,
            "login_delay_after": self.login_delay_after,
            "login_max_delay_s": self.login_max_delay_s,
            "login_lockout_after": self.login_lockout_after,
            "login_address_lockout_after": self.login_address_lockout_after,
        }
        for name, value in positive.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"[security] {name} must be a whole number >= 1, got {value!r}")
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError as exc:
                raise ConfigError(
                    f"[security] trusted_proxies: {proxy!r} is not an address or network"
                ) from exc


@dataclass(frozen=True, slots=True)
class PrinterConfig:
    url: str | None = None
    # Longest a print job may take before it is given up (a printer that is off).
    timeout_s: float = 5.0


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    # Networks whose clients may read GET /metrics without a token ([] for none).
    allow_from: tuple[str, ...] = ("127.0.0.1/32", "::1/128")
    # A file holding the bearer token a Prometheus elsewhere sends (for any address).
    token_file: Path | None = None

    def __post_init__(self) -> None:
        for network in self.allow_from:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError as exc:
                raise ConfigError(f"[metrics] allow_from: {exc}") from exc


DEFAULT_STARTUP_WAIT_S = 30.0


@dataclass(frozen=True, slots=True)
class Config:
    database_url: str = "sqlite+aiosqlite:///bidroom.db"
    # How long start-up waits for a SQLite file another process holds locked
    # ([database] startup_wait_s) before giving up with an error.
    database_startup_wait_s: float = DEFAULT_STARTUP_WAIT_S
    host: str = "127.0.0.1"
    port: int = 8080
    site: SiteConfig = field(default_factory=SiteConfig)
    room: RoomConfig = field(default_factory=RoomConfig)
    facilities: tuple[FacilityKindConfig, ...] = ()
    readers: tuple[ReaderConfig, ...] = ()
    queue: QueueConfig = field(default_factory=QueueConfig)
    standards: StandardsConfig = field(default_factory=StandardsConfig)
    taps: TapsConfig = field(default_factory=TapsConfig)
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)
    security: SecurityConfig = field(default_factory=SecurityConfig)
    printer: PrinterConfig = field(default_factory=PrinterConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    source: Path | None = None

    def reader(self, name: str) -> ReaderConfig | None:
        return next((r for r in self.readers if r.name == name), None)


def _section(cls: type, raw: Any, where: str) -> Any:
    if raw is None:
        return cls()
    if not isinstance(raw, dict):
        raise ConfigError(f"[{where}] must be a table")
    known = {f.name for f in fields(cls)}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"[{where}] unknown key(s): {', '.join(sorted(unknown))}")
    values = dict(raw)
    for f in fields(cls):
        if f.name not in values:
            continue
        v = values[f.name]
        if f.type in ("time",) and isinstance(v, str):
            try:
                hours, minutes = v.split(":")
                values[f.name] = time(int(hours), int(minutes))
            except ValueError as exc:
                raise ConfigError(f"[{where}] {f.name} must be HH:MM, got {v!r}") from exc
        elif f.type.startswith("tuple") and isinstance(v, list):
            values[f.name] = tuple(v)
        elif f.type in ("Path", "Path | None") and isinstance(v, str):
            values[f.name] = Path(v)
    try:
        return cls(**values)
    except TypeError as exc:
        raise ConfigError(f"[{where}] {exc}") from exc


def _facilities(raw: Any) -> tuple[FacilityKindConfig, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise ConfigError("[facilities] must be a table of kinds")
    kinds = []
    for kind, spec in raw.items():
        if not isinstance(spec, dict) or "count" not in spec:
            raise ConfigError(f"[facilities.{kind}] needs count")
        kinds.append(
            FacilityKindConfig(
                kind=kind,
                label=str(spec.get("label", kind)),
                prefix=str(spec.get("prefix", kind.upper()[:3])),
                count=int(spec["count"]),
                desks={str(k): str(v) for k, v in dict(spec.get("desks", {})).items()},
            )
        )
    return tuple(kinds)


def _readers(raw: Any) -> tuple[ReaderConfig, ...]:
    if raw is None:
        return ()
    readers = []
    for i, spec in enumerate(raw):
        try:
            role = ReaderRole(spec["role"])
        except (KeyError, ValueError) as exc:
            raise ConfigError(
                f"[[readers]] #{i + 1}: role must be one of "
                f"{', '.join(r.value for r in ReaderRole)}"
            ) from exc
        if "name" not in spec or "url" not in spec:
            raise ConfigError(f"[[readers]] #{i + 1}: needs name and url")
        known = {"name", "role", "url", "facility", "strike", "verify_token"}
        readers.append(
            ReaderConfig(
                name=str(spec["name"]),
                role=role,
                url=str(spec["url"]),
                facility=spec.get("facility"),
                strike=spec.get("strike"),
                verify_token=bool(spec.get("verify_token", False)),
                options={k: v for k, v in spec.items() if k not in known},
            )
        )
    names = [r.name for r in readers]
    if len(set(names)) != len(names):
        raise ConfigError("[[readers]] names must be unique")
    return tuple(readers)


def parse_config(data: dict[str, Any], source: Path | None = None) -> Config:
    top_known = {
        "database",
        "server",
        "site",
        "room",
        "facilities",
        "readers",
        "queue",
        "standards",
        "taps",
        "privacy",
        "security",
        "printer",
        "metrics",
    }
    unknown = set(data) - top_known
    if unknown:
        raise ConfigError(f"unknown section(s): {', '.join(sorted(unknown))}")
    db = _database_section(data.get("database"))
    server = data.get("server", {})
    base = source.parent if source else Path.cwd()
    security = _section(SecurityConfig, data.get("security"), "security")
    if not security.key_file.is_absolute():
        security = replace(security, key_file=base / security.key_file)
    metrics = _section(MetricsConfig, data.get("metrics"), "metrics")
    if metrics.token_file is not None and not metrics.token_file.is_absolute():
        metrics = replace(metrics, token_file=base / metrics.token_file)
    return Config(
        database_url=_database_url(str(db.get("url", "sqlite+aiosqlite:///bidroom.db")), base),
        database_startup_wait_s=_startup_wait_s(db.get("startup_wait_s", DEFAULT_STARTUP_WAIT_S)),
        host=str(server.get("host", "127.0.0.1")),
        port=int(server.get("port", 8080)),
        site=_section(SiteConfig, data.get("site"), "site"),
        room=_section(RoomConfig, data.get("room"), "room"),
        facilities=_facilities(data.get("facilities")),
        readers=_readers(data.get("readers")),
        queue=_section(QueueConfig, data.get("queue"), "queue"),
        standards=_section(StandardsConfig, data.get("standards"), "standards"),
        taps=_section(TapsConfig, data.get("taps"), "taps"),
        privacy=_section(PrivacyConfig, data.get("privacy"), "privacy"),
        security=security,
        printer=_section(PrinterConfig, data.get("printer"), "printer"),
        metrics=metrics,
        source=source,
    )


def _database_section(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError("[database] must be a table")
    unknown = set(raw) - {"url", "startup_wait_s"}
    if unknown:
        raise ConfigError(f"[database] unknown key(s): {', '.join(sorted(unknown))}")
    return raw


def _startup_wait_s(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"[database] startup_wait_s must be seconds >= 0, got {value!r}")
    return float(value)


def _database_url(url: str, base: Path) -> str:
    """A relative SQLite path is relative to the config file's folder (or the cwd)."""
    prefix = "sqlite+aiosqlite:///"
    if url.startswith(prefix):
        path = url[len(prefix) :]
        if path and not path.startswith("/") and path != ":memory:":
            return prefix + str((base / path).resolve())
    return url


def load_config(path: Path | None = None) -> Config:
    """``--config FILE``, else ``./bidroom.toml``, else the built-in defaults."""
    if path is None:
        candidate = Path.cwd() / DEFAULT_CONFIG_NAME
        if not candidate.exists():
            return parse_config({}, None)
        path = candidate
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return parse_config(data, path.resolve())
