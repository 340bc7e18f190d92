"""The reply of acknowledging a notice (:mod:`service.api.handlers.notices`)."""

from __future__ import annotations

from service.api import contract


class NoticeAcked(contract.Reply):
    id: int
    acknowledged: bool
