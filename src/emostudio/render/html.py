"""The one stylesheet and the shared HTML pieces: escaping, notices, boxes, tables, bars, strips, legends.

Every HTML fragment Emotion Studio draws (the web UI's cards and charts, report.html, the trend page) is built
from these pieces and styled by `CSS` (class names, no inline CSS except data-driven widths and the palette's
colours). Nothing here runs scripts or loads anything: Gradio does not run scripts in HTML components, and the
standalone pages work offline under `default-src 'none'`.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import datetime, tzinfo

from emostudio.messages import t
from emostudio.model.labels import KEYS, colour, emotion_name

VERDICT_ICON = {"ok": "✅", "warn": "⚠️", "bad": "❌", "info": "ℹ️"}

CSS = """
#result-card .emo, #history-card .emo, .take-card .emo {font-size: 3.2rem; line-height: 1.1}
#result-card .name, #history-card .name, .take-card .name {font-size: 1.6rem; font-weight: 600}
.warn {color: #b45309}
.muted {color: #6b7280; font-size: 0.9em}
.bad {color: #b91c1c; font-weight: 600; padding: 0.4em 0}
.said-ok {color: #166534; padding: 0.4em 0}
.emo-table {border-collapse: collapse; width: 100%}
.emo-table td, .emo-table th {padding: 3px 8px; text-align: left; vertical-align: top; border-bottom: 1px solid #e5e7eb}
.emo-bars {display: flex; flex-direction: column; gap: 4px; width: 100%}
.bar-row {display: grid; grid-template-columns: minmax(5.5em, 9.5em) minmax(40px, 1fr) 3.6em; gap: 8px;
  align-items: center}
.bar-label {white-space: nowrap; overflow: hidden; text-overflow: ellipsis}
.bar-track {background: #f3f4f6; border-radius: 3px; height: 16px; position: relative}
.bar-fill {display: block; height: 100%; border-radius: 3px}
.bar-fill.b {opacity: 0.55}
.bar-pair {display: flex; flex-direction: column; gap: 2px}
.emo-bars.pairs .bar-row {grid-template-columns: minmax(5.5em, 9.5em) minmax(40px, 1fr) 6.5em}
.bar-value {text-align: right; font-variant-numeric: tabular-nums}
.tl-controls {display: flex; flex-wrap: wrap; gap: 4px 12px; margin: 4px 0}
.tl-controls label {white-space: nowrap; cursor: pointer}
.tl-controls input {margin-right: 3px}
.tl-toggle {display: none}
.tl-plot {position: relative; padding-left: 2.6em}
.tl-svg {width: 100%; height: 200px; display: block; border-left: 1px solid #d1d5db; border-bottom: 1px solid #d1d5db}
.tl-y {position: absolute; left: 0; top: 0; height: 200px; display: flex; flex-direction: column;
  justify-content: space-between; font-size: 0.75em; color: #6b7280}
.tl-x {display: flex; justify-content: space-between; padding-left: 2.6em; font-size: 0.8em; color: #6b7280}
.tl-unit {text-align: center}
.tl-strip {margin: 4px 0 6px 0}
.table-wrap {overflow-x: auto; max-width: 100%}
#header {flex-wrap: wrap}
#header > div:first-child {min-width: 240px; flex: 1 1 240px}
@media (max-width: 600px) { #header h2 {font-size: 1.25rem} }
#header h2 {word-break: keep-all; overflow-wrap: normal}
.es-hidden {display: none !important}
/* every main tab stays reachable on a phone: Gradio moves tabs that do not fit into a "•••" menu, measuring
   them in a hidden copy of the tab bar; measured as zero wide they all stay in the bar, which wraps instead */
.tab-container.visually-hidden button {font-size: 0 !important; padding: 0 !important; min-width: 0 !important;
  width: 0 !important; border: 0 !important; margin: 0 !important}
.tab-wrapper {height: auto !important}
.tab-container[role=tablist] {flex-wrap: wrap; height: auto !important; row-gap: 2px}
body.es-switching #lang {opacity: 0.55; cursor: progress}
body.es-switching #lang::after {content: "…"; position: absolute; right: 8px; top: 4px; font-size: 1.4rem}
.strip {display: flex; width: 100%; height: 18px; border-radius: 3px; overflow: hidden}
.strip span {display: block; height: 100%}
.legend {display: flex; flex-wrap: wrap; gap: 2px 12px; font-size: 0.9em}
.legend i, i.swatch {display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px}
i.swatch.hatch {background: repeating-linear-gradient(45deg, #374151 0 2px, #fff 2px 4px); border: 1px solid #9ca3af}
.speaker-card .emo {font-size: 2.4rem; line-height: 1.1}
.speaker-card .name {font-size: 1.3rem; font-weight: 600}
.speaker-card .strip {height: 10px; margin-top: 4px}
.speaker-note {color: #6b7280}
.takes {display: grid; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); gap: 12px}
.adapted-card {border: 1px solid #c7d2fe; background: #eef2ff; border-radius: 8px; padding: 6px 12px; margin-bottom: 8px}
.adapted-card .name {font-size: 1.4rem; font-weight: 600}
.take-card {border: 1px solid #e5e7eb; border-radius: 8px; padding: 8px 12px}
.verdict {font-weight: 600; margin: 8px 0}
.box {padding: .4em .7em; margin: .3em 0; border: 1px solid}
.box.pass {background: #e3f4e1; border-color: #5cb85c}
.box.warn {background: #fff4d6; border-color: #e6c25a; color: inherit}
.box.fail {background: #fde2e1; border-color: #d9534f}
.alert-text {margin-top: .5rem; color: #57534e}
.alert-text.alert {color: #b91c1c}
.alert-text.ok {color: #166534}
.live-card {display: inline-block; min-width: 180px; margin: 4px; padding: 8px 12px; border-radius: 8px;
  border-left: 6px solid #999; background: #f8fafc}
.live-card .emo {font-size: 2.4rem}
.live-label {font-size: 1.3rem; font-weight: 600}
/* the lanes' SVG scales with its box (viewBox 900 wide): 15 units read ~11 px in a 660 px column; on a phone
   it keeps 640 px and scrolls sideways, so its text never shrinks below ~10.5 px */
.lane-svg {font: 15px system-ui, sans-serif; background: #fff; display: block}
.lane-scroll {overflow-x: auto; max-width: 100%}
@media (max-width: 600px) { .lane-svg {min-width: 640px} }
.lane-svg .axis {fill: #64748b}
.lane-svg .scale {fill: #94a3b8}
""" + "".join(
    f"#tl-{p}-{k}:not(:checked) ~ .tl-plot .line-{k} {{display: none}}\n"
    f"#tl-{p}-{k}:not(:checked) ~ .tl-controls label[for=tl-{p}-{k}] {{opacity: 0.35; text-decoration: line-through}}\n"
    for p in ("an", "hi")
    for k in KEYS
)

# standalone pages (report.html, the trend page): the page itself, then the fragments' classes
PAGE_CSS = (
    """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;
max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table.page-table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
.page-table th,.page-table td{border:1px solid #ddd;padding:.25em .6em;text-align:right}.page-table th{background:#f4f4f4}
.page-table td:first-child,.page-table th:first-child{text-align:left}
.meta{color:#555;font-size:.9em}.charts{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}
.charts img{max-width:100%;border:1px solid #eee}img{max-width:100%}.small{font-size:.85em;color:#555}
code{font-size:.9em}
"""
    + CSS
)


def local_time(iso: str | None, tz: tzinfo | None = None) -> str:
    """A stored ISO 8601 time (`2026-12-03T11:20:44+00:00`) as the server's local time with its zone said:
    `2026-12-03 19:20:44 (UTC+08:00)`; `tz` overrides the server's zone; unreadable text as it is."""
    try:
        when = datetime.fromisoformat(str(iso)).astimezone(tz)
    except ValueError:
        return str(iso or "")
    offset = when.strftime("%z")
    return f"{when:%Y-%m-%d %H:%M:%S} (UTC{offset[:3]}:{offset[3:]})"


def esc(value: object) -> str:
    """Text as HTML (quotes too, so it is safe inside attributes)."""
    return html.escape(str(value), quote=True)


def attr(name: str, value: object | None) -> str:
    """` name="value"` (escaped), or "" when value is None."""
    return "" if value is None else f' {name}="{esc(value)}"'


def notice(text: str, kind: str = "warn", elem_id: str | None = None, icon: str = "⚠ ") -> str:
    """A one-line note: kind "warn" (amber text), "bad" (red: a user's mistake) or "muted"; `text` is escaped."""
    return f'<div class="{kind}"{attr("id", elem_id)}>{icon}{esc(text)}</div>'


def box(inner_html: str, kind: str, elem_id: str | None = None) -> str:
    """A framed block: kind "pass" (green), "warn" (amber) or "fail" (red); `inner_html` is HTML."""
    return f'<div class="box {kind}"{attr("id", elem_id)}>{inner_html}</div>'


def random_weights_note(lang: str, elem_id: str | None = None) -> str:
    """The one warning that the model has random weights (its scores mean nothing)."""
    return notice(t("random_note", lang), "warn", elem_id)


def table(
    head: Sequence[str] | None,
    rows: Iterable[Sequence[object]],
    cls: str = "emo-table",
    row_attrs: Sequence[str] | None = None,
) -> str:
    """A table of HTML cells (callers escape text with `esc`); `head` None for no header row."""
    th = "<tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>" if head is not None else ""
    body = []
    for i, row in enumerate(rows):
        extra = row_attrs[i] if row_attrs else ""
        body.append(f"<tr{extra}>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>")
    return f'<table class="{cls}">{th}{"".join(body)}</table>'


def bar_row(key: str, label: str, percent: float, value: str | None = None) -> str:
    """One horizontal bar: label left, value right (`percent` 0–100 sets the width; the palette the colour)."""
    shown = f"{percent:.1f}%" if value is None else value
    return (
        f'<div class="bar-row" data-key="{esc(key)}"><span class="bar-label">{esc(label)}</span>'
        f'<span class="bar-track"><span class="bar-fill" style="width:{percent:.2f}%;background:{colour(key)}">'
        f'</span></span><span class="bar-value">{esc(shown)}</span></div>'
    )


def strip(blocks: Iterable[tuple[float, str, str]], cls: str = "strip") -> str:
    """A horizontal strip of coloured blocks: (width in %, class key, hover title) each."""
    spans = "".join(
        f'<span style="width:{w:.4f}%;background:{colour(k)}" title="{esc(title)}"></span>'
        for w, k, title in blocks
    )
    return f'<div class="{cls}">{spans}</div>'


def swatch(key: str) -> str:
    return f'<i class="swatch" style="background:{colour(key)}"></i>'


def legend(keys: Iterable[str], lang: str, extra_html: str = "", elem_id: str | None = None) -> str:
    """The colour of each class key shown, with its name in `lang`; `extra_html`: further items (HTML)."""
    items = "".join(f"<span>{swatch(k)}{esc(emotion_name(k, lang))}</span>" for k in keys)
    return f'<div class="legend"{attr("id", elem_id)}>{items}{extra_html}</div>'


def page(title: str, body: str, lang: str = "zh") -> str:
    """A self-contained HTML document styled by PAGE_CSS (`title` is escaped, `body` is HTML)."""
    return (
        f"<!doctype html><html lang='{esc(lang)}'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{esc(title)}</title><style>{PAGE_CSS}</style></head><body>\n{body}\n</body></html>\n"
    )
