"""Words, dates and times as the office writes them: Indonesian first, English second.

``Rabu, 25 November 2026`` and ``14.05 WIB``; no locale database needed.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from service.i18n import Text, render

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
    "access_book": ("BUKU KENDALI AKSES RUANG BIDDING ROOM", "BIDDING ROOM ACCESS CONTROL BOOK"),
    "usage_book": ("BUKU KENDALI PENGGUNAAN FASILITAS LPSE", "LPSE FACILITY USAGE CONTROL BOOK"),
    "visit_report": ("LAPORAN KUNJUNGAN", "VISIT REPORT"),
    "no": ("No", "No"),
    "date": ("Tanggal", "Date"),
    "visitor": ("Nama Pengunjung", "Visitor"),
    "company": ("Perusahaan", "Company"),
    "document": ("Jenis & No. Identitas", "ID document (type, masked no.)"),
    "slot": ("Laci", "Slot"),
    "badge": ("Kartu", "Badge"),
    "arrival": ("Datang", "Arrival"),
    "entry": ("Jam Masuk", "Time in"),
    "exit": ("Jam Keluar", "Time out"),
    "returned": ("Kartu Kembali", "Badge back"),
    "doc_back": ("Identitas Kembali", "Document returned"),
    "doc_to": ("Identitas Diterima oleh", "Document taken by"),
    "doc_back_detail": ("jam, kepada", "time, to whom"),
    "to": ("kpd.", "to"),
    "officer": ("Petugas FO", "FO officer"),
    "purpose": ("Keperluan / Kode Tender", "Purpose / tender code"),
    "remarks": ("Keterangan", "Remarks"),
    "paraf_visitor": ("Paraf Pengunjung", "Visitor's initials"),
    "paraf_officer": ("Paraf Petugas", "Officer's initials"),
    "recorded": ("Dicatat dari", "Timed by"),
    "rec.tap": ("tap meja", "desk tap"),
    "rec.staff": ("petugas", "staff"),
    "rec.return": ("penyerahan s.d. kembali", "handover to return"),
    "help_book": (
        "PERMINTAAN BANTUAN (PERMASALAHAN) DAN PENYELESAIANNYA",
        "HELP REQUESTS (PROBLEMS) AND THEIR RESOLUTION",
    ),
    "opened": ("Jam Lapor", "Reported"),
    "problem": ("Permasalahan", "Problem"),
    "solution": ("Penyelesaian", "Resolution"),
    "resolved_by": ("Petugas Helpdesk", "Help-desk officer"),
    "resolved_at": ("Jam Selesai", "Resolved"),
    "help.open": ("belum selesai", "still open"),
    "help.claimed": ("sedang ditangani", "being handled"),
    "help.cancelled": ("dibatalkan", "cancelled"),
    "to_visitor": ("ybs.", "the visitor"),
    "withheld": ("teks di catatan bantuan", "text kept with help request"),
    "total_visits": ("Jumlah kunjungan", "Visits in this book"),
    "total_sessions": ("Jumlah penggunaan fasilitas", "Facility sessions in this book"),
    "total_help": ("Jumlah permintaan bantuan", "Help requests in this book"),
    "signoff": ("PENGESAHAN ELEKTRONIK", "ELECTRONIC SIGN-OFF"),
    "signed_by": ("Disahkan oleh", "Signed by"),
    "signed_at": ("Waktu pengesahan", "Signed at"),
    "site": ("Instansi", "Site"),
    "amendments": (
        "AMANDEMEN: YANG TERJADI SETELAH HARI DISAHKAN",
        "AMENDMENTS: WHAT HAPPENED AFTER THE DAY WAS SIGNED",
    ),
    "amend_at": ("Waktu kejadian", "When"),
    "amend_what": ("Perubahan", "Change"),
    "amend_records": ("Catatan", "Records"),
    "amend_by": ("Oleh", "By"),
    "amend_signed": ("Disahkan", "Signed"),
    "fact.visit.returned": (
        "kartu dikembalikan, kunjungan ditutup",
        "badge returned, visit closed",
    ),
    "fact.visit.force_closed": ("kunjungan ditutup paksa", "visit force-closed"),
    "fact.document.returned": ("identitas dikembalikan", "document returned"),
    "fact.visit.registered": ("formulir susulan", "back-entered form"),
    "fact.tap.decided": ("tap terlambat / sesudah pengesahan", "late tap / after sign-off"),
    "fact.door.exited": ("keluar ruangan", "left the room"),
    "fact.door.entered": ("masuk ruangan", "entered the room"),
    "fact.usage.ended": ("penggunaan fasilitas selesai", "facility use ended"),
    "fact.facility.left": ("fasilitas dilepas", "facility released"),
    "fact.help.resolved": ("permintaan bantuan diselesaikan", "help request resolved"),
    "fact.help.cancelled": ("permintaan bantuan dibatalkan", "help request cancelled"),
    "fact.queue.cancelled": ("nomor antrian dibatalkan", "queue number cancelled"),
    "facility": ("Fasilitas", "Facility"),
    "start": ("Mulai", "Start"),
    "end": ("Selesai", "End"),
    "duration": ("Durasi (menit)", "Duration (min)"),
    "help": ("Permintaan Bantuan", "Help requests"),
    "period": ("Periode", "Period"),
    "page": ("Halaman", "Page"),
    "journal_head": ("Kepala jurnal", "Journal head"),
    "head_title": ("Kepala LPSE", "Head of LPSE"),
    "known": ("Mengetahui,", "Acknowledged,"),
    "nip": ("NIP", "NIP"),
    "generated": ("Dibuat", "Generated"),
    "summary": ("Ringkasan", "Summary"),
    "visits": ("Kunjungan", "Visits"),
    "companies": ("Perusahaan", "Companies"),
    "packages": ("Paket tender dilayani", "Tender packages served"),
    "occupancy": ("Jumlah orang di ruang per jam", "People in the room per hour"),
    "per_day": ("Kunjungan per hari", "Visits per day"),
    "utilisation": ("Pemakaian fasilitas (% jam layanan)", "Facility utilisation (% of hours)"),
    "waits": ("Waktu tunggu antrian (menit)", "Queue waits (minutes)"),
    "median": ("Median", "Median"),
    "longest": ("Terlama", "Longest"),
    "no_shows": ("Tidak hadir", "No-shows"),
    "tickets": ("Nomor antrian", "Tickets"),
    "help_by_category": ("Permintaan bantuan per kategori", "Help requests by category"),
    "category": ("Kategori", "Category"),
    "count": ("Jumlah", "Count"),
    "resolution": ("Penyelesaian (menit)", "Resolution (min)"),
    "compliance": ("Kepatuhan standar waktu layanan SOP", "SOP service-standard compliance"),
    "step": ("Langkah", "Step"),
    "measured": ("Diukur", "Measured"),
    "within": ("Sesuai standar", "Within standard"),
    "standard": ("Standar", "Standard"),
    "breaches": ("Penyimpangan dan alasannya", "Breaches and their justification"),
    "subject": ("Subjek", "Subject"),
    "justification": ("Alasan", "Justification"),
    "not_returned": ("Kartu / identitas belum kembali", "Badges / documents not returned"),
    "none": ("Tidak ada.", "None."),
    "badge_out": ("kartu belum kembali", "badge not returned"),
    "doc_held": ("identitas masih dititipkan", "document still held"),
    "forced": ("ditutup paksa", "force-closed"),
    "back_entered": ("dicatat belakangan", "entered afterwards"),
    "queue": ("antrian", "queue"),
    "tailgating": ("memakai fasilitas tanpa tercatat masuk", "desk use without door entry"),
    "exit_without_entry": ("keluar tanpa catatan masuk", "exit without entry"),
    "ongoing": ("masih berjalan", "still running"),
    "minutes": ("menit", "minutes"),
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
