"""The charts of an evaluation report as PNG bytes (matplotlib, Agg; no pyplot state, safe in worker threads).

Class names are drawn as `愤怒 Angry` when a CJK font is installed, else in English only.
Needs matplotlib (a dependency of emostudio); `available()` says whether it is importable.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np

from emostudio.evaluate.page import CHARTS
from emostudio.evaluate.report import chart_file
from emostudio.model.labels import BY_KEY

_LOCK = threading.Lock()  # rc_context changes matplotlib's global rcParams while a chart is drawn
_CJK_PREFERRED = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "Noto Serif CJK SC",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
)
_cjk_font: str | None | bool = False  # False: not looked up yet


def available() -> bool:
    """True when matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def cjk_font() -> str | None:
    """Name of an installed font with Chinese glyphs, or None."""
    global _cjk_font
    if _cjk_font is False:
        from matplotlib import font_manager

        names = {f.name for f in font_manager.fontManager.ttflist}
        _cjk_font = next((n for n in _CJK_PREFERRED if n in names), None) or next(
            (n for n in sorted(names) if "CJK" in n), None
        )
    return _cjk_font if isinstance(_cjk_font, str) else None


def class_name(key: str) -> str:
    """`愤怒 Angry` (or `Angry` without a CJK font); a custom label as it is."""
    e = BY_KEY.get(key)
    if e is None:
        return key
    return f"{e.zh} {e.en}" if cjk_font() else e.en


def _figure(width_in: float, height_in: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width_in, height_in), dpi=110, layout="constrained")


def _png(fig) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def _draw(fn):
    """Run a drawing function under the chart font settings (one chart at a time)."""

    def wrapper(*args, **kwargs) -> bytes:
        import matplotlib

        families = ["DejaVu Sans"] + ([cjk_font()] if cjk_font() else [])
        with (
            _LOCK,
            # parse_math off: a label or model name with `$` is text, never mathtext (`$\foo$` would not draw)
            matplotlib.rc_context(
                {
                    "font.family": families,
                    "font.size": 9,
                    "svg.hashsalt": "emostudio",
                    "text.parse_math": False,
                }
            ),
        ):
            return _png(fn(*args, **kwargs))

    wrapper.__doc__ = fn.__doc__
    wrapper.__name__ = fn.__name__
    return wrapper


@_draw
def confusion(labels: Sequence[str], matrix: Sequence[Sequence[int]], title: str = ""):
    """Confusion matrix: rows = reference, columns = predicted; colour = share of the row, text = count (%)."""
    m = np.asarray(matrix, dtype=float)
    rows = m.sum(axis=1, keepdims=True)
    share = np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)
    k = len(labels)
    fig = _figure(1.6 + 0.75 * k, 1.2 + 0.6 * k)
    ax = fig.add_subplot()
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    names = [class_name(x) for x in labels]
    ax.set_xticks(range(k), names, rotation=40, ha="right")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("reference")
    for i in range(k):
        for j in range(k):
            if m[i, j]:
                ax.text(
                    j,
                    i,
                    f"{int(m[i, j])}\n{share[i, j] * 100:.0f}%",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if share[i, j] > 0.55 else "black",
                )
    fig.colorbar(im, ax=ax, shrink=0.8, label="share of the reference class")
    ax.set_title(title or "Confusion matrix")
    return fig


@_draw
def reliability(bins: Sequence[dict], ece: float, title: str = ""):
    """Reliability diagram: accuracy vs mean confidence per equal-width bin, with the bin counts below."""
    fig = _figure(5.2, 5.0)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    width = bins[0]["hi"] - bins[0]["lo"]
    centres = [(b["lo"] + b["hi"]) / 2 for b in bins]
    acc = [b["accuracy"] or 0.0 for b in bins]
    conf = [b["confidence"] if b["confidence"] is not None else c for b, c in zip(bins, centres, strict=True)]
    filled = [b["n"] > 0 for b in bins]
    top.bar(
        [c for c, f in zip(centres, filled, strict=True) if f],
        [a for a, f in zip(acc, filled, strict=True) if f],
        width=width * 0.95,
        color="#4c78a8",
        edgecolor="white",
        label="accuracy",
    )
    gap_x = [c for c, f in zip(centres, filled, strict=True) if f]
    gap_lo = [min(a, cf) for a, cf, f in zip(acc, conf, filled, strict=True) if f]
    gap_h = [abs(cf - a) for a, cf, f in zip(acc, conf, filled, strict=True) if f]
    top.bar(
        gap_x,
        gap_h,
        bottom=gap_lo,
        width=width * 0.95,
        color="#e45756",
        alpha=0.35,
        hatch="//",
        edgecolor="#e45756",
        label="gap to mean confidence",
    )
    top.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="perfect calibration")
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.set_ylabel("accuracy")
    top.legend(loc="upper left", fontsize=7)
    top.set_title(title or f"Reliability diagram (ECE {ece * 100:.1f} %, {len(bins)} bins)")
    bottom.bar(centres, [b["n"] for b in bins], width=width * 0.95, color="#9d9d9d")
    bottom.set_ylabel("files")
    bottom.set_xlabel("confidence (top-class probability)")
    return fig


@_draw
def per_class(rows: Sequence[dict], title: str = ""):
    """Precision, recall and F1 of each class as grouped bars, support under the class name."""
    k = len(rows)
    fig = _figure(max(4.5, 1.0 + 0.9 * k), 3.6)
    ax = fig.add_subplot()
    x = np.arange(k)
    for j, (key, colour) in enumerate((("precision", "#4c78a8"), ("recall", "#f58518"), ("f1", "#54a24b"))):
        ax.bar(x + (j - 1) * 0.27, [r[key] for r in rows], width=0.27, label=key, color=colour)
    ax.set_xticks(x, [f"{class_name(r['class'])}\n(n={r['support']})" for r in rows], rotation=30, ha="right")
    ax.set_ylim(0, 1)
    ax.legend(ncols=3, fontsize=7, loc="upper right")
    ax.set_title(title or "Per-class precision / recall / F1")
    return fig


@_draw
def bands(rows: Sequence[dict], title: str = ""):
    """Accuracy inside each confidence band against the confidence the band claims (shaded)."""
    fig = _figure(5.6, 3.6)
    ax = fig.add_subplot()
    for i, r in enumerate(rows):
        ax.fill_between([i - 0.4, i + 0.4], r["lo"], r["hi"], color="#dddddd", zorder=0)
        if r["n"]:
            ax.bar(i, r["accuracy"], width=0.5, color="#4c78a8", zorder=2)
            ax.text(
                i, r["accuracy"] + 0.02, f"{r['accuracy'] * 100:.0f}% (n={r['n']})", ha="center", fontsize=7
            )
        else:
            ax.text(i, 0.02, "n=0", ha="center", fontsize=7)
    names = [f"{r['range']}\n" + (f"{r['zh']}\n" if cjk_font() else "") + r["en"] for r in rows]
    ax.set_xticks(range(len(rows)), names)
    ax.set_ylim(0, 1.08)
    ax.set_ylabel("accuracy")
    ax.set_title(title or "Accuracy per confidence band (grey: the band's range)")
    return fig


@_draw
def models(rows: Sequence[dict], title: str = ""):
    """WA, UA and macro-F1 of several models side by side (with 95 % interval bars when rows carry `wa_ci` …)."""
    k = len(rows)
    fig = _figure(max(4.5, 1.5 + 1.2 * k), 3.4)
    ax = fig.add_subplot()
    x = np.arange(k)
    for j, (key, colour) in enumerate((("wa", "#4c78a8"), ("ua", "#f58518"), ("macro_f1", "#54a24b"))):
        values = np.array([r.get(key) or 0.0 for r in rows])
        cis = [r.get(f"{key}_ci") for r in rows]  # [lo, hi] 95 % intervals, when the rows carry them
        yerr = None
        if all(ci is not None for ci in cis):
            bounds = np.array(cis, dtype=np.float64).reshape(k, 2)
            yerr = np.clip(np.vstack([values - bounds[:, 0], bounds[:, 1] - values]), 0, None)
        ax.bar(x + (j - 1) * 0.27, values, width=0.27, label=key, color=colour, yerr=yerr, capsize=3)
    ax.set_xticks(
        x,
        [r["model"] if len(r["model"]) <= 28 else "…" + r["model"][-27:] for r in rows],
        rotation=20,
        ha="right",
    )
    ax.set_ylim(0, 1)
    ax.legend(ncols=3, fontsize=7)
    ax.set_title(title or "Models side by side")
    return fig


@_draw
def history(entries: Sequence[dict], title: str = ""):
    """WA and UA of each model over the runs recorded for this test set (one line per model and metric)."""
    fig = _figure(6.0, 3.4)
    ax = fig.add_subplot()
    by_model: dict[str, list[dict]] = {}
    for e in entries:
        by_model.setdefault(e["model"], []).append(e)
    palette = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#9d755d", "#bab0ac")
    for k, (name, runs) in enumerate(by_model.items()):
        runs = sorted(runs, key=lambda e: e["time"])
        times = [datetime.fromisoformat(e["time"]) for e in runs]
        short = name if len(name) <= 24 else "…" + name[-23:]
        colour = palette[k % len(palette)]
        ax.plot(times, [e.get("wa") for e in runs], marker="o", ms=3, color=colour, label=f"WA · {short}")
        ax.plot(
            times, [e.get("ua") for e in runs], marker="s", ms=3, ls="--", color=colour, label=f"UA · {short}"
        )
    stamps = [datetime.fromisoformat(e["time"]) for e in entries]
    if stamps and max(stamps) - min(stamps) < timedelta(
        minutes=10
    ):  # one run (or a burst): a readable window
        ax.set_xlim(min(stamps) - timedelta(minutes=30), max(stamps) + timedelta(minutes=30))
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy")
    ax.legend(fontsize=7, loc="lower left")
    fig.autofmt_xdate()
    ax.set_title(title or "Accuracy over time on this test set")
    return fig


def report_charts(doc: dict, timeline: Sequence[dict] = ()) -> dict[str, bytes]:
    """Every chart of a report document (metrics.json) as {file name: PNG bytes}; records the names in `doc`.

    Per model with files: confusion matrix, reliability, per class, bands; `models.png` when several models
    (with 95 % interval bars when the comparison rows carry `<metric>_ci`); `history.png` for a timeline.
    """
    out: dict[str, bytes] = {}
    per_model = doc["models"]
    for i, (name, m) in enumerate(per_model.items()):
        if not m["n"]:
            continue
        title = f" · {name}" if len(per_model) > 1 else ""
        files = {c: chart_file(c, i, len(per_model)) for c in CHARTS}
        out[files["confusion_matrix"]] = confusion(
            m["confusion"]["labels"], m["confusion"]["matrix"], "Confusion matrix" + title
        )
        out[files["reliability"]] = reliability(
            m["reliability"],
            m["ece"],
            f"Reliability (ECE {m['ece'] * 100:.1f} %, {m['ece_bins']} bins){title}",
        )
        out[files["per_class"]] = per_class(m["per_class"], "Precision / recall / F1 per class" + title)
        out[files["bands"]] = bands(m["bands"], "Accuracy per confidence band" + title)
        m["charts"] = files
    if len(per_model) > 1:
        out["models.png"] = models(doc["comparison"])
        doc["files"]["models_chart"] = "models.png"
    if timeline:
        out["history.png"] = history(timeline)
        doc["files"]["history_chart"] = "history.png"
    return out
