"""The Gradio web UI, mounted at / on the same FastAPI app as the REST API and calling the same Service.

Inputs left, results right (like the seed WebUI): upload or record, utterance/frame, embedding, enhance;
a result card, a 9-class bar chart, a frame timeline, the quality report, before/after players, downloads;
a history tab and a compare (similarity) tab. 中文 / English switch. Nothing is fetched from the internet:
the theme uses system fonts and Gradio's analytics are off.
"""

from __future__ import annotations

import html
import os
import secrets
import zipfile
from pathlib import Path

import gradio as gr
import pandas as pd

from emostudio.errors import EmoStudioError
from emostudio.model.labels import BY_KEY, KEYS
from emostudio.multimodal.render import render_text_html
from emostudio.server.service import Service
from emostudio.server.settings import DOWNLOADS
from emostudio.server.text_fields import apply_text
from emostudio.server.ui_evaluate import build_evaluate_tab
from emostudio.server.ui_live import build_live_tabs
from emostudio.server.ui_profiles import build_profiles_tab

MAX_TIMELINE_POINTS = 600  # time steps drawn at most; longer timelines are thinned for display

TEXT = {
    "zh": {
        "title": "## 🎭 Emotion Studio 语音情感识别",
        "audio": "上传或录制音频",
        "granularity": "粒度",
        "utterance": "整句 (utterance)",
        "frame": "逐帧时间线 (frame)",
        "embedding": "提取特征向量 (embedding)",
        "enhance": "音频增强 (降噪/归一化)",
        "analyze": "开始分析",
        "card": "识别结果",
        "scores": "9 类情感得分",
        "timeline": "情感时间线",
        "quality": "音频质量",
        "before": "增强前",
        "after": "增强后",
        "files": "下载结果",
        "tab_analyze": "分析",
        "tab_history": "历史记录",
        "tab_compare": "对比两段音频",
        "refresh": "刷新",
        "clip_a": "音频 A",
        "clip_b": "音频 B",
        "run_a": "或选择历史记录 A",
        "run_b": "或选择历史记录 B",
        "compare": "计算相似度",
        "confidence": "置信度",
        "band": "判断",
        "compound": "复合情绪",
        "runner_up": "第二可能",
        "random": "⚠ 随机权重模型：得分没有意义",
        "load_demo": "加载演示模型 (随机权重)",
        "emotion": "情感",
        "score": "得分",
        "time": "时间 (秒)",
        "similarity": "余弦相似度",
        "no_audio": "请先上传或录制一段音频",
        "need_two": "请为 A 和 B 各选择一段音频或一条历史记录",
        "metric": "指标",
        "value": "数值",
        "verdict": "评价",
        "advice": "建议",
        "hints": "提示",
        "enh_report": "增强前后对比",
        "label_changed": "增强后结果改变",
        "history_cols": ["运行", "时间", "文件", "情感", "置信度", "粒度"],
    },
    "en": {
        "title": "## 🎭 Emotion Studio — speech emotion recognition",
        "audio": "Upload or record audio",
        "granularity": "Granularity",
        "utterance": "Utterance",
        "frame": "Frame timeline",
        "embedding": "Extract embedding",
        "enhance": "Enhance (denoise / normalise)",
        "analyze": "Analyze",
        "card": "Result",
        "scores": "Scores of the 9 classes",
        "timeline": "Emotion timeline",
        "quality": "Audio quality",
        "before": "Before enhancement",
        "after": "After enhancement",
        "files": "Downloads",
        "tab_analyze": "Analyze",
        "tab_history": "History",
        "tab_compare": "Compare two clips",
        "refresh": "Refresh",
        "clip_a": "Clip A",
        "clip_b": "Clip B",
        "run_a": "or a past run A",
        "run_b": "or a past run B",
        "compare": "Compute similarity",
        "confidence": "Confidence",
        "band": "Reading",
        "compound": "Compound",
        "runner_up": "Runner-up",
        "random": "⚠ random weights: scores are meaningless",
        "load_demo": "Load the demo model (random weights)",
        "emotion": "Emotion",
        "score": "Score",
        "time": "Time (s)",
        "similarity": "Cosine similarity",
        "no_audio": "Upload or record a clip first",
        "need_two": "Choose a clip or a past run for both A and B",
        "metric": "Metric",
        "value": "Value",
        "verdict": "Verdict",
        "advice": "Advice",
        "hints": "Hints",
        "enh_report": "Before / after enhancement",
        "label_changed": "the label changed after enhancement",
        "history_cols": ["Run", "Time", "File", "Emotion", "Confidence", "Granularity"],
    },
}
LANGS = {"中文": "zh", "English": "en"}
VERDICT_ICON = {"ok": "✅", "warn": "⚠️", "bad": "❌", "info": "ℹ️"}
CSS = """
#result-card .emo {font-size: 3.2rem; line-height: 1.1}
#result-card .name {font-size: 1.6rem; font-weight: 600}
#result-card .warn {color: #b45309}
.emo-table td, .emo-table th {padding: 2px 8px; text-align: left}
"""


def _lang(choice: str | None) -> str:
    return LANGS.get(choice or "", "zh")


def emotion_name(key: str, lang: str) -> str:
    e = BY_KEY[key]
    return f"{e.emoji} {e.zh}" if lang == "zh" else f"{e.emoji} {e.en}"


# ---- rendering (pure functions of a result.json document) -------------------------------------------------------
def render_card(doc: dict | None, lang: str) -> str:
    if not doc:
        return ""
    t = TEXT[lang]
    e = BY_KEY[doc["emotion"]]
    band = doc["band"][lang]
    ru = doc.get("runner_up") or {}
    lines = [
        f'<div class="emo">{e.emoji}</div>',
        f'<div class="name" id="result-label">{html.escape(e.zh)} ({html.escape(e.en)})</div>',
        f"<div>{t['confidence']}: <b>{doc['confidence'] * 100:.1f}%</b> · {t['band']}: {html.escape(band)}</div>",
    ]
    if ru.get("emotion"):
        lines.append(
            f"<div>{t['runner_up']}: {html.escape(emotion_name(ru['emotion'], lang))} "
            f"{ru['score'] * 100:.1f}%</div>"
        )
    if doc.get("compound"):
        lines.append(f"<div>{t['compound']}: <b>{html.escape(doc['compound'][lang])}</b></div>")
    if doc.get("quality_warning"):
        lines.append(f'<div class="warn">⚠ {html.escape(doc["quality_warning"])}</div>')
    lines.append(render_text_html(doc, lang))  # transcript + voice section (empty without a transcript)
    if (doc.get("model") or {}).get("is_random"):
        lines.append(f'<div class="warn">{t["random"]}</div>')
    src = doc.get("source") or ""
    lines.append(f"<div><small>{html.escape(src)} · {html.escape(doc.get('run_id', ''))}</small></div>")
    return "\n".join(lines)


def score_frame(doc: dict | None, lang: str) -> pd.DataFrame:
    """One row per class: emotion (display name), score (%)."""
    scores = (doc or {}).get("scores") or {}
    return pd.DataFrame(
        {
            "emotion": [emotion_name(k, lang) for k in KEYS],
            "score": [round(100 * float(scores.get(k, 0.0)), 2) for k in KEYS],
        }
    )


def timeline_frame(doc: dict | None, lang: str) -> pd.DataFrame:
    """Long format for a line chart: time_s, emotion, score (%); at most MAX_TIMELINE_POINTS time steps."""
    frames = (doc or {}).get("frames")
    if not frames or not frames.get("start_s"):
        return pd.DataFrame({"time_s": [], "emotion": [], "score": []})
    starts, rows = frames["start_s"], frames["scores"]
    stride = max(1, -(-len(starts) // MAX_TIMELINE_POINTS))
    data = {"time_s": [], "emotion": [], "score": []}
    for t, row in zip(starts[::stride], rows[::stride], strict=True):
        for k, p in zip(KEYS, row, strict=True):
            data["time_s"].append(t)
            data["emotion"].append(emotion_name(k, lang))
            data["score"].append(round(100 * p, 2))
    return pd.DataFrame(data)


def render_quality(doc: dict | None, lang: str) -> str:
    q = (doc or {}).get("quality")
    if not q:
        return ""
    t = TEXT[lang]
    rows = []
    for m in q.get("metrics", []):
        value = m.get("value")
        shown = f"{value:.2f}" if isinstance(value, float) else html.escape(str(value))
        rows.append(
            f"<tr><td>{html.escape(str(m.get(f'label_{lang}') or m.get('name', '')))}</td>"
            f"<td>{shown} {html.escape(str(m.get('unit') or ''))}</td>"
            f"<td>{VERDICT_ICON.get(m.get('verdict'), html.escape(str(m.get('verdict', ''))))}</td>"
            f"<td>{html.escape(str(m.get(f'advice_{lang}') or ''))}</td></tr>"
        )
    out = [
        f"<h4>{t['quality']} {VERDICT_ICON.get(q.get('verdict'), '')}</h4>",
        f'<table class="emo-table"><tr><th>{t["metric"]}</th><th>{t["value"]}</th><th>{t["verdict"]}</th>'
        f"<th>{t['advice']}</th></tr>{''.join(rows)}</table>",
    ]
    hints = q.get("hints") or []
    if hints:
        items = "".join(
            f"<li>{html.escape(h.get(lang, str(h)) if isinstance(h, dict) else str(h))}</li>" for h in hints
        )
        out.append(f"<div>{t['hints']}:<ul>{items}</ul></div>")
    return "\n".join(out)


def render_enhancement(doc: dict | None, lang: str) -> str:
    enh = (doc or {}).get("enhancement")
    if not enh:
        return ""
    t = TEXT[lang]
    b, a = enh["before"], enh["after"]
    rows = [
        f"<tr><td>{t['before']}</td><td>{html.escape(emotion_name(b['emotion'], lang))}</td>"
        f"<td>{b['confidence'] * 100:.1f}%</td></tr>",
        f"<tr><td>{t['after']}</td><td>{html.escape(emotion_name(a['emotion'], lang))}</td>"
        f"<td>{a['confidence'] * 100:.1f}%</td></tr>",
    ]
    deltas = "".join(
        f"<li>{html.escape(k)}: {v:+.2f}</li>" for k, v in (enh.get("quality_delta") or {}).items()
    )
    changed = f"<div class='warn'>{t['label_changed']}</div>" if enh.get("label_changed") else ""
    return (
        f"<h4>{t['enh_report']}</h4><div>{html.escape(' → '.join(enh.get('steps') or []))}</div>"
        f'<table class="emo-table">{"".join(rows)}</table>{changed}<ul>{deltas}</ul>'
    )


def status_markdown(service: Service, lang: str) -> str:
    st = service.model_state
    if st.state == "ready":
        note = f" — {TEXT[lang]['random']}" if st.is_random else ""
        return f"✅ model `{st.model}` ready{note}"
    if st.state == "loading":
        return f"⏳ loading model `{st.model}` …"
    message = service.unavailable_message().replace("~", "\\~")  # "~/.cache … ~/.cache" is not strikethrough
    return "❌ " + message.replace("\n", "\n\n")


# ---- the app -------------------------------------------------------------------------------------------------------
def build_ui(service: Service) -> gr.Blocks:
    zips = service.settings.outputs / ".gradio" / "zips"

    def downloads(doc: dict) -> list[str]:
        folder = service.run_dir(doc["run_id"])
        paths = [str(folder / n) for n in DOWNLOADS if (folder / n).is_file()]
        zips.mkdir(parents=True, exist_ok=True)
        zpath = zips / f"{folder.name}.zip"
        with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
            for p in paths:
                zf.write(p, f"{folder.name}/{Path(p).name}")
        return [*paths, str(zpath)]

    def history_rows(lang: str) -> pd.DataFrame:
        runs = service.list_runs(limit=100)["runs"]
        cols = TEXT[lang]["history_cols"]
        return pd.DataFrame(
            [
                [
                    r["run_id"],
                    r.get("timestamp"),
                    r.get("source"),
                    emotion_name(r["emotion"], lang) if r.get("emotion") in BY_KEY else "",
                    f"{(r.get('confidence') or 0) * 100:.1f}%",
                    r.get("granularity"),
                ]
                for r in runs
            ],
            columns=cols,
        )

    def run_choices() -> list[str]:
        return [r["run_id"] for r in service.list_runs(limit=100)["runs"]]

    # uploads, recordings and zips in Gradio's cache (under the outputs dir) are deleted after a day
    with gr.Blocks(title="Emotion Studio", analytics_enabled=False, delete_cache=(3600, 86400)) as blocks:
        last = gr.State(None)
        with gr.Row():
            title = gr.Markdown(TEXT["zh"]["title"])
            lang_in = gr.Radio(
                list(LANGS), value="中文", label="语言 / Language", elem_id="lang", scale=0, min_width=220
            )
        status = gr.Markdown(elem_id="model-status")
        demo_btn = gr.Button(TEXT["zh"]["load_demo"], visible=False, elem_id="load-demo")
        timer = gr.Timer(1.0)
        with gr.Tabs():
            with gr.Tab(TEXT["zh"]["tab_analyze"], id="analyze") as tab_an:
                with gr.Row():
                    with gr.Column(scale=2):
                        audio_in = gr.Audio(
                            sources=["upload", "microphone"],
                            type="filepath",
                            label=TEXT["zh"]["audio"],
                            elem_id="audio-in",
                        )
                        gran = gr.Radio(
                            [(TEXT["zh"]["utterance"], "utterance"), (TEXT["zh"]["frame"], "frame")],
                            value="utterance",
                            label=TEXT["zh"]["granularity"],
                            elem_id="granularity",
                        )
                        emb = gr.Checkbox(False, label=TEXT["zh"]["embedding"], elem_id="embedding")
                        enh = gr.Checkbox(False, label=TEXT["zh"]["enhance"], elem_id="enhance")
                        text_in = gr.Textbox(
                            label="转写文本（可选）/ Transcript (optional)", lines=3, elem_id="text-in"
                        )
                        text_w = gr.Slider(
                            0, 1, 0.3, step=0.05, label="文字权重 / Text weight", elem_id="text-weight"
                        )
                        go = gr.Button(TEXT["zh"]["analyze"], variant="primary", elem_id="analyze-btn")
                    with gr.Column(scale=3):
                        card = gr.HTML(label=TEXT["zh"]["card"], elem_id="result-card")
                        bars = gr.BarPlot(
                            score_frame(None, "zh"),
                            x="emotion",
                            y="score",
                            y_lim=[0, 100],
                            label=TEXT["zh"]["scores"],
                            elem_id="score-chart",
                            sort=[emotion_name(k, "zh") for k in KEYS],
                            x_title=" ",
                            y_title="%",
                        )
                        line = gr.LinePlot(
                            timeline_frame(None, "zh"),
                            x="time_s",
                            y="score",
                            color="emotion",
                            y_lim=[0, 100],
                            label=TEXT["zh"]["timeline"],
                            elem_id="timeline-chart",
                            visible=False,
                            x_title=TEXT["zh"]["time"],
                            y_title="%",
                        )
                        quality = gr.HTML(elem_id="quality-report")
                        with gr.Row(visible=False) as enh_row:
                            before = gr.Audio(label=TEXT["zh"]["before"], interactive=False, elem_id="before")
                            after = gr.Audio(label=TEXT["zh"]["after"], interactive=False, elem_id="after")
                        enh_html = gr.HTML(elem_id="enhancement-report")
                        files = gr.File(
                            label=TEXT["zh"]["files"],
                            file_count="multiple",
                            interactive=False,
                            elem_id="downloads",
                        )
            with gr.Tab(TEXT["zh"]["tab_history"], id="history") as tab_hist:
                refresh = gr.Button(TEXT["zh"]["refresh"], elem_id="history-refresh")
                history = gr.Dataframe(history_rows("zh"), interactive=False, elem_id="history")
            with gr.Tab(TEXT["zh"]["tab_compare"], id="compare") as tab_cmp:
                with gr.Row():
                    with gr.Column():
                        clip_a = gr.Audio(
                            sources=["upload", "microphone"],
                            type="filepath",
                            label=TEXT["zh"]["clip_a"],
                            elem_id="clip-a",
                        )
                        run_a = gr.Dropdown([], label=TEXT["zh"]["run_a"], allow_custom_value=False)
                    with gr.Column():
                        clip_b = gr.Audio(
                            sources=["upload", "microphone"],
                            type="filepath",
                            label=TEXT["zh"]["clip_b"],
                            elem_id="clip-b",
                        )
                        run_b = gr.Dropdown([], label=TEXT["zh"]["run_b"], allow_custom_value=False)
                cmp_btn = gr.Button(TEXT["zh"]["compare"], variant="primary", elem_id="compare-btn")
                cmp_out = gr.HTML(elem_id="similarity")
            build_profiles_tab(service, last, lang_in)
            build_evaluate_tab(service, lang_in)
            build_live_tabs(service, lang_in)

        # ---- events ----------------------------------------------------------------------------------------------
        def show_status(choice):
            lang = _lang(choice)
            st = service.model_state.state
            return (
                status_markdown(service, lang),
                gr.update(visible=st in ("missing", "failed")),
                gr.Timer(active=st == "loading"),
            )

        blocks.load(show_status, lang_in, [status, demo_btn, timer])
        timer.tick(show_status, lang_in, [status, demo_btn, timer])

        def load_demo(choice):
            service.start("demo")
            return show_status(choice)

        demo_btn.click(load_demo, lang_in, [status, demo_btn, timer])

        def render(doc, choice):
            lang = _lang(choice)
            frame = bool(doc and doc.get("frames"))
            return (
                render_card(doc, lang),
                score_frame(doc, lang),
                gr.update(value=timeline_frame(doc, lang), visible=frame),
                render_quality(doc, lang),
                render_enhancement(doc, lang),
            )

        # Gradio finds the progress tracker by this default argument: its documented pattern
        async def analyze(
            path,
            granularity,
            embedding,
            enhance,
            text,
            text_weight,
            choice,
            progress=gr.Progress(),  # noqa: B008
        ):
            t = TEXT[_lang(choice)]
            if not path:
                raise gr.Error(t["no_audio"])
            try:
                done = await service.analyze(
                    Path(path),
                    name=os.path.basename(path),
                    granularity=granularity,
                    embedding=embedding,
                    enhance=enhance,
                    progress=lambda f, text: progress(f, desc=text),
                )
                done = await apply_text(service, done, text, text_weight)  # the transcript's `text` block
            except EmoStudioError as exc:
                raise gr.Error(str(exc)) from exc
            doc = done.to_dict()
            enhanced = bool(doc.get("enhancement"))
            after_path = str(done.run_dir / "processed_audio.wav") if enhanced else None
            return (
                doc,
                *render(doc, choice),
                gr.update(visible=enhanced),
                path if enhanced else None,
                after_path,
                downloads(doc),
            )

        go.click(
            analyze,
            [audio_in, gran, emb, enh, text_in, text_w, lang_in],
            [last, card, bars, line, quality, enh_html, enh_row, before, after, files],
            concurrency_limit=None,
        )

        def show_history(choice):
            choices = run_choices()
            return history_rows(_lang(choice)), gr.update(choices=choices), gr.update(choices=choices)

        refresh.click(show_history, lang_in, [history, run_a, run_b])
        tab_hist.select(show_history, lang_in, [history, run_a, run_b])
        tab_cmp.select(show_history, lang_in, [history, run_a, run_b])

        async def compare(a_path, b_path, a_run, b_run, choice):
            t = TEXT[_lang(choice)]
            sides = []
            for p, r in ((a_path, a_run), (b_path, b_run)):
                if r:
                    sides.append({"run_id": r})
                elif p:
                    sides.append({"source": Path(p), "name": os.path.basename(p)})
            if len(sides) != 2:
                raise gr.Error(t["need_two"])
            try:
                out = await service.similarity(*sides)
            except EmoStudioError as exc:
                raise gr.Error(str(exc)) from exc
            lang = _lang(choice)
            rows = "".join(
                f"<tr><td>{side.upper()}</td><td>{html.escape(str(out[side].get('source') or ''))}</td>"
                f"<td>{html.escape(emotion_name(out[side]['emotion'], lang))}</td></tr>"
                for side in ("a", "b")
                if out[side].get("emotion") in BY_KEY
            )
            warn = f"<div class='warn'>{t['random']}</div>" if out.get("is_random") else ""
            return (
                f"<h3>{t['similarity']}: <span id='similarity-value'>{out['similarity']:.3f}</span></h3>"
                f'<table class="emo-table">{rows}</table>{warn}'
            )

        cmp_btn.click(compare, [clip_a, clip_b, run_a, run_b, lang_in], cmp_out, concurrency_limit=None)

        def relabel(choice, doc):
            lang = _lang(choice)
            t = TEXT[lang]
            return (
                t["title"],
                gr.update(label=t["audio"]),
                gr.update(
                    label=t["granularity"], choices=[(t["utterance"], "utterance"), (t["frame"], "frame")]
                ),
                gr.update(label=t["embedding"]),
                gr.update(label=t["enhance"]),
                gr.update(value=t["analyze"]),
                gr.update(label=t["scores"], sort=[emotion_name(k, lang) for k in KEYS]),
                gr.update(label=t["timeline"], x_title=t["time"]),
                gr.update(label=t["before"]),
                gr.update(label=t["after"]),
                gr.update(label=t["files"]),
                gr.update(label=t["tab_analyze"]),
                gr.update(label=t["tab_history"]),
                gr.update(label=t["tab_compare"]),
                gr.update(value=t["refresh"]),
                gr.update(label=t["clip_a"]),
                gr.update(label=t["clip_b"]),
                gr.update(label=t["run_a"]),
                gr.update(label=t["run_b"]),
                gr.update(value=t["compare"]),
                gr.update(value=t["load_demo"]),
                status_markdown(service, lang),
                history_rows(lang),
                *render(doc, choice),
            )

        lang_in.change(
            relabel,
            [lang_in, last],
            [
                title,
                audio_in,
                gran,
                emb,
                enh,
                go,
                bars,
                line,
                before,
                after,
                files,
                tab_an,
                tab_hist,
                tab_cmp,
                refresh,
                clip_a,
                clip_b,
                run_a,
                run_b,
                cmp_btn,
                demo_btn,
                status,
                history,
                card,
                bars,
                line,
                quality,
                enh_html,
            ],
        )
    return blocks


def mount_ui(app, service: Service) -> None:
    """Mount the UI at / (login with the token as password when the server has one)."""
    token = service.settings.token
    auth = None
    if token:

        def auth(_username: str, password: str) -> bool:
            return secrets.compare_digest(password.encode(), token.encode())

    theme = gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])
    gr.mount_gradio_app(
        app,
        build_ui(service),
        path="/",
        auth=auth,
        auth_message="Emotion Studio: enter any user name and the server's --token as password"
        if token
        else None,
        allowed_paths=[str(service.settings.outputs)],
        max_file_size=service.settings.max_upload_bytes,
        ssr_mode=False,
        theme=theme,
        css=CSS,
        footer_links=["api"],
        mcp_server=False,
    )
