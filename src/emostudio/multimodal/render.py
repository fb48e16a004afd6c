"""The `text` block for people: CLI summary lines and the web UI's card section (pure functions of result.json)."""

from __future__ import annotations

import html

from emostudio.model.labels import BY_KEY

LANGUAGE_NAMES = {
    "zh": ("Chinese", "中文"),
    "en": ("English", "英文"),
    "mixed": ("mixed Chinese/English", "中英混合"),
    "emoji": ("emoji", "表情符号"),
    "und": ("unsupported language", "不支持的语言"),
    "none": ("empty", "空"),
}
UI_TEXT = {
    "zh": {
        "title": "文字 + 语音",
        "transcript": "文本",
        "language": "语言",
        "polarity": "文字极性",
        "fused": "融合结果",
        "weight": "文字权重",
        "asr_emotion": "SenseVoice 情感标签",
        "asr": "语音识别",
        "words": "文字证据",
        "voice": "语音证据",
        "none": "无",
    },
    "en": {
        "title": "Text + speech",
        "transcript": "Transcript",
        "language": "Language",
        "polarity": "Text polarity",
        "fused": "Fused",
        "weight": "text weight",
        "asr_emotion": "SenseVoice emotion tag",
        "asr": "Speech recognition",
        "words": "Words",
        "voice": "Voice",
        "none": "none",
    },
}
_MAX_SHOWN = 300  # characters of the transcript shown in the card / CLI


def _short(text: str, n: int = _MAX_SHOWN) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def describe_text(block: dict) -> list[str]:
    """CLI lines for a result.json `text` block: polarity, fused label, agreement with its evidence, ASR tag."""
    lines = []
    lang_en, lang_zh = LANGUAGE_NAMES.get(block["language"], (block["language"], block["language"]))
    asr = block.get("asr")
    if asr:
        lines.append(
            f"transcript ({asr['kind']} {asr['model']}): {_short(asr['text']) or '(no words heard)'}"
        )
        if asr.get("emotion"):
            e = BY_KEY[asr["emotion"]]
            lines.append(f"SenseVoice emotion tag: {e.display()} (beside ours)")
    if block["available"]:
        lines.append(
            f"text: polarity {block['polarity']:+.2f} · {lang_en} ({lang_zh}) · {block['backend']}"
            + (f" · emotion words: {_emotions(block)}" if block.get("emotions") else "")
        )
    else:
        lines.append(f"text: no reading ({lang_en}, {lang_zh})")
    fused = block["fused"]
    e = BY_KEY[fused["label"]]
    lines.append(
        f"fused (text weight {block['weight_applied']:.2f}): {e.display()} {fused['confidence'] * 100:.1f}%"
    )
    agreement = block["agreement"]
    mark = "⚠ " if agreement["mismatch"] else ""
    lines.append(f"{mark}{agreement['en']}")
    lines.append(f"{mark}{agreement['zh']}")
    ev = agreement["evidence"]
    if ev["text"].get("available"):
        lines.append(f"  words: {ev['text']['en']}")
    lines.append(f"  voice: {ev['speech']['en']}")
    for w in block.get("warnings") or []:
        lines.append(f"⚠ {w}")
    return lines


def _emotions(block: dict) -> str:
    return ", ".join(f"{e['name']} {e['value']:g}" for e in block.get("emotions") or [] if e.get("value"))


def render_text_html(doc: dict | None, lang: str) -> str:
    """The text + speech section of the UI's result card, or "" when the run has no transcript."""
    block = (doc or {}).get("text")
    if not block:
        return ""
    lang = lang if lang in UI_TEXT else "zh"
    t = UI_TEXT[lang]
    col = 0 if lang == "en" else 1
    fused = block["fused"]
    e = BY_KEY[fused["label"]]
    name = e.en if lang == "en" else e.zh
    agreement = block["agreement"]
    cls = "warn" if agreement["mismatch"] else ""
    out = [
        f'<div id="text-block"><h4>{t["title"]}</h4>',
        f"<div>{t['transcript']}: <i>{html.escape(_short(block['transcript']))}</i></div>",
        f"<div>{t['language']}: {html.escape(LANGUAGE_NAMES.get(block['language'], (block['language'],) * 2)[col])}"
        f" · {html.escape(block['backend'])}</div>",
    ]
    if block["available"]:
        out.append(f"<div>{t['polarity']}: <b id='text-polarity'>{block['polarity']:+.2f}</b></div>")
    else:
        out.append(f"<div class='warn'>{html.escape(block['message'][lang])}</div>")
    out.append(
        f"<div>{t['fused']} ({t['weight']} {block['weight_applied']:.2f}): <b id='fused-label'>{e.emoji} "
        f"{html.escape(name)}</b> {fused['confidence'] * 100:.1f}%</div>"
    )
    out.append(f"<div class='{cls}' id='agreement'><b>{html.escape(agreement[lang])}</b></div>")
    ev = agreement["evidence"]
    items = []
    if ev["text"].get("available"):
        items.append(f"<li>{t['words']}: {html.escape(ev['text'][lang])}</li>")
    items.append(f"<li>{t['voice']}: {html.escape(ev['speech'][lang])}</li>")
    out.append(f"<ul>{''.join(items)}</ul>")
    asr = block.get("asr")
    if asr:
        out.append(f"<div>{t['asr']}: {html.escape(asr['kind'])} {html.escape(asr['model'])}</div>")
        if asr.get("emotion"):
            a = BY_KEY[asr["emotion"]]
            out.append(
                f"<div>{t['asr_emotion']}: {a.emoji} {html.escape(a.en if lang == 'en' else a.zh)}</div>"
            )
    warnings = block.get("warnings_zh" if lang == "zh" else "warnings") or []
    out += [f"<div class='warn'>⚠ {html.escape(w)}</div>" for w in warnings]
    out.append("</div>")
    return "\n".join(out)
