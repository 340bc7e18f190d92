"""Synthetic e-KTPs for the identity-scan tests and the bench: drawn, then degraded.

A card is drawn at 600 dpi on the real layout of the e-KTP (85.6 × 54 mm): the
province and regency in the header, the NIK in large type, the labelled fields in
their order, the photo box with the place and date of issue and a signature, on a
light-blue guilloche background. The person is drawn from Indonesian names and Kota
Jambi addresses with a valid NIK (a registered regency code, the birth date with +40
on the day for women), checked by :func:`service.domain.identity.check_nik`.

:func:`degrade` then does what scanners and phones do: 150–300 dpi, rotation up to
±5°, blur, uneven light, JPEG at quality 60, and for camera shots a slight
perspective on a desk. Everything is seeded, so a card is the same on every run.
Fonts are Debian's DejaVu (``fonts-dejavu-core``).
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from stdnum import numdb

from service.domain.identity import check_nik

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
DPI = 600
MM = DPI / 25.4
CARD_MM = (85.6, 54.0)
TODAY = date(2026, 11, 25)

FIRST = tuple(
    (  # noqa: SIM905
        "SITI AHMAD MUHAMMAD NUR DEWI RINA BUDI AGUS EKO SRI PUTRI RIZKY FAJAR INDAH YULI "
        "HENDRA WAHYU DIAN ANDI ARIF RATNA LESTARI HADI NOVITA IRWAN FITRI RUDI SUSI YOGI "
        "TAUFIK HAFIZ ZULKIFLI MASNAH ROSMIATI JUMADI SYAHRIL NURHAYATI ERWIN DEDI"
    ).split()
)
LAST = tuple(
    (  # noqa: SIM905
        "AMINAH SANTOSO HIDAYAT RAHMAN WATI SAPUTRA SARI PRATAMA KURNIAWAN HASIBUAN "
        "SIREGAR NASUTION LUBIS HARAHAP SETIAWAN WIJAYA RAMADHAN FITRIANI SYAFRUDDIN "
        "MAULANA SUHENDRA ANGGRAINI PERMATA SUSANTO HANDAYANI UTAMI NAINGGOLAN"
    ).split()
)
PLACES = (
    "JAMBI",
    "KUALA TUNGKAL",
    "MUARA BUNGO",
    "SUNGAI PENUH",
    "PALEMBANG",
    "PADANG",
    "MEDAN",
    "BANDUNG",
    "JAKARTA",
    "PEKANBARU",
    "BANGKO",
    "SAROLANGUN",
)
STREETS = (
    "JL. SULTAN THAHA",
    "JL. GATOT SUBROTO",
    "JL. KOL. ABUNJANI",
    "JL. HAYAM WURUK",
    "JL. SUDIRMAN",
    "JL. KAPT. PATTIMURA",
    "JL. SRI SUDEWI",
    "JL. LINGKAR BARAT",
    "JL. SUMANTRI",
    "LRG. SEPAKAT",
    "JL. RADEN WIJAYA",
    "JL. M. YAMIN",
)
# Kecamatan of Kota Jambi with some of their kelurahan.
KECAMATAN = {
    "TELANAIPURA": ("SIMPANG IV SIPIN", "PEMATANG SULUR", "SUNGAI PUTRI", "BULURAN KENALI"),
    "JELUTUNG": ("JELUTUNG", "CEMPAKA PUTIH", "LEBAK BANDUNG", "KEBUN HANDIL"),
    "KOTA BARU": ("SUKA KARYA", "SIMPANG III SIPIN", "PAAL LIMA", "KENALI ASAM BAWAH"),
    "PASAR JAMBI": ("PASAR JAMBI", "BERINGIN", "ORANG KAYO HITAM", "SUNGAI ASAM"),
    "ALAM BARAJO": ("MAYANG MANGURAI", "BAGAN PETE", "KENALI BESAR", "BELIUNG"),
    "JAMBI SELATAN": ("PAKUAN BARU", "TAMBAK SARI", "WIJAYA PURA", "THEHOK"),
    "DANAU SIPIN": ("LEGOK", "MURNI", "SOLOK SIPIN", "SUNGAI PUTRI"),
    "PAAL MERAH": ("EKA JAYA", "TALANG BAKUNG", "LINGKAR SELATAN", "PAAL MERAH"),
}
REGIONS = ("1571", "1571", "1571", "1505", "1501", "1509", "1671", "1371", "3273")
RELIGIONS = ("ISLAM", "ISLAM", "ISLAM", "KRISTEN", "KATHOLIK", "HINDU", "BUDHA")
MARITAL = ("BELUM KAWIN", "KAWIN", "KAWIN", "CERAI HIDUP", "CERAI MATI")
JOBS = (
    "KARYAWAN SWASTA",
    "WIRASWASTA",
    "PEGAWAI NEGERI SIPIL",
    "PEDAGANG",
    "PELAJAR/MAHASISWA",
    "MENGURUS RUMAH TANGGA",
    "GURU",
    "KARYAWAN BUMN",
)
BLOOD = ("A", "B", "AB", "O", "-")


@dataclass(frozen=True, slots=True)
class Person:
    nik: str
    name: str
    birth_place: str
    birth_date: date
    female: bool
    blood: str
    address: str
    rt_rw: str
    kelurahan: str
    kecamatan: str
    religion: str
    marital: str
    occupation: str
    nationality: str
    province: str
    regency: str
    issued: date

    @property
    def sex(self) -> str:
        return "PEREMPUAN" if self.female else "LAKI-LAKI"


def _region_names(code: str) -> tuple[str, str]:
    """``PROVINSI JAMBI`` and ``KOTA JAMBI`` (or ``KABUPATEN …``) from stdnum's register."""
    (_, province), (_, regency) = numdb.get("id/loc").info(code)[:2]
    kind = "KOTA" if int(code[2:]) >= 71 else "KABUPATEN"
    return f"PROVINSI {province['name_id'].upper()}", f"{kind} {regency['name_id']}"


def make_nik(rng: random.Random, region: str, birth: date, female: bool) -> str:
    """A NIK that :func:`check_nik` accepts: region, kecamatan, DDMMYY (+40 women), serial."""
    day = birth.day + (40 if female else 0)
    nik = f"{region}{rng.randint(1, 12):02d}{day:02d}{birth.month:02d}{birth.year % 100:02d}"
    nik += f"{rng.randint(1, 120):04d}"
    check_nik(nik, TODAY)  # raises if the generator ever draws an invalid one
    return nik


def person(seed: int) -> Person:
    rng = random.Random(seed)
    female = rng.random() < 0.5
    birth = date(1960, 1, 1) + timedelta(days=rng.randint(0, 365 * 45))
    region = rng.choice(REGIONS)
    words = rng.choice((1, 2, 2, 2, 3))
    name = " ".join([rng.choice(FIRST)] + [rng.choice(LAST) for _ in range(words - 1)])
    kecamatan = rng.choice(sorted(KECAMATAN))
    province, regency = _region_names(region)
    street = f"{rng.choice(STREETS)} NO. {rng.randint(1, 120)}"
    return Person(
        nik=make_nik(rng, region, birth, female),
        name=name,
        birth_place=rng.choice(PLACES),
        birth_date=birth,
        female=female,
        blood=rng.choice(BLOOD),
        address=street,
        rt_rw=f"{rng.randint(1, 40):03d}/{rng.randint(1, 12):03d}",
        kelurahan=rng.choice(KECAMATAN[kecamatan]),
        kecamatan=kecamatan,
        religion=rng.choice(RELIGIONS),
        marital=rng.choice(MARITAL),
        occupation=rng.choice(JOBS),
        nationality="WNI",
        province=province,
        regency=regency,
        issued=date(2012, 1, 1) + timedelta(days=rng.randint(0, 365 * 12)),
    )


@cache
def _font(name: str, size_pt: float) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / name), round(size_pt * 0.3528 * MM))


def _guilloche(width: int, height: int, rng: random.Random) -> Image.Image:
    """Light blue with interlaced sine rosettes, as the card's security print."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.empty((height, width, 3), np.float32)
    base[:] = (196, 224, 242)
    shade = np.zeros((height, width), np.float32)
    for _ in range(4):
        fx, fy = rng.uniform(0.004, 0.012), rng.uniform(0.006, 0.02)
        phase = rng.uniform(0, math.tau)
        wave = np.sin(x * fx + np.sin(y * fy + phase) * rng.uniform(2, 5))
        shade += (np.abs(wave) < 0.06).astype(np.float32)
    base -= shade[..., None] * np.array((24, 14, 6), np.float32)
    gradient = (x / width)[..., None] * np.array((-6, 2, 8), np.float32)
    return Image.fromarray(np.clip(base + gradient, 0, 255).astype(np.uint8))


def draw_card(who: Person, seed: int = 0) -> Image.Image:
    """The card at 600 dpi, RGB."""
    rng = random.Random(seed * 7919 + 1)
    width, height = round(CARD_MM[0] * MM), round(CARD_MM[1] * MM)
    card = _guilloche(width, height, rng)
    ink = (22, 22, 28)
    pen = ImageDraw.Draw(card)

    def at(x_mm: float, y_mm: float) -> tuple[float, float]:
        return x_mm * MM, y_mm * MM

    head = _font("DejaVuSans-Bold.ttf", 7.5)
    for y_mm, line in ((5.5, who.province), (9.5, who.regency)):
        pen.text(at(CARD_MM[0] / 2 - 6, y_mm), line, font=head, fill=ink, anchor="ms")
    big = _font("DejaVuSans-Bold.ttf", 9)
    pen.text(at(3, 15), "NIK", font=big, fill=ink, anchor="ls")
    pen.text(at(17.5, 15), ":", font=big, fill=ink, anchor="ls")
    pen.text(at(19.5, 15), who.nik, font=big, fill=ink, anchor="ls")
    small = _font("DejaVuSansCondensed.ttf", 5.6)
    value = _font("DejaVuSansCondensed.ttf", 6.0)
    rows = (
        ("Nama", who.name, 3),
        ("Tempat/Tgl Lahir", f"{who.birth_place}, {who.birth_date:%d-%m-%Y}", 3),
        ("Jenis Kelamin", who.sex, 3),
        ("Alamat", who.address, 3),
        ("RT/RW", who.rt_rw, 5),
        ("Kel/Desa", who.kelurahan, 5),
        ("Kecamatan", who.kecamatan, 5),
        ("Agama", who.religion, 3),
        ("Status Perkawinan", who.marital, 3),
        ("Pekerjaan", who.occupation, 3),
        ("Kewarganegaraan", who.nationality, 3),
        ("Berlaku Hingga", "SEUMUR HIDUP", 3),
    )
    for n, (label, text, x_mm) in enumerate(rows):
        y_mm = 19.6 + n * 2.62
        pen.text(at(x_mm, y_mm), label, font=small, fill=ink, anchor="ls")
        pen.text(at(21, y_mm), ":", font=small, fill=ink, anchor="ls")
        pen.text(at(22.5, y_mm), text, font=value, fill=ink, anchor="ls")
        if label == "Jenis Kelamin":
            pen.text(at(40, y_mm), "Gol. Darah", font=small, fill=ink, anchor="ls")
            pen.text(at(51, y_mm), f": {who.blood}", font=value, fill=ink, anchor="ls")
    _photo(card, pen, rng)
    centre = 71.5
    issued = _font("DejaVuSansCondensed.ttf", 5.8)
    pen.text(at(centre, 41.5), who.regency.split(" ", 1)[-1], font=issued, fill=ink, anchor="ms")
    pen.text(at(centre, 44.2), f"{who.issued:%d-%m-%Y}", font=issued, fill=ink, anchor="ms")
    points = [at(66 + i * 1.1, 48 + math.sin(i * 1.7 + seed) * 1.3) for i in range(10)]
    pen.line(points, fill=ink, width=max(1, round(0.25 * MM)))
    return card


def _photo(card: Image.Image, pen: ImageDraw.ImageDraw, rng: random.Random) -> None:
    """The photo box: a red or blue backdrop with a head-and-shoulders silhouette."""
    x0, y0, x1, y1 = (round(v * MM) for v in (62.5, 13.0, 80.5, 37.5))
    w, h = x1 - x0, y1 - y0
    photo = Image.new("RGB", (w, h), rng.choice(((190, 40, 40), (40, 80, 170))))
    draw = ImageDraw.Draw(photo)
    skin = (rng.randint(150, 210), rng.randint(110, 160), rng.randint(80, 120))
    draw.ellipse((w * 0.28, h * 0.14, w * 0.72, h * 0.58), fill=skin)
    draw.ellipse((w * 0.05, h * 0.62, w * 0.95, h * 1.4), fill=(30, 30, 40))
    card.paste(photo, (x0, y0))


@dataclass(frozen=True, slots=True)
class Shot:
    """How one card was taken: scanner or camera, resolution and the defects applied."""

    camera: bool
    dpi: int
    angle: float
    blur: float
    light: float
    quality: int = 60


def shot_for(seed: int) -> Shot:
    rng = random.Random(seed * 104729 + 3)
    return Shot(
        camera=rng.random() < 0.3,
        dpi=rng.randint(150, 300),
        angle=rng.uniform(-5, 5),
        blur=rng.uniform(0.0, 1.0),
        light=rng.uniform(0.0, 0.3),
    )


def harsh_shot_for(seed: int) -> Shot:
    """Worse than the issue asks (100–150 dpi, ±8°, heavy blur, JPEG 45): where guards matter."""
    rng = random.Random(seed * 7 + 11)
    return Shot(
        camera=rng.random() < 0.5,
        dpi=rng.randint(100, 150),
        angle=rng.uniform(-8, 8),
        blur=rng.uniform(0.8, 1.8),
        light=rng.uniform(0.2, 0.45),
        quality=45,
    )


def degrade(card: Image.Image, shot: Shot, seed: int = 0) -> bytes:
    """The card as a scanner or a phone delivers it: a JPEG (quality 60)."""
    rng = random.Random(seed * 31 + 5)
    scale = shot.dpi / DPI
    small = card.resize((round(card.width * scale), round(card.height * scale)), Image.LANCZOS)
    margin = round(12 * shot.dpi / 25.4)
    ground = (236, 236, 232) if not shot.camera else (118, 96, 72)
    page = Image.new("RGB", (small.width + 2 * margin, small.height + 2 * margin), ground)
    if shot.camera:
        noise = np.random.default_rng(seed).normal(0, 9, (page.height, page.width, 1))
        page = Image.fromarray(np.clip(np.asarray(page) + noise, 0, 255).astype(np.uint8))
    page.paste(small, (margin, margin))
    page = page.rotate(shot.angle, resample=Image.BICUBIC, expand=True, fillcolor=ground)
    if shot.camera:
        page = _perspective(page, rng)
    if shot.blur:
        page = page.filter(ImageFilter.GaussianBlur(shot.blur))
    page = _uneven_light(page, shot.light, rng)
    out = io.BytesIO()
    page.save(out, "JPEG", quality=shot.quality)
    return out.getvalue()


def _perspective(page: Image.Image, rng: random.Random) -> Image.Image:
    """A phone held not quite flat: each corner moved by up to 4 % of the side."""
    w, h = page.size
    corners = [(0, 0), (w, 0), (w, h), (0, h)]
    moved = [
        (x + rng.uniform(-0.04, 0.04) * w, y + rng.uniform(-0.04, 0.04) * h) for x, y in corners
    ]
    matrix = []
    for (x, y), (u, v) in zip(corners, moved, strict=True):
        matrix.append([u, v, 1, 0, 0, 0, -x * u, -x * v])
        matrix.append([0, 0, 0, u, v, 1, -y * u, -y * v])
    target = np.array([c for point in corners for c in point], np.float64)
    coeffs = np.linalg.solve(np.array(matrix, np.float64), target)
    return page.transform(
        page.size, Image.PERSPECTIVE, tuple(coeffs), Image.BICUBIC, fillcolor=(118, 96, 72)
    )


def _uneven_light(page: Image.Image, depth: float, rng: random.Random) -> Image.Image:
    """A lamp to one side: brightness falls off by up to ``depth`` across the image."""
    if depth <= 0:
        return page
    h, w = page.height, page.width
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, math.tau)
    ramp = (x / w) * math.cos(angle) + (y / h) * math.sin(angle)
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    factor = 1.0 - depth * ramp
    lit = np.asarray(page, np.float32) * factor[..., None]
    return Image.fromarray(np.clip(lit, 0, 255).astype(np.uint8))


def clean_scan(card: Image.Image, dpi: int = 300) -> bytes:
    """A card scanned flat and sharp at ``dpi`` on a white bed, as a PNG."""
    scale = dpi / DPI
    small = card.resize((round(card.width * scale), round(card.height * scale)), Image.LANCZOS)
    margin = round(10 * dpi / 25.4)
    page = Image.new("RGB", (small.width + 2 * margin, small.height + 2 * margin), (240, 240, 238))
    page.paste(small, (margin, margin))
    return png_of(page)


def png_of(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def sample(seed: int, *, harsh: bool = False) -> tuple[Person, Shot, bytes]:
    """Card number ``seed``: who is on it, how it was taken, and the image bytes."""
    who = person(seed)
    shot = harsh_shot_for(seed) if harsh else shot_for(seed)
    return who, shot, degrade(draw_card(who, seed), shot, seed)


# ICAO Doc 9303's own specimen (Part 4, TD3): its check digits are the standard's.
SPECIMEN_MRZ = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
)
OCR_B = Path("/usr/share/fonts/opentype/ocr-b/OCRB.otf")  # Debian's fonts-ocr-b


def passport_page(mrz: tuple[str, str] = SPECIMEN_MRZ, dpi: int = 300) -> bytes:
    """A passport data page (125 × 88 mm) with its photo, some print and the MRZ, as PNG."""
    mm = dpi / 25.4
    page = Image.new("RGB", (round(125 * mm), round(88 * mm)), (238, 232, 214))
    pen = ImageDraw.Draw(page)
    label = ImageFont.truetype(str(FONT_DIR / "DejaVuSans.ttf"), round(2.2 * mm))
    pen.rectangle(
        (round(5 * mm), round(12 * mm), round(37 * mm), round(52 * mm)), fill=(120, 130, 150)
    )
    for n, text in enumerate(
        ("PASPOR / PASSPORT", "Nama / Name", mrz[0][5:].replace("<", " ").strip())
    ):
        pen.text((round(42 * mm), round((14 + 7 * n) * mm)), text, font=label, fill=(40, 40, 60))
    zone = ImageFont.truetype(str(OCR_B), round(3.6 * mm))
    for n, line in enumerate(mrz):
        pen.text((round(5 * mm), round((70 + 6 * n) * mm)), line, font=zone, fill=(20, 20, 20))
    return png_of(page)
