"""Bodies and replies of the front desk (:mod:`service.api.handlers.desk`)."""

from __future__ import annotations

from typing import Literal

from service.api import contract
from service.api.shapes.views import VisitOut


class ServeIn(contract.Body):
    reader: contract.Name


class ReleaseIn(contract.Body):
    visit_id: contract.Id


class Released(contract.Reply):
    reader: str
    released: int


class AnswerIn(contract.Body):
    """Return the visit whose badge was tapped while another was served, or ignore it."""

    visit_id: contract.Id
    answer: Literal["return", "ignore"]
    devices_checked: bool | None = None


class Answered(contract.Reply):
    answer: Literal["return", "ignore"]
    visit: VisitOut
