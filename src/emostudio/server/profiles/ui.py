"""The web UI's Profiles tab: add the current result to a speaker, pick a speaker, see the trend chart with the
negative-share alert and the stored moments nearest to the current result. Calls the same ProfilesService as
the REST API (`profiles.service`); texts from `emostudio.messages`, the summary card from `emostudio.render`."""

from __future__ import annotations

import io
from dataclasses import dataclass

import gradio as gr
import pandas as pd
from starlette.concurrency import run_in_threadpool

from emostudio.clips import ClipError
from emostudio.errors import EmoStudioError
from emostudio.messages import error_text, lang_of, t
from emostudio.model.labels import emotion_name
from emostudio.profiles import ProfileError, summarize, trend
from emostudio.render.html import notice
from emostudio.render.profiles import summary_card
from emostudio.server.analyze.service import Service
from emostudio.server.profiles.service import ProfilesService, profiles_service
from emostudio.server.ui_common import choices, log, user_error

PERIODS = ("day", "week", "month")

# ---- plain functions: values in, values out -----------------------------------------------------------------------


def speaker_names(ps: ProfilesService, lang: str = "zh") -> list[str]:
    """The speakers in the server's store; a toast in `lang` when the store cannot be opened."""
    try:
        return list(ps.store().speakers())
    except ProfileError as e:
        raise user_error(error_text(e, lang), e) from None


def speaker_choices(ps: ProfilesService, current: str | None, choice: str | None = None):
    """The speaker dropdown's choices, keeping `current` when it is still there (else the first speaker)."""
    names = speaker_names(ps, lang_of(choice))
    return gr.update(choices=names, value=current if current in names else (names[0] if names else None))


def tag_list(text: str | None) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


def _said(key_or_exc, **fmt) -> dict[str, str]:
    """The add status (HTML) in each language: a success, a message key, or a user's mistake (its exception)."""
    if isinstance(key_or_exc, BaseException):
        return {lang: error_text(key_or_exc, lang, **fmt) for lang in ("zh", "en")}
    return {lang: t(key_or_exc, lang, **fmt) for lang in ("zh", "en")}


def said_html(said: dict[str, str] | None, lang: str) -> str:
    """The add status area: a success in green, a mistake in red (said once, no badge over the picker)."""
    if not said:
        return ""
    if said.get("ok"):
        return notice(said[lang], "said-ok", "profile-added", icon="✅ ")
    return notice(said[lang], "bad", "profile-add-error", icon="⛔ ")


async def add_result(
    ps: ProfilesService, doc: dict | None, speaker: str | None, tag_text, at_text, choice
) -> tuple:
    """Add the current result's run to `speaker`: (the status HTML, the dropdown update, the status in each
    language). A mistake replaces the previous success in the status area (no raised gr.Error: its badge covers
    the speaker picker) and leaves the dropdown as it was."""
    lang = lang_of(choice)
    name = (speaker or "").strip()
    if not doc or not doc.get("run_id"):
        said = _said("profile_need_result")
    elif not name:
        said = _said("profile_need_speaker")
    else:
        try:
            rec = await ps.add_run(name, doc["run_id"], at_text or None, tag_list(tag_text))
        except (EmoStudioError, ClipError) as e:
            said = _said(e, name=(at_text or "").strip() or name)
        else:
            names = await run_in_threadpool(speaker_names, ps, lang)
            said = {**_said("profile_added", speaker=rec.speaker, id=rec.id), "ok": "1"}
            return said_html(said, lang), gr.update(choices=names, value=rec.speaker), said
    if "ok" not in said:
        log.info("web UI: %s", said["en"])
    return said_html(said, lang), gr.skip(), said


def nearest_table(hits, lang: str) -> pd.DataFrame:
    """The stored moments nearest to the current result (score, speaker, time, emotion, confidence, source)."""
    rows = [
        [
            f"{h.score:.3f}",
            h.speaker,
            f"{h.recorded_at:%Y-%m-%d %H:%M}",
            emotion_name(h.label, lang),
            f"{h.confidence * 100:.0f}%",
            h.source,
        ]  # fmt: skip
        for h in hits
    ]
    return pd.DataFrame(rows, columns=list(t("profile_near_cols", lang)))


def recent_table(recs, lang: str) -> pd.DataFrame:
    """A speaker's five latest moments, newest first (time, emotion, confidence, source)."""
    rows = [
        [
            f"{r.recorded_at:%Y-%m-%d %H:%M}",
            emotion_name(r.label, lang),
            f"{r.confidence * 100:.0f}%",
            r.source,
        ]
        for r in recs[-5:][::-1]
    ]
    return pd.DataFrame(rows, columns=list(t("profile_recent_cols", lang)))


def speaker_view(ps: ProfilesService, speaker: str, period: str, vector, lang: str) -> tuple:
    """Summary card, trend chart (a PIL image) and the nearest (or latest) moments; blocking store work."""
    from PIL import Image

    from emostudio.profiles.charts import trend_png

    store = ps.store()
    recs = store.speaker_records(speaker)
    tr = trend(recs, by=period or "week")
    image = Image.open(io.BytesIO(trend_png(tr, lang=lang)))
    if vector is not None:
        table = nearest_table(store.search(vector, model_id=recs[0].model_id, k=5, speaker=speaker), lang)
    else:  # no current result: the speaker's latest moments
        table = recent_table(recs, lang)
    return summary_card(summarize(recs), tr.alert, lang), image, table


async def show_speaker(
    ps: ProfilesService, speaker: str | None, period: str, doc: dict | None, choice
) -> tuple:
    """`speaker_view` for the picked speaker, searched with the current result's embedding when there is one."""
    if not speaker:
        return "", None, pd.DataFrame()
    try:
        vector = None
        if doc and doc.get("run_id"):
            vector = (await ps.clip_of_run(doc["run_id"]))[0].vector
        return await run_in_threadpool(speaker_view, ps, speaker, period, vector, lang_of(choice))
    except (EmoStudioError, ClipError) as e:
        raise user_error(error_text(e, lang_of(choice), name=speaker), e) from None


def relabel_updates(choice: str, last_said: dict[str, str] | None) -> tuple:
    """The tab's labels in the chosen language (and the last add's status, when there was one)."""
    lang = lang_of(choice)
    said = said_html(last_said, lang) if last_said else gr.skip()
    return (
        t("profile_add_title", lang),
        gr.update(label=t("profile_speaker_new", lang)),
        gr.update(label=t("profile_tags", lang)),
        gr.update(label=t("profile_at", lang)),
        gr.update(value=t("profile_add", lang)),
        said,
        gr.update(label=t("profile_pick", lang)),
        gr.update(label=t("profile_by", lang), choices=choices("profile_periods", PERIODS, lang)),
        gr.update(value=t("refresh", lang)),
    )


# ---- layout and wiring --------------------------------------------------------------------------------------------


@dataclass
class AddColumn:
    title: gr.Markdown
    speaker: gr.Textbox
    tags: gr.Textbox
    at: gr.Textbox
    button: gr.Button
    said: gr.HTML
    added: gr.State  # the last add's status in each language, so it follows the language switch


@dataclass
class ViewColumn:
    pick: gr.Dropdown
    by: gr.Radio
    refresh: gr.Button
    summary: gr.HTML
    chart: gr.Image
    nearest: gr.Dataframe


def _add_column() -> AddColumn:
    title = gr.Markdown(t("profile_add_title", "zh"))
    speaker = gr.Textbox(label=t("profile_speaker_new", "zh"), elem_id="profile-speaker-new")
    tags = gr.Textbox(label=t("profile_tags", "zh"), elem_id="profile-tags")
    at = gr.Textbox(label=t("profile_at", "zh"), elem_id="profile-at")
    button = gr.Button(t("profile_add", "zh"), variant="primary", elem_id="profile-add")
    said = gr.HTML(elem_id="profile-add-status")
    return AddColumn(title, speaker, tags, at, button, said, gr.State(None))


def _view_column() -> ViewColumn:
    with gr.Row():
        pick = gr.Dropdown(
            [], label=t("profile_pick", "zh"), elem_id="profile-pick", allow_custom_value=False
        )
        by = gr.Radio(
            choices("profile_periods", PERIODS, "zh"),
            value="week",
            label=t("profile_by", "zh"),
            elem_id="profile-by",
        )
        refresh = gr.Button(t("refresh", "zh"), elem_id="profile-refresh", scale=0)
    summary = gr.HTML(elem_id="profile-summary")
    chart = gr.Image(type="pil", interactive=False, elem_id="profile-trend", show_label=False)
    nearest = gr.Dataframe(interactive=False, elem_id="profile-nearest")
    return ViewColumn(pick, by, refresh, summary, chart, nearest)


def build_profiles_tab(service: Service, last: gr.State, lang_in: gr.Radio) -> gr.Tab:
    """Build the tab inside the caller's `gr.Tabs()`; `last` holds the last result.json, `lang_in` the language."""
    ps = profiles_service(service)
    with gr.Tab(t("tab_profiles", "zh"), id="profiles") as tab, gr.Row():
        with gr.Column(scale=2):
            a = _add_column()
        with gr.Column(scale=3):
            v = _view_column()
    views = [v.summary, v.chart, v.nearest]

    def refresh_choices(current, choice=None):
        return speaker_choices(ps, current, choice)

    async def add_current(doc, speaker, tag_text, at_text, choice):
        return await add_result(ps, doc, speaker, tag_text, at_text, choice)

    async def show(speaker, period, doc, choice):
        return await show_speaker(ps, speaker, period, doc, choice)

    a.button.click(
        add_current,
        [last, a.speaker, a.tags, a.at, lang_in],
        [a.said, v.pick, a.added],
        concurrency_limit=None,
    )
    tab.select(refresh_choices, [v.pick, lang_in], v.pick)
    v.refresh.click(refresh_choices, [v.pick, lang_in], v.pick).then(
        show, [v.pick, v.by, last, lang_in], views
    )
    v.pick.change(show, [v.pick, v.by, last, lang_in], views)
    v.by.change(show, [v.pick, v.by, last, lang_in], views)

    def relabel(choice, last_added):
        return relabel_updates(choice, last_added)

    lang_in.change(
        relabel,
        [lang_in, a.added],
        [a.title, a.speaker, a.tags, a.at, a.button, a.said, v.pick, v.by, v.refresh],
    ).then(show, [v.pick, v.by, last, lang_in], views)  # the card, chart and table in the new language
    return tab
