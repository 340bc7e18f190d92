"""What each page's script needs to know up front: its strings and the site's shape.

Strings used by the scripts are listed here in Indonesian and translated with the
same catalogue as the templates. Texts of the domain (reasons, anomalies, steps,
help categories) come from ``service.domain`` so the pages never reword them.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from service.api.app import CONFIG, RUNTIME
from service.auth import ROLE_LABELS, Principal, Role
from service.domain.anomalies import ANOMALY_TEXT
from service.domain.badges import STATE_TEXT as BADGE_STATE_TEXT
from service.domain.helpdesk import CATEGORIES
from service.domain.identity import DOCUMENT_LABELS
from service.domain.standards import STEP_NAMES
from service.domain.taps import REASON_TEXT
from service.i18n import render
from web import i18n

DEMO = web.AppKey("web_demo", bool)

# key -> Indonesian source string (translated through messages.po)
JS_STRINGS: dict[str, str] = {
    "connected": "Tersambung",
    "disconnected": "Terputus — menyambung ulang…",
    "free": "Kosong",
    "in_use": "Dipakai",
    "assigned": "Ditetapkan",
    "reserved": "Dipesan untuk nomor",
    "turnover": "Jeda pergantian",
    "out_of_service": "Tidak berfungsi",
    "since": "sejak",
    "until": "hingga",
    "call_next": "Panggil berikutnya",
    "skip": "Lewati",
    "waiting": "Menunggu",
    "called": "Dipanggil",
    "none": "Tidak ada",
    "online": "Aktif",
    "offline": "Mati",
    "minutes": "menit",
    "seconds": "detik",
    "justify": "Simpan alasan",
    "justification": "Alasan penyimpangan",
    "saved": "Tersimpan",
    "claim": "Ambil",
    "resolve": "Selesaikan",
    "claimed_by": "Ditangani oleh",
    "open": "Terbuka",
    "claimed": "Ditangani",
    "resolved": "Terselesaikan",
    "cancelled": "Dibatalkan",
    "tap_badge": "Tempelkan kartu pada pembaca front office",
    "badge_bound": "Tanda pengenal khusus",
    "queued_number": "No. antrian",
    "facility": "Fasilitas",
    "slot": "Slot",
    "hand_back": "Serahkan kartu identitas",
    "handed_back": "Kartu identitas sudah diserahkan",
    "checkout": "Kartu kembali (tutup kunjungan)",
    "devices_checked": "Perangkat sudah diperiksa",
    "no_devices": "Tidak membawa perangkat",
    "nik_ok": "NIK valid",
    "returning": "Pengunjung lama — data diisi dari kunjungan sebelumnya",
    "granted": "Diizinkan",
    "denied": "Ditolak",
    "error": "Terjadi kesalahan",
    "age": "umur",
    "inside": "di dalam",
    "entered": "masuk",
    "closed_day": "Hari sudah ditutup",
    "signed_day": "Hari sudah disahkan",
    "amendment_pending": "Menunggu pengesahan Kepala LPSE",
    "fact_visit.returned": "kartu dikembalikan, kunjungan ditutup",
    "fact_visit.force_closed": "kunjungan ditutup paksa",
    "fact_document.returned": "identitas dikembalikan",
    "fact_visit.registered": "formulir susulan",
    "fact_tap.decided": "tap terlambat / sesudah pengesahan",
    "fact_door.exited": "keluar ruangan",
    "fact_door.entered": "masuk ruangan",
    "fact_usage.ended": "penggunaan fasilitas selesai",
    "fact_facility.left": "fasilitas dilepas",
    "fact_badge.returned": "kartu kembali ke persediaan",
    "fact_help.resolved": "permintaan bantuan diselesaikan",
    "fact_queue.cancelled": "nomor antrian dibatalkan",
    "open_day": "Hari masih terbuka",
    "remove": "Hapus",
    "visits_today": "Kunjungan hari ini",
    "badges_in_use": "Kartu dipakai",
    "books": "Buku Kendali Akses dan Penggunaan Fasilitas",
    "visit_report": "Laporan Kunjungan",
    "sealed": "Arsip tersegel saat pengesahan",
    "problem": "Permasalahan",
    "resolution": "Penyelesaian",
    "open_visits": "Kunjungan belum selesai",
    "badges_out": "Kartu belum kembali",
    "documents_held": "Kartu identitas masih dititipkan",
    "open_help": "Bantuan belum selesai",
    "closed_by": "Ditutup oleh",
    "signed_by": "Disahkan oleh",
    "device_kind": "Jenis perangkat",
    "serial": "Nomor seri",
    "priority": "Prioritas",
    "waiting_doc": "Menunggu diserahkan",
    "state_registered": "Terdaftar",
    "state_queued": "Antri",
    "state_admitted": "Dipersilakan masuk",
    "state_closed": "Selesai",
    "select": "Pilih",
    "people": "orang",
    "no_number": "Belum ada nomor dipanggil",
    # Reading the identity card into the access form (scan.js)
    "scan_mark": "dari pindaian — periksa",
    "scan_low": "kurang jelas, periksa dengan kartu",
    "scanning": "Memindai… tunggu sampai pemindai berhenti.",
    "reading": "Membaca kartu…",
    "scan_filled": "Isian diisi dari kartu; periksa dengan kartu lalu simpan formulir",
    "scan_other": "Data lain dari kartu (untuk diperiksa, tidak disimpan)",
    "camera_none": "Kamera tidak dapat dipakai di sini: peramban hanya mengizinkan kamera lewat HTTPS atau localhost",
    "camera_denied": "Kamera tidak dapat dibuka: izin ditolak atau tidak ada kamera",
    "scanner_off": "Pindai KTP tidak tersedia",
    "nik_trusted": "NIK cocok dengan tanggal lahir dan jenis kelamin yang tercetak.",
    "mrz_ok": "Zona baca mesin paspor lolos semua digit pemeriksa.",
    "mrz_bad": "Digit pemeriksa paspor tidak cocok; periksa nomor dan tanggal dengan paspor.",
    "f_birth_place": "Tempat lahir",
    "f_birth_date": "Tanggal lahir",
    "f_sex": "Jenis kelamin",
    "f_blood_type": "Golongan darah",
    "f_address": "Alamat",
    "f_rt_rw": "RT/RW",
    "f_kelurahan": "Kelurahan/Desa",
    "f_kecamatan": "Kecamatan",
    "f_religion": "Agama",
    "f_marital_status": "Status perkawinan",
    "f_occupation": "Pekerjaan",
    "f_nationality": "Kewarganegaraan",
    "f_valid_until": "Berlaku hingga",
    "f_province": "Provinsi",
    "f_regency": "Kabupaten/kota",
    "f_issuing_state": "Negara penerbit",
    "f_expiry": "Berlaku sampai",
    # --- queuetv ---
    "speech_off": "Suara panggilan tidak tersedia; layar hanya membunyikan lonceng.",
    # --- visits: the visit's page, visit search, the front desk's question ---
    "desk_asked": "Kartu pengunjung lain ditempelkan — kembalikan kunjungan ini?",
    "desk_return": "Kembalikan (tutup kunjungan)",
    "desk_ignore": "Abaikan",
    "desk_serving": "Sedang melayani",
    "desk_returned": "Kunjungan ditutup",
    "desk_ignored": "Tap diabaikan; kunjungan tetap terbuka",
    "no_results": "Tidak ada kunjungan yang cocok",
    "state": "Status",
    "day": "Tanggal",
    "document": "Identitas",
    "tender_code": "Kode tender",
    "purpose": "Keperluan",
    "officer": "Petugas front office",
    "ev_registered": "Formulir akses dicatat, identitas dititipkan",
    "ev_badge_issued": "Tanda pengenal khusus diberikan",
    "ev_badge_returned": "Tanda pengenal khusus dikembalikan",
    "ev_facility_assigned": "Fasilitas ditetapkan",
    "ev_ticket_issued": "Nomor antrian diberikan",
    "ev_ticket_called": "Nomor antrian dipanggil",
    "ev_usage_started": "Penggunaan fasilitas dimulai",
    "ev_usage_ended": "Penggunaan fasilitas selesai",
    "ev_tap": "Tap kartu",
    "ev_help_opened": "Permintaan bantuan",
    "ev_help_resolved": "Bantuan diselesaikan",
    "ev_closed": "Kunjungan ditutup",
    "ev_document_returned": "Kartu identitas diserahkan",
    "ev_amended": "Perubahan sesudah pengesahan",
    "ev_back_entered": "data susulan",
    "ev_by_tap": "dengan tap",
    "ev_by_staff": "oleh petugas",
    "ev_forced": "ditutup paksa",
    # --- events ---
    "network_down": "Tidak tersambung ke server bidroom. Periksa jaringan, lalu coba lagi.",
    "door_ev_granted": "Tap diizinkan",
    "door_ev_denied": "Tap ditolak",
    "door_ev_forced_open": "Pintu dibuka paksa",
    "door_ev_held_open": "Pintu terbuka terlalu lama",
    "door_ev_tamper": "Pembaca kartu dibongkar (tamper)",
    "door_ev_power_fail": "Listrik pembaca kartu padam",
    "door_ev_offline": "Pembaca kartu terputus",
    "door_ev_online": "Pembaca kartu tersambung kembali",
    "door_ev_closed": "Pintu tertutup",
    "door_ev_unlocked": "Pintu dibuka manual (buka pintu)",
    "door_ev_acknowledged": "Alarm ditangani",
    "door_closed": "Tertutup",
    "door_open": "Terbuka sebentar",
    "door_forced": "Dibuka paksa",
    "door_held": "Terbuka terlalu lama",
    "door_offline": "Pembaca terputus",
    "alarms_title": "Alarm belum ditangani",
    "alarm_note": "Catatan penanganan",
    "alarm_ack": "Tandai ditangani",
    "sound_on": "Nyalakan bunyi alarm",
    "last": "terakhir",
    "badge": "Kartu",
    "reason": "Alasan",
    "cancel": "Batal",
    "events_count": "kejadian",
    "no_events": "Belum ada kejadian pada hari ini untuk pilihan ini.",
    "unlock": "Buka pintu",
    "unlock_reason": "Alasan membuka pintu",
    "unlocked_ok": "Pintu dibuka",
    "cannot_unlock": "Pintu ini tidak dapat dibuka dari sini sekarang",
    "no_doors": "Tidak ada pintu berpembaca kartu dalam konfigurasi.",
    # --- admin --- the badges page (badges.js) and the staff and devices page (admin.js)
    "act_lost": "Laporkan hilang",
    "act_found": "Ditemukan",
    "act_retire": "Tidak dipakai lagi",
    "enrol_waiting": "Mode daftar aktif: tempelkan kartu baru pada",
    "enrol_off": "Mode daftar tidak aktif",
    "label": "label",
    "proposed": "usulan label berikutnya",
    "enrolled": "Kartu baru terdaftar",
    "active": "Akun aktif",
    "disabled": "Akun nonaktif",
    "disable": "Nonaktifkan",
    "enable": "Aktifkan",
    "edit": "Ubah",
    "revoke": "Cabut",
    "revoked": "Dicabut",
    "in_force": "Berlaku",
    "any_reader": "semua pembaca",
    "sessions_ended": "sesi diakhiri",
    "staff_added": "Akun ditambahkan",
    "password_reset": "Kata sandi diganti",
    "role_changed": "Peran diganti",
    "token_revoked": "Token dicabut",
    "copied": "Tersalin",
    "copy_failed": "Tidak dapat menyalin; pilih teks token lalu salin",
    "confirm_revoke": "Cabut token ini? Perangkat yang memakainya langsung ditolak.",
    "confirm_disable": "Nonaktifkan akun ini? Semua sesinya langsung berakhir.",
    "cancelled_btn": "Batal",
    "last_used": "terakhir dipakai",
    "never_used": "belum pernah dipakai",
    # --- forms ---
    "network_error": (
        "Tidak tersambung ke server; periksa jaringan lalu tekan tombolnya lagi "
        "(data tidak akan tercatat dua kali)."
    ),
    # --- dayops ---
    "unjustified_breaches": "Penyimpangan belum diberi alasan",
    "close_early": "Ruangan belum tutup (jam tutup {time}): alasan menutup lebih awal wajib diisi.",
    "close_reason": "Alasan menutup lebih awal (wajib)",
    "close_note": "Catatan (boleh kosong)",
    "from_door": "Pintu",
    "from_desk": "Meja",
    "no_door_entry": "tanpa catatan masuk pintu",
    "mark_safe": "Tandai aman",
    "safe": "Aman",
    "left_room": "sudah keluar",
    "muster_running": "Apel evakuasi berjalan sejak {time} (oleh {by})",
    "muster_ended": "Apel evakuasi terakhir: {start}–{end}",
    "muster_counts": "Aman: {marked} · Belum: {unmarked}",
    "end_muster": "Selesaikan apel",
    "start_muster": "Mulai apel evakuasi",
    "move_q": "Pindahkan {name} ke {to}, lalu nonaktifkan {code}?",
    "move": "Pindahkan",
}


def role_label(role: Role, lang: str) -> str:
    return render(ROLE_LABELS.get(role, role.value), lang)


def _site(request: web.Request) -> dict[str, Any]:
    config = request.app[CONFIG]
    facilities = request.app[RUNTIME].state.facilities.values()
    return {
        "facilities": [f.code for f in sorted(facilities, key=lambda f: (f.kind, f.code))],
        "readers": [
            {"name": r.name, "role": r.role.value, "facility": r.facility} for r in config.readers
        ],
        "kinds": [{"kind": k.kind, "label": k.label} for k in config.facilities],
    }


def _demo_badges(request: web.Request) -> list[dict[str, str]]:
    runtime = request.app[RUNTIME]
    badges = sorted(runtime.state.badges.values(), key=lambda b: b.label)
    return [{"label": b.label, "uid": b.uid} for b in badges]


def page_data(request: web.Request, lang: str, who: Principal | None) -> dict[str, Any]:
    gettext = i18n.translations(lang).gettext
    runtime = request.app[RUNTIME]
    today = runtime.policy.day_of(runtime.clock()).isoformat()
    data: dict[str, Any] = {
        "lang": lang,
        "today": today,
        "role": who.role.value if who else None,
        "strings": {key: gettext(text) for key, text in JS_STRINGS.items()},
        "reasons": {r.value: render(t, lang) for r, t in REASON_TEXT.items()},
        "anomalies": {k: render(t, lang) for k, t in ANOMALY_TEXT.items()},
        "steps": {k: render(t, lang) for k, t in STEP_NAMES.items()},
        "categories": {k: render(t, lang) for k, t in CATEGORIES.items()},
        "documents": {d.value: render(t, lang) for d, t in DOCUMENT_LABELS.items()},
        "badge_states": {s.value: render(t, lang) for s, t in BADGE_STATE_TEXT.items()},
        "roles": {r.value: render(t, lang) for r, t in ROLE_LABELS.items()},
    }
    if who is not None:
        data.update(_site(request))
        if request.app.get(DEMO):
            data["demo_badges"] = _demo_badges(request)
    return data
