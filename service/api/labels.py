"""What the clerk calls each input of the API, for messages that never show a field key.

A message about bad input names the field by its label ("Nama wajib diisi.",
"Name is required."); the machine name stays in the error's ``field`` attribute,
where the pages use it to mark the input. Every field and path parameter the
routes declare has a label here (a test walks the route table to keep it so).
"""

from __future__ import annotations

from typing import TypeAlias

from service.i18n import Text

Label: TypeAlias = Text  # a message able to open a sentence (Indonesian in the code)

LABELS: dict[str, Label] = {
    # The access form (SOP step 2)
    "name": ("Nama", "Name"),
    "company": ("Perusahaan", "Company"),
    "doc_type": ("Jenis identitas", "Document type"),
    "doc_number": ("Nomor identitas", "Document number"),
    "phone": ("Nomor telepon", "Phone number"),
    "npwp": ("NPWP", "Tax number (NPWP)"),
    "purpose": ("Keperluan", "Purpose"),
    "tender_code": ("Kode tender", "Tender code"),
    "devices": ("Perangkat yang dibawa", "Devices brought in"),
    "wanted_kind": ("Fasilitas yang diminta", "Facility wanted"),
    "rules_ack": ("Persetujuan tata tertib", "Acknowledgement of the house rules"),
    "privacy_ack": (
        "Persetujuan pemberitahuan data pribadi",
        "Acknowledgement of the personal-data notice",
    ),
    "back_entered": ("Tanda data susulan", "Back-entry mark"),
    "arrived_at": ("Waktu kedatangan", "Arrival time"),
    "form_started_at": ("Waktu mulai mengisi formulir", "Time the form was started"),
    "nik": ("NIK", "NIK"),
    "image": ("Gambar kartu identitas", "Image of the identity document"),
    "scanner": ("Pemindai", "Scanner"),
    # Badges, readers, facilities, visits
    "reader": ("Pembaca kartu", "Card reader"),
    "uid": ("UID kartu", "Badge UID"),
    "label": ("Label kartu", "Badge label"),
    "token": ("Token kartu", "Badge token"),
    "event_id": ("Nomor kejadian tap", "Tap event number"),
    "at": ("Waktu tap", "Tap time"),
    "kind": ("Jenis fasilitas", "Facility kind"),
    "code": ("Kode fasilitas", "Facility code"),
    "facility": ("Fasilitas", "Facility"),
    "out_of_service": ("Status layanan fasilitas", "Out-of-service setting"),
    "action": ("Tindakan", "Action"),
    "devices_checked": ("Hasil pemeriksaan perangkat", "Device check"),
    "to": ("Penerima dokumen", "Person receiving the document"),
    "reason": ("Alasan", "Reason"),
    "note": ("Catatan", "Note"),
    "visit_id": ("Nomor kunjungan", "Visit number"),
    "id": ("Nomor pada alamat", "The number in the address"),
    "state": ("Status", "State"),
    # Help desk
    "category": ("Kategori", "Category"),
    "problem": ("Permasalahan", "Problem"),
    "resolution": ("Penyelesaian", "Resolution"),
    "source": ("Asal permintaan", "Source of the request"),
    "all": ("Pilihan tampilkan semua", "Show-all choice"),
    # Days, breaches, reports, archive
    "day": ("Tanggal", "Date"),
    "month": ("Bulan", "Month"),
    "step": ("Langkah SOP", "SOP step"),
    "subject": ("Pokok pelanggaran", "Subject of the breach"),
    "text": ("Alasan pelanggaran", "Justification"),
    "format": ("Format berkas", "File format"),
    "book": ("Buku", "Book"),
    "dry_run": ("Pilihan uji coba", "Dry-run choice"),
    # Staff and tokens
    "username": ("Nama pengguna", "Username"),
    "password": ("Kata sandi", "Password"),
    "role": ("Peran", "Role"),
    "current_password": ("Kata sandi Anda saat ini", "Your current password"),
    "new_password": ("Kata sandi baru", "New password"),
    "readers": ("Pembaca kartu token", "Readers of the token"),
    "account": ("Akun", "Account"),
    "address": ("Alamat komputer", "Computer address"),
    "device": ("Peramban", "Browser"),
    # --- queuetv ---
    "number": ("Nomor antrian", "Queue number"),
    # --- visits: visit search and the front desk's answer ---
    "doc_digits": ("Angka terakhir nomor identitas", "Last digits of the document number"),
    "from_day": ("Tanggal awal", "First day"),
    "to_day": ("Tanggal akhir", "Last day"),
    "page": ("Halaman", "Page"),
    "answer": ("Jawaban", "Answer"),
    # Events and alarms, doors
    "event": ("Jenis kejadian", "Kind of event"),
    "seconds": ("Lama pintu terbuka (detik)", "Seconds the door stays open"),
    # --- forms ---
    "confirm_open_visit": (
        "Konfirmasi kunjungan yang masih terbuka",
        "Confirmation of the visit still open",
    ),
    # --- dayops ---
    "move_to": ("Pindahkan ke fasilitas", "Move to facility"),
    "muster_id": ("Apel evakuasi", "Muster"),
}

FALLBACK: Label = ("Isian", "A field")


def label_of(name: str) -> Label:
    """The label of an input; a generic word, never the key, for one not listed."""
    return LABELS.get(name, FALLBACK)
