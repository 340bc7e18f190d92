"""A refusal of one input, naming the field by its label (never its key)."""

from __future__ import annotations

from service.api.labels import Label, label_of
from service.errors import ValidationError
from service.i18n import Text, as_msg, both


def invalid(
    name: str,
    text: Text,
    message_en: str | None = None,
    *,
    field: str | None = None,
    label: Label | None = None,
    **values: object,
) -> ValidationError:
    """A 422 about one input; ``{label}`` in the message becomes its label."""
    found = as_msg(label or label_of(name))
    if isinstance(text, str):  # the old two-language form
        label_id, label_en = both(found)
        assert message_en is not None
        return ValidationError(
            text.format(label=label_id, **values),
            message_en.format(label=label_en, **values),
            field=field or name,
        )
    return ValidationError(as_msg(text).with_params(label=found, **values), field=field or name)
