"""The office scanner through SANE, against SANE's own ``test`` backend (sane-utils).

``SANE_CONFIG_DIR`` points SANE at a ``dll.conf`` that loads only the ``test``
backend (Debian ships it commented out), so ``scanimage`` here is the real program
with a real backend that nobody here wrote: it lists ``test:0`` and ``test:1`` and
scans its test picture. In CI these tests fail when ``scanimage`` is missing.
"""

from __future__ import annotations

import io
import logging
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image

from service.scan import engine, scanners
from tests.conftest import need_service
from tests.support.site import Site, running_site, site_config


@pytest.fixture
def sane_test_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    need_service(
        shutil.which("scanimage") is not None, "SANE's scanimage (apt-get install sane-utils)"
    )
    config = tmp_path / "sane.d"
    config.mkdir()
    (config / "dll.conf").write_text("test\n", encoding="utf-8")
    monkeypatch.setenv("SANE_CONFIG_DIR", str(config))
    monkeypatch.setattr(scanners, "_cache", None)


@pytest.fixture
async def site(tmp_path: Path, sane_test_backend: None) -> AsyncIterator[Site]:
    async with running_site(site_config(tmp_path)) as running:
        yield running


async def test_the_test_backend_is_listed(site: Site) -> None:
    body = await site["fo"].call("GET", "/api/v1/scanners")
    names = [s["name"] for s in body["scanners"]]
    assert "test:0" in names
    assert body["sane"]["available"] is True
    assert body["scanners"][0]["model"] == "frontend-tester"


async def test_a_scan_arrives_in_memory_at_300_dpi(sane_test_backend: None) -> None:
    png = await scanners.scan("test:0")
    picture = Image.open(io.BytesIO(png))
    # The test backend's default area is 80 × 100 mm: at 300 dpi, 945 × 1181 pixels.
    assert picture.format == "PNG" and picture.mode == "RGB"
    assert abs(picture.width - 80 / 25.4 * 300) <= 2
    assert abs(picture.height - 100 / 25.4 * 300) <= 2


async def test_scanning_through_the_api_reads_what_the_scanner_gave(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    """The test picture holds no card: the clerk is told to scan again, nothing is guessed."""
    need_service(engine.unavailable_reason() is None, "Tesseract OCR with the Indonesian model")
    caplog.set_level(logging.INFO)
    said = await site["fo"].call("POST", "/api/v1/identity/scan?scanner=test:0", expect=422)
    assert said["message"] == "KTP tidak terbaca; coba pindai ulang."
    assert "scanner test:0:" in caplog.text
    assert "identity scan: no readable document" in caplog.text


async def test_an_unknown_scanner_is_refused(site: Site) -> None:
    said = await site["fo"].call("POST", "/api/v1/identity/scan?scanner=epson2:net:x", expect=404)
    assert said["field"] == "scanner"
    assert said["message"] == "Pemindai tidak dikenal; pilih dari daftar."


async def test_without_scanimage_the_answer_says_why(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scanners.shutil, "which", lambda _name: None)
    body = await site["fo"].call("GET", "/api/v1/scanners")
    assert body["sane"]["available"] is False
    assert "sane-utils" in body["sane"]["reason"]
    assert body["scanners"] == []
