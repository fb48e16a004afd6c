"""One language means one (issue 26 item 4): every renderer, callback helper and chart, called in Chinese and in
English, shows no words of the other language outside a short allow-list (langcheck.py) — and both languages
say something (an empty view would pass vacuously)."""

from __future__ import annotations

import re
import types

import numpy as np
import pytest
from langcheck import check, foreign, visible_text
from signals import mix, voice, white
from test_profiles import weekly

from emostudio.compare import compare_takes
from emostudio.evaluate import charts as eval_charts
from emostudio.evaluate.run import status_reasons
from emostudio.evaluate.stability import StabilityThresholds
from emostudio.interpret import BANDS
from emostudio.messages import error_text, t
from emostudio.model.labels import KEYS
from emostudio.multimodal.attach import attach_text
from emostudio.profiles import summarize, trend
from emostudio.profiles.charts import _trend_chart
from emostudio.profiles.records import BadTimeError
from emostudio.render import result as render
from emostudio.render.charts import cjk_font, font_families
from emostudio.render.evaluate import bad_row_text, verdict_html
from emostudio.render.lanes import Lane
from emostudio.render.live import call_html, ending_html, live_cards, live_timeline, role_name
from emostudio.render.profiles import summary_card
from emostudio.server import ui
from emostudio.server.analyze import history_ui
from emostudio.server.evaluate import ui as ui_evaluate
from emostudio.server.live.ui import BadRolesError, roles_of

pytestmark = pytest.mark.integration
LANG_PAIRS = (("zh", "en"), ("en", "zh"))
DATA = ("take.wav", "call.wav", "outputs_20240101_000000", "outputs_20240101_000001", "float32", "tiny")
TYPED = (
    "太好了，又坏了。",
    "太好了",
    "坏了",
    "坏",  # the negative word the rule layer (multimodal/rules.py) reads in it
    "great, it broke again",
    "great",
    "broke",
    "again",
)  # a transcript and its words


@pytest.fixture(scope="module")
def docs(recognizer):
    """Result documents that exercise every part of the card: frames, enhancement with its steps, a noisy
    take (quality advice), a long take (segments), a transcript in each language, a two-party call."""
    clean, active = voice(4.0, seed=5)
    noisy = mix(clean, active, white(len(clean)), 3)
    long, _ = voice(31.0, seed=6)
    stereo = np.stack([clean, np.roll(voice(4.0, seed=7)[0], 800)], axis=1)

    def run(x, name, run_id, **kw):
        res = recognizer.analyze(x, sample_rate=16000, name=name, **kw)
        return res, {**res.to_dict(), "run_id": run_id}

    frame_res, frame = run(noisy, "take.wav", "outputs_20240101_000000", granularity="frame", enhance=True)
    clean_res, _ = run(clean, "take.wav", "outputs_20240101_000001")
    _, long_doc = run(long, "take.wav", "outputs_20240101_000000")
    _, call = run(stereo, "call.wav", "outputs_20240101_000000", granularity="frame", channels="separate")
    texts = {}
    for lang, words in (("zh", "太好了，又坏了。"), ("en", "great, it broke again")):
        texts[lang] = {**attach_text(clean_res, words).to_dict(), "run_id": "outputs_20240101_000001"}
    assert frame["enhancement"]["steps"] and len(long_doc["segments"]) > 1 and call["channels"]
    return {
        "frame": frame,
        "long": long_doc,
        "call": call,
        "texts": texts,
        "compare": compare_takes(frame_res, clean_res),
    }


def _says_something(pieces, lang: str) -> None:
    text = "".join(visible_text(p) for p in pieces)
    assert re.search(r"[\u4e00-\u9fff]" if lang == "zh" else r"[A-Za-z]{3,}", text), (
        f"nothing readable in {lang}"
    )


@pytest.mark.parametrize("lang,other", LANG_PAIRS)
def test_the_result_card_and_its_charts_speak_one_language(docs, lang, other):
    pieces = []
    for doc in (docs["frame"], docs["long"], *docs["texts"].values()):
        pieces += [
            render.card(doc, lang),
            render.score_bars(doc, lang),
            render.timeline(doc, lang),
            render.segments_strip(doc, lang),
            render.quality(doc, lang),
            render.enhancement(doc, lang),
        ]
        pieces += [" ".join(row) for row in render.segment_rows(doc, lang)]
    pieces.append(render.comparison(docs["compare"], lang))
    _says_something(pieces, lang)
    # the words the user typed are data (the zh transcript in English mode, and the reverse)
    check(pieces, lang, (*DATA, *TYPED, "cnsenti+snownlp", "vader"))
    assert foreign(render.enhancement(docs["frame"], other), lang)  # the check does see the other language


def test_enhancement_steps_are_data_said_in_each_language(docs):
    steps = docs["frame"]["enhancement"]["steps"]
    assert steps == ["high-pass 100 Hz", "denoise (vad)", "peak -1 dBFS"]  # stored as before, in English
    assert render.step_text(steps[0], "zh") == "高通滤波 100 Hz"
    assert " → ".join(render.step_text(s, "zh") for s in steps) in render.enhancement(docs["frame"], "zh")
    assert render.step_text("denoise (range 0.5–1.5 s)", "zh") == "降噪（噪声取自 0.5–1.5 秒）"
    assert render.step_text("something else", "zh") == "something else"  # not a step: shown as stored


@pytest.mark.parametrize("lang,other", LANG_PAIRS)
def test_two_party_and_live_views_speak_one_language(docs, recognizer, lang, other):
    call = docs["call"]
    assert [c["role"] for c in call["channels"]] == ["left", "right"]  # stored role names unchanged
    pieces = [call_html(call, lang)]
    assert role_name("left", "zh") == "左声道" and role_name("agent", "zh") == "agent"
    stereo = np.stack([voice(3.0, seed=8)[0], voice(3.0, seed=9)[0]], axis=1)
    lanes: dict = {}
    with recognizer.stream(16000, channels="separate") as live:
        for start in range(0, len(stereo), 8000):
            for update in live.feed(stereo[start : start + 8000]):
                event = update.to_dict()
                lane = lanes.setdefault(event["channel"], Lane(event["role"] or ""))
                lane.segments = [(s["start_s"], s["end_s"], s["label"]) for s in event["segments"]]
                lane.current = event
    assert lanes
    pieces += [live_cards(lanes, lang, 3.0, 6, 1), live_timeline(lanes, lang, 3.0), live_cards({}, lang)]
    ending = types.SimpleNamespace(
        error=None,
        run_id="outputs_20240101_000000",
        reason="idle",
        doc={"summary": "", "channels": [{"index": 0, "role": "left", "status": "silent", "emotion": None}]},
    )
    pieces += [ending_html(ending, lang), ending_html(types.SimpleNamespace(error="-", run_id=None), lang)]
    _says_something(pieces, lang)
    check(pieces, lang, DATA)


@pytest.mark.parametrize("lang,other", LANG_PAIRS)
def test_evaluation_verdict_and_tables_speak_one_language(lang, other):
    entry = {
        "model": "tiny",
        "compared": 10,
        "flipped": [{}] * 3,
        "flip_rate": 0.3,
        "drift_max": 0.5,
        "drift_max_id": "a1",
        "drift_mean": 0.1,
        "newly_failed": [{}],
        "deltas": {"wa": -0.2},
    }
    stability = {"thresholds": StabilityThresholds().to_dict(), "models": [entry], "passed": False}
    doc = {
        "status": {"code": 4, "zh": t("eval_status_4", "zh"), "en": t("eval_status_4", "en"), "reasons": []},
        "models": {"tiny": {"model": {"is_random": True}, "n": 10, "wa": 0.5, "ua": 0.4, "macro_f1": 0.3,
                            "ece": 0.1, "nll": 1.0, "brier": 0.5, "failed": 1,
                            "per_class": [{"class": "angry", "precision": 1, "recall": 0.5, "f1": 0.6,
                                           "support": 4}]}},
        "stability": {**stability, "baseline": "/srv/evaluations/eval_20240101_000000"},
        "bad_rows": [{"where": "line 10", "code": "missing", "message": "line 10: a.wav: file not found"}],
    }  # fmt: skip
    reasons = status_reasons(doc, lang)
    assert len(reasons) == 6  # flips, largest drift, mean drift, WA drop, new failures, the bad row
    # metrics.json keeps the English reasons, exactly as before
    assert status_reasons(doc, "en")[-1] == "1 row(s) not evaluated"
    assert status_reasons(doc, "en")[0] == "tiny: 3 of 10 files changed label (30.0 % > 1 %)"
    pieces = [verdict_html({"state": "done", "metrics": doc}, reasons, lang)]
    pieces.append(verdict_html({"state": "failed", "error": {"message": ""}}, [], lang))
    frames = [ui_evaluate.metrics_frame(doc, lang), ui_evaluate.class_frame(doc, lang)]
    pieces += [" ".join(map(str, [*f.columns, *f.to_numpy().ravel()])) for f in frames]
    _says_something(pieces, lang)
    check(pieces, lang, (*DATA, "eval_20240101_000000", "a1", "a.wav"))
    said = bad_row_text(doc["bad_rows"][0], lang)  # the row's place is the table's first column, said once
    assert said and "line 10" not in said and "第 10 行" not in said


@pytest.mark.parametrize("lang,other", LANG_PAIRS)
def test_profile_card_and_alert_speak_one_language(lang, other):
    for recs in (weekly("cust", [2, 4, 6, 8, 10, 12, 14, 16]), weekly("cust", [6, 5, 7, 6, 6, 5, 7, 6])):
        tr = trend(recs, by="week", tz="UTC")
        card = summary_card(summarize(recs), tr.alert, lang)
        assert tr.alert.message[lang] in visible_text(card)
        check([card], lang, ("cust",))


@pytest.mark.parametrize("lang,other", LANG_PAIRS)
def test_history_status_and_errors_speak_one_language(lang, other):
    runs = [{"run_id": "outputs_20240101_000000", "timestamp": "", "source": "take.wav", "emotion": "sad",
             "confidence": 0.5, "granularity": g} for g in ("utterance", "frame")]  # fmt: skip
    service = types.SimpleNamespace(
        list_runs=lambda limit: {"runs": runs},
        model_state=types.SimpleNamespace(state="ready", model="tiny", is_random=True),
    )
    table = history_ui.history_rows(service, lang)
    pieces = [
        " ".join(map(str, [*table.columns, *table.to_numpy().ravel()])),
        ui.status_markdown(service, lang),
    ]
    pieces.append(
        error_text(BadTimeError("time 'next tuesday' is not a time: use ISO 8601 ..."), lang, "next tuesday")
    )
    try:
        roles_of("agent,agent")
    except BadRolesError as exc:
        pieces.append(error_text(exc, lang, name="agent,agent"))
    folder_error = ui_evaluate.ForbiddenPathError("/etc is outside the folders this server may read")
    pieces.append(ui_evaluate.start_error(folder_error, lang, "/etc"))
    pieces += [render.granularity_name(g, lang) for g in ("utterance", "frame")]
    pieces += [t(f"progress_{k}", lang) for k in ("decoding", "waiting", "model", "saving")]
    _says_something(pieces, lang)
    check(pieces, lang, (*DATA, "next tuesday", "agent", "/etc"), html=False)
    assert t("progress_decoding", lang) != "progress_decoding"


# ---- charts -------------------------------------------------------------------------------------------------
def _chart_texts(fig) -> str:
    from matplotlib.text import Text

    return "\n".join(x.get_text() for x in fig.findobj(Text) if x.get_text())


def _figures(lang: str) -> dict:
    labels = ["angry", "happy", "neutral", "sad"]
    bins = [
        {"lo": i / 5, "hi": (i + 1) / 5, "n": i, "accuracy": 0.5, "confidence": (i + 0.5) / 5}
        for i in range(5)
    ]
    per = [{"class": k, "precision": 0.5, "recall": 0.4, "f1": 0.45, "support": 3} for k in labels]
    bands = [{"range": r, "lo": lo, "hi": hi, "n": n, "accuracy": 0.5, "zh": BANDS[b].zh, "en": BANDS[b].en}
             for r, lo, hi, n, b in (("<60%", 0, .6, 2, "uncertain"), ("60–80%", .6, .8, 0, "leaning"),
                                     (">80%", .8, 1, 3, "confident"))]  # fmt: skip
    rows = [{"model": m, "wa": 0.5, "ua": 0.4, "macro_f1": 0.3} for m in ("tiny", "tiny-fp16")]
    history = [
        {"model": "tiny", "time": f"2026-01-0{d}T10:00:00+00:00", "wa": 0.5, "ua": 0.4} for d in (1, 2)
    ]
    tr = trend(weekly("cust", [2, 4, 6, 8, 10, 12, 14, 16]), by="week", tz="UTC")
    return {
        "confusion": eval_charts.confusion.__wrapped__(labels, np.eye(4, dtype=int) * 3, lang=lang),
        "reliability": eval_charts.reliability.__wrapped__(bins, 0.1, lang=lang),
        "per_class": eval_charts.per_class.__wrapped__(per, model="tiny", lang=lang),
        "bands": eval_charts.bands.__wrapped__(bands, lang=lang),
        "models": eval_charts.models.__wrapped__(rows, lang=lang),
        "history": eval_charts.history.__wrapped__(history, lang=lang),
        "trend": _trend_chart.__wrapped__(tr, None, lang=lang),
    }


@pytest.mark.parametrize("lang,other", LANG_PAIRS)
def test_every_chart_draws_its_texts_in_the_language_asked_for(lang, other):
    figures = _figures(lang)
    for name, fig in figures.items():
        text = _chart_texts(fig)
        assert text.strip(), name
        found = foreign(
            text, lang, ("tiny", "fp", "cust", "W02", "W03", "W04", "W05", "W06", "W07", "W08", "W09")
        )
        assert not found, f"{name} chart in {lang}: {found}"


def test_cluster_map_draws_in_each_language():
    from emostudio.embeddings import _cluster_map, cluster_vectors

    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, (10, 8)), rng.normal(5, 1, (10, 8))])
    clustering = cluster_vectors(x, 2)
    probs = rng.dirichlet(np.ones(len(KEYS)), 20)
    for lang in ("zh", "en"):
        assert not foreign(_chart_texts(_cluster_map.__wrapped__(clustering, probs, None, lang=lang)), lang)


def test_chinese_charts_use_a_cjk_font_and_draw_data_literally():
    from matplotlib.font_manager import FontProperties, findfont

    assert cjk_font() is not None, "fonts-noto-cjk (scripts/setup --test) is not installed"
    assert font_families("zh")[0] == cjk_font() and cjk_font() in font_families("en")
    path = findfont(FontProperties(family=font_families("zh")))
    assert "CJK" in path or "cjk" in path.lower(), path
    # a speaker id that mathtext would fail to parse is drawn as typed
    png = _trend_chart(trend(weekly(r"$\foo_{x", [2, 4, 6, 8, 10, 12]), by="week", tz="UTC"), None, lang="zh")
    assert png[:4] == b"\x89PNG"


# ---- the whole web UI: what it shows at start (中文) and after each switch of the language ---------------------
def _strings(value) -> list[str]:
    """Every text a Gradio update or value carries (labels, values, choices, table headers and cells)."""
    import pandas as pd

    if isinstance(value, str):
        return [value]
    if isinstance(value, pd.DataFrame):
        return [str(c) for c in value.columns] + [str(v) for v in value.to_numpy().ravel()]
    if isinstance(value, dict):
        choices = [
            c[0] if isinstance(c, list | tuple) else c for c in value.get("choices") or []
        ]  # (label, value)
        shown = (
            "label",
            "info",
            "placeholder",
            "sample_labels",
            "headers",
        )  # a radio's value is a code, not a text
        keys = shown if choices else (*shown, "value")
        return [s for k in keys if k in value for s in _strings(value[k])] + _strings(choices)
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


def test_every_tab_follows_the_language_switch(tmp_path, tiny_model_dir, docs):
    """The page as it opens is Chinese only; each tab's language callback gives every label, choice, card and
    table in the language switched to — all seven tab names included."""
    from emostudio.server.app import create_app
    from emostudio.server.settings import ServerSettings

    settings = ServerSettings(
        model=str(tiny_model_dir), device="cpu", allow_download=False, outputs=tmp_path / "o", ui=False
    )
    service = create_app(settings).state.service
    assert service.wait_ready(120)
    blocks = ui.build_ui(service)
    props = [c.get("props", {}) for c in blocks.get_config_file()["components"]]
    props = [p for p in props if p.get("elem_id") != "lang"]  # the language switch: 中文 / English on purpose
    check(
        [s for p in props for s in _strings({k: p.get(k) for k in ("label", "value", "choices")})], "zh", DATA
    )
    relabel = {  # the tab builder that registered it -> its language callback
        f.fn.__qualname__.split(".<locals>")[0]: f.fn
        for f in blocks.fns.values()
        if f.fn is not None and f.fn.__name__ == "relabel"  # fn None: an event the page's script handles
    }
    live_relabel = next(  # the Live and Two-party tabs' callback is a module-level function
        f.fn
        for f in blocks.fns.values()
        if f.fn is not None
        and f.fn.__module__ == "emostudio.server.live.ui"
        and f.fn.__name__ == "relabel_updates"
    )
    builders = (
        "build_analyze_tab",
        "build_history_and_compare_tabs",
        "build_profiles_tab",
        "build_evaluate_tab",
    )
    assert set(relabel) == {"build_ui", *builders}
    assert len([f for f in blocks.fns.values() if f.fn is not None and f.fn.__name__ == "relabel"]) == 5
    for choice, lang in (("English", "en"), ("中文", "zh")):
        main = _strings(relabel["build_ui"](choice))
        tabs = ("analyze", "history", "compare", "profiles", "evaluate", "live", "call")
        assert {t(f"tab_{k}", lang) for k in tabs} <= set(main)
        said = main + _strings(relabel["build_analyze_tab"](choice, docs["frame"]))
        said += _strings(
            relabel["build_history_and_compare_tabs"](choice, None, docs["compare"])
        )  # opened: a saved run only
        said += _strings(live_relabel(None, choice, docs["call"]))
        said += [s for name in builders[2:] for s in _strings(relabel[name](choice, None))]
        check(said, lang, (*DATA, *TYPED, str(tiny_model_dir)), html=True)
    service.close()
