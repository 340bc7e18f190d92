"""Bar charts drawn with fpdf2's own primitives (rectangles, lines, text): no matplotlib."""

from __future__ import annotations

from collections.abc import Sequence

from fpdf import FPDF

from service.reports.fonts import MAIN

BAR = (46, 110, 170)
GRID = (200, 200, 200)


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if value <= step:
            return float(step)
    return float(int(value) + 1)


def bar_chart(
    pdf: FPDF,
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    height: float = 45.0,
    unit: str = "",
) -> None:
    """Vertical bars under a title at the current position; moves the cursor below it."""
    x0, width = pdf.l_margin, pdf.w - pdf.l_margin - pdf.r_margin
    if title:
        pdf.set_font(MAIN, "B", 9)
        pdf.cell(0, 6, title, new_x="LMARGIN", new_y="NEXT")
    top = pdf.get_y() + 2
    axis_w, bottom = 12.0, top + height
    top_value = _nice_max(max(values, default=0.0))
    pdf.set_font(MAIN, size=6)
    pdf.set_draw_color(*GRID)
    for frac in (0.0, 0.5, 1.0):
        y = bottom - frac * height
        pdf.line(x0 + axis_w, y, x0 + width, y)
        pdf.set_xy(x0, y - 2)
        pdf.cell(axis_w - 1, 4, f"{top_value * frac:g}{unit}", align="R")
    slot = (width - axis_w) / max(len(values), 1)
    pdf.set_fill_color(*BAR)
    for n, (label, value) in enumerate(zip(labels, values, strict=True)):
        bar_h = height * value / top_value
        x = x0 + axis_w + n * slot + slot * 0.15
        if bar_h > 0:
            pdf.rect(x, bottom - bar_h, slot * 0.7, bar_h, style="F")
        pdf.set_xy(x0 + axis_w + n * slot, bottom + 0.5)
        pdf.cell(slot, 3.5, label, align="C")
    pdf.set_draw_color(0, 0, 0)
    pdf.set_xy(x0, bottom + 5)


def hbar_chart(
    pdf: FPDF, title: str, labels: Sequence[str], values: Sequence[float], *, unit: str = "%"
) -> None:
    """Horizontal bars (one line per label), scaled to 100 for percentages."""
    x0, width = pdf.l_margin, pdf.w - pdf.l_margin - pdf.r_margin
    if title:
        pdf.set_font(MAIN, "B", 9)
        pdf.cell(0, 6, title, new_x="LMARGIN", new_y="NEXT")
    label_w, value_w = 30.0, 16.0
    span = width - label_w - value_w
    top_value = (
        max(100.0, max(values, default=0.0)) if unit == "%" else _nice_max(max(values, default=0.0))
    )
    pdf.set_font(MAIN, size=7)
    pdf.set_fill_color(*BAR)
    for label, value in zip(labels, values, strict=True):
        if pdf.will_page_break(5):
            pdf.add_page()
        y = pdf.get_y()
        pdf.cell(label_w, 4.5, label)
        if value > 0:
            pdf.rect(x0 + label_w, y + 0.8, span * value / top_value, 3, style="F")
        pdf.set_x(x0 + label_w + span)
        pdf.cell(value_w, 4.5, f"{value:g}{unit}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
