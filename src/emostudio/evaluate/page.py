"""report.html: one self-contained page (zh / en) for a metrics.json document and its chart PNGs.

Every text is the catalogue's, written `中文 / English` (the page is read by whoever it is sent to); the
pieces and the stylesheet are `emostudio.render.html`'s. Charts are inline `data:` PNGs; there are no scripts,
fonts or anything else to load, so the page works offline and can be served with
`Content-Security-Policy: default-src 'none'; img-src data:; style-src 'unsafe-inline'`.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path

from emostudio.evaluate.charts import CHARTS
from emostudio.evaluate.items import bad_count
from emostudio.messages import CATALOGUE, both, t
from emostudio.model.labels import emotion_name
from emostudio.render.html import box, esc, page
from emostudio.render.html import table as html_table

__all__ = ["CHARTS", "render_html"]


def _pct(x, digits: int = 1) -> str:
    return "–" if x is None else f"{x * 100:.{digits}f}%"


def _num(x, digits: int = 4) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _name(key: str) -> str:
    return esc(emotion_name(key, "both"))


def _img(data: bytes | None, alt: str) -> str:
    if not data:
        return ""
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{base64.b64encode(data).decode()}">'


def _label(text: str) -> str:
    """A catalogue key as `中文 / English`, or a name of its own (`n`, `Macro-F1`) as it is; escaped."""
    return esc(both(text)) if text in CATALOGUE else esc(text)


def _table(head: Sequence[str], body: Sequence[Sequence]) -> str:
    """A report table: header keys of the catalogue (or literal cells) over rows of HTML cells."""
    return html_table([_label(h) for h in head], body, "page-table")


def render_html(doc: dict, charts: dict[str, bytes]) -> str:
    """The self-contained report page for a metrics.json document and its chart PNGs."""
    man = doc["manifest"]
    models = doc["models"]
    classes = ", ".join(_name(k) for k in doc["class_keys"])
    parts = [
        f"<h1>🎭 {esc(both(_title(doc)))}</h1>",
        "<p class='meta'>"
        f"{esc(both('report_test_set'))}: <code>{esc(man['source'])}</code> ({esc(man['kind'])}) · "
        f"{esc(both('report_fingerprint'))} <code>{esc(man['fingerprint'][:16])}</code><br>"
        f"{esc(both('report_time'))}: {esc(doc['created'])} · {esc(both('report_classes'))}: {esc(doc['classes'])} "
        f"({classes})<br>"
        f"{esc(both('report_rows'))}: {man['rows']} · {esc(both('report_evaluated'))}: {doc['evaluated']} · "
        f"{esc(both('report_not_evaluated'))}: {bad_count(doc)} · {esc(both('report_excluded'))}: "
        f"{man['excluded']}</p>",
    ]
    if any(m["model"].get("is_random") for m in models.values()):
        parts.append(box(f"⚠ {esc(both('random_note'))}", "warn"))
    status = doc["status"]
    kind = "pass" if status["code"] == 0 else ("warn" if status["code"] == 1 else "fail")
    reasons = "".join(f"<br>• {esc(r)}" for r in status["reasons"])
    parts.append(
        box(
            f"<b>{esc(both('eval_exit', code=status['code']))}</b>: {esc(status['zh'])} / {esc(status['en'])}{reasons}",
            kind,
        )
    )
    parts.append(f"<h2>{esc(both('report_summary'))}</h2>")
    parts.append(_summary_table(doc))
    if "models.png" in charts:
        parts.append(f"<div class='charts'>{_img(charts['models.png'], 'models')}</div>")
    if doc.get("adaptation"):
        parts.append(_adaptation_html(doc))
    if doc.get("stability"):
        parts.append(_stability_html(doc["stability"]))
    for name, m in models.items():
        parts.append(_model_html(name, m, charts))
    if "history.png" in charts or doc.get("history", {}).get("runs"):
        h = doc.get("history", {})
        parts.append(f"<h2>{esc(both('report_history'))}</h2>")
        parts.append(
            f"<p class='small'>{h.get('runs', 0)} {esc(both('report_runs_recorded'))} <code>{esc(h.get('file', ''))}"
            "</code></p>"
        )
        parts.append(f"<div class='charts'>{_img(charts.get('history.png'), 'history')}</div>")
    if doc["bad_rows"]:
        parts.append(f"<h2>{esc(both('report_bad_rows'))}</h2>")
        rows = [[esc(b["where"]), esc(b["code"]), esc(b["message"])] for b in doc["bad_rows"]]
        parts.append(_table(["report_col_where", "report_col_code", "report_col_message"], rows))
        if bad_count(doc) > len(doc["bad_rows"]):
            more = bad_count(doc) - len(doc["bad_rows"])
            parts.append(f"<p class='small'>{esc(both('report_more_bad_rows', n=more))}</p>")
    parts.append(_definitions())
    title = f"{both(_title(doc))} · {Path(man['source']).name}"
    return page(title, "\n".join(parts))


def _summary_table(doc: dict) -> str:
    head = ["report_col_model", "report_col_dtype", "n", "report_col_wa", "report_col_ua", "Macro-F1"]
    head = [*head, both("report_col_ece", bins=doc["ece_bins"]), "NLL", "Brier", "report_col_failed"]
    body = [
        [
            f"<b>{esc(name)}</b><br><span class='small'>{esc(m['model'].get('id', ''))}</span>",
            esc(m["model"].get("dtype")),
            m["n"],
            _pct(m["wa"]),
            _pct(m["ua"]),
            _pct(m["macro_f1"]),
            _pct(m["ece"]),
            _num(m.get("nll"), 3),
            _num(m.get("brier"), 3),
            m["failed"],
        ]
        for name, m in doc["models"].items()
    ]
    return _table(head, body)


def _model_html(name: str, m: dict, charts: dict[str, bytes]) -> str:
    """One model's section: its charts, per-class table, confusion matrix, bands, speakers, quality."""
    info = m["model"]
    out = [
        f"<h2>{esc(both('report_model'))}: {esc(name)}</h2>",
        f"<p class='meta'>{esc(info.get('id'))} · {esc(info.get('device'))} · {esc(info.get('dtype'))}"
        f" · {esc(info.get('source'))}</p>",
    ]
    if not m["n"]:
        out.append(box(esc(both("report_no_file")), "fail"))
        return "\n".join(out)
    files = m.get("charts", {})
    out.append(
        "<div class='charts'>" + "".join(_img(charts.get(files.get(c, "")), c) for c in CHARTS) + "</div>"
    )
    out.append(f"<h3>{esc(both('report_per_class'))}</h3>")
    head = ["report_col_class", "report_col_precision", "report_col_recall", "F1", "report_col_support"]
    rows = [
        [
            _name(r["class"]),
            _pct(r["precision"]),
            _pct(r["recall"]),
            _pct(r["f1"]),
            r["support"],
            r["predicted"],
        ]
        for r in m["per_class"]
    ]
    out.append(_table([*head, "report_col_predicted"], rows))
    labels = m["confusion"]["labels"]
    out.append(
        f"<h3>{esc(both('report_confusion'))} <span class='small'>({esc(both('report_confusion_axes'))})</span></h3>"
    )
    matrix = [[_name(k), *row] for k, row in zip(labels, m["confusion"]["matrix"], strict=True)]
    out.append(html_table(["", *(_name(k) for k in labels)], matrix, "page-table"))
    out.append(f"<h3>{esc(both('report_bands'))}</h3>")
    head = ["report_col_band", "report_col_range", "n", "report_col_share", "report_col_accuracy"]
    rows = [
        [
            f"{esc(b['zh'])} / {esc(b['en'])}",
            esc(b["range"]),
            b["n"],
            _pct(b["share"]),
            _pct(b["accuracy"]),
            _pct(b["mean_confidence"]),
        ]
        for b in m["bands"]
    ]
    out.append(_table([*head, "report_col_mean_conf"], rows))
    out.append(
        f"<p class='small'>ECE {_pct(m['ece'], 2)} · MCE {_pct(m['mce'], 2)} · "
        f"{m['ece_bins']} {esc(both('report_bins_note'))}</p>"
    )
    if m.get("speakers"):
        out.append(f"<h3>{esc(both('report_per_speaker'))}</h3>")
        rows = [
            [esc(s["speaker"] or both("report_none")), s["n"], _pct(s["accuracy"]), _pct(s["ua"])]
            for s in m["speakers"]
        ]
        out.append(_table(["report_col_speaker", "n", "report_col_wa", "UA"], rows))
    if m.get("quality"):
        out.append(_quality_html(m["quality"]))
    return "\n".join(out)


_TITLES = {"cross-validation": "report_title_cv", "held-out": "report_title_heldout"}  # adaptation modes
_READINGS = ("base", "calibrated", "adapted")
# (metric, its name: a catalogue key or a name of its own, a rate shown in %)
_ADAPT_METRICS = (("ua", "report_col_ua", True), ("wa", "report_col_wa", True), ("macro_f1", "Macro-F1", True),
                  ("ece", "ECE", True), ("nll", "NLL", False), ("brier", "Brier", False))  # fmt: skip


def _title(doc: dict) -> str:
    """The page's title key: an evaluation's, or an adaptation report's (cross-validated / held-out)."""
    return _TITLES.get(doc.get("adaptation", {}).get("mode"), "report_title")


def _zh_en(text) -> str:
    """`中文 / English` of a text made per language: `text(lang)` → str, escaped."""
    return esc(f"{text('zh')} / {text('en')}")


def _with_ci(value, ci, rate: bool) -> str:
    """`81.2% [75.0, 86.1]` (rates) or `0.412 [0.380, 0.455]`; `–` when there is no value."""
    if value is None:
        return "–"
    if rate:
        text = _pct(value)
        return text if not ci else f"{text} <span class='small'>[{ci[0] * 100:.1f}, {ci[1] * 100:.1f}]</span>"
    text = _num(value, 3)
    return text if not ci else f"{text} <span class='small'>[{ci[0]:.3f}, {ci[1]:.3f}]</span>"


def _adaptation_html(doc: dict) -> str:
    """Base vs calibrated vs adapted side by side, with bootstrap 95 % intervals (emostudio.adapt reports)."""
    ad, models = doc["adaptation"], doc["models"]
    shown = [n for n in _READINGS if n in models]
    iv = ad.get("intervals") or {}
    out = [f"<h2>{esc(both('report_adaptation'))}</h2>", _adaptation_meta(ad)]
    if not ad.get("base_applicable"):
        out.append(box(esc(both("adapt_not_applicable")), "warn"))
    for note in ad.get("notes") or []:
        out.append(box(f"⚠ {esc(both(note['key'], **note['fields']))}", "warn"))
    out.append(_readings_table(ad, models, shown))
    out.append(f"<h3>{esc(both('report_adapt_recall'))}</h3>")
    out.append(_recall_table(ad, models, shown))
    out.append(f"<h3>{esc(both('report_bands'))}</h3>")
    out.append(_adaptation_bands_table(ad, models, shown))
    fmt = {"method": iv.get("method", ""), "n_boot": iv.get("n_boot", 0)}
    out.append(
        f"<p class='small'>{esc(both('report_adapt_intervals', **fmt))}<br>"
        f"{esc(t('report_adapt_readings', 'zh'))}<br>{esc(t('report_adapt_readings', 'en'))}</p>"
    )
    return "\n".join(out)


def _adaptation_meta(ad: dict) -> str:
    """How the figures were made (folds or the held-out adapter), the labels, the temperature and C."""
    folds, cal, head = ad.get("folds") or {}, ad.get("calibration") or {}, ad.get("head") or {}
    if ad["mode"] == "cross-validation":
        by = "speaker" if folds.get("grouped_by") == "speaker" else "file"
        how = _zh_en(
            lambda lang: t(
                "report_adapt_cv",
                lang,
                k=folds.get("k"),
                by=t(f"report_adapt_by_{by}", lang),
                groups=folds.get("groups"),
            )
        )
    else:
        how = (
            f"{esc(both('report_adapt_heldout'))} · {esc(both('report_adapt_adapter'))} "
            f"<code>{esc(ad.get('adapter_id'))}</code> ({esc(ad.get('adapter') or '')}), "
            f"{esc(both('report_adapt_trained'))} {esc(ad.get('adapter_created') or '')}"
        )
    kind = "custom" if ad.get("label_kind") == "custom" else "emotions"
    labels = ", ".join(_name(k) for k in ad.get("labels", []))
    if cal.get("fitted"):
        temp = f"{esc(both('report_adapt_temperature'))} T = {cal['temperature']:.3f}"
    else:
        temp = esc(both("report_adapt_no_calibration"))
    inner = head.get("inner_folds")
    chosen = both("report_adapt_c_inner", folds=inner) if inner else both("report_adapt_c_default")
    return (
        f"<p class='meta'>{how}<br>{esc(both('report_adapt_labels'))} "
        f"({esc(both(f'report_adapt_kind_{kind}'))}): {labels}<br>{temp} · "
        f"C = {esc(head.get('C'))} ({esc(chosen)})</p>"
    )


def _reading_head(shown: Sequence[str]) -> list[str]:
    """Column headers of the readings: `基础模型 / base`, …"""
    return [esc(f"{t(f'adapt_reading_{n}', 'zh')} / {n}") for n in shown]


def _readings_table(ad: dict, models: dict, shown: Sequence[str]) -> str:
    """Each headline metric per reading with its 95 % interval, and adapted − base with its own."""
    iv = ad.get("intervals") or {}
    ci = iv.get("readings", {})
    diff = iv.get("differences", {}).get("adapted", {})
    head = [esc(both("report_col_metric")), *_reading_head(shown)]
    if diff:
        head.append(esc(both("report_col_adapted_minus_base")))
    body = []
    for key, name, rate in _ADAPT_METRICS:
        row = [_label(name)]
        row += [_with_ci(models[n].get(key), ci.get(n, {}).get(key), rate) for n in shown]
        if diff:
            d = diff.get(key, {})
            row.append(_with_ci(d.get("value"), d.get("ci"), rate))
        body.append(row)
    return html_table(head, body, "page-table")


def _recall_table(ad: dict, models: dict, shown: Sequence[str]) -> str:
    """Recall of each label per reading, with its 95 % interval."""
    ci = (ad.get("intervals") or {}).get("readings", {})
    body = []
    for label in ad.get("labels", []):
        row = [_name(label)]
        for n in shown:
            r = next((c for c in models[n]["per_class"] if c["class"] == label), None)
            recall = ci.get(n, {}).get("recall", {}).get(label)
            row.append(_with_ci(r["recall"] if r else None, recall, True))
        body.append(row)
    return html_table([esc(both("report_col_class")), *(esc(n) for n in shown)], body, "page-table")


def _adaptation_bands_table(ad: dict, models: dict, shown: Sequence[str]) -> str:
    """Accuracy inside each confidence band per reading, with its 95 % interval and file count."""
    ci = (ad.get("intervals") or {}).get("readings", {})
    body = []
    for i, b in enumerate(models[shown[-1]]["bands"]):
        row = [f"{esc(b['zh'])} / {esc(b['en'])} ({esc(b['range'])})"]
        for n in shown:
            bn = models[n]["bands"][i]
            cell = _with_ci(bn["accuracy"], ci.get(n, {}).get("bands", {}).get(bn["band"]), True)
            row.append(f"{cell} <span class='small'>n={bn['n']}</span>")
        body.append(row)
    return html_table([esc(both("report_col_band")), *(esc(n) for n in shown)], body, "page-table")


def _stability_html(st: dict) -> str:
    changed = "" if st.get("same_manifest") else f" · ⚠ {esc(both('report_set_changed'))}"
    word = both("eval_passed") if st["passed"] else both("eval_failed")
    reasons = "".join(f"<br>• {esc(r)}" for r in st["reasons"])
    th = st["thresholds"]
    limits = {
        "flips": th["max_flip_rate"] * 100,
        "drift": th["max_drift"],
        "mean": th["max_mean_drift"],
        "drop": th["max_drop"] * 100,
        "failures": th["max_new_failures"],
    }
    out = [
        f"<h2>{esc(both('report_stability'))}</h2>",
        f"<p class='meta'>{esc(both('report_baseline'))}: <code>{esc(st['baseline'])}</code> "
        f"({esc(st.get('baseline_created', ''))}){changed}</p>",
        box(f"{esc(word)}{reasons}", "pass" if st["passed"] else "fail"),
        f"<p class='small'>{esc(t('report_thresholds', 'zh'))}：{esc(t('report_threshold_list', 'zh', **limits))}<br>"
        f"{esc(t('report_thresholds', 'en'))}: {esc(t('report_threshold_list', 'en', **limits))}</p>",
    ]
    body = []
    for m in st["models"]:
        d = m.get("deltas", {})
        body.append(
            [
                esc(m["model"]),
                m["compared"],
                len(m["flipped"]),
                _pct(m["flip_rate"]),
                _num(m["drift_mean"]),
                _num(m["drift_max"]),
                *(f"{d[k] * 100:+.1f}" if k in d else "–" for k in ("wa", "ua", "macro_f1", "ece")),
                len(m["newly_failed"]),
            ]
        )
    head = ["report_col_model", "report_col_compared", "report_col_flipped", "report_col_flip_rate"]
    head += [
        "report_col_mean_drift",
        "report_col_max_drift",
        "ΔWA",
        "ΔUA",
        "ΔF1",
        "ΔECE",
        "report_col_new_failures",
    ]
    out.append(_table(head, body))
    for m in st["models"]:
        if not m["flipped"]:
            continue
        out.append(f"<h3>{esc(both('report_flipped_files'))} · {esc(m['model'])}</h3>")
        rows = [
            [
                esc(f["id"]),
                _name(f["label"]),
                f"{_name(f['before'])} {_pct(f['before_confidence'])}",
                f"{_name(f['after'])} {_pct(f['after_confidence'])}",
                _num(f["drift"]),
            ]
            for f in m["flipped"][:500]
        ]
        out.append(
            _table(
                ["id", "report_col_reference", "report_col_before", "report_col_now", "report_col_drift"],
                rows,
            )
        )
        if len(m["flipped"]) > 500:
            out.append(
                f"<p class='small'>… {esc(both('report_more_flipped', n=len(m['flipped']) - 500))}</p>"
            )
    return "\n".join(out)


def _quality_html(q: dict) -> str:
    names = sorted(set(q["hits"]["metrics"]) | set(q["errors"]["metrics"]))
    body = []
    for n in names:
        h, e = q["hits"]["metrics"].get(n), q["errors"]["metrics"].get(n)
        info = h or e
        body.append(
            [
                f"{esc(info['zh'])} / {esc(info['en'])}",
                esc(info["unit"]),
                _num(h and h["mean"], 2),
                _num(e and e["mean"], 2),
                _pct(h and h["bad_share"]),
                _pct(e and e["bad_share"]),
            ]
        )
    verdicts = " · ".join(
        f"{g}: " + ", ".join(f"{k} {_pct(v)}" for k, v in q[g]["verdicts"].items())
        for g in ("hits", "errors")
    )
    head = ["report_col_metric", "report_col_unit", "report_col_hits_mean", "report_col_errors_mean"]
    return (
        f"<h3>{esc(both('report_quality'))}</h3>"
        f"<p class='small'>hits n={q['hits']['n']}, errors n={q['errors']['n']} · {esc(verdicts)}</p>"
        + _table([*head, "report_col_hits_bad", "report_col_errors_bad"], body)
    )


def _definitions() -> str:
    items = [
        ("WA", "report_def_wa"),
        ("UA", "report_def_ua"),
        ("Macro-F1", "report_def_f1"),
        ("ECE", "report_def_ece"),
        ("NLL / Brier", "report_def_nll"),
        ("", "report_def_bands"),
        ("", "report_def_drift"),
    ]
    lis = "".join(
        f"<li>{f'<b>{esc(name)}</b> ' if name else ''}{esc(t(key, 'zh'))} · {esc(t(key, 'en'))}</li>"
        for name, key in items
    )
    return f"<h2>{esc(both('report_definitions'))}</h2>\n<ul class='small'>{lis}</ul>"
