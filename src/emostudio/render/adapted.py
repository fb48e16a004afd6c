"""An adapter's reading and an adapter's report as HTML, in Chinese or English: the adapted card of the Analyze
tab (label, confidence, band, adapter id, the bars over the adapter's labels, the base 9-class reading in one
line, the adapted label of each segment), a trained adapter's cross-validated headline (base vs calibrated vs
adapted: UA, WA, ECE with bootstrap 95 % intervals) and the server's active adapter."""

from __future__ import annotations

from emostudio.messages import t
from emostudio.model.labels import BY_KEY, emotion_name, label_colour
from emostudio.render.html import box, esc, notice, table

READINGS = ("base", "calibrated", "adapted")  # the report's readings, in the order they are compared


def label_name(label: str, lang: str) -> str:
    """An adapter's label as a person reads it: a class key's name in `lang`, a custom label as it is."""
    return emotion_name(label, lang) if label in BY_KEY else label


def _bars(adapted: dict, lang: str) -> str:
    labels = list(adapted.get("labels") or [])
    scores = adapted.get("scores") or {}
    rows = []
    for i, label in enumerate(labels):
        pct = 100 * float(scores.get(label, 0.0))
        rows.append(
            f'<div class="bar-row" data-key="{esc(label)}"><span class="bar-label">{esc(label_name(label, lang))}'
            f'</span><span class="bar-track"><span class="bar-fill" style="width:{pct:.2f}%;'
            f'background:{label_colour(label, i)}"></span></span><span class="bar-value">{pct:.1f}%</span></div>'
        )
    return f'<h4>{esc(t("adapted_scores", lang))}</h4><div class="emo-bars" id="adapted-bars">{"".join(rows)}</div>'


def _segments(doc: dict, labels: list[str], lang: str) -> str:
    """The adapted label of each segment as a strip (long recordings: more than one segment)."""
    segs = [s for s in doc.get("segments") or [] if s.get("adapted")]
    if len(segs) < 2:
        return ""
    total = max(float(segs[-1]["end_s"]), 1e-6)
    spans = []
    for s in segs:
        a = s["adapted"]
        i = labels.index(a["label"]) if a["label"] in labels else 0
        title = f"{s['start_s']:.1f}–{s['end_s']:.1f} s {label_name(a['label'], lang)} {a['confidence'] * 100:.0f}%"
        width = 100 * (float(s["end_s"]) - float(s["start_s"])) / total
        spans.append(
            f'<span style="width:{width:.4f}%;background:{label_colour(a["label"], i)}" title="{esc(title)}"></span>'
        )
    legend = "".join(
        f'<span><i class="swatch" style="background:{label_colour(label, i)}"></i>{esc(label_name(label, lang))}'
        "</span>"
        for i, label in enumerate(labels)
    )
    return (
        f'<div id="adapted-segments"><h4>{esc(t("adapted_segments", lang))}</h4>'
        f'<div class="strip">{"".join(spans)}</div><div class="legend">{legend}</div></div>'
    )


def adapted_card(doc: dict | None, lang: str) -> str:
    """The adapted reading of a result.json document ("" without one), the base reading in one line."""
    adapted = (doc or {}).get("adapted")
    if not doc or not adapted:
        return ""
    labels = list(adapted.get("labels") or [])
    base = t(
        "adapted_base",
        lang,
        label=emotion_name(doc["emotion"], lang),
        percent=100 * float(doc["confidence"]),
        band=doc["band"][lang] if isinstance(doc.get("band"), dict) else doc.get("band", ""),
    )
    head = (
        f'<h4>{esc(t("adapted_title", lang))} · <span class="muted" id="adapted-id">'
        f"{esc(t('adapted_adapter', lang, id=adapted['adapter']))}</span></h4>"
        f'<div class="name" id="adapted-label">{esc(label_name(adapted["label"], lang))}</div>'
        f"<div>{esc(t('confidence', lang))}: <b>{float(adapted['confidence']) * 100:.1f}%</b> · "
        f"{esc(t('band', lang))}: {esc(t('band_' + adapted['band'], lang))}</div>"
    )
    base_line = f'<div class="muted" id="adapted-base">{esc(base)}</div>'
    return f'<div class="adapted-card">{head}{_bars(adapted, lang)}{_segments(doc, labels, lang)}{base_line}</div>'


# ------------------------------------------------------------------------------------------ adapter reports
def _pct_ci(m: dict, key: str) -> str:
    value, ci = m.get(key), m.get(f"{key}_ci")
    if value is None:
        return "–"
    text = f"{value * 100:.1f}%"
    if ci and ci[0] is not None and ci[1] is not None:
        text += f" [{ci[0] * 100:.1f}, {ci[1] * 100:.1f}]"
    return text


def report_headline(report: dict | None, lang: str) -> str:
    """base vs calibrated vs adapted of an adapter's metrics.json: UA, WA, ECE with their 95 % intervals, and
    the warnings in `lang`."""
    if not report:
        return ""
    rows = []
    by_name = {c["model"]: c for c in report.get("comparison") or []}
    models = report.get("models") or {}
    for name in [n for n in READINGS if n in by_name] + [n for n in by_name if n not in READINGS]:
        m = by_name[name]
        reading = (models.get(name) or {}).get("model") or {}
        rows.append(
            [
                esc(reading.get(lang) or name),
                esc(m.get("n", "")),
                esc(_pct_ci(m, "ua")),
                esc(_pct_ci(m, "wa")),
                esc(_pct_ci(m, "ece")),
            ]
        )
    adaptation = report.get("adaptation") or {}
    out = [
        f'<div class="muted">{esc(t("ad_report_note", lang))}</div>',
        table([esc(c) for c in t("ad_cols", lang)], rows),
    ]
    if adaptation.get("base_note") and lang == "en":
        out.append(notice(adaptation["base_note"], "muted", icon=""))
    elif adaptation.get("base_note"):
        out.append(notice(t("adapt_not_applicable", lang), "muted", icon=""))
    for note in adaptation.get("notes") or []:
        out.append(notice(str(t(note["key"], lang, **note.get("fields", {})))))
    return f'<div id="adapter-report">{"".join(out)}</div>'


def trained(doc: dict, lang: str) -> str:
    """A newly trained adapter (POST /v1/adapters' answer): its id and labels, then the report's headline."""
    head = t("ad_trained", lang, id=doc["id"], labels=", ".join(label_name(x, lang) for x in doc["labels"]))
    return box(f"<b>{esc(head)}</b>", "pass", "adapter-trained") + report_headline(doc.get("report"), lang)


def active(listing: dict, lang: str) -> str:
    """Which adapter the server reads (GET /v1/adapters' answer), or that it reads the base model."""
    chosen = next((a for a in listing.get("adapters") or [] if a.get("active")), None)
    if chosen is None:
        return f'<div id="adapter-active">{esc(t("ad_none_active", lang))}</div>'
    labels = ", ".join(label_name(x, lang) for x in chosen.get("labels") or [])
    return (
        f'<div id="adapter-active"><b>{esc(t("ad_active", lang, id=chosen["id"], labels=labels))}</b></div>'
    )
