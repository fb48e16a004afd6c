"""report.html: one self-contained page (zh / en) for a metrics.json document and its chart PNGs.

Charts are inline `data:` PNGs; there are no scripts, fonts or anything else to load, so the page works offline
and can be served with `Content-Security-Policy: default-src 'none'; img-src data:; style-src 'unsafe-inline'`.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path

from emostudio.model.labels import display_name

CHARTS = ("confusion_matrix", "reliability", "per_class", "bands")


def _e(x) -> str:
    return html.escape(str(x))


def _pct(x, digits: int = 1) -> str:
    return "–" if x is None else f"{x * 100:.{digits}f}%"


def _num(x, digits: int = 4) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _name(key: str) -> str:
    return display_name(key)


def _img(data: bytes | None, alt: str) -> str:
    if not data:
        return ""
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{base64.b64encode(data).decode()}">'


def _table(head: Sequence[str], body: Sequence[Sequence], cls: str = "") -> str:
    th = "".join(f"<th>{h}</th>" for h in head)
    tr = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in body)
    return f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{tr}</tbody></table>'


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;
max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}th,td{border:1px solid #ddd;padding:.25em .6em;
text-align:right}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
.meta{color:#555;font-size:.9em}.warn{background:#fff4d6;border:1px solid #e6c25a;padding:.5em .8em}
.fail{background:#fde2e1;border:1px solid #d9534f;padding:.5em .8em}.pass{background:#e3f4e1;
border:1px solid #5cb85c;padding:.5em .8em}.charts{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}
.charts img{max-width:100%;border:1px solid #eee}.small{font-size:.85em;color:#555}code{font-size:.9em}
"""


def render_html(doc: dict, charts: dict[str, bytes]) -> str:
    """The self-contained report page for a metrics.json document and its chart PNGs."""
    man = doc["manifest"]
    models = doc["models"]
    title = _ADAPT_TITLES.get(doc.get("adaptation", {}).get("mode"), ("评测报告", "Evaluation report"))
    parts = [
        "<!doctype html><html lang='zh'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        f"<title>{title[0]} / {title[1]} · {_e(Path(man['source']).name)}</title><style>{CSS}</style></head><body>",
        f"<h1>🎭 {title[0]} / {title[1]}</h1>",
        "<p class='meta'>"
        f"测试集 / test set: <code>{_e(man['source'])}</code> ({_e(man['kind'])}) · "
        f"指纹 / fingerprint <code>{_e(man['fingerprint'][:16])}</code><br>"
        f"时间 / time: {_e(doc['created'])} · 类别 / classes: {_e(doc['classes'])} "
        f"({', '.join(_e(_name(k)) for k in doc['class_keys'])})<br>"
        f"行数 / rows: {man['rows']} · 已评测 / evaluated: {doc['evaluated']} · "
        f"未评测 / not evaluated: {len(doc['bad_rows'])} · 不在所选类别 / outside the classes: {man['excluded']}"
        "</p>",
    ]
    if any(m["model"].get("is_random") for m in models.values()):
        parts.append(
            "<p class='warn'>⚠ 随机权重模型：得分没有意义 / random weights: scores are meaningless</p>"
        )
    status = doc["status"]
    cls = "pass" if status["code"] == 0 else ("warn" if status["code"] == 1 else "fail")
    parts.append(
        f"<p class='{cls}'><b>退出码 / exit code {status['code']}</b>: {_e(status['zh'])} / {_e(status['en'])}"
        + "".join(f"<br>• {_e(r)}" for r in status["reasons"])
        + "</p>"
    )

    parts.append("<h2>总览 / Summary</h2>")
    head = [
        "模型 / model",
        "精度 dtype",
        "n",
        "WA 准确率",
        "UA 平均召回",
        "Macro-F1",
        f"ECE ({doc['ece_bins']} bins)",
        "NLL",
        "Brier",
        "失败 / failed",
    ]
    body = [
        [
            f"<b>{_e(name)}</b><br><span class='small'>{_e(m['model'].get('id', ''))}</span>",
            _e(m["model"].get("dtype")),
            m["n"],
            _pct(m["wa"]),
            _pct(m["ua"]),
            _pct(m["macro_f1"]),
            _pct(m["ece"]),
            _num(m.get("nll"), 3),
            _num(m.get("brier"), 3),
            m["failed"],
        ]
        for name, m in models.items()
    ]
    parts.append(_table(head, body))
    if "models.png" in charts:
        parts.append(f"<div class='charts'>{_img(charts['models.png'], 'models')}</div>")

    if doc.get("adaptation"):
        parts.append(_adaptation_html(doc))
    if doc.get("stability"):
        parts.append(_stability_html(doc["stability"]))

    for name, m in models.items():
        parts.append(f"<h2>模型 / Model: {_e(name)}</h2>")
        info = m["model"]
        parts.append(
            f"<p class='meta'>{_e(info.get('id'))} · {_e(info.get('device'))} · {_e(info.get('dtype'))}"
            f" · {_e(info.get('source'))}</p>"
        )
        if not m["n"]:
            parts.append("<p class='fail'>没有可评测的文件 / no file could be evaluated with this model</p>")
            continue
        files = m.get("charts", {})
        parts.append(
            "<div class='charts'>" + "".join(_img(charts.get(files.get(c, "")), c) for c in CHARTS) + "</div>"
        )
        parts.append("<h3>每类指标 / Per class</h3>")
        parts.append(
            _table(
                [
                    "类别 / class",
                    "精确率 precision",
                    "召回率 recall",
                    "F1",
                    "样本 support",
                    "预测数 predicted",
                ],
                [
                    [
                        _e(_name(r["class"])),
                        _pct(r["precision"]),
                        _pct(r["recall"]),
                        _pct(r["f1"]),
                        r["support"],
                        r["predicted"],
                    ]
                    for r in m["per_class"]
                ],
            )
        )
        labels = m["confusion"]["labels"]
        parts.append(
            "<h3>混淆矩阵 / Confusion matrix <span class='small'>(行 = 参考标签 / rows = reference, "
            "列 = 预测 / columns = predicted)</span></h3>"
        )
        parts.append(
            _table(
                [""] + [_e(_name(k)) for k in labels],
                [[_e(_name(k)), *row] for k, row in zip(labels, m["confusion"]["matrix"], strict=True)],
            )
        )
        parts.append("<h3>置信度区间的准确率 / Accuracy per confidence band</h3>")
        parts.append(
            _table(
                [
                    "区间 / band",
                    "范围 / range",
                    "n",
                    "占比 / share",
                    "准确率 / accuracy",
                    "平均置信度 / mean confidence",
                ],
                [
                    [
                        f"{_e(b['zh'])} / {_e(b['en'])}",
                        _e(b["range"]),
                        b["n"],
                        _pct(b["share"]),
                        _pct(b["accuracy"]),
                        _pct(b["mean_confidence"]),
                    ]
                    for b in m["bands"]
                ],
            )
        )
        parts.append(
            f"<p class='small'>ECE {_pct(m['ece'], 2)} · MCE {_pct(m['mce'], 2)} · "
            f"{m['ece_bins']} 等宽区间 / equal-width bins on the top-class probability</p>"
        )
        if m.get("speakers"):
            parts.append("<h3>每位说话人 / Per speaker</h3>")
            parts.append(
                _table(
                    ["说话人 / speaker", "n", "准确率 WA", "UA"],
                    [
                        [_e(s["speaker"] or "(无 / none)"), s["n"], _pct(s["accuracy"]), _pct(s["ua"])]
                        for s in m["speakers"]
                    ],
                )
            )
        if m.get("quality"):
            parts.append(_quality_html(m["quality"]))

    if "history.png" in charts or doc.get("history", {}).get("runs"):
        parts.append("<h2>随时间的准确率 / Accuracy over time</h2>")
        h = doc.get("history", {})
        parts.append(
            f"<p class='small'>{h.get('runs', 0)} 次运行记录 / runs recorded in <code>{_e(h.get('file', ''))}"
            "</code></p>"
        )
        parts.append(f"<div class='charts'>{_img(charts.get('history.png'), 'history')}</div>")

    if doc["bad_rows"]:
        parts.append("<h2>未评测的行 / Rows not evaluated</h2>")
        parts.append(
            _table(
                ["位置 / where", "代码 / code", "说明 / message"],
                [[_e(b["where"]), _e(b["code"]), _e(b["message"])] for b in doc["bad_rows"]],
            )
        )
    parts.append(DEFINITIONS)
    parts.append("</body></html>")
    return "\n".join(parts)


_ADAPT_TITLES = {
    "cross-validation": ("适配报告（交叉验证）", "Adaptation report (cross-validated)"),
    "held-out": ("适配器评测（留出集）", "Adapter evaluation (held-out set)"),
}
_ADAPT_METRICS = (("ua", "UA 平均召回", True), ("wa", "WA 准确率", True), ("macro_f1", "Macro-F1", True),
                  ("ece", "ECE", True), ("nll", "NLL", False), ("brier", "Brier", False))  # fmt: skip


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
    names = ("base", "calibrated", "adapted")
    iv = ad.get("intervals") or {}
    ci = iv.get("readings", {})
    diff = iv.get("differences", {}).get("adapted", {})
    cal = ad.get("calibration") or {}
    head = ad.get("head") or {}
    folds = ad.get("folds") or {}
    out = ["<h2>适配前后 / Before and after adaptation</h2>"]
    if ad["mode"] == "cross-validation":
        how = (
            f"{folds.get('k')} 折交叉验证，按{'说话人' if folds.get('grouped_by') == 'speaker' else '录音'}分组；"
            "每个预测都来自没有见过该文件的温度与分类头 / "
            f"{folds.get('k')}-fold cross-validation grouped by {_e(folds.get('grouped_by'))} "
            f"({folds.get('groups')} groups): every prediction comes from a temperature and head fitted without that "
            "file"
        )
    else:
        how = (
            f"留出集 / held-out set · 适配器 / adapter <code>{_e(ad.get('adapter_id'))}</code> "
            f"({_e(ad.get('adapter') or '')}), 训练于 / trained {_e(ad.get('adapter_created') or '')}"
        )
    temp = (
        f"温度 / temperature T = {cal['temperature']:.3f}"
        if cal.get("fitted")
        else "未校准 / no calibration (custom labels)"
    )
    out.append(
        f"<p class='meta'>{how}<br>标签 / labels ({_e(ad.get('label_kind'))}): "
        f"{', '.join(_e(_name(k)) for k in ad.get('labels', []))}<br>{temp} · "
        f"C = {_e(head.get('C'))} ({_e(head.get('chosen_by', ''))})</p>"
    )
    if not ad.get("base_applicable"):
        out.append(f"<p class='warn'>{_e(ad.get('base_note'))}</p>")
    for w in ad.get("warnings") or []:
        out.append(f"<p class='warn'>⚠ {_e(w)}</p>")
    shown = [n for n in names if n in models]
    head_row = ["指标 / metric", *(f"{_e(models[n]['model'].get('zh', ''))} / {_e(n)}" for n in shown)]
    if diff:
        head_row.append("适配 − 基础 / adapted − base")
    body = []
    for key, text, rate in _ADAPT_METRICS:
        row = [text, *(_with_ci(models[n].get(key), ci.get(n, {}).get(key), rate) for n in shown)]
        if diff:
            d = diff.get(key, {})
            row.append(_with_ci(d.get("value"), d.get("ci"), rate))
        body.append(row)
    out.append(_table(head_row, body))
    labels = ad.get("labels", [])
    out.append("<h3>每类召回率 / Recall per class</h3>")
    rec_rows = []
    for lab in labels:
        row = [_e(_name(lab))]
        for n in shown:
            r = next((c for c in models[n]["per_class"] if c["class"] == lab), None)
            row.append(_with_ci(r["recall"] if r else None, ci.get(n, {}).get("recall", {}).get(lab), True))
        rec_rows.append(row)
    out.append(_table(["类别 / class", *(_e(n) for n in shown)], rec_rows))
    out.append("<h3>置信度区间的准确率 / Accuracy per confidence band</h3>")
    band_rows = []
    for i, b in enumerate(models[shown[-1]]["bands"]):
        row = [f"{_e(b['zh'])} / {_e(b['en'])} ({_e(b['range'])})"]
        for n in shown:
            bn = models[n]["bands"][i]
            cell = _with_ci(bn["accuracy"], ci.get(n, {}).get("bands", {}).get(bn["band"]), True)
            row.append(f"{cell} <span class='small'>n={bn['n']}</span>")
        band_rows.append(row)
    out.append(_table(["区间 / band", *(_e(n) for n in shown)], band_rows))
    out.append(
        f"<p class='small'>[…] 95 % 区间：{_e(iv.get('method', ''))}，{iv.get('n_boot', 0)} 次重采样；反映换一批类似文件时"
        "数字的变化，不含重新训练的变化 / 95 % intervals by "
        f"{_e(iv.get('method', ''))} ({iv.get('n_boot', 0)} resamples): how much the numbers would move on "
        "another set of files like these, for these predictions (retraining the head adds more). "
        "base = 模型自身得分 the model's own scores · calibrated = 温度校准后 after temperature scaling (same "
        "arg-max: same accuracy, only the confidence moves) · adapted = 在你的标签上训练的分类头 the head trained "
        "on your labels.</p>"
    )
    return "\n".join(out)


def _stability_html(st: dict) -> str:
    cls = "pass" if st["passed"] else "fail"
    out = [
        "<h2>稳定性 / Stability against the baseline</h2>",
        f"<p class='meta'>基线 / baseline: <code>{_e(st['baseline'])}</code> ({_e(st.get('baseline_created', ''))})"
        + (
            ""
            if st.get("same_manifest")
            else " · ⚠ 测试集已改变，仅比较共同文件 / the test set changed: only common files are compared"
        )
        + "</p>",
        f"<p class='{cls}'>{'通过 / passed' if st['passed'] else '未通过 / failed'}"
        + "".join(f"<br>• {_e(r)}" for r in st["reasons"])
        + "</p>",
    ]
    t = st["thresholds"]
    out.append(
        f"<p class='small'>阈值 / thresholds: flips ≤ {t['max_flip_rate'] * 100:g}% · max drift ≤ "
        f"{t['max_drift']:g} · mean drift ≤ {t['max_mean_drift']:g} · metric drop ≤ {t['max_drop'] * 100:g}"
        f" points · new failures ≤ {t['max_new_failures']}</p>"
    )
    body = []
    for m in st["models"]:
        d = m.get("deltas", {})
        body.append(
            [
                _e(m["model"]),
                m["compared"],
                len(m["flipped"]),
                _pct(m["flip_rate"]),
                _num(m["drift_mean"]),
                _num(m["drift_max"]),
                *(f"{d[k] * 100:+.1f}" if k in d else "–" for k in ("wa", "ua", "macro_f1", "ece")),
                len(m["newly_failed"]),
            ]
        )
    out.append(
        _table(
            [
                "模型 / model",
                "比较 / compared",
                "翻转 / flipped",
                "翻转率 / flip rate",
                "平均漂移 / mean drift",
                "最大漂移 / max drift",
                "ΔWA",
                "ΔUA",
                "ΔF1",
                "ΔECE",
                "新失败 / new failures",
            ],
            body,
        )
    )
    for m in st["models"]:
        if m["flipped"]:
            out.append(f"<h3>标签翻转的文件 / Files whose label flipped · {_e(m['model'])}</h3>")
            out.append(
                _table(
                    ["id", "参考 / reference", "之前 / before", "现在 / now", "漂移 / drift"],
                    [
                        [
                            _e(f["id"]),
                            _e(_name(f["label"])),
                            f"{_e(_name(f['before']))} {_pct(f['before_confidence'])}",
                            f"{_e(_name(f['after']))} {_pct(f['after_confidence'])}",
                            _num(f["drift"]),
                        ]
                        for f in m["flipped"][:500]
                    ],
                )
            )
            if len(m["flipped"]) > 500:
                out.append(f"<p class='small'>… {len(m['flipped']) - 500} more in metrics.json</p>")
    return "\n".join(out)


def _quality_html(q: dict) -> str:
    names = sorted(set(q["hits"]["metrics"]) | set(q["errors"]["metrics"]))
    body = []
    for n in names:
        h, e = q["hits"]["metrics"].get(n), q["errors"]["metrics"].get(n)
        info = h or e
        body.append(
            [
                f"{_e(info['zh'])} / {_e(info['en'])}",
                _e(info["unit"]),
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
    return (
        "<h3>音频质量：错误 vs 正确 / Audio quality of errors vs hits</h3>"
        f"<p class='small'>hits n={q['hits']['n']}, errors n={q['errors']['n']} · {_e(verdicts)}</p>"
        + _table(
            [
                "指标 / metric",
                "单位 / unit",
                "正确均值 / hits mean",
                "错误均值 / errors mean",
                "正确中差 / hits bad",
                "错误中差 / errors bad",
            ],
            body,
        )
    )


DEFINITIONS = """
<h2>指标说明 / Definitions</h2>
<ul class='small'>
<li><b>WA</b> 加权准确率 = 正确数 / 总数 · weighted accuracy = correct / all files.</li>
<li><b>UA</b> 非加权准确率 = 各参考类别召回率的平均 · unweighted accuracy = mean recall over the reference classes.</li>
<li><b>Macro-F1</b> 各类 F1 的平均（参考或预测中出现的类别）· mean F1 over the classes in the references or predictions.</li>
<li><b>ECE</b> 期望校准误差：按置信度等宽分箱，Σ 箱占比 × |准确率 − 平均置信度| · expected calibration error over
equal-width bins of the top-class probability; <b>MCE</b> the largest bin gap.</li>
<li><b>NLL</b> 参考类别概率的平均负对数 · mean negative log-probability of the reference class;
<b>Brier</b> Σ (p − one-hot)² averaged over files.</li>
<li>置信度区间 / confidence bands: &gt;80 % 置信度高 confident, 60–80 % 倾向性判断 leaning, &lt;60 % 不确定 uncertain.</li>
<li>稳定性 / stability: 漂移 = 每个文件 9 个得分的最大绝对变化 · drift = largest |Δ| of a file's 9 scores.</li>
</ul>
"""
