"""Reading a KTP (or a passport) through the API: fields, the NIK's check, refusals, privacy.

Synthetic cards from :mod:`tests.support.ktp_cards` go through
``POST /api/v1/identity/scan`` on the real application. The accuracy checked here is
small on purpose (five clean cards); ``tests/bench/bench_ktp.py`` measures it on
degraded ones. Tesseract with the Indonesian model must be installed: in CI these
tests fail without it, elsewhere they skip with the reason.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import random
import tempfile
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from PIL import Image

from service.i18n import render
from service.scan import engine
from tests.conftest import need_service
from tests.support.hostile import snapshot
from tests.support.ktp_cards import (
    OCR_B,
    SPECIMEN_MRZ,
    clean_scan,
    draw_card,
    make_nik,
    passport_page,
    person,
    png_of,
    sample,
)
from tests.support.site import Site, running_site, site_config

SCAN = "/api/v1/identity/scan"


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    reason = engine.unavailable_reason()
    need_service(reason is None, f"Tesseract OCR ({render(reason, 'en') if reason else ''})")
    async with running_site(site_config(tmp_path)) as running:
        yield running


async def post_image(
    site: Site, data: bytes, kind: str | None = "image/png", query: str = ""
) -> tuple[int, Any]:
    fo = site["fo"]
    headers = {"X-CSRF-Token": fo.csrf}
    if kind:
        headers["Content-Type"] = kind
    response = await fo.client.post(SCAN + query, data=data, headers=headers)
    return response.status, await response.json()


async def test_five_clean_cards_are_read_exactly(site: Site) -> None:
    for seed in range(5):
        who = person(seed)
        status, body = await post_image(site, clean_scan(draw_card(who, seed)))
        assert status == 200, body
        fields = {k: v["value"] for k, v in body["fields"].items()}
        assert body["document"] == "ktp"
        assert fields["nik"] == who.nik
        assert fields["name"] == who.name
        assert fields["birth_date"] == who.birth_date.isoformat()
        assert fields["birth_place"] == who.birth_place
        assert fields["sex"] == who.sex
        assert fields["religion"] == who.religion
        assert fields["marital_status"] == who.marital
        assert fields["kecamatan"] == who.kecamatan
        assert fields["nationality"] == "WNI"
        check = body["nik_check"]
        assert check["valid"] and check["trusted"], check
        assert check["birth_date_agrees"] is True and check["sex_agrees"] is True
        assert check["masked"] == who.nik[:4] + "*" * 10 + who.nik[-2:]
        assert not body["fields"]["nik"]["low"]
        assert all(0.0 <= v["confidence"] <= 1.0 for v in body["fields"].values())


async def test_a_phone_photo_as_jpeg_and_a_multipart_upload(site: Site) -> None:
    who, _, jpeg = sample(3)
    status, body = await post_image(site, jpeg, "image/jpeg")
    assert status == 200, body
    assert body["fields"]["nik"]["value"] == who.nik
    form = FormData()
    form.add_field("image", jpeg, filename="ktp.jpg", content_type="image/jpeg")
    fo = site["fo"]
    response = await fo.client.post(SCAN, data=form, headers={"X-CSRF-Token": fo.csrf})
    assert response.status == 200
    assert (await response.json())["fields"]["name"]["value"] == who.name
    assert response.headers["Cache-Control"] == "no-store"


async def test_a_picture_without_a_ktp_is_refused_plainly(site: Site) -> None:
    blank = png_of(Image.new("RGB", (1200, 800), (250, 250, 250)))
    status, body = await post_image(site, blank)
    assert status == 422
    assert body["message"] == "KTP tidak terbaca; coba pindai ulang."
    status, body = await post_image(site, blank, query="?lang=en")
    assert body["message"] == "The KTP could not be read; try scanning it again."
    assert "fields" not in body


async def test_a_nik_that_disagrees_with_the_printed_birth_date_is_flagged(site: Site) -> None:
    who = person(11)
    other = make_nik(random.Random(1), who.nik[:4], date(1990, 2, 3), who.female)
    forged = dataclasses.replace(who, nik=other)
    status, body = await post_image(site, clean_scan(draw_card(forged, 11)))
    assert status == 200, body
    check = body["nik_check"]
    assert check["valid"] is True and check["trusted"] is False
    assert check["birth_date_agrees"] is False
    assert check["summary_en"].startswith("The birth date in the NIK differs")
    assert body["fields"]["nik"]["low"] is True


async def test_a_nik_that_fails_the_check_is_flagged_with_its_reason(site: Site) -> None:
    who = person(12)
    bad = "9999" + who.nik[4:]  # no regency has code 99-99
    status, body = await post_image(site, clean_scan(draw_card(dataclasses.replace(who, nik=bad))))
    assert status == 200, body
    check = body["nik_check"]
    assert check["valid"] is False and check["trusted"] is False
    assert check["fault"] == "region"
    assert check["message"].startswith("Kode wilayah NIK")
    assert body["fields"]["nik"]["low"] is True


async def test_a_passport_is_read_by_its_machine_readable_zone(site: Site) -> None:
    need_service(OCR_B.exists(), f"the OCR-B font {OCR_B} (apt-get install fonts-ocr-b)")
    status, body = await post_image(site, passport_page(SPECIMEN_MRZ))
    assert status == 200, body
    assert body["document"] == "passport" and body["doc_type"] == "passport"
    fields = {k: v["value"] for k, v in body["fields"].items()}
    assert fields["doc_number"] == "L898902C3"
    assert fields["birth_date"] == "1974-08-12"
    assert fields["sex"] == "PEREMPUAN"
    assert body["mrz_check"]["valid"] is True
    assert body["fields"]["name"]["low"] is True  # no check digit covers the name
    assert "ERIKSSON" in fields["name"]


async def test_bodies_that_are_not_an_image(site: Site) -> None:
    fo = site["fo"]
    response = await fo.client.post(SCAN, json={"x": 1}, headers={"X-CSRF-Token": fo.csrf})
    assert response.status == 415
    assert (await response.json())["message"].startswith("Kirim gambar JPEG atau PNG")
    status, body = await post_image(site, b"")
    assert (status, body["field"]) == (422, "image")
    status, body = await post_image(site, b"\x89PNG\r\n\x1a\nnot really")
    assert (status, body["field"]) == (422, "image")
    status, body = await post_image(site, b"\0" * (17 * 2**20))
    assert status == 413
    huge = png_of(Image.new("1", (8000, 6000)))  # 48 MP in a few KiB of PNG
    status, body = await post_image(site, huge)
    assert (status, body["message_en"]) == (422, "The image is too large; scan at 300 dpi.")
    form = FormData()
    form.add_field("note", "no file here", content_type="text/plain")  # multipart, no file
    fo = site["fo"]
    response = await fo.client.post(SCAN, data=form, headers={"X-CSRF-Token": fo.csrf})
    assert response.status == 422 and (await response.json())["field"] == "image"


async def test_the_image_is_kept_nowhere(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """No file in the temp folder or the site's folder, no row, nothing in any log line."""
    caplog.set_level(logging.DEBUG)
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    site_files = {p: p.stat().st_size for p in tmp_path.rglob("*") if p.is_file()}
    before = await snapshot(site)
    who, _, jpeg = sample(8)
    status, body = await post_image(site, jpeg, "image/jpeg")
    assert status == 200 and body["fields"]["nik"]["value"] == who.nik
    assert list(temp.iterdir()) == []
    after = {p for p in tmp_path.rglob("*") if p.is_file()}
    new = sorted(str(p) for p in after - set(site_files) if not p.name.startswith("bidroom.db"))
    assert new == []
    assert await snapshot(site) == before
    text = caplog.text
    for secret in (
        who.nik,
        who.name,
        who.nik[:12],
        who.address,
        who.birth_date.strftime("%d-%m-%Y"),
    ):
        assert secret not in text
    assert "identity scan: ktp read" in text


async def test_the_answer_says_why_in_english_too(site: Site) -> None:
    fo = site["fo"]
    response = await fo.client.get("/api/v1/scanners?lang=en")
    body = await response.json()
    assert body["ocr"] == {
        "available": True,
        "reason": None,
        "reason_id": None,
        "reason_en": None,
    }
    assert isinstance(body["scanners"], list)


def test_the_generator_draws_a_card_the_size_of_a_ktp() -> None:
    card = draw_card(person(0))
    assert card.size == (2022, 1276)  # 85.6 × 54 mm at 600 dpi
    assert Image.open(io.BytesIO(clean_scan(card, 150))).size[0] < 700
