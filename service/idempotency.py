"""Idempotency keys (IETF draft-ietf-httpapi-idempotency-key-header): a retried
state-changing request gets the first answer again instead of running twice.

A client sends ``Idempotency-Key: "<unique string>"`` (an RFC 8941 String, parsed
by the http-sf library) with a POST, PUT, PATCH or DELETE. The key is scoped to
who sent it (a staff member or a token) and remembered for :data:`KEY_LIFETIME`
with a SHA-256 fingerprint of the method, the path and the body:

- a key never seen (or seen longer than 24 h ago): the request runs, and its
  answer (status, type, body) is stored;
- the same key and fingerprint, answered: the stored answer comes back, marked
  ``Idempotent-Replayed: true``, and nothing runs again;
- the same key with another fingerprint: 422, nothing runs;
- the same key still being answered: a duplicate in this daemon waits for that
  answer (a double click gets the first click's answer); one that cannot wait
  (another daemon answers, or the wait is too long) gets 409, as the draft says;
- a first request unanswered after :data:`IN_FLIGHT_LIMIT` (its daemon stopped in
  the middle) is given up, and a retry runs.

The rules (:func:`parse_key`, :func:`fingerprint`, :func:`judge`) are pure; the
store (:class:`IdempotencyKeys`) keeps the rows in ``idempotency_keys`` in the
daemon's database, so keys survive a restart and are shared by every daemon on a
PostgreSQL database. Not room state: nothing here is journaled. An answer can hold
personal data (a visitor's name, a looked-up phone number), so it is stored sealed
with AES-GCM under a key derived from the daemon's key file, bound to its sender, key
and fingerprint; an answer that no longer opens (another key file) is run again.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import http_sf
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from service.errors import BidroomError, Conflict
from service.i18n import _
from service.store.tables import IdempotencyKeyRow
from service.store.write_gate import write_tx

KEY_LIFETIME = timedelta(hours=24)
# A first request still unanswered after this long was lost with its daemon.
IN_FLIGHT_LIMIT = timedelta(seconds=60)
# How long a duplicate in the same daemon waits for the first request's answer.
WAIT_S = 30.0
MAX_KEY_LENGTH = 255
PURGE_EVERY = timedelta(minutes=10)
HEADER = "Idempotency-Key"


class MalformedKey(BidroomError):
    code = "idempotency_key_malformed"
    http_status = 400


class KeyReused(BidroomError):
    code = "idempotency_key_reused"
    http_status = 422


class KeyInFlight(Conflict):
    code = "idempotency_key_in_flight"


MALFORMED = MalformedKey(
    _(
        'Kunci Idempotency-Key tidak sah: kirim teks dalam tanda kutip (1–255 karakter), mis. "8e03978e-40d5-43e8-bc93-6894a57f9324".'
    ),
)
REUSED = KeyReused(
    _(
        "Kunci Idempotency-Key ini sudah dipakai untuk permintaan lain; tidak ada yang diubah. Muat ulang halaman lalu coba lagi."
    ),
)
IN_FLIGHT = KeyInFlight(
    _("Permintaan yang sama masih diproses; tunggu sebentar lalu coba lagi."),
)


def parse_key(header: str) -> str:
    """The key of an ``Idempotency-Key`` header (an RFC 8941 String), or MalformedKey."""
    try:
        parsed = http_sf.parse(header.strip().encode("ascii"), tltype="item")
    except (http_sf.StructuredFieldError, UnicodeEncodeError, ValueError):
        raise MALFORMED from None
    value = parsed[0] if isinstance(parsed, tuple) else None  # an Item: (value, parameters)
    if not isinstance(value, str) or isinstance(value, http_sf.Token):
        raise MALFORMED
    if not 1 <= len(value) <= MAX_KEY_LENGTH or not value.strip():
        raise MALFORMED
    return value


def fingerprint(method: str, path: str, body: bytes) -> str:
    """The request a key stands for: method, path with query, and body (SHA-256)."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    content_type: str
    body: bytes


@dataclass(frozen=True, slots=True)
class Seen:
    """A key as stored: its fingerprint, when it came, and its answer once given."""

    digest: str
    created_at: datetime
    answer: Answer | None
    unreadable: bool = False  # answered, but sealed under another key file


class Verdict(enum.Enum):
    RUN = "run"  # never seen, expired, or lost in flight: run the request
    REPLAY = "replay"  # answered: give the stored answer
    REUSED = "reused"  # another request under the same key: 422
    IN_FLIGHT = "in_flight"  # being answered right now: wait, or 409


def judge(seen: Seen | None, digest: str, now: datetime) -> Verdict:
    """What to do with a request under a key that was ``seen`` (None: never)."""
    if seen is None or now - seen.created_at >= KEY_LIFETIME or seen.unreadable:
        return Verdict.RUN
    if seen.answer is None:
        if now - seen.created_at >= IN_FLIGHT_LIMIT:
            return Verdict.RUN if seen.digest == digest else Verdict.REUSED
        return Verdict.IN_FLIGHT if seen.digest == digest else Verdict.REUSED
    return Verdict.REPLAY if seen.digest == digest else Verdict.REUSED


@dataclass(frozen=True, slots=True)
class Request:
    principal: str
    key: str
    method: str
    path: str
    digest: str


class IdempotencyKeys:
    """The stored keys, and the requests under way in this daemon."""

    def __init__(self, engine: AsyncEngine, clock: Callable[[], datetime], secret: bytes) -> None:
        self._engine = engine
        self._clock = clock
        self._seal = AESGCM(secret)
        self._under_way: dict[tuple[str, str], asyncio.Event] = {}
        self._purged_at: datetime | None = None

    async def begin(self, req: Request) -> Answer | None:
        """Claim the key for ``req`` (None: run it, then :meth:`finish` or :meth:`release`),
        or the stored answer to replay; raises KeyReused or KeyInFlight."""
        await self._purge_now_and_then()
        waited = False
        while True:
            now = self._clock()
            seen = await self._claim(req, now)
            verdict = Verdict.RUN if seen is None else judge(seen, req.digest, now)
            if verdict is Verdict.RUN:
                if seen is None or await self._take_over(req, seen, now):
                    self._under_way[(req.principal, req.key)] = asyncio.Event()
                    return None
                continue  # another request took it over first: judge again
            if verdict is Verdict.REPLAY:
                assert seen is not None and seen.answer is not None
                return seen.answer
            if verdict is Verdict.REUSED:
                raise REUSED
            event = self._under_way.get((req.principal, req.key))
            if event is None or waited:
                raise IN_FLIGHT
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), WAIT_S)
            waited = True

    async def finish(self, req: Request, answer: Answer) -> None:
        """Store the answer to ``req``: a retry with the same key gets it again."""
        try:
            async with write_tx(self._engine) as conn:
                await conn.execute(
                    update(IdempotencyKeyRow)
                    .where(*self._row(req), IdempotencyKeyRow.digest == req.digest)
                    .values(
                        status=answer.status,
                        content_type=answer.content_type,
                        response=self._sealed(req, answer.body),
                        completed_at=self._clock(),
                    )
                )
        finally:
            self._done(req)

    async def release(self, req: Request) -> None:
        """Forget a key whose request gave no answer to keep (a crash, a 5xx): it may run again."""
        try:
            async with write_tx(self._engine) as conn:
                await conn.execute(
                    delete(IdempotencyKeyRow).where(
                        *self._row(req), IdempotencyKeyRow.status.is_(None)
                    )
                )
        finally:
            self._done(req)

    async def purge(self, now: datetime) -> int:
        """Delete the keys older than their lifetime; how many went."""
        async with write_tx(self._engine) as conn:
            result = await conn.execute(
                delete(IdempotencyKeyRow).where(IdempotencyKeyRow.created_at < now - KEY_LIFETIME)
            )
        self._purged_at = now
        return int(result.rowcount or 0)

    # -- the rows ---------------------------------------------------------------
    @staticmethod
    def _row(req: Request) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
        return (IdempotencyKeyRow.principal == req.principal, IdempotencyKeyRow.key == req.key)

    @staticmethod
    def _bound_to(req: Request) -> bytes:
        return f"{req.principal}\n{req.key}\n{req.digest}".encode()

    def _sealed(self, req: Request, body: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._seal.encrypt(nonce, body, self._bound_to(req))

    def _opened(self, req: Request, digest: str, stored: bytes) -> bytes | None:
        if digest != req.digest:
            return b""  # another request's answer: never opened, never given
        try:
            return self._seal.decrypt(stored[:12], stored[12:], self._bound_to(req))
        except (InvalidTag, ValueError):
            return None

    def _done(self, req: Request) -> None:
        event = self._under_way.pop((req.principal, req.key), None)
        if event is not None:
            event.set()

    async def _claim(self, req: Request, now: datetime) -> Seen | None:
        """Insert the key as under way (None), or read it as it was stored before."""
        try:
            async with write_tx(self._engine) as conn:
                await conn.execute(
                    insert(IdempotencyKeyRow).values(
                        principal=req.principal,
                        key=req.key,
                        method=req.method,
                        path=req.path[:500],
                        digest=req.digest,
                        created_at=now,
                    )
                )
            return None
        except IntegrityError:
            pass
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(IdempotencyKeyRow).where(*self._row(req)))).first()
        if row is None:  # purged or released between the two statements: claim again
            return await self._claim(req, now)
        answer = None
        if row.status is not None:
            body = self._opened(req, row.digest, bytes(row.response or b""))
            if body is None:  # sealed under another key file: as good as expired
                return Seen(row.digest, row.created_at, None, unreadable=True)
            answer = Answer(int(row.status), row.content_type or "", body)
        return Seen(row.digest, row.created_at, answer)

    async def _take_over(self, req: Request, seen: Seen, now: datetime) -> bool:
        """Reuse an expired or abandoned key's row for ``req`` (False: someone was first)."""
        async with write_tx(self._engine) as conn:
            result = await conn.execute(
                update(IdempotencyKeyRow)
                .where(*self._row(req), IdempotencyKeyRow.created_at == seen.created_at)
                .values(
                    method=req.method,
                    path=req.path[:500],
                    digest=req.digest,
                    status=None,
                    content_type=None,
                    response=None,
                    created_at=now,
                    completed_at=None,
                )
            )
        return bool(result.rowcount)

    async def _purge_now_and_then(self) -> None:
        now = self._clock()
        if self._purged_at is None or now - self._purged_at >= PURGE_EVERY:
            await self.purge(now)
