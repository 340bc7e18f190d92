"""The configuration as the domain sees it: the rules' :class:`Policy`, and the
facilities the configuration lists (added, relabelled, or put out of service when
they leave it)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from service.config import Config
from service.domain import badge_token, queue
from service.domain import facts as f
from service.domain.model import Facility
from service.domain.policy import KindPolicy, Policy, ReaderPolicy
from service.domain.tx import Tx

# The note on a facility the configuration no longer lists (it comes back when listed).
NOT_CONFIGURED = "tidak ada dalam konfigurasi / not in the configuration"


def policy_from_config(config: Config, token_key: bytes) -> Policy:
    def token_ok(label: str, uid: str, token: str | None) -> bool:
        return token is not None and badge_token.verify(token_key, label, uid, token)

    std = config.standards
    return Policy(
        tz=ZoneInfo(config.site.timezone),
        capacity=config.room.capacity,
        opening=config.room.opening,
        closing=config.room.closing,
        days=config.room.days,
        door_open_s=config.room.door_open_s,
        turnover_gap=timedelta(seconds=config.queue.turnover_gap_s),
        hold=timedelta(seconds=config.queue.hold_s),
        desk_assigns_free=config.queue.desk_assigns_free,
        standards={
            "2": timedelta(seconds=std.step2_s),
            "3": timedelta(seconds=std.step3_s),
            "8": timedelta(seconds=std.step8_s),
            "9": timedelta(seconds=std.step9_s),
        },
        readers={
            r.name: ReaderPolicy(r.name, r.role, r.facility, r.verify_token) for r in config.readers
        },
        kinds={k.kind: KindPolicy(k.kind, k.label, k.prefix) for k in config.facilities},
        slots=tuple(f"L-{n:02d}" for n in range(1, config.room.deposit_slots + 1)),
        require_token=config.security.require_badge_token,
        token_check=token_ok,
    )


def configure_facilities(tx: Tx, config: Config, now: datetime) -> None:
    """Facilities follow the configuration; out of service stays as staff left it."""
    by_code = {fac.code: fac for fac in tx.state.facilities.values()}
    desk_readers = {r.facility: r.name for r in config.readers if r.facility}
    wanted: set[str] = set()
    for kind in config.facilities:
        for n in range(1, kind.count + 1):
            code = f"{kind.prefix}-{n:02d}"
            wanted.add(code)
            existing = by_code.get(code)
            label = f"{kind.label} {n}"
            reader = kind.desks.get(str(n)) or desk_readers.get(code)
            if existing is None:
                new = Facility(
                    id=tx.next_id("facility"),
                    code=code,
                    kind=kind.kind,
                    label=label,
                    reader=reader,
                )
                tx.emit(f.FacilityConfigured(at=now, actor="system", facility=new))
                continue
            if (existing.kind, existing.label, existing.reader) != (kind.kind, label, reader):
                changed = replace(existing, kind=kind.kind, label=label, reader=reader)
                tx.emit(f.FacilityConfigured(at=now, actor="system", facility=changed))
            if existing.out_of_service and existing.service_note == NOT_CONFIGURED:
                queue.set_out_of_service(tx, existing.id, False, now, "system")
    for code, fac in by_code.items():
        if code not in wanted and not fac.out_of_service:
            queue.set_out_of_service(tx, fac.id, True, now, "system", NOT_CONFIGURED)
