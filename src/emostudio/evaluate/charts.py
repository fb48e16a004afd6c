"""The charts of an evaluation report as PNG bytes, in the language asked for (`lang="zh"` or `"en"`).

Every chart is a pure function of metrics.json data, so a surface can draw a stored report again in its own
language (`report_charts`). Fonts, the lock and mathtext: `emostudio.render.charts`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np

from emostudio.messages import t
from emostudio.model.labels import emotion_name
from emostudio.render.charts import available, chart, figure

__all__ = [
    "available",
    "bands",
    "confusion",
    "history",
    "models",
    "per_class",
    "reliability",
    "report_charts",
]
CHARTS = ("confusion_matrix", "reliability", "per_class", "bands")  # per model, in this order
_METRIC_COLOURS = ("#4c78a8", "#f58518", "#54a24b")
_PALETTE = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#9d755d", "#bab0ac")


def _title(key: str, lang: str, model: str | None, **fmt) -> str:
    title = t(key, lang, **fmt)
    return t("chart_of_model", lang, title=title, model=model) if model else title


@chart
def confusion(
    labels: Sequence[str], matrix: Sequence[Sequence[int]], *, model: str | None = None, lang: str = "en"
):
    """Confusion matrix: rows = reference, columns = predicted; colour = share of the row, text = count (%)."""
    m = np.asarray(matrix, dtype=float)
    rows = m.sum(axis=1, keepdims=True)
    share = np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)
    k = len(labels)
    fig = figure(1.6 + 0.75 * k, 1.2 + 0.6 * k)
    ax = fig.add_subplot()
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    names = [emotion_name(x, lang, emoji=False) for x in labels]
    ax.set_xticks(range(k), names, rotation=40, ha="right")
    ax.set_yticks(range(k), names)
    ax.set_xlabel(t("chart_predicted", lang))
    ax.set_ylabel(t("chart_reference", lang))
    for i in range(k):
        for j in range(k):
            if m[i, j]:
                colour = "white" if share[i, j] > 0.55 else "black"
                text = f"{int(m[i, j])}\n{share[i, j] * 100:.0f}%"
                ax.text(j, i, text, ha="center", va="center", fontsize=7, color=colour)
    fig.colorbar(im, ax=ax, shrink=0.8, label=t("chart_row_share", lang))
    ax.set_title(_title("chart_confusion_title", lang, model))
    return fig


@chart
def reliability(bins: Sequence[dict], ece: float, *, model: str | None = None, lang: str = "en"):
    """Reliability diagram: accuracy vs mean confidence per equal-width bin, with the bin counts below."""
    fig = figure(5.2, 5.0)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    width = bins[0]["hi"] - bins[0]["lo"]
    centres = [(b["lo"] + b["hi"]) / 2 for b in bins]
    acc = [b["accuracy"] or 0.0 for b in bins]
    conf = [b["confidence"] if b["confidence"] is not None else c for b, c in zip(bins, centres, strict=True)]
    filled = [b["n"] > 0 for b in bins]
    xs = [c for c, f in zip(centres, filled, strict=True) if f]
    top.bar(
        xs,
        [a for a, f in zip(acc, filled, strict=True) if f],
        width=width * 0.95,
        color="#4c78a8",
        edgecolor="white",
        label=t("chart_accuracy", lang),
    )
    gap_lo = [min(a, cf) for a, cf, f in zip(acc, conf, filled, strict=True) if f]
    gap_h = [abs(cf - a) for a, cf, f in zip(acc, conf, filled, strict=True) if f]
    top.bar(
        xs,
        gap_h,
        bottom=gap_lo,
        width=width * 0.95,
        color="#e45756",
        alpha=0.35,
        hatch="//",
        edgecolor="#e45756",
        label=t("chart_gap", lang),
    )
    top.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label=t("chart_perfect", lang))
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.set_ylabel(t("chart_accuracy", lang))
    top.legend(loc="upper left", fontsize=7)
    top.set_title(_title("chart_reliability_title", lang, model, ece=ece * 100, bins=len(bins)))
    bottom.bar(centres, [b["n"] for b in bins], width=width * 0.95, color="#9d9d9d")
    bottom.set_ylabel(t("chart_files", lang))
    bottom.set_xlabel(t("chart_confidence_axis", lang))
    return fig


def _grouped_bars(ax, rows: Sequence[dict], metrics: Sequence[str], lang: str) -> None:
    """Three bars per row; a metric whose every row carries `<metric>_ci` ([lo, hi], 0-1) gets interval bars."""
    x = np.arange(len(rows))
    for j, (key, colour) in enumerate(zip(metrics, _METRIC_COLOURS, strict=True)):
        values = np.array([r.get(key) or 0.0 for r in rows], dtype=np.float64)
        cis = [r.get(f"{key}_ci") for r in rows]
        yerr = None
        if rows and all(ci is not None for ci in cis):
            bounds = np.array(cis, dtype=np.float64).reshape(len(rows), 2)
            yerr = np.clip(np.vstack([values - bounds[:, 0], bounds[:, 1] - values]), 0, None)
        label = t(f"chart_{key}", lang)
        ax.bar(x + (j - 1) * 0.27, values, width=0.27, label=label, color=colour, yerr=yerr, capsize=3)


@chart
def per_class(rows: Sequence[dict], *, model: str | None = None, lang: str = "en"):
    """Precision, recall and F1 of each class as grouped bars, support under the class name."""
    fig = figure(max(4.5, 1.0 + 0.9 * len(rows)), 3.6)
    ax = fig.add_subplot()
    _grouped_bars(ax, rows, ("precision", "recall", "f1"), lang)
    names = [
        t("chart_class_support", lang, name=emotion_name(r["class"], lang, emoji=False), n=r["support"])
        for r in rows
    ]
    ax.set_xticks(np.arange(len(rows)), names, rotation=30, ha="right")
    ax.set_ylim(0, 1)
    ax.legend(ncols=3, fontsize=7, loc="upper right")
    ax.set_title(_title("chart_per_class_title", lang, model))
    return fig


@chart
def bands(rows: Sequence[dict], *, model: str | None = None, lang: str = "en"):
    """Accuracy inside each confidence band against the confidence the band claims (shaded)."""
    fig = figure(5.6, 3.6)
    ax = fig.add_subplot()
    for i, r in enumerate(rows):
        ax.fill_between([i - 0.4, i + 0.4], r["lo"], r["hi"], color="#dddddd", zorder=0)
        if r["n"]:
            ax.bar(i, r["accuracy"], width=0.5, color="#4c78a8", zorder=2)
            label = t("chart_band_bar", lang, accuracy=r["accuracy"] * 100, n=r["n"])
            ax.text(i, r["accuracy"] + 0.02, label, ha="center", fontsize=7)
        else:
            ax.text(i, 0.02, t("chart_n", lang, n=0), ha="center", fontsize=7)
    ax.set_xticks(range(len(rows)), [f"{r['range']}\n{r[lang]}" for r in rows])
    ax.set_ylim(0, 1.08)
    ax.set_ylabel(t("chart_accuracy", lang))
    ax.set_title(_title("chart_bands_title", lang, model))
    return fig


@chart
def models(rows: Sequence[dict], *, lang: str = "en"):
    """WA, UA and macro-F1 of several models side by side (with 95 % interval bars when the rows carry
    `wa_ci`, `ua_ci`, `macro_f1_ci`)."""
    fig = figure(max(4.5, 1.5 + 1.2 * len(rows)), 3.4)
    ax = fig.add_subplot()
    _grouped_bars(ax, rows, ("wa", "ua", "macro_f1"), lang)
    names = [r["model"] if len(r["model"]) <= 28 else "…" + r["model"][-27:] for r in rows]
    ax.set_xticks(np.arange(len(rows)), names, rotation=20, ha="right")
    ax.set_ylim(0, 1)
    ax.legend(ncols=3, fontsize=7)
    ax.set_title(t("chart_models_title", lang))
    return fig


@chart
def history(entries: Sequence[dict], *, lang: str = "en"):
    """WA and UA of each model over the runs recorded for this test set (one line per model and metric)."""
    fig = figure(6.0, 3.4)
    ax = fig.add_subplot()
    by_model: dict[str, list[dict]] = {}
    for e in entries:
        by_model.setdefault(e["model"], []).append(e)
    for k, (name, runs) in enumerate(by_model.items()):
        runs = sorted(runs, key=lambda e: e["time"])
        times = [datetime.fromisoformat(e["time"]) for e in runs]
        short = name if len(name) <= 24 else "…" + name[-23:]
        colour = _PALETTE[k % len(_PALETTE)]
        for metric, marker, ls in (("wa", "o", "-"), ("ua", "s", "--")):
            label = t("chart_history_line", lang, metric=t(f"chart_{metric}", lang), model=short)
            ax.plot(
                times, [e.get(metric) for e in runs], marker=marker, ms=3, ls=ls, color=colour, label=label
            )
    stamps = [datetime.fromisoformat(e["time"]) for e in entries]
    if stamps and max(stamps) - min(stamps) < timedelta(
        minutes=10
    ):  # one run (or a burst): a readable window
        ax.set_xlim(min(stamps) - timedelta(minutes=30), max(stamps) + timedelta(minutes=30))
    ax.set_ylim(0, 1)
    ax.set_ylabel(t("chart_accuracy", lang))
    ax.legend(fontsize=7, loc="lower left")
    fig.autofmt_xdate()
    ax.set_title(t("chart_history_title", lang))
    return fig


def report_charts(doc: dict, timeline: Sequence[dict] = (), lang: str = "en") -> dict[str, bytes]:
    """Every chart of a metrics.json document as {file name: PNG bytes}: per model the CHARTS under the names
    recorded in `models[name]["charts"]`, `models.png` with several models, `history.png` for a history."""
    out: dict[str, bytes] = {}
    models_ = doc["models"]
    several = len(models_) > 1
    for name, m in models_.items():
        files = m.get("charts")
        if not m["n"] or not files:
            continue
        model = name if several else None
        cm = m["confusion"]
        out[files["confusion_matrix"]] = confusion(cm["labels"], cm["matrix"], model=model, lang=lang)
        out[files["reliability"]] = reliability(m["reliability"], m["ece"], model=model, lang=lang)
        out[files["per_class"]] = per_class(m["per_class"], model=model, lang=lang)
        out[files["bands"]] = bands(m["bands"], model=model, lang=lang)
    if several:
        out["models.png"] = models(doc["comparison"], lang=lang)
    if timeline:
        out["history.png"] = history(timeline, lang=lang)
    return out
