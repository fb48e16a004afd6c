"""The web UI's Profiles tab: add the current result to a speaker, pick a speaker, see the trend chart with the
negative-share alert and the stored moments nearest to the current result. Calls the same ProfilesService as
the REST API (`routes_profiles`); texts from `emostudio.messages`, the summary card from `emostudio.render`."""

from __future__ import annotations

import io

import gradio as gr
import pandas as pd
from starlette.concurrency import run_in_threadpool

from emostudio.clips import ClipError
from emostudio.errors import EmoStudioError
from emostudio.messages import error_text, lang_of, t
from emostudio.model.labels import emotion_name
from emostudio.profiles import ProfileError, summarize, trend
from emostudio.render.profiles import summary_card
from emostudio.server.analyze.service import Service
from emostudio.server.profiles.service import profiles_service
from emostudio.server.ui_common import choices, user_error

PERIODS = ("day", "week", "month")


def build_profiles_tab(service: Service, last: gr.State, lang_in: gr.Radio) -> gr.Tab:
    """Build the tab inside the caller's `gr.Tabs()`; `last` holds the last result.json, `lang_in` the language."""
    ps = profiles_service(service)
    with gr.Tab(t("tab_profiles", "zh"), id="profiles") as tab:
        with gr.Row():
            with gr.Column(scale=2):
                add_title = gr.Markdown(t("profile_add_title", "zh"))
                new_speaker = gr.Textbox(label=t("profile_speaker_new", "zh"), elem_id="profile-speaker-new")
                tags = gr.Textbox(label=t("profile_tags", "zh"), elem_id="profile-tags")
                at = gr.Textbox(label=t("profile_at", "zh"), elem_id="profile-at")
                add_btn = gr.Button(t("profile_add", "zh"), variant="primary", elem_id="profile-add")
                add_out = gr.Markdown(elem_id="profile-add-status")
                added = gr.State(
                    None
                )  # (speaker, record id) of the last add, so its message follows the language
            with gr.Column(scale=3):
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

    def speakers(lang: str = "zh") -> list[str]:
        try:
            return list(ps.store().speakers())
        except ProfileError as e:
            raise user_error(error_text(e, lang), e) from None

    def refresh_choices(current, choice=None):
        names = speakers(lang_of(choice))
        return gr.update(choices=names, value=current if current in names else (names[0] if names else None))

    async def add_current(doc, speaker, tag_text, at_text, choice):
        lang = lang_of(choice)
        if not doc or not doc.get("run_id"):
            raise user_error(t("profile_need_result", lang))
        if not (speaker or "").strip():
            raise user_error(t("profile_need_speaker", lang))
        tag_list = [x.strip() for x in (tag_text or "").split(",") if x.strip()]
        try:
            rec = await ps.add_run(speaker.strip(), doc["run_id"], at_text or None, tag_list)
        except (EmoStudioError, ClipError) as e:
            raise user_error(
                error_text(e, lang, name=(at_text or "").strip() or speaker.strip()), e
            ) from None
        names = await run_in_threadpool(speakers, lang)
        said = t("profile_added", lang, speaker=rec.speaker, id=rec.id)
        return said, gr.update(choices=names, value=rec.speaker), (rec.speaker, rec.id)

    def view(speaker: str, period: str, vector, lang: str):
        """Summary card, trend chart and the nearest (or latest) moments; blocking store work, run in a thread."""
        from PIL import Image

        from emostudio.profiles.charts import trend_png

        store = ps.store()
        recs = store.speaker_records(speaker)
        tr = trend(recs, by=period or "week")
        image = Image.open(io.BytesIO(trend_png(tr, lang=lang)))
        if vector is not None:
            hits = store.search(vector, model_id=recs[0].model_id, k=5, speaker=speaker)
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
            table = pd.DataFrame(rows, columns=list(t("profile_near_cols", lang)))
        else:  # no current result: the speaker's latest moments
            rows = [
                [
                    f"{r.recorded_at:%Y-%m-%d %H:%M}",
                    emotion_name(r.label, lang),
                    f"{r.confidence * 100:.0f}%",
                    r.source,
                ]
                for r in recs[-5:][::-1]
            ]
            table = pd.DataFrame(rows, columns=list(t("profile_recent_cols", lang)))
        return summary_card(summarize(recs), tr.alert, lang), image, table

    async def show(speaker, period, doc, choice):
        if not speaker:
            return "", None, pd.DataFrame()
        try:
            vector = None
            if doc and doc.get("run_id"):
                vector = (await ps.clip_of_run(doc["run_id"]))[0].vector
            return await run_in_threadpool(view, speaker, period, vector, lang_of(choice))
        except (EmoStudioError, ClipError) as e:
            raise user_error(error_text(e, lang_of(choice), name=speaker), e) from None

    add_btn.click(
        add_current, [last, new_speaker, tags, at, lang_in], [add_out, pick, added], concurrency_limit=None
    )
    tab.select(refresh_choices, [pick, lang_in], pick)
    refresh.click(refresh_choices, [pick, lang_in], pick).then(
        show, [pick, by, last, lang_in], [summary, chart, nearest]
    )
    pick.change(show, [pick, by, last, lang_in], [summary, chart, nearest])
    by.change(show, [pick, by, last, lang_in], [summary, chart, nearest])

    def relabel(choice, last_added):
        lang = lang_of(choice)
        said = t("profile_added", lang, speaker=last_added[0], id=last_added[1]) if last_added else gr.skip()
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

    lang_in.change(
        relabel, [lang_in, added], [add_title, new_speaker, tags, at, add_btn, add_out, pick, by, refresh]
    ).then(
        show, [pick, by, last, lang_in], [summary, chart, nearest]
    )  # the card, chart and table in the new language
    return tab
