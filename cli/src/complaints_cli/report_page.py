"""The report's page: headline tiles and the charts in one HTML document with inline CSS."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from complaints_cli.report import ReportData
from complaints_cli.report_charts import Chart, charts
from complaints_cli.svg import esc, pct
from contracts import Kind


def tiles(data: ReportData) -> list[tuple[str, str]]:
    """The headline figures: label and value."""
    return [
        ("received", f"{data.received:,}"),
        ("complaints", f"{data.complaints:,}"),
        ("enquiries", f"{data.kinds.get(Kind.ENQUIRY.value, 0):,}"),
        ("duplicates", f"{data.duplicates:,}"),
        ("open cases", f"{data.open_cases:,} of {data.cases:,}"),
        ("timely-handling rate", pct(data.timely_rate)),
        ("breaches", f"{data.breaches:,}"),
    ]


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC",sans-serif;margin:24px;
color:#1e272e;background:#f5f6fa}
h1{font-size:22px;margin:0 0 4px}
.meta{color:#57606f;margin:0 0 16px;font-size:13px}
.tiles{display:flex;flex-wrap:wrap;gap:10px;margin-bottom:16px}
.tile{background:#fff;border-radius:6px;padding:10px 14px;min-width:110px;
box-shadow:0 1px 2px #0002}
.tile b{display:block;font-size:20px}
.tile span{font-size:12px;color:#57606f}
figure{background:#fff;border-radius:6px;padding:12px 16px;margin:0 0 16px;
box-shadow:0 1px 2px #0002;max-width:800px}
figcaption{font-size:12px;color:#57606f;margin-top:6px}
h2{font-size:16px;margin:0 0 8px}
svg text{font-size:12px;fill:#1e272e}
svg .axis{font-size:10px;fill:#57606f}
svg .value{font-variant-numeric:tabular-nums}
svg .empty{fill:#a4b0be}
svg .track{fill:#f1f2f6}
svg .grid{stroke:#dfe4ea;stroke-width:1}
svg .axis-line{stroke:#a4b0be;stroke-width:1}
.legend{font-size:12px;margin:4px 0 0;padding:0;list-style:none;display:flex;flex-wrap:wrap;
gap:12px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
"""


def _figure(chart: Chart) -> str:
    legend = ""
    if chart.legend:
        items = "".join(
            f'<li><i style="background:{colour}"></i>{esc(name)}</li>'
            for name, colour in chart.legend
        )
        legend = f'<ul class="legend">{items}</ul>'
    return (
        f'<figure id="{chart.key}" data-chart="{chart.key}"><h2>{esc(chart.title)}</h2>'
        f"{chart.svg}{legend}<figcaption>{esc(chart.caption)}</figcaption></figure>"
    )


def render(data: ReportData) -> str:
    """The whole page: one HTML document with inline CSS and SVG, nothing fetched."""
    zone = ZoneInfo(data.timezone)
    stamp = data.generated_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
    source = f" · database {data.database}" if data.database else ""
    tile_html = "".join(
        f'<div class="tile"><b>{esc(value)}</b><span>{esc(name)}</span></div>'
        for name, value in tiles(data)
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Complaints pipeline report {esc(stamp)}</title><style>{CSS}</style></head><body>"
        f'<h1>Complaints pipeline report</h1><p class="meta">{esc(stamp)}{esc(source)}</p>'
        f'<section class="tiles">{tile_html}</section>'
        + "".join(_figure(chart) for chart in charts(data))
        + "</body></html>\n"
    )
