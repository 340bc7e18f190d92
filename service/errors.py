"""One exception root for bidroom, with a shallow tree.

Each error carries a message for the clerk (a :class:`service.i18n.Msg`, Indonesian
in the code, English in the catalogue) and a stable code; the API's error middleware
and the readers' feedback translate it in one place each. The old two-argument form
``ValidationError("Indonesian.", "English.")`` still works until
``scripts/convert_messages.py`` has rewritten it to ``ValidationError(_("Indonesian."))``.
"""

from __future__ import annotations

from service.i18n import Msg, Text, _, as_msg, message, render


class BidroomError(Exception):
    """Root of every error bidroom raises on purpose."""

    code = "error"
    http_status = 400

    def __init__(self, text: Text, message_en: str | None = None, *, field: str | None = None):
        self.text: Msg = message(text, message_en) if isinstance(text, str) else as_msg(text)
        super().__init__(self.text.msgid)
        self.field = field

    def __str__(self) -> str:  # for logs: English, translated only when written
        return self.text.render("en")

    def message(self, lang: str = "id") -> str:
        return render(self.text, lang)

    @property
    def message_id(self) -> str:
        return self.text.render("id")

    @property
    def message_en(self) -> str:
        return self.text.render("en")


class ConfigError(BidroomError):
    code = "config"

    def __init__(self, message: str):
        super().__init__(_("Konfigurasi salah: {message}", message=message))


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

    def __init__(
        self, text: Text, message_en: str | None = None, *, retry_after_s: int = 5
    ) -> None:
        super().__init__(text, message_en)
        self.retry_after_s = retry_after_s
