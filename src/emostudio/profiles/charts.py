"""Trend charts: a matplotlib PNG (emotion shares per period, the negative share against the alert line) and a
self-contained HTML page (the PNG inline, the table, the alert in zh and en; nothing loaded from elsewhere)."""

from __future__ import annotations

import base64
import html
import io

import numpy as np

from emostudio.embeddings import EMOTION_COLOURS
from emostudio.model.labels import BY_KEY, KEYS
from emostudio.profiles.analysis import Trend

COLOURS = EMOTION_COLOURS
_FONTS = (
    "DejaVu Sans",
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Microsoft YaHei",
    "PingFang SC",
    "WenQuanYi Zen Hei",
)


def _fonts() -> list[str]:
    """Installed fonts from _FONTS, so Chinese speaker ids render where a CJK font exists."""
    from matplotlib import font_manager

    have = {f.name for f in font_manager.fontManager.ttflist}
    return [f for f in _FONTS if f in have] or ["DejaVu Sans"]


def trend_png(trend: Trend, title: str | None = None) -> bytes:
    """PNG bytes: stacked emotion shares per period above, the negative share with the alert level below."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = trend.table
    x = np.arange(len(t))
    labels = t["period"].tolist()
    with plt.rc_context({"font.family": _fonts()}):  # a list: glyphs missing in one font come from the next
        fig, (top, bottom) = plt.subplots(
            2,
            1,
            figsize=(max(7.0, 0.55 * len(t) + 3), 7.0),
            sharex=True,
            gridspec_kw={"height_ratios": [3, 2]},
        )
        bottom_stack = np.zeros(len(t))
        for k in KEYS:
            share = t[f"share_{k}"].fillna(0).to_numpy() * 100
            if share.any():
                top.bar(x, share, bottom=bottom_stack, color=COLOURS[k], label=BY_KEY[k].en, width=0.8)
                bottom_stack += share
        top.set_ylabel("share of records (%)")
        top.set_ylim(0, 100)
        top.legend(fontsize=8, ncol=5, loc="upper center", bbox_to_anchor=(0.5, 1.22), frameon=False)
        for xi, n in zip(x, t["records"], strict=True):
            top.text(xi, 101, f"n={n}", ha="center", va="bottom", fontsize=7, color="#555")

        neg = t["negative_share"].to_numpy(dtype=float) * 100
        ok = ~np.isnan(neg)
        bottom.plot(
            x[ok], neg[ok], "o-", color="#d62728", label="negative share (angry+disgusted+fearful+sad)"
        )
        a = trend.alert
        if a.baseline_share is not None:
            bottom.axhline(
                a.baseline_share * 100, color="#555", ls=":", lw=1, label="baseline (earlier periods)"
            )
            level = (a.baseline_share + a.rule.threshold) * 100
            bottom.axhline(
                level, color="#d62728", ls="--", lw=1, label=f"alert above +{a.rule.threshold * 100:.0f} pts"
            )
            if len(t) >= a.rule.recent:
                bottom.axvspan(len(t) - a.rule.recent - 0.5, len(t) - 0.5, color="#f4cccc" if a.triggered else "#eee",
                               alpha=0.6, lw=0)  # fmt: skip
        bottom.set_ylabel("negative share (%)")
        bottom.set_ylim(0, 100)
        bottom.legend(fontsize=8, loc="upper left")
        bottom.set_xticks(x)
        bottom.set_xticklabels(labels, rotation=45, ha="right", fontsize=8)
        bottom.grid(alpha=0.3)
        state = {"alert": "ALERT: negative share rising", "ok": "no alert"}.get(
            a.status, "too little data to judge"
        )
        fig.suptitle(title or f"{trend.speaker} · emotion trend by {trend.by} · {state}", fontsize=11)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
        plt.close(fig)
    return buf.getvalue()


def trend_html(trend: Trend, png: bytes | None = None) -> str:
    """A self-contained HTML report: the chart as an inline PNG, the alert (zh/en) and the table."""
    png = png if png is not None else trend_png(trend)
    t = trend.table
    shown = [k for k in KEYS if t[f"share_{k}"].fillna(0).any()]
    head = "".join(
        f"<th>{html.escape(BY_KEY[k].emoji)} {html.escape(BY_KEY[k].zh)}<br>{BY_KEY[k].en}</th>"
        for k in shown
    )
    rows = []
    for _, r in t.iterrows():
        cells = "".join(
            "<td>–</td>" if np.isnan(r[f"share_{k}"]) else f"<td>{r[f'share_{k}'] * 100:.0f}%</td>"
            for k in shown
        )
        neg = "–" if np.isnan(r["negative_share"]) else f"{r['negative_share'] * 100:.0f}%"
        rows.append(
            f"<tr><td>{html.escape(r['period'])}</td><td>{r['records']}</td>{cells}<td><b>{neg}</b></td></tr>"
        )
    a = trend.alert
    cls = "alert" if a.triggered else "ok"
    return f"""<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>{html.escape(trend.speaker)} · emotion trend</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;color:#222}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}td:first-child{{text-align:left}}
.alert{{background:#fde2e2;border-left:4px solid #d62728;padding:.6rem}}.ok{{background:#eef6ee;border-left:4px solid
#2ca02c;padding:.6rem}}img{{max-width:100%}}</style></head><body>
<h1>情感趋势 / Emotion trend: {html.escape(trend.speaker)}</h1>
<p>model {html.escape(trend.model_id)} · by {html.escape(trend.by)} · time zone {html.escape(trend.tz)}</p>
<div class="{cls}"><p>{html.escape(a.message.get("zh", ""))}</p><p>{html.escape(a.message.get("en", ""))}</p></div>
<p><img alt="emotion trend chart" src="data:image/png;base64,{base64.b64encode(png).decode()}"></p>
<table><tr><th>period</th><th>records</th>{head}<th>负面 negative</th></tr>
{"".join(rows)}</table>
<p><small>Shares are the fraction of records whose top emotion is each class. Negative = angry + disgusted + fearful +
sad. Alert rule: mean negative share of the last {a.rule.recent} periods exceeds that of the earlier periods by more
than {a.rule.threshold * 100:.0f} points (periods with fewer than {a.rule.min_records} records are not judged).</small></p>
</body></html>
"""
