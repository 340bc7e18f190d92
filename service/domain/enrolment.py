"""Enrolling badges by tapping them on the front-desk reader.

The admin arms a front-desk reader ("enrol mode"), with a label typed or none; the
next *unknown* badge tapped there joins the pool, as that label or as the next free
one (:func:`propose_label`), and the mode ends. A known badge tapped meanwhile is
decided as always (issue or return), so enrolment never takes over the desk.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from service.domain import facts as f
from service.domain import visits
from service.domain.model import Badge
from service.domain.policy import Policy
from service.domain.taps import ReaderRole
from service.domain.tx import Tx
from service.errors import Conflict, NotFound
from service.i18n import _

DEFAULT_PREFIX = "K-"
DEFAULT_WIDTH = 3
_NUMBERED = re.compile(r"^(.*?)(\d+)$")


def propose_label(labels: Iterable[str]) -> str:
    """The next free label after the highest numbered one (``K-007`` -> ``K-008``).

    The prefix and width follow the most common numbered label, so a pool of
    ``K-001`` … keeps that shape; a pool with no numbered label starts at ``K-001``.
    """
    taken = set(labels)
    shapes: dict[tuple[str, int], tuple[int, int]] = {}  # (prefix, width) -> (count, highest)
    for label in taken:
        match = _NUMBERED.match(label)
        if match:
            shape = (match.group(1), len(match.group(2)))
            count, highest = shapes.get(shape, (0, 0))
            shapes[shape] = (count + 1, max(highest, int(match.group(2))))
    (prefix, width), (_count, number) = max(
        shapes.items(),
        key=lambda item: (item[1], item[0]),
        default=((DEFAULT_PREFIX, DEFAULT_WIDTH), (0, 0)),
    )
    while True:
        number += 1
        label = f"{prefix}{number:0{width}d}"
        if label not in taken:
            return label


def _front_desk(policy: Policy, reader: str) -> None:
    found = policy.readers.get(reader)
    if found is None:
        raise NotFound(_("Pembaca kartu {reader} tidak ada.", reader=reader), field="reader")
    if found.role is not ReaderRole.FRONT_DESK:  # 404: no front-desk reader by that name
        raise NotFound(
            _("Kartu didaftarkan hanya lewat pembaca kartu front office."),
            field="reader",
        )
    if found.verify_token or policy.require_token:
        raise Conflict(
            _(
                "Kartu di situs ini harus ditulisi token saat didaftarkan; daftarkan kartunya di server dengan perintah bidroom badge enroll (lihat README)."
            ),
            field="reader",
        )


def arm(tx: Tx, policy: Policy, reader: str, label: str | None, at: datetime, actor: str) -> None:
    """Enrol the next unknown badge tapped on ``reader`` (as ``label``, or proposed)."""
    _front_desk(policy, reader)
    label = label.strip() if label else None
    if label and any(b.label == label for b in tx.state.badges.values()):
        raise Conflict(_("Label {label} sudah dipakai.", label=label), field="label")
    tx.emit(f.BadgeEnrolArmed(at=at, actor=actor, reader=reader, label=label or None))


def disarm(tx: Tx, reader: str, at: datetime, actor: str) -> None:
    """End enrol mode on ``reader`` (nothing to do when it is not on)."""
    if reader in tx.state.enrolling:
        tx.emit(f.BadgeEnrolDisarmed(at=at, actor=actor, reader=reader))


def label_for(tx: Tx, reader: str) -> str | None:
    """The label the next unknown badge on ``reader`` gets; None: not armed, or the
    typed label was taken meanwhile (the tap is refused and the mode stays on)."""
    armed = tx.state.enrolling.get(reader)
    if armed is None:
        return None
    labels = [b.label for b in tx.state.badges.values()]
    if armed.label is None:
        return propose_label(labels)
    return None if armed.label in labels else armed.label


def enrol_tapped(tx: Tx, reader: str, uid: str, label: str, at: datetime) -> Badge:
    """The unknown badge tapped on an armed reader joins the pool; the mode ends."""
    armed = tx.state.enrolling[reader]
    badge = visits.enroll_badge(tx, uid, label, at, armed.by)
    tx.emit(f.BadgeEnrolDisarmed(at=at, actor=f"reader:{reader}", reader=reader))
    return badge
