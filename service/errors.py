"""One exception root for bidroom, with a shallow tree.

Each error carries a message for the clerk in Indonesian and English and a stable
code; the API's error middleware and the readers' feedback translate them in one
place each.
"""

from __future__ import annotations


class BidroomError(Exception):
    """Root of every error bidroom raises on purpose."""

    code = "error"
    http_status = 400

    def __init__(self, message_id: str, message_en: str | None = None, *, field: str | None = None):
        super().__init__(message_en or message_id)
        self.message_id = message_id
        self.message_en = message_en or message_id
        self.field = field

    def message(self, lang: str = "id") -> str:
        return self.message_en if lang == "en" else self.message_id


class ConfigError(BidroomError):
    code = "config"

    def __init__(self, message: str):
        super().__init__(f"Konfigurasi salah: {message}", f"Bad configuration: {message}")


class ValidationError(BidroomError):
    """Input that breaks a rule of the form (a malformed NIK, a missing name)."""

    code = "invalid"
    http_status = 422


class NotFound(BidroomError):
    code = "not_found"
    http_status = 404


class Conflict(BidroomError):
    """The request is well-formed but the state does not allow it now."""

    code = "conflict"
    http_status = 409


class Forbidden(BidroomError):
    code = "forbidden"
    http_status = 403


class Unauthorized(BidroomError):
    code = "unauthorized"
    http_status = 401


class Unavailable(BidroomError):
    """The database is briefly gone; nothing was written, try again."""

    code = "unavailable"
    http_status = 503


class PayloadTooLarge(BidroomError):
    """A request body longer than the API takes; nothing was read into the state."""

    code = "too_large"
    http_status = 413


class UnsupportedMediaType(BidroomError):
    """A body sent as something other than JSON to a JSON route."""

    code = "unsupported_media_type"
    http_status = 415


class Busy(BidroomError):
    """Too much CPU-heavy work waits already (reports, verify): try again shortly."""

    code = "busy"
    http_status = 503

    def __init__(self, message_id: str, message_en: str, *, retry_after_s: int = 5) -> None:
        super().__init__(message_id, message_en)
        self.retry_after_s = retry_after_s
