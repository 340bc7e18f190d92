"""Reading a KTP's printed text into fields, and checking them against its NIK.

Pure rules over what the OCR saw: lines of words, each word with its text, the
engine's confidence (0–1) and where it starts and ends across the card (0–1). The
labels of the e-KTP ("Nama", "Tempat/Tgl Lahir", …) are matched leniently, because
OCR misreads them too; a value is kept with the lowest confidence of its words, and
a value that had to be snapped to the card's vocabulary ("LAKI-LAKI", "KAWIN") or
could not be read as the card writes it loses confidence. Nothing here guesses: a
field that was not seen is absent, and the NIK is compared with the birth date and
sex printed beside it (:func:`cross_check`), so a misread is flagged, never filled
as fact.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from difflib import SequenceMatcher

from service.domain.identity import NikError, check_nik
from service.i18n import Text, _

# Below this a field is shown highlighted for the clerk to check against the card.
LOW_CONFIDENCE = 0.80


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    confidence: float  # 0..1, the engine's own
    left: float = 0.0  # 0..1 across the card
    right: float = 0.0


Line = tuple[Word, ...]


@dataclass(frozen=True, slots=True)
class Field:
    value: str
    confidence: float
    note: str | None = None  # why it is low, for the clerk (a key of NOTES)

    @property
    def low(self) -> bool:
        return self.confidence < LOW_CONFIDENCE or self.note is not None


# The labelled rows of the e-KTP, in their printed order.
LABELS: tuple[tuple[str, str], ...] = (
    ("name", "Nama"),
    ("birth", "Tempat/Tgl Lahir"),
    ("sex", "Jenis Kelamin"),
    ("address", "Alamat"),
    ("rt_rw", "RT/RW"),
    ("kelurahan", "Kel/Desa"),
    ("kecamatan", "Kecamatan"),
    ("religion", "Agama"),
    ("marital_status", "Status Perkawinan"),
    ("occupation", "Pekerjaan"),
    ("nationality", "Kewarganegaraan"),
    ("valid_until", "Berlaku Hingga"),
)
VOCABULARY: dict[str, tuple[str, ...]] = {
    "sex": ("LAKI-LAKI", "PEREMPUAN"),
    "religion": ("ISLAM", "KRISTEN", "KATHOLIK", "KATOLIK", "HINDU", "BUDHA", "BUDDHA", "KONGHUCU"),
    "marital_status": ("BELUM KAWIN", "KAWIN", "CERAI HIDUP", "CERAI MATI"),
    "nationality": ("WNI", "WNA"),
    "blood_type": ("A", "B", "AB", "O", "-"),
}
NOTES: dict[str, Text] = {
    "unreadable": _("tidak terbaca jelas"),
    "snapped": _("dibaca mendekati"),
    "passes_disagree": _("dua pembacaan berbeda"),
    "date_format": _("bukan tanggal HH-BB-TTTT"),
    "nik_flagged": _("NIK tidak cocok dengan kartu"),
    "unchecked": _("tanpa digit pemeriksa; cocokkan"),
}
_DATE = re.compile(r"(\d{2})\s*[-./]?\s*(\d{2})\s*[-./]?\s*(\d{4})")
_COLON_LIKE = frozenset(":;.,|!1Iil'\"")
_ALNUM = re.compile(r"[0-9A-Za-z]")
_TO_LETTER = str.maketrans("0158", "OISB")


def _squash(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


def similarity(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b).ratio()


def _match_label(words: Line) -> tuple[str, int, float] | None:
    """Which label the line opens with, how many words it takes, and how surely."""
    best: tuple[str, int, float] | None = None
    for key, label in LABELS:
        target = _squash(label)
        for count in range(1, min(3, len(words)) + 1):
            seen = _squash("".join(w.text for w in words[:count]))
            score = similarity(seen, target)
            if best is None or score > best[2]:
                best = (key, count, score)
    if best is None or best[2] < 0.72:
        return None
    return best


def _value_words(words: Line) -> Line:
    """The value after the label: the colon (or what the engine made of it) dropped."""
    out = list(words)
    while out and (not _ALNUM.search(out[0].text) or _is_colon(out[0])):
        out.pop(0)
    if out and out[0].text[:1] in ":;":
        out[0] = replace(out[0], text=out[0].text[1:].lstrip())
    return tuple(out)


def _is_colon(word: Word) -> bool:
    return len(word.text) == 1 and word.text in _COLON_LIKE and word.right - word.left < 0.02


def _trimmed(words: Line) -> Line:
    """Marks after the value (the photo box's edge read as ``|``) dropped."""
    out = list(words)
    while out and not _ALNUM.search(out[-1].text):
        out.pop()
    return tuple(out)


def _field(words: Line) -> Field | None:
    text = " ".join(w.text for w in words).strip()
    if not text:
        return None
    return Field(text, min(w.confidence for w in words))


def _snap(key: str, found: Field) -> Field:
    """A vocabulary field as the card spells it; unsure when it had to be guessed at."""
    choices = VOCABULARY[key]
    text = found.value.upper().replace(" ", "")
    scored = max(choices, key=lambda c: similarity(text, c.replace(" ", "")))
    score = similarity(text, scored.replace(" ", ""))
    if score == 1.0:
        return replace(found, value=scored)
    if score >= 0.75:
        return Field(scored, min(found.confidence, score), "snapped")
    return replace(found, note="unreadable")


def _name(found: Field) -> Field:
    text = found.value.upper().translate(_TO_LETTER)
    cleaned = re.sub(r"[^A-Z .,'\-]", "", text)
    cleaned = re.sub(r"\s+", " ", cleaned).strip(" .,-")
    note = None if cleaned == re.sub(r"\s+", " ", found.value.upper()).strip() else "snapped"
    return Field(cleaned, found.confidence, note if cleaned else "unreadable")


def _address(found: Field) -> Field:
    """The card's abbreviations as printed: ``JL.``, ``NO.`` (a lost or doubled dot put back)."""
    text = found.value.upper()
    text = re.sub(r"^(JL|LRG|GG)[.,]?\s+", r"\1. ", text)
    text = re.sub(r"\bNO[.,]?\s+(?=\d)", "NO. ", text)
    return replace(found, value=text)


def _last(matches: Iterator[re.Match[str]]) -> re.Match[str] | None:
    found = None
    for found in matches:  # noqa: B007  (the last one is wanted)
        pass
    return found


def _rt_rw(found: Field) -> Field:
    """``005/002``: the last two groups of three digits (a lost slash put back, noted)."""
    match = _last(re.finditer(r"(\d{3})\s*[/|\\lI1]?\s*(\d{3})", found.value))
    if match is None:
        return replace(found, note="unreadable")
    value = f"{match.group(1)}/{match.group(2)}"
    return replace(found, value=value, note=None if value == found.value else "snapped")


def birth_of(found: Field) -> tuple[Field | None, Field | None]:
    """``JAMBI, 17-08-1985`` as the place and the ISO date."""
    match = _last(_DATE.finditer(found.value))
    if match is None:
        return Field(found.value.strip(" ,"), found.confidence, "date_format"), None
    place = found.value[: match.start()].strip(" ,.").upper()
    day, month, year = (int(g) for g in match.groups())
    try:
        born = date(year, month, day)
    except ValueError:
        when = Field(found.value[match.start() :], found.confidence, "date_format")
    else:
        when = Field(born.isoformat(), found.confidence)
    return (Field(place, found.confidence) if place else None), when


def _sex_line(words: Line) -> dict[str, Field]:
    """``LAKI-LAKI  Gol. Darah : O``: the sex, and the blood type when it is there."""
    out: dict[str, Field] = {}
    cut = next(
        (i for i, w in enumerate(words) if similarity(_squash(w.text), "gol") >= 0.66), len(words)
    )
    sex = _field(words[:cut])
    if sex is not None:
        out["sex"] = _snap("sex", sex)
    rest = words[cut:]
    if rest and similarity(_squash(" ".join(w.text for w in rest[:2])), "goldarah") >= 0.7:
        blood = _field(_value_words(rest[2:]))
        if blood is not None:
            out["blood_type"] = _snap("blood_type", blood)
    return out


def _value(key: str, found: Field) -> dict[str, Field]:
    """A labelled row's value as the card writes it, under its key (or two: place and date)."""
    if key == "birth":
        place, when = birth_of(found)
        both = {"birth_place": place, "birth_date": when}
        return {k: v for k, v in both.items() if v is not None}
    if key == "name":
        return {key: _name(found)}
    if key in VOCABULARY:
        return {key: _snap(key, found)}
    if key == "rt_rw":
        return {key: _rt_rw(found)}
    if key == "address":
        return {key: _address(found)}
    return {key: replace(found, value=found.value.upper())}


def parse_fields(lines: list[Line]) -> dict[str, Field]:
    """The labelled fields found in ``lines`` (the block below the NIK), by key."""
    out: dict[str, Field] = {}
    for words in lines:
        matched = _match_label(words)
        if matched is None:
            continue
        key, count, _ = matched
        if key in out or (key == "birth" and "birth_date" in out):
            continue
        value = _value_words(words[count:])
        if key == "sex":
            out.update(_sex_line(value))
            continue
        found = _field(_trimmed(value))
        if found is not None:
            out.update(_value(key, found))
    return out


@dataclass(frozen=True, slots=True)
class NikCheck:
    """The NIK's own check, and whether it agrees with what is printed beside it."""

    number: str
    valid: bool
    fault: str | None = None  # NikFault value
    message_id: str | None = None
    message_en: str | None = None
    birth_date_agrees: bool | None = None  # None: no printed birth date was read
    sex_agrees: bool | None = None
    encoded_birth_date: date | None = None
    encoded_female: bool | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def trusted(self) -> bool:
        """Valid and not contradicted by the card: may be filled without a warning."""
        return self.valid and self.birth_date_agrees is True and self.sex_agrees is not False


def cross_check(number: str, fields: dict[str, Field], today: date) -> NikCheck:
    """python-stdnum's NIK rules, then the birth date and sex the NIK encodes vs the print."""
    try:
        info = check_nik(number, today)
    except NikError as exc:
        return NikCheck(number, False, exc.fault.value, exc.message_id, exc.message_en)
    printed = fields.get("birth_date")
    birth_agrees = None
    if printed is not None and printed.note is None:
        birth_agrees = printed.value == info.birth_date.isoformat()
    sex = fields.get("sex")
    sex_agrees = None
    if sex is not None and sex.note != "unreadable":
        sex_agrees = (sex.value == "PEREMPUAN") == info.female
    return NikCheck(
        info.number,
        True,
        birth_date_agrees=birth_agrees,
        sex_agrees=sex_agrees,
        encoded_birth_date=info.birth_date,
        encoded_female=info.female,
    )


def nik_digits(text: str) -> str:
    """The NIK as read: digits only (a colon or a stray mark around it dropped)."""
    return re.sub(r"\D", "", text)
