"""The Gradio web UI, mounted at / on the same FastAPI app as the REST API and calling the same Service.

This module builds the page: the header with the language switch, the model status, and one tab per feature
(`analyze.ui`, `profiles.ui`, `evaluate.ui`, `live.ui` lay out their tabs and wire their callbacks). Every text
comes from `emostudio.messages` (zh/en), every chart and table from `emostudio.render`. Nothing is fetched from
the internet: the theme uses system fonts, the charts are inline HTML/SVG and Gradio's analytics are off.
"""

from __future__ import annotations

import secrets

import gradio as gr

from emostudio.examples import ensure_examples
from emostudio.messages import LANG_CHOICES, lang_of, t
from emostudio.render.html import CSS
from emostudio.render.page import page_head
from emostudio.server.adapters.ui import build_adapters_section
from emostudio.server.analyze.history_ui import build_history_and_compare_tabs
from emostudio.server.analyze.service import Service
from emostudio.server.analyze.ui import build_analyze_tab
from emostudio.server.evaluate.ui import build_evaluate_tab
from emostudio.server.live.ui import build_live_tabs
from emostudio.server.profiles.ui import build_profiles_tab
from emostudio.server.ui_common import Labels


def status_markdown(service: Service, lang: str) -> str:
    """The model's state for the banner under the header, in `lang`."""
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


def status_updates(service: Service, choice: str) -> tuple:
    """(the banner, the load-demo button shown when the model is missing or failed, the poll timer while loading)."""
    st = service.model_state.state
    return (
        status_markdown(service, lang_of(choice)),
        gr.update(visible=st in ("missing", "failed")),
        gr.Timer(active=st == "loading"),
    )


def _header(L: Labels) -> gr.Radio:
    with gr.Row(elem_id="header"):
        L.add(gr.Markdown(t("title", "zh")), "value", "title")
        return gr.Radio(
            list(LANG_CHOICES),
            value=next(iter(LANG_CHOICES)),
            label=t("lang"),
            elem_id="lang",
            scale=0,
            min_width=220,
        )


def _model_status(blocks: gr.Blocks, service: Service, L: Labels, lang_in: gr.Radio) -> gr.Markdown:
    status = gr.Markdown(elem_id="model-status")
    demo_btn = L.add(gr.Button(t("load_demo"), visible=False, elem_id="load-demo"), "value", "load_demo")
    timer = gr.Timer(1.0)

    def show_status(choice):
        return status_updates(service, choice)

    blocks.load(show_status, lang_in, [status, demo_btn, timer])
    timer.tick(show_status, lang_in, [status, demo_btn, timer])

    def load_demo(choice):
        service.start("demo")
        return show_status(choice)

    demo_btn.click(load_demo, lang_in, [status, demo_btn, timer])
    return status


def build_ui(service: Service) -> gr.Blocks:
    """The whole web UI for one Service."""
    examples = ensure_examples(service.settings.outputs / ".examples")
    L = Labels()
    # uploads, recordings and zips in Gradio's cache (under the outputs dir) are deleted after a day
    with gr.Blocks(title="Emotion Studio", analytics_enabled=False, delete_cache=(3600, 86400)) as blocks:
        last = gr.State(None)  # the result.json shown on the Analyze tab
        lang_in = _header(L)
        status = _model_status(blocks, service, L, lang_in)
        with gr.Tabs():
            build_analyze_tab(service, L, lang_in, last, examples)
            build_history_and_compare_tabs(service, L, lang_in)
            L.add(build_profiles_tab(service, last, lang_in), "label", "tab_profiles")
            with L.add(build_evaluate_tab(service, lang_in), "label", "tab_evaluate"):
                build_adapters_section(service, lang_in)  # train adapters, switch the server to one
            live_tab, call_tab = build_live_tabs(service, lang_in)
            L.add(live_tab, "label", "tab_live")
            L.add(call_tab, "label", "tab_call")

        def relabel(choice):
            lang = lang_of(choice)
            return (*L.updates(lang), status_markdown(service, lang))

        lang_in.change(relabel, [lang_in], [*L.components, status]).then(
            None, None, None, js="() => window.esLang && window.esLang.done()"
        )
    drop_share_buttons(blocks)
    return blocks


def drop_share_buttons(blocks: gr.Blocks) -> None:
    """No "share" button on any component: it only works on Hugging Face Spaces ("Must be on Spaces to share")."""
    for block in blocks.blocks.values():
        buttons = getattr(block, "buttons", None)
        if isinstance(buttons, list) and "share" in buttons:
            setattr(block, "buttons", [b for b in buttons if b != "share"])  # noqa: B010


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
        head=page_head(LANG_CHOICES),
        footer_links=["api"],
        mcp_server=False,
    )
