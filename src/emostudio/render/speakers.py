"""Who spoke when, as HTML: the speaker strip (one lane per speaker over the recording's time axis, each turn
in its emotion's colour, unscored turns grey, overlapping speech hatched) and a card per speaker.

Pure functions of a result.json document with speaker turns (`diarization`, `turns`, `speakers`), in Chinese
or English; documents without them give "".
"""

from __future__ import annotations

import re

from emostudio.messages import t
from emostudio.model.labels import BY_KEY, KEYS, UNSCORED, colour, emotion_name
from emostudio.render.html import esc, legend, strip, swatch
from emostudio.render.lanes import Lane, lanes_svg
from emostudio.render.live import role_name

SPEAKER_ID = re.compile(r"^(?:(?P<role>.+)-)?spk(?P<n>\d+)$")  # spk0, or <role>-spk0 within a channel


def speaker_name(speaker_id: str, lang: str) -> str:
    """A speaker as people read it: `spk0` → `Speaker 1` / `说话人 1`, `customer-spk1` → `customer · Speaker 2`;
    any other id as it is. (Files and the CLI keep the ids: turns.rttm, frames_spkN.csv.)"""
    m = SPEAKER_ID.match(speaker_id)
    if m is None:
        return speaker_id
    name = t("speaker_n", lang, n=int(m["n"]) + 1)
    return f"{role_name(m['role'], lang)} · {name}" if m["role"] else name


def has_turns(doc: dict | None) -> bool:
    """True for a document of an analysis that asked for speaker turns (`speakers` is then a list; a two-party
    call's top-level `speakers` is a count)."""
    return (
        doc is not None and isinstance(doc.get("diarization"), dict) and isinstance(doc.get("speakers"), list)
    )


def overlaps(turns: list[dict]) -> list[list[tuple[float, float]]]:
    """For each turn, the spans (start_s, end_s) of it that other speakers' turns cover, by a sweep over the
    turns in time order (a long recording's thousands of turns stay fast); a turn marked `overlap` that no other
    turn covers is hatched as a whole (the engine found overlap it could not place)."""
    spans: list[list[tuple[float, float]]] = [[] for _ in turns]
    active: list[int] = []  # turns begun and not yet ended at the current start
    for i in sorted(range(len(turns)), key=lambda j: turns[j]["start_s"]):
        a0, a1 = turns[i]["start_s"], turns[i]["end_s"]
        active = [j for j in active if turns[j]["end_s"] > a0]
        for j in active:
            if turns[j]["speaker"] != turns[i]["speaker"]:
                span = (a0, min(a1, turns[j]["end_s"]))
                spans[i].append(span)
                spans[j].append(span)
        active.append(i)
    for i, turn in enumerate(turns):
        if not spans[i] and turn.get("overlap"):
            spans[i] = [(turn["start_s"], turn["end_s"])]
    return [sorted(s) for s in spans]


def speaker_lanes(doc: dict, lang: str = "en") -> list[Lane]:
    """One Lane per speaker (in the order of `speakers`, titled with its `speaker_name`): its turns as segments
    labelled with the turn's emotion (`unscored` when not scored) and the overlapping spans hatched."""
    turns = doc.get("turns") or []
    lanes = {sp["id"]: Lane(speaker_name(sp["id"], lang)) for sp in doc.get("speakers") or []}
    for turn, hatched in zip(turns, overlaps(turns), strict=True):
        lane = lanes.setdefault(turn["speaker"], Lane(speaker_name(turn["speaker"], lang)))
        label = turn.get("label") if turn.get("scored") and turn.get("label") in BY_KEY else UNSCORED
        lane.segments.append((turn["start_s"], turn["end_s"], label))
        lane.hatched += hatched
    return list(lanes.values())


def _duration_s(doc: dict) -> float:
    audio = doc.get("audio") or {}
    ends = [turn["end_s"] for turn in doc.get("turns") or []]
    return max([float(audio.get("duration_s") or 0.0), *ends, 1.0])


def _notes(doc: dict, lang: str) -> str:
    notes = (doc.get("diarization") or {}).get("notes") or []
    return "".join(
        f'<div class="speaker-note">ℹ {esc(n.get(lang) or n.get("en") or "")}</div>' for n in notes
    )


def speaker_strip(doc: dict | None, lang: str, prefix: str = "") -> str:
    """The strip: a lane per speaker, the time axis, and a legend of the emotions shown (plus grey
    `unscored` and the hatch when there are such turns). "" without speaker turns. `prefix`: before the
    element ids (`speaker-strip-svg`, `speaker-legend`), so two tabs can show one each."""
    if not has_turns(doc):
        return ""
    assert doc is not None
    lanes = speaker_lanes(doc, lang)
    if not lanes:
        return ""
    svg = lanes_svg(lanes, lang, 0.0, _duration_s(doc), f"{prefix}speaker-strip-svg")
    labels = {label for lane in lanes for _, _, label in lane.segments}
    keys = [k for k in KEYS if k in labels]
    extra = ""
    if UNSCORED in labels:
        extra += f"<span>{swatch(UNSCORED)}{esc(t('speaker_unscored', lang))}</span>"
    if any(lane.hatched for lane in lanes):
        extra += f'<span><i class="swatch hatch"></i>{esc(t("speaker_overlap", lang))}</span>'
    return (
        f'<div class="speaker-strip"><div class="muted">{esc(t("speakers_strip_note", lang))}</div>'
        f"{svg}{legend(keys, lang, extra, f'{prefix}speaker-legend')}</div>"
    )


def speaker_card(sp: dict, lang: str) -> str:
    """One speaker: its reading (emotion, confidence, band), talk time, turns and share of emotions."""
    talk = esc(t("speaker_talk", lang, seconds=sp["seconds"], turns=sp["turns"]))
    name = f'{esc(speaker_name(sp["id"], lang))} <span class="muted speaker-id">{esc(sp["id"])}</span>'
    label = sp.get("label")
    if label not in BY_KEY or sp.get("confidence") is None:
        return (
            f'<div class="take-card speaker-card" data-speaker="{esc(sp["id"])}" data-label="">'
            f'<div class="name">{name}</div><div>{talk}</div>'
            f'<div class="muted">{esc(t("speaker_no_reading", lang))}</div></div>'
        )
    e = BY_KEY[label]
    band_key = f"band_{sp.get('band')}"
    band = f" · {esc(t('band', lang))}: {esc(t(band_key, lang))}" if sp.get("band") else ""
    share = sp.get("share") or {}
    ordered = [k for k in KEYS if share.get(k)]
    blocks = [(100 * share[k], k, f"{emotion_name(k, lang)} {share[k] * 100:.0f}%") for k in ordered]
    share_text = " · ".join(f"{emotion_name(k, lang, emoji=False)} {share[k] * 100:.0f}%" for k in ordered)
    share_html = (
        f'<div class="muted">{esc(t("speaker_share", lang))}: {esc(share_text)}</div>{strip(blocks)}'
        if ordered
        else ""
    )
    return (
        f'<div class="take-card speaker-card" data-speaker="{esc(sp["id"])}" data-label="{esc(label)}" '
        f'style="border-left: 6px solid {colour(label)}"><div class="speaker-name">{name}</div>'
        f'<div class="emo">{e.emoji}</div><div class="name">{esc(emotion_name(label, lang, emoji=False))}</div>'
        f"<div>{esc(t('confidence', lang))}: <b>{sp['confidence'] * 100:.1f}%</b>{band}</div>"
        f"<div>{talk}</div>{share_html}</div>"
    )


def speakers_view(doc: dict | None, lang: str, prefix: str = "") -> str:
    """The speaker section of Analyze (and History, `prefix` "history-" before the element ids): the heading,
    the engine's notes, the strip and a card per speaker; "" for a document without speaker turns."""
    if not has_turns(doc):
        return ""
    assert doc is not None
    d = doc["diarization"]
    speakers = doc.get("speakers") or []
    title = (
        t(
            "speakers_title",
            lang,
            found=d.get("found", len(speakers)),
            speech_s=float(d.get("speech_s") or 0.0),
        )
        if speakers
        else t("speakers_none", lang)
    )
    cards = "".join(speaker_card(sp, lang) for sp in speakers)
    return (
        f'<div id="{esc(prefix)}speakers" data-found="{len(speakers)}"><h4>{esc(title)}</h4>{_notes(doc, lang)}'
        f'{speaker_strip(doc, lang, prefix)}<div class="takes speaker-cards">{cards}</div></div>'
    )
