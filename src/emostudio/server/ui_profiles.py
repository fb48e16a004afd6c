"""The web UI's "档案 / Profiles" tab: add the current result to a speaker, pick a speaker, see the trend chart with
the negative-share alert and the stored moments nearest to the current result. Calls the same ProfilesService as
the REST API (`routes_profiles`)."""

from __future__ import annotations

import html
import io
from typing import TypedDict

import gradio as gr
import pandas as pd
from starlette.concurrency import run_in_threadpool

from emostudio.clips import ClipError
from emostudio.errors import EmoStudioError
from emostudio.model.labels import BY_KEY, KEYS
from emostudio.profiles import ProfileError, summarize, trend
from emostudio.server.routes_profiles import profiles_service
from emostudio.server.service import Service


class _Text(TypedDict):
    """The texts of the tab in one language (every language has every key)."""

    add_title: str
    speaker_new: str
    tags: str
    at: str
    add: str
    pick: str
    by: str
    periods: list[tuple[str, str]]
    refresh: str
    need_result: str
    need_speaker: str
    added: str
    records: str
    negative: str
    confidence: str
    last_seen: str
    top: str
    near_cols: list[str]
    recent_cols: list[str]


TEXT: dict[str, _Text] = {
    "zh": {
        "add_title": "### 把当前结果加入档案",
        "speaker_new": "说话人 / 客户 ID",
        "tags": "标签（逗号分隔，可选）",
        "at": "录音时间（可选，例如 2026-01-05T09:30）",
        "add": "加入档案",
        "pick": "选择说话人",
        "by": "统计周期",
        "periods": [("按天", "day"), ("按周", "week"), ("按月", "month")],
        "refresh": "刷新",
        "need_result": "请先在“分析”页分析一段音频",
        "need_speaker": "请填写说话人 ID",
        "added": "已加入 {speaker} 的档案（记录 {id}）",
        "records": "条记录",
        "negative": "负面占比",
        "confidence": "平均置信度",
        "last_seen": "最近一次",
        "top": "最常见情感",
        "near_cols": ["相似度", "说话人", "时间", "情感", "置信度", "来源"],
        "recent_cols": ["时间", "情感", "置信度", "来源"],
    },
    "en": {
        "add_title": "### Add the current result to a profile",
        "speaker_new": "Speaker / customer id",
        "tags": "Tags (comma-separated, optional)",
        "at": "Time of the recording (optional, e.g. 2026-01-05T09:30)",
        "add": "Add to profile",
        "pick": "Pick a speaker",
        "by": "Period",
        "periods": [("Day", "day"), ("Week", "week"), ("Month", "month")],
        "refresh": "Refresh",
        "need_result": "Analyse a clip on the Analyze tab first",
        "need_speaker": "Enter a speaker id",
        "added": "Added to {speaker}'s profile (record {id})",
        "records": "records",
        "negative": "Negative share",
        "confidence": "Mean confidence",
        "last_seen": "Last seen",
        "top": "Most frequent emotion",
        "near_cols": ["Cosine", "Speaker", "Time", "Emotion", "Confidence", "Source"],
        "recent_cols": ["Time", "Emotion", "Confidence", "Source"],
    },
}
LANGS = {"中文": "zh", "English": "en"}


def _toast(message: str) -> gr.Error:
    """A user's mistake: a toast, never a traceback in the server log."""
    return gr.Error(message, print_exception=False)


def _lang(choice: str | None) -> str:
    return LANGS.get(choice or "", "zh")


def _emo(key: str, lang: str) -> str:
    e = BY_KEY[key]
    return f"{e.emoji} {e.zh if lang == 'zh' else e.en}"


def render_summary(summary, alert, lang: str) -> str:
    """The summary card: records, top emotion, negative share, confidence, last seen, the alert sentence."""
    t = TEXT[lang]
    shares = " · ".join(
        f"{_emo(k, lang)} {summary.label_shares[k] * 100:.0f}%"
        for k in sorted(KEYS, key=lambda k: -summary.label_counts[k])
        if summary.label_counts[k]
    )
    colour = {"alert": "#b91c1c", "ok": "#166534"}.get(alert.status, "#57534e")
    return (
        f"<h3>{html.escape(summary.speaker)} · {summary.count} {t['records']}</h3>"
        f"<div>{t['top']}: <b>{html.escape(_emo(summary.top, lang))}</b> · {t['negative']}: "
        f"<b>{summary.negative_share * 100:.0f}%</b> · {t['confidence']}: {summary.mean_confidence * 100:.0f}% · "
        f"{t['last_seen']}: {html.escape(summary.last_seen)}</div><div>{html.escape(shares)}</div>"
        f'<div id="profile-alert-text" style="color:{colour};margin-top:.5rem">'
        f"{html.escape(alert.message.get(lang, ''))}</div>"
    )


def build_profiles_tab(service: Service, last: gr.State, lang_in: gr.Radio) -> gr.Tab:
    """Build the tab inside the caller's `gr.Tabs()`; `last` holds the last result.json, `lang_in` the language."""
    ps = profiles_service(service)
    z = TEXT["zh"]
    with gr.Tab("档案 / Profiles", id="profiles") as tab:
        with gr.Row():
            with gr.Column(scale=2):
                add_title = gr.Markdown(z["add_title"])
                new_speaker = gr.Textbox(label=z["speaker_new"], elem_id="profile-speaker-new")
                tags = gr.Textbox(label=z["tags"], elem_id="profile-tags")
                at = gr.Textbox(label=z["at"], elem_id="profile-at")
                add_btn = gr.Button(z["add"], variant="primary", elem_id="profile-add")
                add_out = gr.Markdown(elem_id="profile-add-status")
            with gr.Column(scale=3):
                with gr.Row():
                    pick = gr.Dropdown([], label=z["pick"], elem_id="profile-pick", allow_custom_value=False)
                    by = gr.Radio(z["periods"], value="week", label=z["by"], elem_id="profile-by")
                    refresh = gr.Button(z["refresh"], elem_id="profile-refresh", scale=0)
                summary = gr.HTML(elem_id="profile-summary")
                chart = gr.Image(type="pil", interactive=False, elem_id="profile-trend", show_label=False)
                nearest = gr.Dataframe(interactive=False, elem_id="profile-nearest")

    def speakers() -> list[str]:
        try:
            return list(ps.store().speakers())
        except ProfileError as e:
            raise _toast(str(e)) from e

    def refresh_choices(current):
        names = speakers()
        return gr.update(choices=names, value=current if current in names else (names[0] if names else None))

    async def add_current(doc, speaker, tag_text, at_text, choice):
        t = TEXT[_lang(choice)]
        if not doc or not doc.get("run_id"):
            raise _toast(t["need_result"])
        if not (speaker or "").strip():
            raise _toast(t["need_speaker"])
        tag_list = [x.strip() for x in (tag_text or "").split(",") if x.strip()]
        try:
            rec = await ps.add_run(speaker.strip(), doc["run_id"], at_text or None, tag_list)
        except (EmoStudioError, ClipError) as e:
            raise _toast(str(e)) from e
        names = await run_in_threadpool(speakers)
        return t["added"].format(speaker=rec.speaker, id=rec.id), gr.update(choices=names, value=rec.speaker)

    def view(speaker: str, period: str, vector, lang: str):
        """Summary card, trend chart and the nearest (or latest) moments; blocking store work, run in a thread."""
        from PIL import Image

        from emostudio.profiles.charts import trend_png

        t = TEXT[lang]
        store = ps.store()
        recs = store.speaker_records(speaker)
        tr = trend(recs, by=period or "week")
        image = Image.open(io.BytesIO(trend_png(tr)))
        if vector is not None:
            hits = store.search(vector, model_id=recs[0].model_id, k=5, speaker=speaker)
            rows = [
                [
                    f"{h.score:.3f}",
                    h.speaker,
                    f"{h.recorded_at:%Y-%m-%d %H:%M}",
                    _emo(h.label, lang),
                    f"{h.confidence * 100:.0f}%",
                    h.source,
                ]  # fmt: skip
                for h in hits
            ]
            table = pd.DataFrame(rows, columns=t["near_cols"])
        else:  # no current result: the speaker's latest moments
            rows = [
                [
                    f"{r.recorded_at:%Y-%m-%d %H:%M}",
                    _emo(r.label, lang),
                    f"{r.confidence * 100:.0f}%",
                    r.source,
                ]
                for r in recs[-5:][::-1]
            ]
            table = pd.DataFrame(rows, columns=t["recent_cols"])
        return render_summary(summarize(recs), tr.alert, lang), image, table

    async def show(speaker, period, doc, choice):
        if not speaker:
            return "", None, pd.DataFrame()
        try:
            vector = None
            if doc and doc.get("run_id"):
                vector = (await ps.clip_of_run(doc["run_id"]))[0].vector
            return await run_in_threadpool(view, speaker, period, vector, _lang(choice))
        except (EmoStudioError, ClipError) as e:
            raise _toast(str(e)) from e

    add_btn.click(
        add_current, [last, new_speaker, tags, at, lang_in], [add_out, pick], concurrency_limit=None
    )
    tab.select(refresh_choices, pick, pick)
    refresh.click(refresh_choices, pick, pick).then(
        show, [pick, by, last, lang_in], [summary, chart, nearest]
    )
    pick.change(show, [pick, by, last, lang_in], [summary, chart, nearest])
    by.change(show, [pick, by, last, lang_in], [summary, chart, nearest])

    def relabel(choice):
        t = TEXT[_lang(choice)]
        return (
            t["add_title"],
            gr.update(label=t["speaker_new"]),
            gr.update(label=t["tags"]),
            gr.update(label=t["at"]),
            gr.update(value=t["add"]),
            gr.update(label=t["pick"]),
            gr.update(label=t["by"], choices=t["periods"]),
            gr.update(value=t["refresh"]),
        )

    lang_in.change(relabel, lang_in, [add_title, new_speaker, tags, at, add_btn, pick, by, refresh])
    return tab
