"""HTML for the web UI: pure functions of result.json documents (and comparisons), in Chinese or English.

Charts are plain HTML/SVG styled by `CSS` (no scripts: Gradio does not run them, and nothing is loaded from
anywhere): score bars that never overlap at any width, a frame timeline with a dominant-emotion strip and lines
that can be toggled (CSS checkboxes), a segment strip, the quality table with the original and the enhanced
audio side by side, and the two-take comparison.
"""

from __future__ import annotations

import html

from emostudio.messages import t
from emostudio.model.labels import BY_KEY, COLOURS, KEYS

MAX_TIMELINE_STEPS = 600  # time steps drawn at most; longer timelines are thinned for display
COLORS = COLOURS
VERDICT_ICON = {"ok": "✅", "warn": "⚠️", "bad": "❌", "info": "ℹ️"}
UNCHANGED_BY_ENHANCEMENT = ("sample_rate", "channels", "codec", "duration")  # no delta column for these
CSS = """
#result-card .emo, .take-card .emo {font-size: 3.2rem; line-height: 1.1}
#result-card .name, .take-card .name {font-size: 1.6rem; font-weight: 600}
.warn {color: #b45309}
.muted {color: #6b7280; font-size: 0.9em}
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
.strip {display: flex; width: 100%; height: 18px; border-radius: 3px; overflow: hidden}
.strip span {display: block; height: 100%}
.legend {display: flex; flex-wrap: wrap; gap: 2px 12px; font-size: 0.9em}
.legend i {display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px}
.takes {display: grid; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); gap: 12px}
.take-card {border: 1px solid #e5e7eb; border-radius: 8px; padding: 8px 12px}
.verdict {font-weight: 600; margin: 8px 0}
""" + "".join(
    f"#tl-{p}-{k}:not(:checked) ~ .tl-plot .line-{k} {{display: none}}\n"
    f"#tl-{p}-{k}:not(:checked) ~ .tl-controls label[for=tl-{p}-{k}] {{opacity: 0.35; text-decoration: line-through}}\n"
    for p in ("an", "hi")
    for k in KEYS
)


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def emotion_name(key: str, lang: str) -> str:
    e = BY_KEY[key]
    return f"{e.emoji} {e.zh}" if lang == "zh" else f"{e.emoji} {e.en}"


# ------------------------------------------------------------------------------------------- the result card
def card(doc: dict | None, lang: str) -> str:
    if not doc:
        return ""
    from emostudio.multimodal.render import render_text_html

    e = BY_KEY[doc["emotion"]]
    ru = doc.get("runner_up") or {}
    lines = [
        f'<div class="emo">{e.emoji}</div>',
        f'<div class="name" id="result-label">{esc(e.zh)} ({esc(e.en)})</div>',
        f"<div>{t('confidence', lang)}: <b>{doc['confidence'] * 100:.1f}%</b> · {t('band', lang)}: "
        f"{esc(doc['band'][lang])}</div>",
    ]
    if ru.get("emotion") in BY_KEY:
        lines.append(
            f"<div>{t('runner_up', lang)}: {esc(emotion_name(ru['emotion'], lang))} {ru['score'] * 100:.1f}%</div>"
        )
    if doc.get("compound"):
        lines.append(f"<div>{t('compound', lang)}: <b>{esc(doc['compound'][lang])}</b></div>")
    warning = doc.get("quality_warning_zh") if lang == "zh" else doc.get("quality_warning")
    if warning:
        lines.append(f'<div class="warn" id="quality-warning">⚠ {esc(warning)}</div>')
    for w in doc.get("warnings") or []:
        if "damaged" in w:
            lines.append(f'<div class="warn">⚠ {esc(w)}</div>')
    lines.append(render_text_html(doc, lang))  # transcript + voice section (empty without a transcript)
    if (doc.get("model") or {}).get("is_random"):
        lines.append(f'<div class="warn">{t("random", lang)}</div>')
    lines.append(f'<div class="muted">{esc(doc.get("source") or "")} · {esc(doc.get("run_id", ""))}</div>')
    return "\n".join(lines)


def score_bars(doc: dict | None, lang: str, elem_id: str = "score-bars") -> str:
    """The 9 scores as horizontal bars, labels left, values right: nothing overlaps at any width."""
    scores = (doc or {}).get("scores")
    if not scores:
        return ""
    rows = []
    for k in KEYS:
        p = 100 * float(scores.get(k, 0.0))
        rows.append(
            f'<div class="bar-row" data-key="{k}"><span class="bar-label">{esc(emotion_name(k, lang))}</span>'
            f'<span class="bar-track"><span class="bar-fill" style="width:{p:.2f}%;background:{COLORS[k]}"></span>'
            f'</span><span class="bar-value">{p:.1f}%</span></div>'
        )
    return f'<h4>{t("scores", lang)}</h4><div class="emo-bars" id="{elem_id}">{"".join(rows)}</div>'


# ------------------------------------------------------------------------------------------------ timeline
def _legend(keys: list[str], lang: str) -> str:
    return (
        '<div class="legend">'
        + "".join(
            f'<span><i style="background:{COLORS[k]}"></i>{esc(emotion_name(k, lang))}</span>' for k in keys
        )
        + "</div>"
    )


def timeline(doc: dict | None, lang: str, prefix: str = "an") -> str:
    """Frame mode: the dominant-emotion strip (one colour per 0.1 s step) above the 9 score lines, each of
    which can be switched off; at most MAX_TIMELINE_STEPS steps are drawn (longer timelines are thinned).

    The strip and the axes are HTML; the lines an SVG stretched to the width (strokes keep their width), so
    the chart reads the same on a phone and on a wide screen.
    """
    frames = (doc or {}).get("frames")
    if not frames or not frames.get("start_s"):
        return ""
    starts, rows = frames["start_s"], frames["scores"]
    stride = max(1, -(-len(starts) // MAX_TIMELINE_STEPS))
    starts, rows = starts[::stride], rows[::stride]
    n = len(starts)
    dominant = [KEYS[max(range(9), key=row.__getitem__)] for row in rows]
    strip = "".join(
        f'<span style="width:{100 / n:.4f}%;background:{COLORS[k]}" title="{starts[i]:.1f} s '
        f'{esc(emotion_name(k, lang))}"></span>'
        for i, k in enumerate(dominant)
    )
    lines = []
    for j, k in enumerate(KEYS):
        pts = " ".join(f"{(i + 0.5) * 1000 / n:.1f},{100 * (1 - row[j]):.2f}" for i, row in enumerate(rows))
        lines.append(
            f'<polyline class="line-{k}" points="{pts}" fill="none" stroke="{COLORS[k]}" stroke-width="2" '
            f'vector-effect="non-scaling-stroke"><title>{esc(emotion_name(k, lang))}</title></polyline>'
        )
    grid = "".join(
        f'<line x1="0" x2="1000" y1="{y}" y2="{y}" stroke="#e5e7eb" vector-effect="non-scaling-stroke"/>'
        for y in (0, 50, 100)
    )
    end = starts[-1] + frames.get("step_s", 0.1)
    ticks = "".join(f"<span>{end * f:.1f}</span>" for f in (0.0, 0.25, 0.5, 0.75, 1.0))
    used = sorted(set(dominant), key=KEYS.index)
    toggles = "".join(
        f'<input type="checkbox" id="tl-{prefix}-{k}" checked style="display:none">' for k in KEYS
    )
    labels = "".join(
        f'<label for="tl-{prefix}-{k}"><i style="display:inline-block;width:10px;height:10px;'
        f'background:{COLORS[k]}"></i> {esc(emotion_name(k, lang))}</label>'
        for k in KEYS
    )
    svg = (
        f'<svg class="tl-svg" viewBox="0 0 1000 100" preserveAspectRatio="none" role="img" '
        f'aria-label="{esc(t("timeline", lang))}">{grid}{"".join(lines)}</svg>'
    )
    return (
        f'<div class="timeline" id="timeline-{prefix}"><h4>{t("timeline", lang)}</h4>'
        f'<div class="muted">{t("timeline_strip", lang)}</div>{_legend(used, lang)}'
        f'<div class="strip tl-strip">{strip}</div>{toggles}'
        f"<div class='tl-controls'><span class='muted'>{t('timeline_toggle', lang)}:</span>{labels}</div>"
        f'<div class="tl-plot"><div class="tl-y"><span>100%</span><span>50%</span><span>0%</span></div>{svg}</div>'
        f'<div class="tl-x">{ticks}</div><div class="muted tl-unit">{t("time_s", lang)}</div></div>'
    )


# ------------------------------------------------------------------------------------------------ segments
def segments_strip(doc: dict | None, lang: str) -> str:
    segs = (doc or {}).get("segments") or []
    if len(segs) < 2:
        return ""
    total = max(segs[-1]["end_s"], 1e-6)
    blocks = "".join(
        f'<span style="width:{100 * (s["end_s"] - s["start_s"]) / total:.3f}%;background:{COLORS[s["emotion"]]}" '
        f'title="{s["start_s"]:.1f}–{s["end_s"]:.1f} s {esc(emotion_name(s["emotion"], lang))} '
        f'{s["confidence"] * 100:.0f}%"></span>'
        for s in segs
    )
    used = sorted({s["emotion"] for s in segs}, key=KEYS.index)
    return (
        f'<div id="segments"><h4>{t("segments", lang)} ({len(segs)})</h4><div class="muted">'
        f'{t("segments_note", lang)}</div><div class="strip">{blocks}</div>{_legend(used, lang)}</div>'
    )


def segment_rows(doc: dict | None, lang: str) -> list[list]:
    return [
        [
            f"{s['start_s']:.1f}",
            f"{s['end_s']:.1f}",
            emotion_name(s["emotion"], lang),
            f"{s['confidence'] * 100:.1f}%",
        ]
        for s in (doc or {}).get("segments") or []
    ]


# ------------------------------------------------------------------------------------------------- quality
def _mvalue(m: dict | None, lang: str) -> str:
    if m is None:
        return ""
    v = m.get("value")
    if v is None:
        return t("not_measurable", lang)
    unit = m.get("unit") or ""
    text = (f"{v:.2f}" if abs(v) < 10 else f"{v:.1f}") if isinstance(v, float) else str(v)
    return esc(f"{text}%" if unit == "%" else f"{text} {unit}".strip())


def quality(doc: dict | None, lang: str) -> str:
    """The upload's quality report; with enhancement, the enhanced audio beside it (measured the same way)
    and the change of each metric. Verdicts and advice are the original's."""
    q = (doc or {}).get("quality")
    if not q:
        return ""
    enh = (doc or {}).get("enhancement") or {}
    after = {m["name"]: m for m in ((enh.get("quality_after") or {}).get("metrics") or [])}
    head = [t("metric", lang), t("quality_original", lang) if after else t("value", lang)]
    if after:
        head += [t("quality_enhanced", lang), t("quality_change", lang)]
    head += [t("verdict", lang), t("advice", lang)]
    rows = []
    for m in q.get("metrics", []):
        cells = [esc(m.get(f"label_{lang}") or m.get("name", "")), _mvalue(m, lang)]
        if after:
            a = after.get(m["name"])
            delta = ""
            numeric = isinstance(m.get("value"), int | float) and isinstance(
                (a or {}).get("value"), int | float
            )
            if a and numeric and m["name"] not in UNCHANGED_BY_ENHANCEMENT:
                d = a["value"] - m["value"]
                unit = m.get("unit") or ""
                delta = esc(f"{d:+.1f}{'%' if unit == '%' else ' ' + unit}".strip())
            cells += [_mvalue(a, lang) + (f" {VERDICT_ICON.get(a.get('verdict'), '')}" if a else ""), delta]
        cells += [
            VERDICT_ICON.get(m.get("verdict"), esc(m.get("verdict", ""))),
            esc(m.get(f"advice_{lang}") or ""),
        ]
        rows.append(
            f'<tr data-metric="{esc(m.get("name"))}">' + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"
        )
    out = [
        f"<h4>{t('quality', lang)} {VERDICT_ICON.get(q.get('verdict'), '')}</h4>",
        f'<div class="table-wrap"><table class="emo-table"><tr>{"".join(f"<th>{h}</th>" for h in head)}</tr>'
        f"{''.join(rows)}</table></div>",
    ]
    if after:
        out.append(f'<div class="muted">{t("quality_same_method", lang)}</div>')
    hints = q.get("hints") or []
    if hints:
        items = "".join(f"<li>{esc(h.get(lang, '') if isinstance(h, dict) else h)}</li>" for h in hints)
        out.append(f"<div>{t('hints', lang)}:<ul>{items}</ul></div>")
    return "\n".join(out)


def enhancement(doc: dict | None, lang: str) -> str:
    enh = (doc or {}).get("enhancement")
    if not enh:
        return ""
    b, a = enh["before"], enh["after"]
    rows = [
        f"<tr><td>{t('before', lang)}</td><td>{esc(emotion_name(b['emotion'], lang))}</td>"
        f"<td>{b['confidence'] * 100:.1f}%</td></tr>",
        f"<tr><td>{t('after', lang)}</td><td>{esc(emotion_name(a['emotion'], lang))}</td>"
        f"<td>{a['confidence'] * 100:.1f}%</td></tr>",
    ]
    changed = f"<div class='warn'>{t('label_changed', lang)}</div>" if enh.get("label_changed") else ""
    steps = " → ".join(enh.get("steps") or [])
    return f"<h4>{t('enh_report', lang)}</h4><div class='muted'>{esc(steps)}</div><table class='emo-table'>{''.join(rows)}</table>{changed}"


# ----------------------------------------------------------------------------------------------- comparison
def comparison(cmp: dict, lang: str) -> str:
    """Two takes side by side: cards, paired score bars, quality with deltas, which is more reliable and why."""
    takes = []
    for side in ("a", "b"):
        s = cmp[side]
        e = BY_KEY[s["emotion"]]
        mark = " ★" if cmp.get("more_reliable") == side else ""
        title = t("clip_a" if side == "a" else "clip_b", lang)
        takes.append(
            f'<div class="take-card" id="take-{side}"><div class="muted">{esc(title)}{mark} · {esc(s.get("source") or s.get("run_id") or "")}</div>'
            f'<div class="emo">{e.emoji}</div><div class="name">{esc(s["label"][lang])}</div>'
            f"<div>{t('confidence', lang)}: <b>{s['confidence'] * 100:.1f}%</b> · {esc(s['band'][lang])}</div></div>"
        )
    bars = []
    for k in KEYS:
        pa, pb = 100 * cmp["a"]["scores"][k], 100 * cmp["b"]["scores"][k]
        bars.append(
            f'<div class="bar-row" data-key="{k}"><span class="bar-label">{esc(emotion_name(k, lang))}</span>'
            f'<span class="bar-pair"><span class="bar-track"><span class="bar-fill" style="width:{pa:.2f}%;'
            f'background:{COLORS[k]}"></span></span><span class="bar-track"><span class="bar-fill b" '
            f'style="width:{pb:.2f}%;background:{COLORS[k]}"></span></span></span>'
            f'<span class="bar-value">{pa:.0f}% / {pb:.0f}%</span></div>'
        )

    def fmt(v, unit: str) -> str:
        if v is None:
            return t("not_measurable", lang)
        text = (f"{v:.1f}" if abs(v) >= 1 else f"{v:.2f}") if isinstance(v, float) else str(v)
        return f"{text}%" if unit == "%" else f"{text} {unit}".strip()

    qrows = []
    for q in cmp.get("quality") or []:
        unit = q.get("unit") or ""
        delta = "" if q.get("delta") is None else f"{q['delta']:+.1f}"
        qrows.append(
            f"<tr><td>{esc(q.get(f'label_{lang}') or q['name'])}</td>"
            f"<td>{esc(fmt(q['a'], unit))} {VERDICT_ICON.get(q.get('verdict_a'), '')}</td>"
            f"<td>{esc(fmt(q['b'], unit))} {VERDICT_ICON.get(q.get('verdict_b'), '')}</td><td>{esc(delta)}</td></tr>"
        )
    sim = (
        f"<div>{t('similarity', lang)}: <span id='similarity-value'>{cmp['similarity']:.3f}</span></div>"
        if cmp.get("similarity") is not None
        else ""
    )
    random = f'<div class="warn">{t("random", lang)}</div>' if cmp.get("is_random") else ""
    head = f"<tr><th>{t('metric', lang)}</th><th>A</th><th>B</th><th>{t('quality_change', lang)}</th></tr>"
    return (
        f'<div id="comparison"><div class="verdict" id="compare-verdict">{esc(cmp["verdict"][lang])}</div>'
        f'<div>{esc(cmp["agreement"][lang])}</div>{sim}{random}<div class="takes">{"".join(takes)}</div>'
        f'<h4>{t("scores", lang)} (A / B)</h4><div class="emo-bars pairs">{"".join(bars)}</div>'
        f'<h4>{t("quality", lang)}</h4><div class="table-wrap"><table class="emo-table">{head}{"".join(qrows)}'
        f"</table></div></div>"
    )
