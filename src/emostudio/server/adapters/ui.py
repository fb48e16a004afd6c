"""The Evaluate tab's adapter section: train an adapter from an uploaded labelled set (the same inputs as an
evaluation: a manifest + audio, a zip, or a folder on the server under the allowed roots), see its
cross-validated headline (base vs calibrated vs adapted: UA, WA, ECE with 95 % intervals), list the server's
adapters and switch the server to one or back to the base model.

Callbacks are plain functions (the AdapterStore first, values in, values out) so unit tests call them without a
browser; `build_adapters_section` lays them out inside the Evaluate tab. Same AdapterStore as the REST API
(/v1/adapters). Refusals (too few examples per class, other base weights) are toasts in the UI's language.
Texts: emostudio.messages; HTML: emostudio.render.adapted.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import gradio as gr

from emostudio.errors import EmoStudioError
from emostudio.evaluate import Manifest
from emostudio.messages import error_text, lang_of, t
from emostudio.render import adapted as render
from emostudio.server.adapters.service import AdapterStore, adapters_for
from emostudio.server.evaluate.inputs import UploadError, stage_manifest_files
from emostudio.server.ui_common import choices, user_error

CLASS_MODES = ("all", "4")
DEFAULT_FOLDS = 5
UI_BOOTSTRAP = 1000  # bootstrap resamples of the report's intervals (as the REST default)


def _stage(store: AdapterStore, uploads: Path, manifest: str | None, audio, folder: str | None, classes: str):
    """The labelled set the user gave, read as an evaluation upload is (copies of Gradio's files in `uploads`)."""
    if folder and not manifest:
        return store.manifest_from_server(folder, classes)
    if not manifest:  # not reached: checked by the caller
        raise UploadError(t("eval_give_input", "en"))
    if Path(manifest).suffix.lower() == ".zip":
        archive = uploads / "archive.zip"
        shutil.copyfile(manifest, archive)
        return store.manifest_from_archive(archive, uploads, classes)
    staged, saved = stage_manifest_files(uploads, manifest, audio)
    return store.manifest_from_files(staged, saved, classes)


def train_blocking(
    store: AdapterStore,
    manifest: str | None,
    audio: list[str] | None,
    folder: str | None,
    classes: str = "all",
    folds: int = DEFAULT_FOLDS,
    n_boot: int = UI_BOOTSTRAP,
) -> dict:
    """Stage the upload, train and store the adapter (POST /v1/adapters' answer); the uploads are removed."""
    uploads = store.uploads_dir()
    try:
        man: Manifest = _stage(store, uploads, manifest, audio, folder, classes)
        return store.train(man, classes=classes, folds=int(folds), n_boot=n_boot)
    finally:
        shutil.rmtree(uploads, ignore_errors=True)


def adapter_choices(store: AdapterStore, lang: str) -> list[tuple[str, str]]:
    """(label, id) of the server's adapters; those trained on other weights say so."""
    out = []
    for a in store.list_adapters()["adapters"]:
        if "error" in a:
            continue
        labels = ", ".join(render.label_name(x, lang) for x in a["labels"])
        label = t("ad_choice", lang, id=a["id"], labels=labels, created=(a.get("created") or "")[:16])
        if a.get("fits_model") is False:
            label += " " + t("ad_other_weights", lang)
        out.append((label, a["id"]))
    return out


def listing(store: AdapterStore, lang: str, value: str | None = None) -> tuple:
    """(the active-adapter line, the adapters dropdown) in `lang`; the dropdown shows `value` or the active one."""
    found = store.list_adapters()
    ch = adapter_choices(store, lang)
    ids = [i for _, i in ch]
    shown = value if value in ids else found["active"] if found["active"] in ids else None
    return render.active(found, lang), gr.update(choices=ch, value=shown, label=t("ad_list", lang))


async def train_adapter(
    store: AdapterStore,
    manifest,
    audio,
    folder,
    classes,
    folds,
    choice,
    progress=None,
    n_boot: int = UI_BOOTSTRAP,
) -> tuple:
    """Train from what the user gave: (the adapter's answer, its headline html, active line, dropdown)."""
    lang = lang_of(choice)
    folder = (folder or "").strip() or None
    if not manifest and not folder:
        raise user_error(t("eval_need_input", lang))
    if progress is not None:
        progress(0.1, desc=t("ad_training", lang))
    try:
        doc = await asyncio.to_thread(train_blocking, store, manifest, audio, folder, classes, folds, n_boot)
    except EmoStudioError as exc:
        raise user_error(error_text(exc, lang, name=folder or Path(manifest or "").name), exc) from None
    return (doc, render.trained(doc, lang), *listing(store, lang, doc["id"]))


def activate(store: AdapterStore, adapter_id: str | None, choice: str | None) -> tuple:
    """Switch the server to `adapter_id`: (active line, dropdown). Other weights: a toast naming the adapter."""
    lang = lang_of(choice)
    if not adapter_id:
        raise user_error(t("ad_pick", lang))
    try:
        store.activate(adapter_id)
    except EmoStudioError as exc:
        raise user_error(error_text(exc, lang, name=adapter_id), exc) from None
    return listing(store, lang, adapter_id)


def deactivate(store: AdapterStore, choice: str | None, shown: str | None = None) -> tuple:
    """Back to the base model: (active line, dropdown still showing `shown`)."""
    lang = lang_of(choice)
    try:
        store.deactivate()
    except EmoStudioError as exc:
        raise user_error(error_text(exc, lang), exc) from None
    return listing(store, lang, shown)


def relabel(store: AdapterStore, choice: str | None, trained: dict | None, shown: str | None) -> tuple:
    """Every label of the section, the trained adapter's headline and the list in the chosen language."""
    lang = lang_of(choice)
    return (
        gr.update(label=t("ad_section", lang)),
        gr.update(value=t("ad_intro", lang)),
        gr.update(label=t("eval_manifest", lang)),
        gr.update(label=t("eval_audio", lang)),
        gr.update(label=t("eval_folder", lang)),
        gr.update(label=t("eval_classes", lang), choices=choices("eval_class_choices", CLASS_MODES, lang)),
        gr.update(label=t("ad_folds", lang)),
        gr.update(value=t("ad_train", lang)),
        render.trained(trained, lang) if trained else "",
        *listing(store, lang, shown),
        gr.update(value=t("ad_activate", lang)),
        gr.update(value=t("ad_deactivate", lang)),
        gr.update(value=t("refresh", lang)),
    )


# ------------------------------------------------------------------------------------------ layout and wiring
def build_adapters_section(service, lang_in: gr.Radio) -> None:
    """The adapter section (call inside the Evaluate tab); relabels on `lang_in`."""
    store = adapters_for(service)
    z = "zh"
    trained = gr.State(None)
    with gr.Accordion(t("ad_section", z), open=False, elem_id="adapters") as section:
        intro = gr.Markdown(t("ad_intro", z))
        with gr.Row():
            with gr.Column(scale=2):
                manifest = gr.File(
                    label=t("eval_manifest", z),
                    file_types=[".csv", ".tsv", ".jsonl", ".json", ".zip"],
                    type="filepath",
                    elem_id="ad-manifest",
                )
                audio = gr.File(
                    label=t("eval_audio", z), file_count="multiple", type="filepath", elem_id="ad-audio"
                )
                folder = gr.Textbox(label=t("eval_folder", z), elem_id="ad-folder")
                classes = gr.Radio(
                    choices("eval_class_choices", CLASS_MODES, z),
                    value="all",
                    label=t("eval_classes", z),
                    elem_id="ad-classes",
                )
                folds = gr.Slider(2, 10, DEFAULT_FOLDS, step=1, label=t("ad_folds", z), elem_id="ad-folds")
                go = gr.Button(t("ad_train", z), variant="primary", elem_id="ad-train")
            with gr.Column(scale=3):
                result = gr.HTML(elem_id="ad-result")
                active_line = gr.HTML(elem_id="ad-active")
                picker = gr.Dropdown([], value=None, label=t("ad_list", z), elem_id="ad-list")
                with gr.Row():
                    use = gr.Button(t("ad_activate", z), elem_id="ad-activate")
                    base = gr.Button(t("ad_deactivate", z), elem_id="ad-deactivate")
                    refresh = gr.Button(t("refresh", z), size="sm", elem_id="ad-refresh")

    async def train(m, a, f, c, k, choice, progress=gr.Progress()):  # noqa: B008
        return await train_adapter(store, m, a, f, c, k, choice, progress)

    go.click(
        train,
        [manifest, audio, folder, classes, folds, lang_in],
        [trained, result, active_line, picker],
        concurrency_limit=None,
    )
    use.click(lambda i, c: activate(store, i, c), [picker, lang_in], [active_line, picker])
    base.click(lambda c, i: deactivate(store, c, i), [lang_in, picker], [active_line, picker])
    refresh.click(lambda c, i: listing(store, lang_of(c), i), [lang_in, picker], [active_line, picker])
    section.expand(lambda c, i: listing(store, lang_of(c), i), [lang_in, picker], [active_line, picker])
    lang_in.change(
        lambda c, d, i: relabel(store, c, d, i),
        [lang_in, trained, picker],
        [
            section,
            intro,
            manifest,
            audio,
            folder,
            classes,
            folds,
            go,
            result,
            active_line,
            picker,
            use,
            base,
            refresh,
        ],
    )
