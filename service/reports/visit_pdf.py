"""The visit report (Laporan Kunjungan) as an A4 PDF: figures, charts, compliance, signature."""

from __future__ import annotations

from service.reports.charts import bar_chart, hbar_chart
from service.reports.fonts import MAIN
from service.reports.layout import Layout
from service.reports.pdf import SIGNATURE_H, ReportPDF, signature, table
from service.reports.visit_report import VisitReport
from service.reports.wording import clock_time, short_date


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _section(pdf: ReportPDF, title: str, room: float = 30.0) -> None:
    if pdf.will_page_break(room):
        pdf.add_page()
    pdf.ln(2)
    pdf.set_font(MAIN, "B", 10)
    pdf.cell(0, 6, title, new_x="LMARGIN", new_y="NEXT")


def _summary(pdf: ReportPDF, report: VisitReport) -> None:
    w = pdf.layout.w
    rows = [
        [w("visits"), str(report.visits)],
        [w("companies"), str(report.companies)],
        [w("packages"), f"{len(report.packages)}: {', '.join(report.packages)}"],
        [w("tickets"), str(report.tickets)],
        [f"{w('waits')} - {w('median')}", _num(report.wait_median_min)],
        [f"{w('waits')} - {w('longest')}", _num(report.wait_longest_min)],
        [w("no_shows"), str(report.no_shows)],
    ]
    table(pdf, [w("summary"), w("count")], (70, 120), rows, size=8, wrap_last=True)


def _charts(pdf: ReportPDF, report: VisitReport) -> None:
    w = pdf.layout.w
    if report.monthly:
        _section(pdf, w("per_day"))
        bar_chart(pdf, "", [str(d.day) for d, _ in report.per_day], [n for _, n in report.per_day])
    _section(pdf, w("occupancy"))
    bar_chart(pdf, "", [f"{h:02d}" for h, _ in report.occupancy], [v for _, v in report.occupancy])
    _section(pdf, w("utilisation"))
    hbar_chart(pdf, "", [c for c, _ in report.utilisation], [v for _, v in report.utilisation])
    _section(pdf, w("waits"))
    bar_chart(
        pdf, "", [b for b, _ in report.wait_buckets], [n for _, n in report.wait_buckets], height=30
    )


def _help_and_compliance(pdf: ReportPDF, report: VisitReport) -> None:
    w = pdf.layout.w
    _section(pdf, w("help_by_category"))
    rows = [
        [h.label, str(h.count), str(h.resolved), _num(h.median_min), _num(h.longest_min)]
        for h in report.help
    ]
    heads = [w("category"), w("count"), "OK", f"{w('median')}", f"{w('longest')}"]
    table(pdf, heads, (70, 25, 25, 35, 35), rows or [[w("none"), "", "", "", ""]], size=8)
    _section(pdf, w("compliance"), 40)
    rows = [
        [
            f"{c.step}. {c.label}",
            str(c.measured),
            str(c.within),
            f"{100 * c.within / c.measured:.0f}%" if c.measured else "-",
            f"{c.standard_min:g} {w('minutes')}",
        ]
        for c in report.compliance
    ]
    heads = [w("step"), w("measured"), w("within"), "%", w("standard")]
    table(pdf, heads, (80, 25, 30, 20, 35), rows, size=8)


def _breaches(pdf: ReportPDF, report: VisitReport) -> None:
    layout = pdf.layout
    w = layout.w
    _section(pdf, w("breaches"))
    rows = [
        [
            short_date(b.day),
            b.step,
            b.label,
            clock_time(b.started, layout.tz, layout.lang),
            f"{b.minutes:g}" + (f" ({w('ongoing')})" if b.ongoing else ""),
            f"{b.justification} - {b.by}" if b.justification else "-",
        ]
        for b in report.breaches
    ]
    heads = [w("date"), w("step"), w("subject"), w("start"), w("minutes"), w("justification")]
    if not rows:
        rows = [["", "", w("none"), "", "", ""]]
    table(pdf, heads, (18, 12, 50, 20, 22, 68), rows, size=7, wrap_last=True)
    _section(pdf, w("not_returned"))
    items = [[str(v), who, what] for v, who, what in report.not_returned]
    rows = items or [["", w("none"), ""]]
    # The signature follows: it keeps the last rows with it, never alone on a page.
    table(pdf, ["#", w("visitor"), ""], (15, 110, 65), rows, size=8, keep_with_end=SIGNATURE_H)


def visit_report_pdf(report: VisitReport, layout: Layout) -> bytes:
    pdf = ReportPDF(layout, layout.w("visit_report"))
    pdf.add_page()
    _summary(pdf, report)
    _charts(pdf, report)
    _help_and_compliance(pdf, report)
    _breaches(pdf, report)
    signature(pdf)
    return bytes(pdf.output())
