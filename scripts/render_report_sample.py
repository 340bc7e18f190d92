"""Render docs/report-sample.png: page 1 of the scenario day's sealed visit report.

Walks the same scenario as the tests through a real Runtime (SQLite in a temp
folder), signs and seals the day, and rasterises page 1 of the sealed visit
report and of the sealed books (as fpdf2 made them, journal head in the footer)
with pypdfium2 (``pip install pypdfium2``; only this script needs it, the tests
do not).

    .venv/bin/python scripts/render_report_sample.py [--out docs/report-sample.png]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from datetime import date
from pathlib import Path

import pypdfium2

from service.reports.archive import sealed_rows
from service.reports.sample import scenario
from service.reports.seal import seal_day

DAY = date(2026, 11, 25)


def rasterise(pdf: bytes, out: Path, scale: float = 1.6) -> None:
    document = pypdfium2.PdfDocument(pdf)
    try:
        document[0].render(scale=scale).to_pil().save(out)
    finally:
        document.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("docs/report-sample.png"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        async with scenario(Path(tmp), DAY) as scene:
            await seal_day(scene.rt, DAY)  # as at sign-off: the footer shows the journal head
            sealed = {
                r.name: bytes(r.content) for r in (await sealed_rows(scene.rt.engine, DAY))[DAY]
            }
    report = sealed[f"{DAY.isoformat()}-laporan-kunjungan.pdf"]
    books = sealed[f"{DAY.isoformat()}-buku-kendali.pdf"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    rasterise(report, args.out)
    rasterise(books, args.out.with_name(args.out.stem + "-books.png"))
    print(f"wrote {args.out} and {args.out.with_name(args.out.stem + '-books.png')}")


if __name__ == "__main__":
    asyncio.run(main())
