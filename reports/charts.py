"""Charts drawn on the server as SVG: no script, no CDN, readable printed in black and white.

Each chart is horizontal bars, one row per item (a week, a department, a procedure), stacked from
one or more series. A series is told apart by its pattern (solid, hatched, dotted), never by colour
alone, and every segment carries its value as text, so a grey photocopy reads the same. The chart
has a <title> and <desc> for screen readers, each bar a <title> of its own, and a bar may link to the
dossiers behind it. Built with ElementTree, so the markup is well-formed XML and every text escaped.

Numbers are written the Vietnamese way: 1.234 and 87,5 %.
"""

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

SVG_NS = "http://www.w3.org/2000/svg"

# Print-safe fills: black, hatched and dotted on white, each with a dark outline.
PATTERNS = ("solid", "hatch", "dots", "cross")
INK = "#1f2933"


# --- numbers the Vietnamese way -----------------------------------------------------------------


def integer(value) -> str:
    """1234567 → "1.234.567"; None → "—"."""
    if value is None:
        return "—"
    return f"{int(value):,}".replace(",", ".")


def decimal(value, places=1) -> str:
    """12.345 → "12,3" (1234.5 → "1.234,5"); None → "—"."""
    if value is None:
        return "—"
    text = f"{value:,.{places}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def percent(share, places=1) -> str:
    """0.875 → "87,5 %"; None (nothing to divide) → "—"."""
    if share is None:
        return "—"
    return f"{decimal(share * 100, places)} %"


# --- the chart ---------------------------------------------------------------------------------------


@dataclass
class Series:
    key: str  # what the segment counts (an indicator key, or "avg_days"…)
    label: str
    pattern: str = "solid"


@dataclass
class Bar:
    label: str
    values: dict  # series key → number (None: no value)
    href: str = ""  # where a click on the bar leads (the dossiers behind it)
    hrefs: dict = field(default_factory=dict)  # series key → link of that segment
    text: str = ""  # the value written after the bar (default: the total)


@dataclass
class Chart:
    ident: str  # unique on the page: the ids of its title and patterns derive from it
    title: str
    description: str
    series: list
    bars: list
    fmt: object = integer  # how a value is written
    maximum: float | None = None  # the scale's end (default: the longest bar)
    empty: str = ""  # shown when there is no bar
    value_width: int = 110  # room after the longest bar for its written value


WIDTH = 760
LABEL_WIDTH = 250
ROW = 26
BAR = 18
TOP = 8
LEGEND = 28


def _el(parent, tag, text=None, **attrs):
    element = ET.SubElement(parent, tag, {k.rstrip("_").replace("_", "-"): str(v) for k, v in attrs.items()})
    if text is not None:
        element.text = str(text)
    return element


def _defs(svg, ident):
    defs = _el(svg, "defs")
    hatch = _el(defs, "pattern", id=f"{ident}-hatch", width=6, height=6, patternUnits="userSpaceOnUse")
    _el(hatch, "rect", width=6, height=6, fill="#ffffff")
    _el(hatch, "path", d="M-1,1 l2,-2 M0,6 l6,-6 M5,7 l2,-2", stroke=INK, stroke_width=1.4)
    dots = _el(defs, "pattern", id=f"{ident}-dots", width=5, height=5, patternUnits="userSpaceOnUse")
    _el(dots, "rect", width=5, height=5, fill="#ffffff")
    _el(dots, "circle", cx=2.5, cy=2.5, r=1.2, fill=INK)
    cross = _el(defs, "pattern", id=f"{ident}-cross", width=6, height=6, patternUnits="userSpaceOnUse")
    _el(cross, "rect", width=6, height=6, fill="#ffffff")
    _el(cross, "path", d="M0,3 h6 M3,0 v6", stroke=INK, stroke_width=1)


def _fill(ident, pattern):
    return "#4a5568" if pattern == "solid" else f"url(#{ident}-{pattern})"


def _short(text, limit=38):
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render(chart: Chart) -> str:
    """The chart as an <svg> element (a string to place in the page as is)."""
    ident = chart.ident
    legend_rows = 1 if len(chart.series) > 1 else 0
    rows = max(len(chart.bars), 1)
    height = TOP + legend_rows * LEGEND + rows * ROW + 8
    svg = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "class": "report-chart",
            "id": ident,
            "viewBox": f"0 0 {WIDTH} {height}",
            "width": str(WIDTH),
            "height": str(height),
            "role": "img",
            "aria-labelledby": f"{ident}-title {ident}-desc",
            "font-family": "sans-serif",
            "font-size": "12",
        },
    )
    _el(svg, "title", chart.title, id=f"{ident}-title")
    _el(svg, "desc", chart.description, id=f"{ident}-desc")
    _defs(svg, ident)

    y = TOP
    if legend_rows:
        x = LABEL_WIDTH
        for series in chart.series:
            item = _el(svg, "g", class_="legend")
            _el(item, "rect", x=x, y=y + 2, width=16, height=12, fill=_fill(ident, series.pattern), stroke=INK)
            _el(item, "text", series.label, x=x + 22, y=y + 12)
            x += 34 + 7 * len(series.label)
        y += LEGEND

    if not chart.bars:
        _el(svg, "text", chart.empty, x=LABEL_WIDTH, y=y + 14)
        return ET.tostring(svg, encoding="unicode")

    totals = [sum(v for v in bar.values.values() if v) for bar in chart.bars]
    scale_end = chart.maximum or max(totals) or 1
    span = WIDTH - LABEL_WIDTH - chart.value_width
    for bar, total in zip(chart.bars, totals, strict=True):
        row = _el(svg, "g", class_="bar", data_label=bar.label)
        summary = "; ".join(
            f"{s.label}: {chart.fmt(bar.values.get(s.key))}" for s in chart.series if s.key in bar.values
        )
        _el(row, "title", f"{bar.label} — {summary}")
        _el(row, "text", _short(bar.label), x=LABEL_WIDTH - 8, y=y + 13, text_anchor="end")
        x = float(LABEL_WIDTH)
        for series in chart.series:
            value = bar.values.get(series.key)
            if not value:
                continue
            width = span * value / scale_end
            target = row
            href = bar.hrefs.get(series.key) or bar.href
            if href:
                target = _el(row, "a", href=href)
            _el(
                target,
                "rect",
                x=f"{x:.1f}",
                y=y,
                width=f"{max(width, 1):.1f}",
                height=BAR,
                fill=_fill(ident, series.pattern),
                stroke=INK,
                stroke_width=0.8,
                data_series=series.key,
                data_value=value,
            )
            if width >= 34 and len(chart.series) > 1:  # the segment's own value, on a white tag to read on hatching
                tag = chart.fmt(value)
                cx = x + width / 2
                _el(target, "rect", x=f"{cx - 4 * len(tag) - 3:.1f}", y=y + 3, width=8 * len(tag) + 6, height=12,
                    fill="#ffffff")  # fmt: skip
                _el(target, "text", tag, x=f"{cx:.1f}", y=y + 13, text_anchor="middle", class_="segment-value")
            x += width
        _el(row, "text", bar.text or chart.fmt(total), x=f"{x + 6:.1f}", y=y + 13, class_="bar-value",
            font_weight="bold")  # fmt: skip
        y += ROW
    return ET.tostring(svg, encoding="unicode")
