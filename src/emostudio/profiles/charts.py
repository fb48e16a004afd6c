"""Trend charts: a matplotlib PNG in the language asked for (emotion shares per period, the negative share
against the alert line) and a self-contained HTML page (the PNG inline, the table, the alert in zh and en;
nothing loaded from elsewhere). Fonts, the lock and literal text: `emostudio.render.charts`."""

from __future__ import annotations

import base64

import numpy as np

from emostudio.messages import both, t
from emostudio.model.labels import BY_KEY, COLOURS, KEYS, emotion_name
from emostudio.profiles.analysis import Trend
from emostudio.render.charts import chart, figure
from emostudio.render.html import box, esc, page, table

_STATE = {"alert": "chart_trend_state_alert", "ok": "chart_trend_state_ok"}


def trend_png(trend: Trend, title: str | None = None, lang: str = "en") -> bytes:
    """PNG bytes: stacked emotion shares per period above, the negative share with the alert level below."""
    return _trend_chart(trend, title, lang=lang)


MAX_WIDTH_IN = 14.0  # inches: wider pictures are shrunk by the page until nothing can be read
MAX_LABELS = 20  # periods named on the x axis at most (and "n=" counts over the bars)


@chart
def _trend_chart(trend: Trend, title: str | None, *, lang: str):
    tab = trend.table
    x = np.arange(len(tab))
    # a long run of days stays a readable picture: the width is capped and the labels thinned (every
    # `step`-th period named) instead of a 30-inch figure shrunk to the page
    width = min(max(7.0, 0.55 * len(tab) + 3), MAX_WIDTH_IN)
    step = max(1, -(-len(tab) // MAX_LABELS))
    fig = figure(width, 7.0, layout="tight")
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    stack = np.zeros(len(tab))
    for k in KEYS:
        share = tab[f"share_{k}"].fillna(0).to_numpy() * 100
        if share.any():
            label = emotion_name(k, lang, emoji=False)
            top.bar(x, share, bottom=stack, color=COLOURS[k], label=label, width=0.8)
            stack += share
    top.set_ylabel(t("chart_share_axis", lang))
    top.set_ylim(0, 100)
    top.legend(fontsize=8, ncol=5, loc="upper center", bbox_to_anchor=(0.5, 1.22), frameon=False)
    for xi, n in list(zip(x, tab["records"], strict=True))[::step]:
        top.text(xi, 101, t("chart_n", lang, n=n), ha="center", va="bottom", fontsize=7, color="#555")
    neg = tab["negative_share"].to_numpy(dtype=float) * 100
    ok = ~np.isnan(neg)
    bottom.plot(x[ok], neg[ok], "o-", color="#d62728", label=t("chart_negative_line", lang))
    a = trend.alert
    if a.baseline_share is not None:
        bottom.axhline(
            a.baseline_share * 100, color="#555", ls=":", lw=1, label=t("chart_baseline_line", lang)
        )
        level = (a.baseline_share + a.rule.threshold) * 100
        alert_label = t("chart_alert_line", lang, points=a.rule.threshold * 100)
        bottom.axhline(level, color="#d62728", ls="--", lw=1, label=alert_label)
        if len(tab) >= a.rule.recent:
            shade = "#f4cccc" if a.triggered else "#eee"
            bottom.axvspan(len(tab) - a.rule.recent - 0.5, len(tab) - 0.5, color=shade, alpha=0.6, lw=0)
    bottom.set_ylabel(t("chart_negative_axis", lang))
    bottom.set_ylim(0, 100)
    bottom.legend(fontsize=8, loc="upper left")
    bottom.set_xticks(x[::step])
    bottom.set_xticklabels(tab["period"].tolist()[::step], rotation=45, ha="right", fontsize=9)
    bottom.grid(alpha=0.3)
    state = t(_STATE.get(a.status, "chart_trend_state_none"), lang)
    period = t(f"chart_period_{trend.by}", lang)
    fig.suptitle(
        title or t("chart_trend_title", lang, speaker=trend.speaker, period=period, state=state), fontsize=11
    )
    return fig


def trend_html(trend: Trend, png: bytes | None = None) -> str:
    """A self-contained HTML report: the chart as an inline PNG, the alert (zh/en) and the table."""
    png = png if png is not None else trend_png(trend)
    tab = trend.table
    shown = [k for k in KEYS if tab[f"share_{k}"].fillna(0).any()]
    head = [esc(both("trend_col_period")), esc(both("trend_col_records"))]
    head += [f"{esc(BY_KEY[k].emoji)} {esc(BY_KEY[k].zh)}<br>{esc(BY_KEY[k].en)}" for k in shown]
    head.append(esc(both("trend_col_negative")))
    rows = []
    for _, r in tab.iterrows():
        cells = ["–" if np.isnan(r[f"share_{k}"]) else f"{r[f'share_{k}'] * 100:.0f}%" for k in shown]
        neg = "–" if np.isnan(r["negative_share"]) else f"{r['negative_share'] * 100:.0f}%"
        rows.append([esc(r["period"]), r["records"], *cells, f"<b>{neg}</b>"])
    a = trend.alert
    kind = "fail" if a.triggered else "pass"
    periods = {lang: t(f"chart_period_{trend.by}", lang) for lang in ("zh", "en")}
    meta = " / ".join(
        t("trend_meta", lang, model=trend.model_id, period=periods[lang], tz=trend.tz)
        for lang in ("zh", "en")
    )
    rule = {"recent": a.rule.recent, "points": a.rule.threshold * 100, "min_records": a.rule.min_records}
    alert = "".join(f"<p>{esc(a.message.get(lang, ''))}</p>" for lang in ("zh", "en"))
    body = (
        f"<h1>{esc(both('trend_title', speaker=trend.speaker))}</h1>\n<p class='meta'>{esc(meta)}</p>\n"
        f"{box(alert, kind)}\n"
        f'<p><img alt="{esc(both("trend_chart_alt"))}" src="data:image/png;base64,{base64.b64encode(png).decode()}"></p>\n'
        f"{table(head, rows, 'page-table')}\n"
        f"<p class='small'>{esc(t('trend_note', 'zh', **rule))}<br>{esc(t('trend_note', 'en', **rule))}</p>"
    )
    return page(both("trend_title", speaker=trend.speaker), body)
