"""The result.json `text` block for people: the web UI card's text + speech section and the CLI's summary lines."""

from __future__ import annotations

from emostudio.messages import t
from emostudio.model.labels import BY_KEY, emotion_name
from emostudio.render.html import esc

MAX_SHOWN = 300  # characters of the transcript shown in the card / CLI
TEXT_LANGUAGES = ("zh", "en", "mixed", "emoji", "und", "none")  # detect_language's codes


def short(text: str, n: int = MAX_SHOWN) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def language_name(code: str, lang: str) -> str:
    """The name of a transcript's language code in `lang` ("中文", "mixed Chinese/English", …)."""
    return t(f"text_lang_{code}", lang) if code in TEXT_LANGUAGES else code


def describe_text(block: dict) -> list[str]:
    """CLI lines for a result.json `text` block: polarity, fused label, agreement with its evidence, ASR tag."""
    lines = []
    code = block["language"]
    names = {"lang_en": language_name(code, "en"), "lang_zh": language_name(code, "zh")}
    asr = block.get("asr")
    if asr:
        heard = short(asr["text"]) or t("cli_text_no_words", "en")
        lines.append(t("cli_text_transcript", "en", kind=asr["kind"], model=asr["model"], text=heard))
        if asr.get("emotion"):
            lines.append(t("cli_text_asr_emotion", "en", name=emotion_name(asr["emotion"])))
    if block["available"]:
        words = ""
        if block.get("emotions"):
            words = t("cli_text_emotion_words", "en", words=_emotions(block))
        lines.append(
            t("cli_text_reading", "en", polarity=block["polarity"], backend=block["backend"], **names) + words
        )
    else:
        lines.append(t("cli_text_no_reading", "en", **names))
    fused = block["fused"]
    lines.append(
        t(
            "cli_text_fused",
            "en",
            weight=block["weight_applied"],
            name=emotion_name(fused["label"]),
            percent=fused["confidence"] * 100,
        )
    )
    agreement = block["agreement"]
    mark = "⚠ " if agreement["mismatch"] else ""
    lines.append(f"{mark}{agreement['en']}")
    lines.append(f"{mark}{agreement['zh']}")
    ev = agreement["evidence"]
    if ev["text"].get("available"):
        lines.append("  " + t("cli_text_words", "en", text=ev["text"]["en"]))
    lines.append("  " + t("cli_text_voice", "en", text=ev["speech"]["en"]))
    for w in block.get("warnings") or []:
        lines.append(f"⚠ {w}")
    return lines


def _emotions(block: dict) -> str:
    return ", ".join(f"{e['name']} {e['value']:g}" for e in block.get("emotions") or [] if e.get("value"))


def text_section(doc: dict | None, lang: str) -> str:
    """The text + speech section of the UI's result card, or "" when the run has no transcript."""
    block = (doc or {}).get("text")
    if not block:
        return ""
    fused = block["fused"]
    agreement = block["agreement"]
    cls = "warn" if agreement["mismatch"] else ""
    out = [
        f'<div id="text-block"><h4>{esc(t("text_title", lang))}</h4>',
        f"<div>{esc(t('text_transcript', lang))}: <i>{esc(short(block['transcript']))}</i></div>",
        f"<div>{esc(t('text_language', lang))}: {esc(language_name(block['language'], lang))}"
        f" · {esc(block['backend'])}</div>",
    ]
    if block["available"]:
        out.append(
            f"<div>{esc(t('text_polarity', lang))}: <b id='text-polarity'>{block['polarity']:+.2f}</b></div>"
        )
    else:
        out.append(f"<div class='warn'>{esc(block['message'][lang])}</div>")
    out.append(
        f"<div>{esc(t('text_fused', lang, weight=block['weight_applied']))}: <b id='fused-label'>"
        f"{esc(emotion_name(fused['label'], lang))}</b> {fused['confidence'] * 100:.1f}%</div>"
    )
    out.append(f"<div class='{cls}' id='agreement'><b>{esc(agreement[lang])}</b></div>")
    ev = agreement["evidence"]
    items = []
    if ev["text"].get("available"):
        items.append(f"<li>{esc(t('text_words', lang))}: {esc(ev['text'][lang])}</li>")
    items.append(f"<li>{esc(t('text_voice', lang))}: {esc(ev['speech'][lang])}</li>")
    out.append(f"<ul>{''.join(items)}</ul>")
    asr = block.get("asr")
    if asr:
        out.append(f"<div>{esc(t('text_asr', lang))}: {esc(asr['kind'])} {esc(asr['model'])}</div>")
        if asr.get("emotion") in BY_KEY:
            out.append(
                f"<div>{esc(t('text_asr_emotion', lang))}: {esc(emotion_name(asr['emotion'], lang))}</div>"
            )
    warnings = block.get("warnings_zh" if lang == "zh" else "warnings") or []
    out += [f"<div class='warn'>⚠ {esc(w)}</div>" for w in warnings]
    out.append("</div>")
    return "\n".join(out)
