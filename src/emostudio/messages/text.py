"""Texts of text + speech: the result card's text section, transcript languages, the CLI's text lines."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # --- the result card's text + speech section
    "text_title": ("文字 + 语音", "Text + speech"),
    "text_transcript": ("文本", "Transcript"),
    "text_language": ("语言", "Language"),
    "text_polarity": ("文字极性", "Text polarity"),
    "text_fused": ("融合结果（文字权重 {weight:.2f}）", "Fused (text weight {weight:.2f})"),
    "text_asr_emotion": ("SenseVoice 情感标签", "SenseVoice emotion tag"),
    "text_asr": ("语音识别", "Speech recognition"),
    "text_words": ("文字证据", "Words"),
    "text_voice": ("语音证据", "Voice"),
    # --- a transcript's language (detect_language's codes)
    "text_lang_zh": ("中文", "Chinese"),
    "text_lang_en": ("英文", "English"),
    "text_lang_mixed": ("中英混合", "mixed Chinese/English"),
    "text_lang_emoji": ("表情符号", "emoji"),
    "text_lang_und": ("不支持的语言", "unsupported language"),
    "text_lang_none": ("空", "empty"),
    # --- CLI lines (`emostudio analyze --text`)
    "cli_text_transcript": ("转写（{kind} {model}）：{text}", "transcript ({kind} {model}): {text}"),
    "cli_text_no_words": ("（没有听到文字）", "(no words heard)"),
    "cli_text_asr_emotion": (
        "SenseVoice 情感标签：{name}（与本模型并列）",
        "SenseVoice emotion tag: {name} (beside ours)",
    ),
    "cli_text_reading": (
        "文字：极性 {polarity:+.2f} · {lang_zh}（{lang_en}）· {backend}",
        "text: polarity {polarity:+.2f} · {lang_en} ({lang_zh}) · {backend}",
    ),
    "cli_text_emotion_words": (" · 情绪词：{words}", " · emotion words: {words}"),
    "cli_text_no_reading": (
        "文字：无法读取（{lang_zh}，{lang_en}）",
        "text: no reading ({lang_en}, {lang_zh})",
    ),
    "cli_text_fused": (
        "融合（文字权重 {weight:.2f}）：{name} {percent:.1f}%",
        "fused (text weight {weight:.2f}): {name} {percent:.1f}%",
    ),
    "cli_text_words": ("文字：{text}", "words: {text}"),
    "cli_text_voice": ("语音：{text}", "voice: {text}"),
    "text_transcript_needed": (
        "需要文本才能分析文字情感：请用 --text 或 --text-file 提供，或用 --asr DIR 指定 FunASR 语音识别模型目录",
        "a transcript is needed to read the words: give --text or --text-file, or --asr DIR with a FunASR model "
        "folder (SenseVoice-Small or Paraformer)",
    ),
    "text_empty": ("文本为空：结果只依据语音", "the transcript is empty: the result is the voice alone"),
    # --- why a transcript gives no reading, and parts left unread (emostudio.multimodal.reading; stored in
    # result.json's text block as message.zh/en, warnings_zh / warnings)
    "text_no_words": (
        "文本中没有文字（为空，或只有控制字符、空白、数字或标点）：结果只依据语音",
        "the transcript has no words (it is empty, or only control characters, spaces, digits or punctuation): "
        "the result is the voice alone",
    ),
    "text_unsupported": (
        "文本情感分析支持中文和英文；这段文本看起来是{script}，结果只依据语音",
        "text sentiment reads Chinese and English; this transcript looks like {script} text, so the result is the "
        "voice alone",
    ),
    "text_wrong_backend": (
        "文本后端 {backend} 只能读{langs}；这段文本是{language}，结果只依据语音（可改用 --text-backend auto）",
        "the {backend} text backend reads {langs}; this transcript is {language}, so the result is the voice alone "
        "(use --text-backend auto)",
    ),
    "text_any_language": ("任何语言", "any language"),
    "text_and": ("、", " and "),
    "text_part_not_scored": (
        "{language}部分未评分：{backend} 不能读{language}",
        "the {language} words were not scored: {backend} does not read them",
    ),
    # --- the words against the voice (emostudio.multimodal.fusion; stored as agreement / evidence zh and en)
    "side_positive": ("正面", "positive"),
    "side_negative": ("负面", "negative"),
    "side_neutral": ("中性", "neutral"),
    "word_sep": ("、", ", "),
    "ev_positive_words": ("正面词：{words}", "positive words: {words}"),
    "ev_negative_words": ("负面词：{words}", "negative words: {words}"),
    "ev_emotion_words": ("情绪词：{words}", "emotion words: {words}"),
    "ev_emotion_item": ("{name}{value:g}", "{name} {value:g}"),
    "ev_text": (
        "文字{side}（极性 {polarity:+.2f}，{backend}）",
        "the words read {side} (polarity {polarity:+.2f}, {backend})",
    ),
    "ev_speech": (
        "语音听起来{emoji} {name}（{percent:.0f}%）；效价 {valence:+.2f}，唤醒度 {arousal:+.2f}",
        "the voice sounds {emoji} {name} ({percent:.0f}%); valence {valence:+.2f}, arousal {arousal:+.2f}",
    ),
    "agree_no_text": ("无法读取文字情感：{reason}", "no reading of the words: {reason}"),
    "agree_sarcasm_or_masked": (
        "不一致：文字正面，语音却{label}——可能是反讽或掩饰的情绪",
        "mismatch: positive words with {label} voice — possible sarcasm or masked emotion",
    ),
    "agree_irony_or_coping": (
        "不一致：文字负面，语音却快乐——可能是反语，或在强颜欢笑、自我调适",
        "mismatch: negative words with a happy voice — possible irony or coping",
    ),
    "agree_mismatch": (
        "不一致：文字{side}，语音却{label}，两者方向相反",
        "mismatch: the words read {side} but the voice sounds {label} — they point opposite ways",
    ),
    "agree_agree": ("一致：文字和语音都是{side}的", "agree: the words and the voice are both {side}"),
    "agree_voice_only": (
        "文字中性，情绪（{label}）来自语音",
        "the words are neutral; the emotion ({label}) is in the voice",
    ),
    "agree_words_only": ("语音中性，文字{side}", "the voice is neutral; the words read {side}"),
    # --- cleaning a transcript (multimodal.text.clean_text) and transcribing first (multimodal.attach.attach_asr)
    "text_removed_control": (
        "已从文本中删除 {n} 个控制字符或不可见字符",
        "removed {n} control or invisible character(s) from the transcript",
    ),
    "text_truncated": (
        "文本共 {total} 个字符，只分析了前 {kept} 个（上限 {limit}）",
        "the transcript has {total} characters; only the first {kept} were analysed (limit {limit})",
    ),
    "text_asr_no_words": (
        "语音识别（{model}）没有识别出文字：结果只依据语音",
        "the speech recognizer ({model}) heard no words: the result is the voice alone",
    ),
}
