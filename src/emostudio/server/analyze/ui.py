"""The Gradio web UI, mounted at / on the same FastAPI app as the REST API and calling the same Service.

Layout and events only: every text comes from `emostudio.messages` (zh/en), every chart and table from
`emostudio.render`. Inputs left, results right (like the seed WebUI); tabs for history, comparing two takes,
speaker profiles and evaluation. Nothing is fetched from the internet: the theme uses system fonts, the charts
are inline HTML/SVG and Gradio's analytics are off.
"""

from __future__ import annotations

import os
import secrets
import wave
from pathlib import Path

import gradio as gr
import pandas as pd

from emostudio.errors import EmoStudioError
from emostudio.examples import ensure_examples
from emostudio.messages import LANG_CHOICES, error_text, format_size, lang_of, t
from emostudio.model.labels import BY_KEY, emotion_name
from emostudio.options import DEFAULT_TEXT_WEIGHT
from emostudio.render import result as render
from emostudio.render.html import CSS
from emostudio.runs import AUDIO_FILE, RunFolder, write_zip
from emostudio.server.service import Service
from emostudio.server.text_fields import apply_text
from emostudio.server.ui_common import Labels, user_error
from emostudio.server.ui_evaluate import build_evaluate_tab
from emostudio.server.ui_live import build_live_tabs
from emostudio.server.ui_profiles import build_profiles_tab


def status_markdown(service: Service, lang: str) -> str:
    st = service.model_state
    if st.state == "ready":
        note = f" — ⚠ {t('random_note', lang)}" if st.is_random else ""
        return t("model_ready", lang, model=st.model) + note
    if st.state == "loading":
        return t("model_loading", lang, model=st.model)
    if st.state == "missing":
        searched = "\n".join(f"- `{p}`" for p in (st.searched or []))
        return (
            t("model_missing", lang, model=st.model, button=t("load_demo", lang))
            + "\n\n"
            + searched.replace("~", "\\~")
        )
    return t("model_failed", lang, model=st.model, error=st.message)


def _granularity_choices(lang: str) -> list[tuple[str, str]]:
    return [(t("utterance", lang), "utterance"), (t("frame", lang), "frame")]


def _upload_label(service: Service, lang: str) -> str:
    limit = t("upload_limit", lang, size=format_size(service.settings.max_upload_bytes))
    return t("audio_limit", lang, audio=t("audio", lang), limit=limit)


def history_rows(service: Service, lang: str) -> pd.DataFrame:
    """The History table in `lang`: run, time, file, emotion, confidence, granularity (newest first)."""
    runs = service.list_runs(limit=100)["runs"]
    return pd.DataFrame(
        [
            [
                r["run_id"],
                r.get("timestamp"),
                r.get("source"),
                emotion_name(r["emotion"], lang) if r.get("emotion") in BY_KEY else "",
                f"{(r.get('confidence') or 0) * 100:.1f}%",
                render.granularity_name(r.get("granularity"), lang),
            ]
            for r in runs
        ],
        columns=list(t("history_cols", lang)),
    )


def build_ui(service: Service) -> gr.Blocks:
    outputs_root = service.settings.outputs
    zips = outputs_root / ".gradio" / "zips"
    segment_dir = outputs_root / ".gradio" / "segments"
    examples = ensure_examples(outputs_root / ".examples")

    def downloads(doc: dict) -> list[str]:
        folder = service.run_dir(doc["run_id"])
        paths = [str(folder / n) for n in RunFolder(folder.name, folder).files()]
        return [*paths, str(write_zip(folder, zips / f"{folder.name}.zip"))]

    def run_choices(lang: str) -> list[tuple[str, str]]:
        out = []
        for r in service.list_runs(limit=100)["runs"]:
            if r.get("emotion") not in BY_KEY:
                continue
            label = f"{r.get('source')} · {emotion_name(r['emotion'], lang)} {(r.get('confidence') or 0) * 100:.0f}% · {r['run_id']}"
            out.append((label, r["run_id"]))
        return out

    def read_run(run_id: str) -> dict:
        return service.read_run(run_id)

    L = Labels()
    # uploads, recordings and zips in Gradio's cache (under the outputs dir) are deleted after a day
    with gr.Blocks(title="Emotion Studio", analytics_enabled=False, delete_cache=(3600, 86400)) as blocks:
        last = gr.State(None)  # the result.json shown on the Analyze tab
        opened = gr.State(None)  # the run opened on the History tab
        with gr.Row(elem_id="header"):
            L.add(gr.Markdown(t("title", "zh")), "value", "title")
            lang_in = gr.Radio(
                list(LANG_CHOICES),
                value=next(iter(LANG_CHOICES)),
                label=t("lang"),
                elem_id="lang",
                scale=0,
                min_width=220,
            )
        status = gr.Markdown(elem_id="model-status")
        demo_btn = L.add(gr.Button(t("load_demo"), visible=False, elem_id="load-demo"), "value", "load_demo")
        timer = gr.Timer(1.0)
        with gr.Tabs():
            with L.add(gr.Tab(t("tab_analyze"), id="analyze"), "label", "tab_analyze"):
                with gr.Row():
                    with gr.Column(scale=2):
                        audio_in = gr.Audio(
                            sources=["upload", "microphone"],
                            type="filepath",
                            label=_upload_label(service, "zh"),
                            elem_id="audio-in",
                        )
                        example_set = gr.Examples(
                            [[str(p)] for p, _ in examples],
                            inputs=[audio_in],
                            label=t("examples", "zh"),
                            example_labels=[t(ex.text_key, "zh") for _, ex in examples],
                            elem_id="examples",
                        )
                        gran = gr.Radio(
                            _granularity_choices("zh"),
                            value="utterance",
                            label=t("granularity"),
                            elem_id="granularity",
                        )
                        emb = L.add(
                            gr.Checkbox(False, label=t("embedding"), elem_id="embedding"),
                            "label",
                            "embedding",
                        )
                        enh = L.add(
                            gr.Checkbox(False, label=t("enhance"), elem_id="enhance"), "label", "enhance"
                        )
                        text_in = L.add(
                            gr.Textbox(label=t("transcript"), lines=3, elem_id="text-in"),
                            "label",
                            "transcript",
                        )
                        text_w = L.add(
                            gr.Slider(
                                0,
                                1,
                                DEFAULT_TEXT_WEIGHT,
                                step=0.05,
                                label=t("text_weight"),
                                elem_id="text-weight",
                            ),
                            "label",
                            "text_weight",
                        )
                        go = L.add(
                            gr.Button(t("analyze"), variant="primary", elem_id="analyze-btn"),
                            "value",
                            "analyze",
                        )
                    with gr.Column(scale=3):
                        card = gr.HTML(elem_id="result-card")
                        bars = gr.HTML(elem_id="score-chart")
                        line = gr.HTML(elem_id="timeline-chart")
                        seg_html = gr.HTML(elem_id="segments-strip")
                        seg_table = gr.Dataframe(
                            headers=list(t("segment_cols", "zh")),
                            interactive=False,
                            visible=False,
                            elem_id="segments-table",
                        )
                        seg_player = gr.Audio(
                            label=t("segment_player"),
                            interactive=False,
                            visible=False,
                            elem_id="segment-player",
                        )
                        quality = gr.HTML(elem_id="quality-report")
                        with gr.Row(visible=False) as enh_row:
                            before = L.add(
                                gr.Audio(label=t("before"), interactive=False, elem_id="before"),
                                "label",
                                "before",
                            )
                            after = L.add(
                                gr.Audio(label=t("after"), interactive=False, elem_id="after"),
                                "label",
                                "after",
                            )
                        enh_html = gr.HTML(elem_id="enhancement-report")
                        files = L.add(
                            gr.File(
                                label=t("files"),
                                file_count="multiple",
                                interactive=False,
                                elem_id="downloads",
                            ),
                            "label",
                            "files",
                        )
            with L.add(gr.Tab(t("tab_history"), id="history"), "label", "tab_history") as tab_hist:
                refresh = L.add(gr.Button(t("refresh"), elem_id="history-refresh"), "value", "refresh")
                L.add(gr.Markdown(t("history_open")), "value", "history_open")
                history = gr.Dataframe(history_rows(service, "zh"), interactive=False, elem_id="history")
                h_card = gr.HTML(elem_id="history-card")
                h_bars = gr.HTML(elem_id="history-scores")
                h_line = gr.HTML(elem_id="history-timeline")
                h_quality = gr.HTML(elem_id="history-quality")
                h_files = gr.File(
                    label=t("files"), file_count="multiple", interactive=False, elem_id="history-downloads"
                )
            with L.add(gr.Tab(t("tab_compare"), id="compare"), "label", "tab_compare") as tab_cmp:
                with gr.Row():
                    with gr.Column():
                        clip_a = L.add(
                            gr.Audio(
                                sources=["upload", "microphone"],
                                type="filepath",
                                label=t("clip_a"),
                                elem_id="clip-a",
                            ),
                            "label",
                            "clip_a",
                        )
                        run_a = L.add(gr.Dropdown([], label=t("run_a"), elem_id="run-a"), "label", "run_a")
                    with gr.Column():
                        clip_b = L.add(
                            gr.Audio(
                                sources=["upload", "microphone"],
                                type="filepath",
                                label=t("clip_b"),
                                elem_id="clip-b",
                            ),
                            "label",
                            "clip_b",
                        )
                        run_b = L.add(gr.Dropdown([], label=t("run_b"), elem_id="run-b"), "label", "run_b")
                cmp_btn = L.add(
                    gr.Button(t("compare"), variant="primary", elem_id="compare-btn"), "value", "compare"
                )
                cmp_out = gr.HTML(elem_id="comparison-view")
            L.add(build_profiles_tab(service, last, lang_in), "label", "tab_profiles")
            L.add(build_evaluate_tab(service, lang_in), "label", "tab_evaluate")
            live_tab, call_tab = build_live_tabs(service, lang_in)
            L.add(live_tab, "label", "tab_live")
            L.add(call_tab, "label", "tab_call")

        # ---- model status ----------------------------------------------------------------------------------------
        def show_status(choice):
            st = service.model_state.state
            return (
                status_markdown(service, lang_of(choice)),
                gr.update(visible=st in ("missing", "failed")),
                gr.Timer(active=st == "loading"),
            )

        blocks.load(show_status, lang_in, [status, demo_btn, timer])
        timer.tick(show_status, lang_in, [status, demo_btn, timer])

        def load_demo(choice):
            service.start("demo")
            return show_status(choice)

        demo_btn.click(load_demo, lang_in, [status, demo_btn, timer])

        # ---- analyze -----------------------------------------------------------------------------------------------
        result_views = [card, bars, line, seg_html, seg_table, seg_player, quality, enh_html]

        def render_result(doc, lang):
            segs = render.segment_rows(doc, lang)
            return (
                render.card(doc, lang),
                render.score_bars(doc, lang),
                render.timeline(doc, lang, "an"),
                render.segments_strip(doc, lang),
                gr.update(
                    value=pd.DataFrame(segs, columns=list(t("segment_cols", lang))), visible=len(segs) > 1
                ),
                gr.update(value=None, visible=False, label=t("segment_player", lang)),
                render.quality(doc, lang),
                render.enhancement(doc, lang),
            )

        analysis_outputs = [last, *result_views, enh_row, before, after, files]

        def clear():
            """Empty every result view first: after an error nothing of the previous result stays on screen."""
            return (None, *render_result(None, "zh"), gr.update(visible=False), None, None, None)

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
            lang = lang_of(choice)
            if not path:
                raise user_error(t("no_audio", lang))
            name = os.path.basename(path)
            try:
                done = await service.analyze(
                    Path(path),
                    name=name,
                    granularity=granularity,
                    embedding=embedding,
                    enhance=enhance,
                    progress=lambda f, key: progress(f, desc=t(key, lang)),
                )
                done = await apply_text(service, done, text, text_weight)  # the transcript's `text` block
            except EmoStudioError as exc:
                size = format_size(service.settings.max_upload_bytes)
                raise user_error(error_text(exc, lang, name=name, size=size), exc) from None
            doc = done.to_dict()
            enhanced = bool(doc.get("enhancement"))
            after_path = str(done.run_dir / AUDIO_FILE) if enhanced else None
            return (
                doc,
                *render_result(doc, lang),
                gr.update(visible=enhanced),
                path if enhanced else None,
                after_path,
                downloads(doc),
            )

        go.click(clear, None, analysis_outputs, queue=False).then(
            analyze,
            [audio_in, gran, emb, enh, text_in, text_w, lang_in],
            analysis_outputs,
            concurrency_limit=None,
        )

        def play_segment(doc, evt: gr.SelectData):
            """The clicked segment of the run's processed audio, as a clip for the player."""
            segs = (doc or {}).get("segments") or []
            row = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
            if not doc or row is None or not 0 <= row < len(segs):
                return gr.update(value=None, visible=False)
            folder = service.run_dir(doc["run_id"])
            seg = segs[row]
            out = segment_dir / f"{folder.name}_{row:03d}.wav"
            if not out.is_file():
                with wave.open(str(folder / AUDIO_FILE)) as w:
                    rate = w.getframerate()
                    w.setpos(int(seg["start_s"] * rate))
                    frames = w.readframes(int((seg["end_s"] - seg["start_s"]) * rate))
                segment_dir.mkdir(parents=True, exist_ok=True)
                with wave.open(str(out), "wb") as o:
                    o.setnchannels(1)
                    o.setsampwidth(2)
                    o.setframerate(rate)
                    o.writeframes(frames)
            return gr.update(value=str(out), visible=True)

        seg_table.select(play_segment, [last], seg_player)

        # ---- history -----------------------------------------------------------------------------------------------
        def show_history(choice):
            lang = lang_of(choice)
            choices = run_choices(lang)
            return history_rows(service, lang), gr.update(choices=choices), gr.update(choices=choices)

        refresh.click(show_history, lang_in, [history, run_a, run_b])
        tab_hist.select(show_history, lang_in, [history, run_a, run_b])
        tab_cmp.select(show_history, lang_in, [history, run_a, run_b])

        def render_opened(doc, lang):
            if not doc:
                return "", "", "", "", gr.update(value=None, label=t("files", lang))
            return (
                render.card(doc, lang),
                render.score_bars(doc, lang, "history-bars"),
                render.timeline(doc, lang, "hi"),
                render.quality(doc, lang),
                gr.update(value=downloads(doc), label=t("files", lang)),
            )

        def open_run(table, choice, evt: gr.SelectData):
            row = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
            try:
                run_id = str(table.iloc[row, 0])
                doc = read_run(run_id)
            except (EmoStudioError, IndexError, KeyError, ValueError) as exc:
                raise user_error(error_text(exc, lang_of(choice)), exc) from None
            return (doc, *render_opened(doc, lang_of(choice)))

        history.select(open_run, [history, lang_in], [opened, h_card, h_bars, h_line, h_quality, h_files])

        # ---- compare two takes --------------------------------------------------------------------------------------
        async def compare(a_path, b_path, a_run, b_run, choice):
            lang = lang_of(choice)
            sides = []
            for p, r in ((a_path, a_run), (b_path, b_run)):
                if r:
                    sides.append({"run_id": r})
                elif p:
                    sides.append({"source": Path(p), "name": os.path.basename(p)})
            if len(sides) != 2:
                raise user_error(t("need_two", lang))
            try:
                out = await service.compare(*sides)
            except EmoStudioError as exc:
                raise user_error(error_text(exc, lang), exc) from None
            return out, render.comparison(out, lang)

        compared = gr.State(None)
        cmp_btn.click(
            compare, [clip_a, clip_b, run_a, run_b, lang_in], [compared, cmp_out], concurrency_limit=None
        )

        # ---- language --------------------------------------------------------------------------------------------------
        def relabel(choice, doc, opened_doc, compared_doc):
            lang = lang_of(choice)
            return (
                *L.updates(lang),
                gr.update(choices=_granularity_choices(lang), label=t("granularity", lang)),
                gr.update(label=_upload_label(service, lang)),
                gr.update(
                    label=t("examples", lang), sample_labels=[t(ex.text_key, lang) for _, ex in examples]
                ),
                status_markdown(service, lang),
                history_rows(service, lang),
                *render_result(doc, lang),
                *render_opened(opened_doc, lang),
                render.comparison(compared_doc, lang) if compared_doc else "",
            )

        lang_in.change(
            relabel,
            [lang_in, last, opened, compared],
            [
                *L.components,
                gran,
                audio_in,
                example_set.dataset,
                status,
                history,
                *result_views,
                h_card,
                h_bars,
                h_line,
                h_quality,
                h_files,
                cmp_out,
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
        ssr_mode=False,
        theme=theme,
        css=CSS,
        footer_links=["api"],
        mcp_server=False,
    )
