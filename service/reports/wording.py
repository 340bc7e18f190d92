"""Words, dates and times as the office writes them: Indonesian first, English second.

``Rabu, 25 November 2026`` and ``14.05 WIB``; no locale database needed.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from service.i18n import Text, _, _p, render

DAYS = {
    "id": ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
MONTHS = {
    "id": (
        "Januari", "Februari", "Maret", "April", "Mei", "Juni",
        "Juli", "Agustus", "September", "Oktober", "November", "Desember",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}  # fmt: skip
ZONE_NAMES = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA"}
ZONE_NAMES["Asia/Jayapura"] = "WIT"

WORDS: dict[str, Text] = {
    "access_book": _("BUKU KENDALI AKSES RUANG BIDDING ROOM"),
    "usage_book": _("BUKU KENDALI PENGGUNAAN FASILITAS LPSE"),
    "visit_report": _("LAPORAN KUNJUNGAN"),
    "no": _("No"),
    "date": _("Tanggal"),
    "visitor": _("Nama Pengunjung"),
    "company": _("Perusahaan"),
    "document": _("Jenis & No. Identitas"),
    "slot": _("Laci"),
    "badge": _("Kartu"),
    "arrival": _p("reports.wording:arrival", "Datang"),
    "entry": _("Jam Masuk"),
    "exit": _("Jam Keluar"),
    "returned": _("Kartu Kembali"),
    "doc_back": _("Identitas Kembali"),
    "doc_to": _("Identitas Diterima oleh"),
    "doc_back_detail": _("jam, kepada"),
    "to": _("kpd."),
    "officer": _("Petugas FO"),
    "purpose": _("Keperluan / Kode Tender"),
    "remarks": _p("reports.wording:remarks", "Keterangan"),
    "paraf_visitor": _("Paraf Pengunjung"),
    "paraf_officer": _("Paraf Petugas"),
    "recorded": _("Dicatat dari"),
    "rec.tap": _("tap meja"),
    "rec.staff": _("petugas"),
    "rec.return": _("penyerahan s.d. kembali"),
    "help_book": _("PERMINTAAN BANTUAN (PERMASALAHAN) DAN PENYELESAIANNYA"),
    "opened": _("Jam Lapor"),
    "problem": _("Permasalahan"),
    "solution": _("Penyelesaian"),
    "resolved_by": _("Petugas Helpdesk"),
    "resolved_at": _("Jam Selesai"),
    "help.open": _("belum selesai"),
    "help.claimed": _("sedang ditangani"),
    "help.cancelled": _("dibatalkan"),
    "to_visitor": _("ybs."),
    "withheld": _("teks di catatan bantuan"),
    "total_visits": _("Jumlah kunjungan"),
    "total_sessions": _("Jumlah penggunaan fasilitas"),
    "total_help": _("Jumlah permintaan bantuan"),
    "signoff": _("PENGESAHAN ELEKTRONIK"),
    "signed_by": _p("reports.wording:signed_by", "Disahkan oleh"),
    "signed_at": _("Waktu pengesahan"),
    "site": _("Instansi"),
    "amendments": _("AMANDEMEN: YANG TERJADI SETELAH HARI DISAHKAN"),
    "amend_at": _("Waktu kejadian"),
    "amend_what": _("Perubahan"),
    "amend_records": _p("reports.wording:amend_records", "Catatan"),
    "amend_by": _("Oleh"),
    "amend_signed": _("Disahkan"),
    "fact.visit.returned": _("kartu dikembalikan, kunjungan ditutup"),
    "fact.visit.force_closed": _("kunjungan ditutup paksa"),
    "fact.document.returned": _("identitas dikembalikan"),
    "fact.visit.registered": _("formulir susulan"),
    "fact.tap.decided": _("tap terlambat / sesudah pengesahan"),
    "fact.door.exited": _("keluar ruangan"),
    "fact.door.entered": _("masuk ruangan"),
    "fact.usage.ended": _("penggunaan fasilitas selesai"),
    "fact.facility.left": _("fasilitas dilepas"),
    "fact.help.resolved": _("permintaan bantuan diselesaikan"),
    "fact.help.cancelled": _("permintaan bantuan dibatalkan"),
    "fact.queue.cancelled": _("nomor antrian dibatalkan"),
    "facility": _("Fasilitas"),
    "start": _("Mulai"),
    "end": _p("reports.wording:end", "Selesai"),
    "duration": _("Durasi (menit)"),
    "help": _("Permintaan Bantuan"),
    "period": _("Periode"),
    "page": _("Halaman"),
    "journal_head": _("Kepala jurnal"),
    "head_title": _("Kepala LPSE"),
    "known": _("Mengetahui,"),
    "nip": _("NIP"),
    "generated": _p("reports.wording:generated", "Dibuat"),
    "summary": _("Ringkasan"),
    "visits": _p("reports.wording:visits", "Kunjungan"),
    "companies": _p("reports.wording:companies", "Perusahaan"),
    "packages": _("Paket tender dilayani"),
    "occupancy": _("Jumlah orang di ruang per jam"),
    "per_day": _("Kunjungan per hari"),
    "utilisation": _("Pemakaian fasilitas (% jam layanan)"),
    "waits": _("Waktu tunggu antrian (menit)"),
    "median": _("Median"),
    "longest": _("Terlama"),
    "no_shows": _("Tidak hadir"),
    "tickets": _p("reports.wording:tickets", "Nomor antrian"),
    "help_by_category": _("Permintaan bantuan per kategori"),
    "category": _("Kategori"),
    "count": _("Jumlah"),
    "resolution": _("Penyelesaian (menit)"),
    "compliance": _("Kepatuhan standar waktu layanan SOP"),
    "step": _("Langkah"),
    "measured": _("Diukur"),
    "within": _("Sesuai standar"),
    "standard": _("Standar"),
    "breaches": _("Penyimpangan dan alasannya"),
    "subject": _("Subjek"),
    "justification": _p("reports.wording:justification", "Alasan"),
    "not_returned": _("Kartu / identitas belum kembali"),
    "none": _("Tidak ada."),
    "badge_out": _("kartu belum kembali"),
    "doc_held": _("identitas masih dititipkan"),
    "forced": _("ditutup paksa"),
    "back_entered": _("dicatat belakangan"),
    "queue": _("antrian"),
    "tailgating": _("memakai fasilitas tanpa tercatat masuk"),
    "exit_without_entry": _("keluar tanpa catatan masuk"),
    "ongoing": _("masih berjalan"),
    "minutes": _p("reports.wording:minutes", "menit"),
}


def word(key: str, lang: str = "id") -> str:
    return render(WORDS.get(key, key), lang)


def zone_name(tz: ZoneInfo) -> str:
    return ZONE_NAMES.get(tz.key, tz.key)


def long_date(day: date, lang: str = "id") -> str:
    """``Rabu, 25 November 2026``."""
    names = DAYS["en" if lang == "en" else "id"]
    months = MONTHS["en" if lang == "en" else "id"]
    return f"{names[day.weekday()]}, {day.day} {months[day.month - 1]} {day.year}"


def month_name(day: date, lang: str = "id") -> str:
    return f"{MONTHS['en' if lang == 'en' else 'id'][day.month - 1]} {day.year}"


def clock_time(at: datetime | None, tz: ZoneInfo, lang: str = "id", *, zone: bool = True) -> str:
    """``14.05 WIB`` (Indonesian style) or ``14:05 WIB``; empty for no time."""
    if at is None:
        return ""
    local = at.astimezone(tz)
    sep = ":" if lang == "en" else "."
    text = f"{local.hour:02d}{sep}{local.minute:02d}"
    return f"{text} {zone_name(tz)}" if zone else text


def short_date(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"
