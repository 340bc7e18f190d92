"""What the clerk calls each input of the API, for messages that never show a field key.

A message about bad input names the field by its label ("Nama wajib diisi.",
"Name is required."); the machine name stays in the error's ``field`` attribute,
where the pages use it to mark the input. Every field and path parameter the
routes declare has a label here (a test walks the route table to keep it so).
"""

from __future__ import annotations

from typing import TypeAlias

from service.i18n import Text, _, _p

Label: TypeAlias = Text  # a message able to open a sentence (Indonesian in the code)

LABELS: dict[str, Label] = {
    # The access form (SOP step 2)
    "name": _("Nama"),
    "company": _("Perusahaan"),
    "doc_type": _("Jenis identitas"),
    "doc_number": _("Nomor identitas"),
    "phone": _("Nomor telepon"),
    "npwp": _("NPWP"),
    "purpose": _("Keperluan"),
    "tender_code": _("Kode tender"),
    "devices": _("Perangkat yang dibawa"),
    "wanted_kind": _("Fasilitas yang diminta"),
    "rules_ack": _("Persetujuan tata tertib"),
    "privacy_ack": _("Persetujuan pemberitahuan data pribadi"),
    "back_entered": _("Tanda data susulan"),
    "arrived_at": _("Waktu kedatangan"),
    "form_started_at": _("Waktu mulai mengisi formulir"),
    "nik": _("NIK"),
    "image": _("Gambar kartu identitas"),
    "scanner": _("Pemindai"),
    # Badges, readers, facilities, visits
    "reader": _p("api.labels:reader", "Pembaca kartu"),
    "uid": _("UID kartu"),
    "label": _("Label kartu"),
    "token": _("Token kartu"),
    "event_id": _("Nomor kejadian tap"),
    "at": _("Waktu tap"),
    "kind": _("Jenis fasilitas"),
    "code": _("Kode fasilitas"),
    "facility": _("Fasilitas"),
    "out_of_service": _("Status layanan fasilitas"),
    "action": _p("api.labels:action", "Tindakan"),
    "devices_checked": _("Hasil pemeriksaan perangkat"),
    "to": _("Penerima dokumen"),
    "reason": _("Alasan"),
    "note": _("Catatan"),
    "visit_id": _("Nomor kunjungan"),
    "id": _("Nomor pada alamat"),
    "state": _("Status"),
    # Help desk
    "category": _("Kategori"),
    "problem": _("Permasalahan"),
    "resolution": _("Penyelesaian"),
    "source": _("Asal permintaan"),
    "all": _("Pilihan tampilkan semua"),
    # Days, breaches, reports, archive
    "day": _("Tanggal"),
    "month": _("Bulan"),
    "step": _("Langkah SOP"),
    "subject": _("Pokok pelanggaran"),
    "text": _("Alasan pelanggaran"),
    "format": _("Format berkas"),
    "book": _("Buku"),
    "dry_run": _("Pilihan uji coba"),
    # Staff and tokens
    "username": _("Nama pengguna"),
    "password": _("Kata sandi"),
    "role": _("Peran"),
    "current_password": _("Kata sandi Anda saat ini"),
    "new_password": _("Kata sandi baru"),
    "readers": _("Pembaca kartu token"),
    "account": _("Akun"),
    "address": _("Alamat komputer"),
    "device": _("Peramban"),
    # --- queuetv ---
    "number": _p("api.labels:number", "Nomor antrian"),
    # --- visits: visit search and the front desk's answer ---
    "doc_digits": _("Angka terakhir nomor identitas"),
    "from_day": _("Tanggal awal"),
    "to_day": _("Tanggal akhir"),
    "page": _("Halaman"),
    "answer": _("Jawaban"),
    # Events and alarms, doors
    "event": _("Jenis kejadian"),
    "seconds": _("Lama pintu terbuka (detik)"),
    # --- forms ---
    "confirm_open_visit": _("Konfirmasi kunjungan yang masih terbuka"),
    # --- dayops ---
    "move_to": _("Pindahkan ke fasilitas"),
    "muster_id": _p("api.labels:muster_id", "Apel evakuasi"),
}

FALLBACK: Label = _("Isian")


def label_of(name: str) -> Label:
    """The label of an input; a generic word, never the key, for one not listed."""
    return LABELS.get(name, FALLBACK)
