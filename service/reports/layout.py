"""What every rendered file shares: the site, its zone, the period and the seal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from service.config import SiteConfig
from service.reports.wording import long_date, month_name, word


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

    def period(self) -> str:
        if self.start == self.end:
            return long_date(self.start, self.lang)
        if self.start.day == 1 and (self.end.month != self.start.month or self.end.day >= 28):
            return month_name(self.start, self.lang)
        return f"{long_date(self.start, self.lang)} - {long_date(self.end, self.lang)}"

    def w(self, key: str) -> str:
        return word(key, self.lang)

    def city(self) -> str:
        name = self.site.name
        return name[5:] if name.upper().startswith("LPSE ") else name
