"""Taking a facility out of service while someone uses it.

A facility in use is not taken out of service silently: the rule refuses with the
occupant and the free facilities of the same kind it could move to
(:class:`FacilityOccupied`), and the clerk either names one (``move_to``) or gives up.
The move and the change of service are one transaction: the occupant's session at
the old facility ends, the visit leaves it and gets the new one (a new session starts
there at once when it has no desk reader; at a desk reader the visitor taps in), and
the old facility goes out of service. A refusal changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from service.domain import facts as f
from service.domain import queue
from service.domain.model import Facility, Visit
from service.domain.policy import Policy
from service.domain.state import RoomState
from service.domain.tx import Tx
from service.errors import Conflict, NotFound
from service.i18n import _


class FacilityOccupied(Conflict):
    """The facility is in use; ``alternatives`` are the free ones of its kind (by code)."""

    code = "facility_occupied"

    def __init__(self, facility: Facility, visit: Visit, alternatives: tuple[str, ...]) -> None:
        who = f"{visit.name} ({visit.company})"
        if alternatives:
            super().__init__(
                f"{facility.code} sedang dipakai oleh {who}. Pindahkan ke {alternatives[0]}"
                f" lalu nonaktifkan {facility.code}?",
                f"{facility.code} is in use by {who}. Move them to {alternatives[0]}"
                f" and take {facility.code} out of service?",
            )
        else:
            super().__init__(
                f"{facility.code} sedang dipakai oleh {who} dan tidak ada fasilitas sejenis"
                " lain yang bebas; tidak dapat dinonaktifkan sekarang.",
                f"{facility.code} is in use by {who} and no other facility of its kind is"
                " free; it cannot be taken out of service now.",
            )
        self.facility = facility
        self.visit = visit
        self.alternatives = alternatives


def alternatives(state: RoomState, facility: Facility, at: datetime) -> tuple[str, ...]:
    """Free facilities of the same kind as ``facility``, by code."""
    return tuple(
        sorted(
            x.code
            for x in state.facilities.values()
            if x.kind == facility.kind and x.id != facility.id and queue.is_free(x, at)
        )
    )


def _facility(state: RoomState, facility_id: int) -> Facility:
    facility = state.facilities.get(facility_id)
    if facility is None:
        raise NotFound(_("Fasilitas {facility_id} tidak ada.", facility_id=facility_id))
    return facility


def _target(state: RoomState, facility: Facility, code: str, at: datetime) -> Facility:
    target = state.facility_by_code(code)
    if target is None:
        raise NotFound(_("Fasilitas {code} tidak ada.", code=code), field="move_to")
    if target.kind != facility.kind or target.id == facility.id:
        raise Conflict(
            _(
                "{code} bukan {label} lain; pilih fasilitas sejenis yang bebas.",
                code=code,
                label=facility.label,
            ),
        )
    if not queue.is_free(target, at):
        raise Conflict(
            _("{code} tidak bebas lagi; pilih fasilitas lain.", code=code),
        )
    return target


def move_occupant(
    tx: Tx, policy: Policy, facility: Facility, target: Facility, at: datetime, actor: str
) -> None:
    """Move the visit using ``facility`` to ``target`` (its session follows it)."""
    visit_id = facility.visit_id
    if visit_id is None:
        return
    usage = tx.state.open_usage(visit_id)
    if usage is not None:
        tx.emit(f.UsageEnded(at=at, actor=actor, usage_id=usage.id, by="staff"))
    queue.leave(tx, policy, visit_id, at, actor)
    queue.assign(tx, visit_id, target, at, actor)
    if usage is not None and target.reader is None:
        visit = tx.state.visits[visit_id]
        queue.start_usage(tx, visit, tx.state.facilities[target.id], at, "staff", actor)


def set_service(
    tx: Tx,
    policy: Policy,
    facility_id: int,
    out: bool,
    at: datetime,
    actor: str,
    note: str | None = None,
    move_to: str | None = None,
) -> None:
    """Take a facility out of service (moving its occupant to ``move_to``) or back."""
    facility = _facility(tx.state, facility_id)
    if out and not facility.out_of_service and facility.visit_id is not None:
        visit = tx.state.visits[facility.visit_id]
        if move_to is None:
            raise FacilityOccupied(facility, visit, alternatives(tx.state, facility, at))
        move_occupant(tx, policy, facility, _target(tx.state, facility, move_to, at), at, actor)
    queue.set_out_of_service(tx, facility_id, out, at, actor, note)
