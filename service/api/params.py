"""Reading request bodies and query strings into typed values, with clerk-readable errors."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from aiohttp import web

from service.errors import ValidationError


async def json_body(request: web.Request) -> dict[str, Any]:
    if not request.body_exists:
        return {}
    try:
        body = await request.json()
    except ValueError as exc:
        raise ValidationError(
            "Data yang dikirim bukan JSON yang sah.", "The request body is not valid JSON."
        ) from exc
    if not isinstance(body, dict):
        raise ValidationError("Data harus berupa objek JSON.", "The body must be a JSON object.")
    return body


def text(
    body: dict[str, Any], name: str, *, required: bool = True, default: str = "", max_len: int = 500
) -> str:
    value = body.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError(
                f"Kolom '{name}' wajib diisi.", f"'{name}' is required.", field=name
            )
        return default
    if not isinstance(value, str):
        raise ValidationError(f"Kolom '{name}' harus teks.", f"'{name}' must be text.", field=name)
    if len(value) > max_len:
        raise ValidationError(
            f"Kolom '{name}' terlalu panjang.", f"'{name}' is too long.", field=name
        )
    return value.strip()


def opt_text(body: dict[str, Any], name: str, max_len: int = 500) -> str | None:
    value = text(body, name, required=False, max_len=max_len)
    return value or None


def flag(body: dict[str, Any], name: str, default: bool = False) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise ValidationError(
            f"Kolom '{name}' harus true/false.", f"'{name}' must be a boolean.", field=name
        )
    return value


def integer(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError(
            f"'{name}' harus angka.", f"'{name}' must be a number.", field=name
        ) from None


def path_int(request: web.Request, name: str) -> int:
    return integer(request.match_info[name], name)


def a_date(value: str | None, name: str, default: date) -> date:
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            f"'{name}' harus tanggal YYYY-MM-DD.",
            f"'{name}' must be a date YYYY-MM-DD.",
            field=name,
        ) from None


def a_datetime(value: Any, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(
            f"'{name}' harus waktu ISO 8601.", f"'{name}' must be an ISO 8601 time.", field=name
        ) from None
    if parsed.tzinfo is None:
        raise ValidationError(
            f"'{name}' harus menyertakan zona waktu.",
            f"'{name}' must include a time zone.",
            field=name,
        )
    return parsed
