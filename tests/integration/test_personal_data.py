"""After a full SOP walk, a known NIK, phone and NPWP stand nowhere in clear.

The database file, its WAL, every log line (at every level) and the auditor's
bundle of the signed day are searched byte for byte. Names and help-desk texts
are personal too: the tables keep them for the front office (retention erases
them), but the hash-chained journal holds them only as ciphertext.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from service.reports.bundle import export_day
from tests.support.site import KTP_A, KTP_B, KTP_C, START, running_site, site_config

PHONE = "0812 3456 7890"
PHONE_DIGITS = "81234567890"
NPWP = "01.312.166.0-091.000"
NPWP_DIGITS = "013121660091000"
SECRETS = [KTP_A, KTP_B, KTP_C, PHONE_DIGITS, NPWP_DIGITS]
IN_JOURNAL_ONLY_SEALED = ["Siti Aminah", "Budi Santoso", "Gagal unggah berkas penawaran"]


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def leaks(blobs: dict[str, bytes], secrets: list[str]) -> list[tuple[str, str]]:
    found = []
    for name, data in blobs.items():
        for secret in secrets:
            for form in (secret.encode(), secret.encode("utf-16-le")):
                if form in data:
                    found.append((name, secret))
    return found


async def test_no_personal_number_in_clear_anywhere(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    db_folder = tmp_path / "site"
    db_folder.mkdir()
    async with running_site(site_config(db_folder)) as site:
        fo, hd, head = site["fo"], site["hd"], site["head"]
        form = {"company": "PT A", "doc_type": "ktp", "wanted_kind": "pc", "rules_ack": True,
                "privacy_ack": True}  # fmt: skip
        siti = await fo.call(
            "POST", "/api/v1/visits",
            {**form, "name": "Siti Aminah", "doc_number": KTP_A, "phone": PHONE, "npwp": NPWP},
            201,
        )  # fmt: skip
        budi = await fo.call(
            "POST", "/api/v1/visits",
            {**form, "name": "Budi Santoso", "doc_number": KTP_B, "npwp": KTP_C},  # NPWP = NIK
            201,
        )  # fmt: skip
        assert budi["id"] and siti["deposit"]["doc_masked"] == "1571**********01"
        for badge, visit in ((1, siti), (2, budi)):
            await fo.call("POST", f"/api/v1/visits/{visit['id']}/arm-badge",
                          {"reader": "front-office"})  # fmt: skip
            await fo.tap("front-office", badge)
            await fo.tap("pintu-masuk", badge)
        found = await fo.call(
            "POST", "/api/v1/visitors/lookup", {"doc_type": "ktp", "doc_number": KTP_A}
        )
        assert found["npwp"] == NPWP_DIGITS and found["phone"].endswith(PHONE_DIGITS)
        req = await fo.call("POST", "/api/v1/help", {"visit_id": siti["id"], "category": "upload",
                            "problem": "Gagal unggah berkas penawaran"}, 201)  # fmt: skip
        await hd.call("POST", f"/api/v1/help/{req['id']}/resolve", {"resolution": "Diperkecil"})
        for badge, visit in ((1, siti), (2, budi)):
            await fo.tap("pintu-keluar", badge)
            await fo.tap("front-office", badge)
            await fo.call("POST", f"/api/v1/visits/{visit['id']}/document-return", {"to": ""})
        site.clock.now = START.replace(hour=9, minute=5)
        await fo.call("POST", "/api/v1/days/2026-11-25/close", {})
        day = await head.call("GET", "/api/v1/days/2026-11-25")
        for b in day["breaches"]:
            await head.call("POST", "/api/v1/breaches/justify", {"day": "2026-11-25",
                            "step": b["step"], "subject": b["subject"], "text": "antrean"})  # fmt: skip
        await head.call("POST", "/api/v1/days/2026-11-25/sign")
        export = await fo.call("POST", "/api/v1/privacy/export",
                               {"nik": KTP_A, "doc_type": "ktp"}, expect=403)  # fmt: skip
        assert export["error"] == "forbidden"
        rt = site.runtime
        import asyncio

        for _ in range(1000):  # the seal is written beside the daemon (Unicode fonts: ~1 s)
            if (db_folder / "bidroom.db-wal").exists() and await _sealed(rt):
                break
            await asyncio.sleep(0.02)
        wal = files_of(db_folder)
        async with rt.engine.connect() as conn:
            payloads = [
                r[0] for r in (await conn.exec_driver_sql("select payload from journal")).all()
            ]
        bundle = tmp_path / "bundle"
        await export_day(rt.engine, START.date(), bundle, rt.policy.tz, "LPSE")
    after = files_of(db_folder)
    assert leaks(wal, SECRETS) == []
    assert leaks(after, SECRETS) == []
    assert leaks(files_of(bundle), SECRETS) == []
    logs = {"log": caplog.text.encode()}
    assert leaks(logs, SECRETS) == []
    journal = {"journal": "\n".join(payloads).encode()}
    assert leaks(journal, SECRETS + IN_JOURNAL_ONLY_SEALED) == []
    assert leaks(files_of(bundle), IN_JOURNAL_ONLY_SEALED[2:]) == []


async def _sealed(rt: object) -> bool:
    from service.reports.archive import list_sealed

    return bool(await list_sealed(rt.engine, START.date()))  # type: ignore[attr-defined]
