"""A result.json document as HTML, in Chinese or English: the result card (with the text + speech section),
score bars that never overlap at any width, the frame timeline, the segment strip, the quality table (the
original and the enhanced audio side by side), the enhancement report and the two-take comparison.

Charts are plain HTML/SVG styled by `render.html.CSS`; the lines of the timeline can be toggled with CSS
checkboxes (Gradio does not run scripts).
"""

from __future__ import annotations

import re

from emostudio.enhance import parse_step
from emostudio.messages import t
from emostudio.model.labels import BY_KEY, KEYS, colour, emotion_name
from emostudio.render.html import (
    VERDICT_ICON,
    bar_row,
    esc,
    legend,
    notice,
    random_weights_note,
    strip,
    table,
)
from emostudio.render.text import text_section

MAX_TIMELINE_STEPS = 600  # time steps drawn at most; longer timelines are thinned for display
UNCHANGED_BY_ENHANCEMENT = ("sample_rate", "channels", "codec", "duration")  # no delta column for these


def granularity_name(granularity: str | None, lang: str) -> str:
    """`utterance` / `frame` as the UI names them ("整句" / "逐帧时间线"); other values as they are."""
    return t(granularity, lang) if granularity in ("utterance", "frame") else (granularity or "")


def step_text(stored: str, lang: str) -> str:
    """One stored enhancement step (`high-pass 100 Hz`, `denoise (vad)`, `peak -1 dBFS`) said in `lang`."""
    parsed = parse_step(stored)
    if parsed is None:
        return stored
    kind, values = parsed
    if kind == "denoise":
        noise = values.pop("noise")
        values["noise"] = t(f"enh_noise_{noise}", lang, **values)
    return t(f"enh_step_{kind}", lang, **values)


# ------------------------------------------------------------------------------------------- the result card
def card(doc: dict | None, lang: str) -> str:
    if not doc:
        return ""
    e = BY_KEY[doc["emotion"]]
    ru = doc.get("runner_up") or {}
    lines = [
        f'<div class="emo">{e.emoji}</div>',
        f'<div class="name" id="result-label">{esc(emotion_name(e.key, "both", emoji=False))}</div>',
        f"<div>{esc(t('confidence', lang))}: <b>{doc['confidence'] * 100:.1f}%</b> · {esc(t('band', lang))}: "
        f"{esc(doc['band'][lang])}</div>",
    ]
    if ru.get("emotion") in BY_KEY:
        lines.append(
            f"<div>{esc(t('runner_up', lang))}: {esc(emotion_name(ru['emotion'], lang))} {ru['score'] * 100:.1f}%</div>"
        )
    if doc.get("compound"):
        lines.append(f"<div>{esc(t('compound', lang))}: <b>{esc(doc['compound'][lang])}</b></div>")
    warning = doc.get("quality_warning_zh") if lang == "zh" else doc.get("quality_warning")
    if warning:
        lines.append(notice(warning, elem_id="quality-warning"))
    for w in doc.get("warnings") or []:
        if "damaged" in w:  # the stored warning is English with ffmpeg's detail: in zh, say what it means
            seconds = re.search(r"only the ([0-9.]+) s", w)
            lines.append(
                notice(
                    w if lang == "en" else t("damaged_audio", lang, seconds=seconds[1] if seconds else "?")
                )
            )
    lines.append(text_section(doc, lang))  # transcript + voice section (empty without a transcript)
    if (doc.get("model") or {}).get("is_random"):
        lines.append(random_weights_note(lang))
    lines.append(f'<div class="muted">{esc(doc.get("source") or "")} · {esc(doc.get("run_id", ""))}</div>')
    return "\n".join(lines)


def score_bars(doc: dict | None, lang: str, elem_id: str = "score-bars") -> str:
    """The 9 scores as horizontal bars, labels left, values right: nothing overlaps at any width."""
    scores = (doc or {}).get("scores")
    if not scores:
        return ""
    rows = "".join(bar_row(k, emotion_name(k, lang), 100 * float(scores.get(k, 0.0))) for k in KEYS)
    return f'<h4>{esc(t("scores", lang))}</h4><div class="emo-bars" id="{esc(elem_id)}">{rows}</div>'


# ------------------------------------------------------------------------------------------------ timeline
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
    blocks = [(100 / n, k, f"{starts[i]:.1f} s {emotion_name(k, lang)}") for i, k in enumerate(dominant)]
    lines = []
    for j, k in enumerate(KEYS):
        pts = " ".join(f"{(i + 0.5) * 1000 / n:.1f},{100 * (1 - row[j]):.2f}" for i, row in enumerate(rows))
        lines.append(
            f'<polyline class="line-{k}" points="{pts}" fill="none" stroke="{colour(k)}" stroke-width="2" '
            f'vector-effect="non-scaling-stroke"><title>{esc(emotion_name(k, lang))}</title></polyline>'
        )
    grid = "".join(
        f'<line x1="0" x2="1000" y1="{y}" y2="{y}" stroke="#e5e7eb" vector-effect="non-scaling-stroke"/>'
        for y in (0, 50, 100)
    )
    end = starts[-1] + frames.get("step_s", 0.1)
    ticks = "".join(f"<span>{end * f:.1f}</span>" for f in (0.0, 0.25, 0.5, 0.75, 1.0))
    used = sorted(set(dominant), key=KEYS.index)
    toggles = "".join(f'<input type="checkbox" class="tl-toggle" id="tl-{prefix}-{k}" checked>' for k in KEYS)
    labels = "".join(
        f'<label for="tl-{prefix}-{k}"><i class="swatch" style="background:{colour(k)}"></i> '
        f"{esc(emotion_name(k, lang))}</label>"
        for k in KEYS
    )
    svg = (
        f'<svg class="tl-svg" viewBox="0 0 1000 100" preserveAspectRatio="none" role="img" '
        f'aria-label="{esc(t("timeline", lang))}">{grid}{"".join(lines)}</svg>'
    )
    return (
        f'<div class="timeline" id="timeline-{prefix}"><h4>{esc(t("timeline", lang))}</h4>'
        f'<div class="muted">{esc(t("timeline_strip", lang))}</div>{legend(used, lang)}'
        f"{strip(blocks, 'strip tl-strip')}{toggles}"
        f"<div class='tl-controls'><span class='muted'>{esc(t('timeline_toggle', lang))}:</span>{labels}</div>"
        f'<div class="tl-plot"><div class="tl-y"><span>100%</span><span>50%</span><span>0%</span></div>{svg}</div>'
        f'<div class="tl-x">{ticks}</div><div class="muted tl-unit">{esc(t("time_s", lang))}</div></div>'
    )


# ------------------------------------------------------------------------------------------------ segments
def segments_strip(doc: dict | None, lang: str) -> str:
    segs = (doc or {}).get("segments") or []
    if len(segs) < 2:
        return ""
    total = max(segs[-1]["end_s"], 1e-6)
    blocks = [
        (
            100 * (s["end_s"] - s["start_s"]) / total,
            s["emotion"],
            f"{s['start_s']:.1f}–{s['end_s']:.1f} s {emotion_name(s['emotion'], lang)} {s['confidence'] * 100:.0f}%",
        )
        for s in segs
    ]
    used = sorted({s["emotion"] for s in segs}, key=KEYS.index)
    return (
        f'<div id="segments"><h4>{esc(t("segments", lang))} ({len(segs)})</h4><div class="muted">'
        f"{esc(t('segments_note', lang))}</div>{strip(blocks)}{legend(used, lang)}</div>"
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
def metric_value(value: object, unit: str, lang: str, digits: str = "auto") -> str:
    """A quality value with its unit (`-23.4 LUFS`, `0.12%`), or "n/a" / "无法测量" when not measured."""
    if value is None:
        return t("not_measurable", lang)
    if isinstance(value, float):
        if digits == "auto":
            text = f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"
        else:
            text = f"{value:.1f}" if abs(value) >= 1 else f"{value:.2f}"
    else:
        text = str(value)
    return f"{text}%" if unit == "%" else f"{text} {unit}".strip()


def delta_text(delta: float | None, unit: str) -> str:
    """The change from take A to take B with its unit (`+3.2 dB`, `-32000 Hz`, `+0.5%`); "" when not measured."""
    if delta is None:
        return ""
    text = f"{delta:+.0f}" if float(delta).is_integer() and abs(delta) >= 10 else f"{delta:+.1f}"
    return f"{text}%" if unit == "%" else f"{text} {unit}".strip()


def _mvalue(m: dict | None, lang: str) -> str:
    return "" if m is None else esc(metric_value(m.get("value"), m.get("unit") or "", lang))


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
    rows, attrs = [], []
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
        rows.append(cells)
        attrs.append(f' data-metric="{esc(m.get("name"))}"')
    out = [
        f"<h4>{esc(t('quality', lang))} {VERDICT_ICON.get(q.get('verdict'), '')}</h4>",
        f'<div class="table-wrap">{table([esc(h) for h in head], rows, row_attrs=attrs)}</div>',
    ]
    if after:
        out.append(f'<div class="muted">{esc(t("quality_same_method", lang))}</div>')
    hints = q.get("hints") or []
    if hints:
        items = "".join(f"<li>{esc(h.get(lang, '') if isinstance(h, dict) else h)}</li>" for h in hints)
        out.append(f"<div>{esc(t('hints', lang))}:<ul>{items}</ul></div>")
    return "\n".join(out)


def enhancement(doc: dict | None, lang: str) -> str:
    """Before / after enhancement: the steps (in `lang`), both readings, whether the label changed."""
    enh = (doc or {}).get("enhancement")
    if not enh:
        return ""
    rows = [
        [esc(t(side, lang)), esc(emotion_name(r["emotion"], lang)), f"{r['confidence'] * 100:.1f}%"]
        for side, r in (("before", enh["before"]), ("after", enh["after"]))
    ]
    changed = f"<div class='warn'>{esc(t('label_changed', lang))}</div>" if enh.get("label_changed") else ""
    steps = " → ".join(step_text(s, lang) for s in enh.get("steps") or [])
    return (
        f"<h4>{esc(t('enh_report', lang))}</h4><div class='muted' id='enhancement-steps'>{esc(steps)}</div>"
        f"{table(None, rows)}{changed}"
    )


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
            f'<div class="take-card" id="take-{side}"><div class="muted">{esc(title)}{mark} · '
            f"{esc(s.get('source') or s.get('run_id') or '')}</div>"
            f'<div class="emo">{e.emoji}</div><div class="name">{esc(emotion_name(e.key, lang))}</div>'
            f"<div>{esc(t('confidence', lang))}: <b>{s['confidence'] * 100:.1f}%</b> · {esc(s['band'][lang])}</div></div>"
        )
    bars = []
    for k in KEYS:
        pa, pb = 100 * cmp["a"]["scores"][k], 100 * cmp["b"]["scores"][k]
        bars.append(
            f'<div class="bar-row" data-key="{k}"><span class="bar-label">{esc(emotion_name(k, lang))}</span>'
            f'<span class="bar-pair"><span class="bar-track"><span class="bar-fill" style="width:{pa:.2f}%;'
            f'background:{colour(k)}"></span></span><span class="bar-track"><span class="bar-fill b" '
            f'style="width:{pb:.2f}%;background:{colour(k)}"></span></span></span>'
            f'<span class="bar-value">{pa:.0f}% / {pb:.0f}%</span></div>'
        )
    qrows = []
    for q in cmp.get("quality") or []:
        unit = q.get("unit") or ""
        delta = delta_text(q.get("delta"), unit)
        label = q.get(f"label_{lang}") or q["name"]
        la, lb = q.get(f"label_a_{lang}") or label, q.get(f"label_b_{lang}") or label
        qrows.append(
            [
                esc(la if la == lb else f"A: {la} · B: {lb}"),  # e.g. each take's SNR method
                f"{esc(metric_value(q['a'], unit, lang, 'compare'))} {VERDICT_ICON.get(q.get('verdict_a'), '')}",
                f"{esc(metric_value(q['b'], unit, lang, 'compare'))} {VERDICT_ICON.get(q.get('verdict_b'), '')}",
                esc(delta),
            ]
        )
    sim = (
        f"<div>{esc(t('similarity', lang))}: <span id='similarity-value'>{cmp['similarity']:.3f}</span></div>"
        if cmp.get("similarity") is not None
        else ""
    )
    random = random_weights_note(lang) if cmp.get("is_random") else ""
    head = [esc(t("metric", lang)), "A", "B", esc(t("quality_change", lang))]
    return (
        f'<div id="comparison"><div class="verdict" id="compare-verdict">{esc(cmp["verdict"][lang])}</div>'
        f'<div>{esc(cmp["agreement"][lang])}</div>{sim}{random}<div class="takes">{"".join(takes)}</div>'
        f'<h4>{esc(t("scores", lang))} (A / B)</h4><div class="emo-bars pairs">{"".join(bars)}</div>'
        f'<h4>{esc(t("quality", lang))}</h4><div class="table-wrap">{table(head, qrows)}</div></div>'
    )
