"""The jobs the worker process runs (see :mod:`service.workers`).

Each opens its own database engine from the site's configuration, does its
CPU-heavy part, and returns plain picklable values.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from service.config import Config
from service.keyfile import KeyFile
from service.privacy import PersonalData
from service.reports.archive import Fault, build_seal
from service.reports.render import render_books, render_visit_report
from service.reports.verify import verify_archive
from service.store.engine import make_engine

T = TypeVar("T")


def _with_engine(config: Config, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = make_engine(config.database_url)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def books_job(config: Config, start: date, end: date, fmt: str, book: str, lang: str) -> bytes:
    return _with_engine(
        config, lambda e: render_books(e, config, start, end, fmt, book=book, lang=lang)
    )


def visits_job(config: Config, start: date, end: date, fmt: str, lang: str, now: datetime) -> bytes:
    return _with_engine(
        config, lambda e: render_visit_report(e, config, start, end, fmt, lang=lang, now=now)
    )


def verify_job(config: Config, day: date | None) -> list[Fault]:
    from zoneinfo import ZoneInfo

    personal = PersonalData(KeyFile.open(config.security.key_file))
    tz = ZoneInfo(config.site.timezone)
    return _with_engine(config, lambda e: verify_archive(e, personal, day, tz))


def seal_files_job(
    config: Config, day: date, head: tuple[int, str], now: datetime, amendments: list[int]
) -> dict[str, bytes]:
    return _with_engine(config, lambda e: build_seal(e, config, day, head, now, amendments))
