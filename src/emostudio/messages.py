"""Every fixed text a person reads — web UI labels, progress, errors, CLI lines — in Chinese and English.

One catalogue shared by the CLI and the web UI, so a change of wording is one change, and the Chinese UI never
falls back to English. Texts are format strings: `t("upload_limit", "zh", size="100 MB")`.

Error messages: every typed error has a `code`; `error_text(exc, lang)` gives the Chinese or English sentence
for that code with the file's name. The English detail of the original message (what ffmpeg said, which tensor)
stays in English error messages, REST answers and the server log; the Chinese text names the problem only.
"""

from __future__ import annotations

from typing import Any

LANGS = ("zh", "en")

# (zh, en): a format string each, or for table headers a tuple of column names each
MESSAGES: dict[str, tuple[str, str] | tuple[tuple[str, ...], tuple[str, ...]]] = {
    # --- page, tabs, inputs
    "title": ("## 🎭 Emotion Studio 语音情感识别", "## 🎭 Emotion Studio — speech emotion recognition"),
    "lang": ("语言 / Language", "语言 / Language"),
    "tab_analyze": ("分析", "Analyze"),
    "tab_history": ("历史记录", "History"),
    "tab_compare": ("对比两段录音", "Compare two takes"),
    "audio": ("上传或录制音频", "Upload or record audio"),
    "examples": (
        "示例（项目自带的合成语音，非真人录音）",
        "Examples (synthetic voices made by the project, not real people)",
    ),
    "granularity": ("粒度", "Granularity"),
    "utterance": ("整句", "Utterance"),
    "frame": ("逐帧时间线", "Frame timeline"),
    "embedding": ("提取特征向量 (embedding)", "Extract embedding"),
    "enhance": ("音频增强（降噪 / 高通 / 归一化）", "Enhance (denoise / high-pass / normalise)"),
    "transcript": ("转写文本（可选）", "Transcript (optional)"),
    "text_weight": ("文字权重", "Text weight"),
    "analyze": ("开始分析", "Analyze"),
    "refresh": ("刷新", "Refresh"),
    "load_demo": ("加载演示模型（随机权重）", "Load the demo model (random weights)"),
    # --- result card
    "card": ("识别结果", "Result"),
    "confidence": ("置信度", "Confidence"),
    "band": ("判断", "Reading"),
    "compound": ("复合情绪", "Compound"),
    "runner_up": ("第二可能", "Runner-up"),
    "random": ("⚠ 随机权重模型：得分没有意义", "⚠ random weights: scores are meaningless"),
    "scores": ("9 类情感得分", "Scores of the 9 classes"),
    "timeline": ("情感时间线", "Emotion timeline"),
    "timeline_strip": ("主导情感（每 0.1 秒）", "Dominant emotion (every 0.1 s)"),
    "timeline_toggle": ("显示的曲线", "Lines shown"),
    "time_s": ("时间（秒）", "Time (s)"),
    "segments": ("分段结果", "Segments"),
    "segments_note": (
        "录音较长，已在停顿处切分并逐段打分；点击一行可播放该段。",
        "The recording is long: it was split at pauses and each segment scored; click a row to play it.",
    ),
    "segment_cols": (
        ("开始 (秒)", "结束 (秒)", "情感", "置信度"),
        ("Start (s)", "End (s)", "Emotion", "Confidence"),
    ),
    "segment_player": ("播放所选分段", "Selected segment"),
    "quality": ("音频质量", "Audio quality"),
    "quality_original": ("原始音频", "Original"),
    "quality_enhanced": ("增强后", "Enhanced"),
    "quality_change": ("变化", "Change"),
    "quality_same_method": (
        "两列用同一种方法测量；结论与置信度提示以原始音频为准。",
        "Both columns are measured the same way; verdicts and the low-confidence note refer to the original.",
    ),
    "metric": ("指标", "Metric"),
    "value": ("数值", "Value"),
    "verdict": ("评价", "Verdict"),
    "advice": ("建议", "Advice"),
    "hints": ("提示", "Hints"),
    "before": ("增强前", "Before enhancement"),
    "after": ("增强后", "After enhancement"),
    "enh_report": ("增强前后对比", "Before / after enhancement"),
    "label_changed": ("增强后识别结果改变", "the label changed after enhancement"),
    "files": ("下载结果", "Downloads"),
    "emotion": ("情感", "Emotion"),
    "score": ("得分", "Score"),
    "not_measurable": ("无法测量", "n/a"),
    # --- history
    "history_cols": (
        ("运行", "时间", "文件", "情感", "置信度", "粒度"),
        ("Run", "Time", "File", "Emotion", "Confidence", "Granularity"),
    ),
    "history_open": ("点击一行查看该次结果", "Click a row to open that run"),
    # --- compare
    "clip_a": ("录音 A", "Take A"),
    "clip_b": ("录音 B", "Take B"),
    "run_a": ("或选择历史记录 A", "or a past run A"),
    "run_b": ("或选择历史记录 B", "or a past run B"),
    "compare": ("对比", "Compare"),
    "similarity": ("特征余弦相似度", "Cosine similarity of embeddings"),
    "more_reliable": ("{take} 的结果更可靠", "{take} is the more reliable reading"),
    "equally_reliable": ("两段录音的可靠程度相当", "Both takes are about equally reliable"),
    "same_label": ("两段录音结果相同：{label}", "Both takes read {label}"),
    "different_label": ("两段录音结果不同", "The takes read differently"),
    "need_two": ("请为 A 和 B 各选择一段录音或一条历史记录", "Choose a clip or a past run for both A and B"),
    "no_audio": ("请先上传或录制一段音频", "Upload or record a clip first"),
    # --- model status
    "model_ready": ("✅ 模型 `{model}` 已就绪", "✅ model `{model}` ready"),
    "model_loading": ("⏳ 正在加载模型 `{model}` …", "⏳ loading model `{model}` …"),
    "model_missing": (
        "❌ 没有找到模型 `{model}` 的权重。已查找的位置见下方。想先体验完整流程，请点击下面的“{button}”按钮"
        "（随机权重，得分没有意义），或用 `--model demo` 重启服务。",
        "❌ no weights for model `{model}`; the places searched are listed below. To try the whole workflow now, "
        "press “{button}” below (random weights, meaningless scores) or restart with `--model demo`.",
    ),
    "model_failed": ("❌ 模型 `{model}` 加载失败：{error}", "❌ the model `{model}` failed to load: {error}"),
    # --- progress (the server reports these keys)
    "progress_decoding": ("正在解码并检查音频", "decoding and checking the audio"),
    "progress_waiting": ("等待模型空闲", "waiting for the model"),
    "progress_model": ("模型打分中", "running the model"),
    "progress_saving": ("保存结果", "saving the results"),
    # --- limits
    "upload_limit": ("文件大小上限 {size}", "uploads up to {size}"),
    # --- CLI lines
    "cli_band": ("判断", "band"),
    "cli_runner_up": ("第二可能", "runner-up"),
    "cli_compound": ("复合情绪", "compound"),
    "cli_segments": ("分段：{n}（长录音在停顿处切分）", "segments: {n} (long recording split at pauses)"),
    "cli_folder": ("结果目录", "folder"),
    "cli_failed": ("{failed} / {total} 个输入失败", "{failed} of {total} input(s) failed"),
    "cli_nothing": ("没有可分析的音频文件", "nothing to analyse: no audio files among the inputs"),
    # --- channels (core): two-party recordings, files and live streams (emostudio.channels)
    "channel_name": ("第 {n} 声道（{role}）", "channel {n} ({role})"),
    "channel_one": ("录音只有一个声道：按一位说话人分析", "the recording has one channel: it is one speaker"),
    "channel_silent": (
        "{channel}无声（{level}）：不作分析",
        "{channel} is silent ({level}): it is not scored",
    ),
    "channel_no_signal": ("没有信号", "no signal"),
    "channel_loudest": ("最响处 {dbfs:.0f} dBFS", "loudest moments at {dbfs:.0f} dBFS"),
    "channel_copy": (
        "{channel}与{other}相同（单声道录音存成了多声道）：按一位说话人分析",
        "{channel} is a copy of {other} (a mono recording saved with several channels): one speaker",
    ),
}

# What each error code means, for people (zh, en). `{name}` is the file or input.
ERRORS: dict[str, tuple[str, str]] = {
    "missing": ("{name}：找不到文件", "{name}: file not found"),
    "bad_path": ("{name}：路径无效（太长或为循环链接）", "{name}: the path cannot be used"),
    "unreadable": ("{name}：无法读取文件（权限或读写错误）", "{name}: the file cannot be read"),
    "not_a_file": ("{name}：不是普通文件（管道或设备），请先保存为文件", "{name}: not a regular file"),
    "empty": ("{name}：文件为空（0 字节）", "{name}: the file is empty"),
    "not_audio": ("{name}：不是音频文件", "{name}: not an audio file"),
    "unsupported": ("{name}：不支持的音频编码", "{name}: unsupported audio codec"),
    "corrupt": ("{name}：文件已损坏或不完整", "{name}: the file is truncated or corrupt"),
    "zero_length": ("{name}：音频长度为零", "{name}: the audio has zero length"),
    "non_finite": (
        "{name}：音频含有 NaN 或无穷大的采样值",
        "{name}: the audio contains NaN or infinite samples",
    ),
    "silent": ("{name}：音频是数字静音", "{name}: the audio is digital silence"),
    "too_long": ("{name}：音频过长，超过时长上限", "{name}: the audio is longer than the limit"),
    "too_short": (
        "{name}：音频太短，无法识别（至少需要 25 毫秒，3–10 秒最佳）",
        "{name}: the audio is too short",
    ),
    "too_large": ("{name}：文件超过大小上限 {size}", "{name}: the upload is larger than the {size} limit"),
    "no_audio_files": ("{name}：文件夹中没有音频文件", "{name}: no audio files in this folder"),
    "queue_full": ("服务器繁忙，请稍后再试", "the server is busy; try again in a few seconds"),
    "unavailable": ("模型尚未就绪，请稍后再试", "the model is not ready yet; try again shortly"),
    "inference_failed": ("{name}：模型无法处理这段音频", "{name}: the model failed on this input"),
    "output_error": ("结果无法写入磁盘（磁盘已满或没有权限）", "the results could not be written to disk"),
    "internal": ("内部错误，请报告此问题", "an internal error; please report it"),
    "bad_argument": ("参数错误", "bad argument"),
    "bad_parameters": ("参数错误", "bad parameters"),
    "run_not_found": ("找不到这次运行记录", "no such run"),
    "file_not_found": ("这次运行没有该文件", "the run has no such file"),
    "model_not_found": ("没有找到模型权重", "no model weights found"),
    "checkpoint_error": ("模型文件无法使用", "the model checkpoint cannot be used"),
}


def t(key: str, lang: str = "zh", **fmt: Any) -> Any:
    """The text for `key` in `lang` ("zh" or "en"), formatted with `fmt` (tuples of texts are returned as is)."""
    zh, en = MESSAGES[key]
    text = zh if lang == "zh" else en
    return text.format(**fmt) if fmt and isinstance(text, str) else text


def error_text(exc: BaseException, lang: str = "zh", name: str | None = None, **fmt: Any) -> str:
    """A person's sentence for a typed error: the catalogue's text in Chinese, the full message in English."""
    code = getattr(exc, "code", None)
    if lang == "en" or code not in ERRORS:
        return str(exc)
    label = name or getattr(exc, "path", None) or ""
    text = ERRORS[code][0].format(name=label, **{"size": "", **fmt})
    return text.lstrip("：") if not label else text


def format_size(n_bytes: int) -> str:
    """Bytes as the one unit used everywhere: decimal megabytes, `100 MB` (1 MB = 1,000,000 bytes)."""
    mb = n_bytes / 1e6
    return f"{mb:.0f} MB" if mb >= 10 else f"{mb:.1f} MB"
