"""What every rendered file shares: the site, its zone, the period and the seal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from service.config import SiteConfig
from service.reports.wording import clock_time, long_date, month_name, word


@dataclass(frozen=True, slots=True)
class SignOff:
    """The electronic sign-off a sealed book prints: who signed, when, the journal head."""

    by: str  # the staff account's full name
    login: str
    at: datetime
    journal_seq: int
    journal_hash: str


@dataclass(frozen=True, slots=True)
class Layout:
    site: SiteConfig
    tz: ZoneInfo
    start: date
    end: date
    created: datetime  # fixed in the file's metadata, so a re-render is byte-identical
    lang: str = "id"
    journal_seq: int | None = None
    journal_hash: str | None = None
    signoff: SignOff | None = None
    # Help requests' free text (problem, resolution) is personal data that retention
    # erases; a sealed copy, kept for good, prints a reference to the request instead.
    free_text: bool = True

    def period(self) -> str:
        if self.start == self.end:
            return long_date(self.start, self.lang)
        if self.start.day == 1 and (self.end.month != self.start.month or self.end.day >= 28):
            return month_name(self.start, self.lang)
        return f"{long_date(self.start, self.lang)} - {long_date(self.end, self.lang)}"

    def w(self, key: str) -> str:
        return word(key, self.lang)

    def signoff_lines(self) -> list[tuple[str, str]]:
        """The sign-off as (label, value) pairs; empty for a book that is not sealed."""
        s = self.signoff
        if s is None:
            return []
        local = s.at.astimezone(self.tz)
        when = f"{long_date(local.date(), self.lang)} {clock_time(s.at, self.tz, self.lang)}"
        return [
            (self.w("signed_by"), f"{s.by} ({s.login})" if s.by != s.login else s.by),
            (self.w("signed_at"), when),
            (self.w("journal_head"), f"seq {s.journal_seq}: {s.journal_hash}"),
        ]

    def city(self) -> str:
        name = self.site.name
        return name[5:] if name.upper().startswith("LPSE ") else name
