"""Every fixed text a person reads — web UI labels, toasts, progress, errors, CLI lines, HTML fragments,
report pages, chart titles, axes and legends — in Chinese and English.

One catalogue shared by every surface, so a change of wording is one change, and the Chinese UI never falls
back to English. Texts are format strings: `t("upload_limit", "zh", size="100 MB")`. The general texts are in
`MESSAGES` below; each area keeps its own in a module of this package (`evaluate`, `adapt`, `profiles`, `live`,
`charts`, `report`, `text`, `analysis`, `speakers`, `speakers_ui`), and `t` looks them all up as ONE catalogue (a key is defined
proves every key has both languages with the same placeholders). Deliberately bilingual labels (emotion names such
as `😊 快乐 (Happy)`, the language switch) are the only texts that mix the two.

Error messages: every typed error has a `code`; `error_text(exc, lang)` gives the Chinese or English sentence
for that code with the file's name. The English detail of the original message (what ffmpeg said, which tensor)
stays in English error messages, REST answers and the server log; the Chinese text names the problem only.
"""

from __future__ import annotations

from typing import Any

from emostudio.messages import adapt as _adapt
from emostudio.messages import adapt_ui as _adapt_ui
from emostudio.messages import analysis as _analysis
from emostudio.messages import charts as _charts
from emostudio.messages import evaluate as _evaluate
from emostudio.messages import live as _live
from emostudio.messages import profiles as _profiles
from emostudio.messages import report as _report
from emostudio.messages import speakers as _speakers
from emostudio.messages import speakers_ui as _speakers_ui
from emostudio.messages import text as _text

LANGS = ("zh", "en")
LANG_CHOICES = {"中文": "zh", "English": "en"}  # the web UI's language switch: what it shows → the code

# (zh, en): a format string each, or for table headers a tuple of column names each
MESSAGES: dict[str, tuple[str, str] | tuple[tuple[str, ...], tuple[str, ...]]] = {
    # --- page, tabs, inputs
    "title": ("## 🎭 Emotion Studio 语音情感识别", "## 🎭 Emotion Studio — speech emotion recognition"),
    "lang": ("语言 / Language", "语言 / Language"),
    "tab_analyze": ("分析", "Analyze"),
    "tab_history": ("历史记录", "History"),
    "tab_compare": ("对比两段录音", "Compare two takes"),
    "tab_profiles": ("档案", "Profiles"),
    "tab_evaluate": ("评测", "Evaluate"),
    "tab_live": ("实时", "Live"),
    "tab_call": ("双方通话", "Two-party call"),
    "audio": ("上传或录制音频", "Upload or record audio"),
    "audio_limit": ("{audio}（{limit}）", "{audio} ({limit})"),
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
    "random_note": (
        "随机权重模型：得分没有意义",
        "random weights: scores are meaningless",
    ),  # the one such note
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
    "list_sep": ("；", "; "),  # between the items of a sentence's list
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
    # Gradio's own labels that its translations miss (aria-labels written in English): set by page.js
    "gradio_upload_file": ("上传文件", "Upload file"),
    "gradio_upload_a_file": ("上传文件", "Upload a file"),
    "gradio_record_audio": ("录音", "Record audio"),
    # Gradio's status line over a busy component ("processing | 1.2s", "queue: 2/3 | 0.4s"): English only
    "gradio_processing": ("处理中", "processing"),
    "gradio_queue": ("排队", "queue:"),
    "clear_a": ("清空 A", "Clear A"),
    "clear_b": ("清空 B", "Clear B"),
    "similarity": ("特征余弦相似度", "Cosine similarity of embeddings"),
    "take": ("录音 {side}", "Take {side}"),
    "more_reliable": ("{take} 的结果更可靠：{reasons}。", "{take} is the more reliable reading: {reasons}."),
    "equally_reliable": (
        "两段录音的可靠程度相当：{reasons}。",
        "Both takes are about equally reliable: {reasons}.",
    ),
    "same_label": ("两段录音结果相同：{label}。", "Both takes read {label}."),
    "different_label": (
        "两段录音结果不同：{a}（A）与 {b}（B）。",
        "The takes read differently: {a} (A) vs {b} (B).",
    ),
    "cmp_reason_metric": (
        "{label}：{better}，对比 {worse}（{grade}）",
        "{label}: {better} vs {worse} ({grade})",
    ),
    "cmp_grade_bad": ("差", "bad"),
    "cmp_grade_warn": ("一般", "so-so"),
    "cmp_reason_confidence": (
        "置信度 {a:.1f}%（{band_a}），对比 {b:.1f}%（{band_b}）",
        "confidence {a:.1f}% ({band_a}) vs {b:.1f}% ({band_b})",
    ),
    "cmp_reason_equal": ("置信度 {a:.1f}%，对比 {b:.1f}%", "confidence {a:.1f}% vs {b:.1f}%"),
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
    "cli_advice": ("建议", "advice"),
    "cli_negative_share": ("负面占比", "negative share"),
    "cli_mean_confidence": ("平均置信度", "mean confidence"),
    "cli_first_seen": ("首次", "first seen"),
    "cli_last_seen": ("最近", "last seen"),
    # --- annotations (annot)
    "export_wrote": ("{format}：{path}", "{format}: {path}"),
    "export_no_turns": (
        "这次运行没有说话人轮次，未写 RTTM（RTTM 需要说话人轮次：分析时加 --speakers）",
        "no speaker turns in this run: no RTTM written (RTTM needs speaker turns: analyze with --speakers)",
    ),
    "export_edited": (
        "{path} 导出后已被修改（可能在 Praat / ELAN 中更正过），保留原样；加 --overwrite 才会覆盖",
        "{path} was changed after it was exported (corrected in Praat or ELAN?); left as it is "
        "(--overwrite replaces it)",
    ),
    "export_ls_tasks": (
        "Label Studio 任务：{tasks}（{n} 个，最不确定的在前）；标注配置：{config}",
        "Label Studio tasks: {tasks} ({n}, least confident first); labelling config: {config}",
    ),
    "export_ls_serve": (
        "启动 Label Studio 时设置 LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED=true 和 "
        "LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT={root}，并添加该目录下的本地存储（Local Files）",
        "start Label Studio with LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED=true and "
        "LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT={root}, and add a Local Files storage under it",
    ),
    "export_ls_back": (
        "在 Label Studio 中更正后，把项目导出为 JSON，再用 emostudio evaluate 评测这个文件",
        "once corrected, export the project from Label Studio as JSON and run emostudio evaluate on that file",
    ),
    "export_left_out": ("{run}：未导出（{why}）", "{run}: left out ({why})"),
    "export_no_runs": ("没有可导出的运行记录", "no runs to export"),
    "export_failed": (
        "{failed} / {total} 个运行导出失败",
        "{failed} of {total} run(s) could not be exported",
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
    "bad_roles": (
        "声道角色无效：{name}（用逗号分隔；每个名称 1–64 个可打印字符，且互不相同）",
        "{name}: channel roles must be 1-64 printable characters each, all different",
    ),
    "run_not_found": ("找不到这次运行记录", "no such run"),
    "file_not_found": ("这次运行没有该文件", "the run has no such file"),
    "model_not_found": ("没有找到模型权重", "no model weights found"),
    "checkpoint_error": ("模型文件无法使用", "the model checkpoint cannot be used"),
    # profiles, evaluations, live streams (the English side is the short form; surfaces show the full message)
    "bad_time": (
        "{name}：不是有效的时间，请使用 ISO 8601 格式，例如 2026-01-05、2026-01-05T09:30 或 2026-01-05T09:30:00+08:00",
        "{name}: not a time; use ISO 8601 like 2026-01-05 or 2026-01-05T09:30",
    ),
    "time_out_of_range": (
        "{name}：时间超出可接受的范围 0001-01-02 至 9999-12-30 (UTC)",
        "{name}: the time is outside the accepted range 0001-01-02 to 9999-12-30 (UTC)",
    ),
    "profile_error": ("{name}：档案库无法完成这个请求", "{name}: the profile store cannot do this"),
    "unknown_speaker": ("没有说话人 {name} 的记录", "no records for speaker {name}"),
    "empty_store": ("档案库是空的：请先加入记录", "the profile store is empty"),
    "dimension_mismatch": (
        "{name}：特征向量的维度与档案库中的不同",
        "{name}: the embedding size differs from the store's",
    ),
    "ambiguous_model": ("档案库中有多个模型的记录：请指定一个模型", "records of several models: name one"),
    "store_locked": (
        "档案库正被另一个进程使用，请稍后再试",
        "the profile store is in use by another process",
    ),
    "store_unreachable": ("无法连接档案库", "the profile store cannot be reached"),
    "clip_error": ("{name}：这次运行的结果无法加入档案", "{name}: the run cannot be used as a clip"),
    "bad_manifest": ("{name}：测试集清单无法使用", "{name}: the manifest cannot be used"),
    "bad_upload": ("{name}：上传的文件无法使用", "{name}: the upload cannot be used"),
    "forbidden_path": (
        "{name}：不在服务器允许读取的文件夹内",
        "{name}: outside the folders this server may read",
    ),
    "evaluation_error": ("评测无法开始", "the evaluation cannot start"),
    "evaluation_aborted": ("评测已停止", "the evaluation stopped"),
    "evaluation_not_found": ("找不到这次评测", "no such evaluation"),
    "bad_json": ("{name}：不是有效的 JSON", "{name}: not valid JSON"),
    "missing_path": ("{name}：缺少音频路径", "{name}: no path"),
    "missing_label": ("{name}：缺少标签", "{name}: no label"),
    "unknown_label": ("{name}：无法识别的情感标签", "{name}: unknown emotion label"),
    "outside_root": ("{name}：在允许的文件夹之外", "{name}: outside the allowed folders"),
    "duplicate_id": ("{name}：id 重复", "{name}: duplicate id"),
    "live_input": ("实时音频无法使用", "the live audio cannot be used"),
    "bad_frame": ("实时音频块无法使用", "a live audio chunk cannot be used"),
    "too_many_streams": ("实时分析的数量已达上限，请稍后再试", "too many live streams; try again later"),
    "unauthorized": ("未授权：需要服务器的访问令牌", "not authorised: this server needs its token"),
    "forbidden_origin": (
        "拒绝来自其他网站页面的实时分析",
        "live streams from another site's page are refused",
    ),
    "live_disabled": ("此服务器关闭了实时分析", "live streams are off on this server"),
    "idle_timeout": ("长时间没有收到数据，连接已结束", "nothing arrived for too long; the stream was ended"),
    "bad_message": ("实时分析收到了无法使用的消息", "the live stream got a message it cannot use"),
    "message_too_large": ("实时分析的消息过大或嵌套过深", "a live stream message is too large or too deep"),
    "frame_too_large": ("实时音频块超过大小上限", "a live audio chunk is larger than the limit"),
    "bad_text": ("{name}：文本无法使用", "{name}: the text cannot be used"),
    "text_backend": ("文本情感分析后端无法加载", "the text sentiment backend cannot be loaded"),
    "asr_error": ("语音识别失败", "speech recognition failed"),
    # annotated test sets (TextGrid, ELAN, Label Studio, start_s/end_s columns) and exports
    "bad_annotation": ("{name}：标注文件无法读取", "{name}: the annotation file cannot be read"),
    "bad_range": ("{name}：时间区间无效", "{name}: not a valid time interval"),
    "past_end": ("{name}：区间超出音频的结尾", "{name}: the interval runs past the end of the audio"),
    "overlap": (
        "{name}：与同一层中的另一个区间重叠",
        "{name}: overlaps another interval of the same tier",
    ),
    "missing_audio": ("{name}：旁边没有同名的音频文件", "{name}: no audio file of the same name"),
    "missing_annotation": (
        "{name}：旁边没有同名的 TextGrid 或 .eaf 文件",
        "{name}: no TextGrid or .eaf file of the same name",
    ),
    "ambiguous_annotation": (
        "{name}：同名的音频或标注文件不止一个",
        "{name}: more than one audio or annotation file of this name",
    ),
    "bad_task": ("{name}：Label Studio 任务无法使用", "{name}: the Label Studio task cannot be used"),
    "unannotated": ("{name}：这个任务还没有人工标注", "{name}: the task has no annotation by a person"),
    "export_error": ("{name}：无法导出", "{name}: cannot be exported"),
    # adaptation
    "adapt_error": ("无法训练适配器", "the adapter cannot be trained"),
    "too_few_examples": (
        "有的类别标注文件太少，无法训练和交叉验证",
        "too few labelled files in a class to train and cross-validate",
    ),
    "bad_adapter": ("{name}：适配器文件夹无法使用", "{name}: the adapter folder cannot be used"),
    "adapter_mismatch": (
        "{name}：适配器是用另一个模型的权重训练的",
        "{name}: the adapter was trained on other model weights",
    ),
}


Entry = tuple[str, str] | tuple[tuple[str, ...], tuple[str, ...]]


def _one_catalogue(*parts: dict[str, Any]) -> dict[str, Entry]:
    """The areas' texts as one dict; a key defined twice is a mistake found at import."""
    out: dict[str, Entry] = {}
    for part in parts:
        twice = sorted(set(out) & set(part))
        if twice:
            raise ValueError(f"message keys defined twice: {', '.join(twice)}")
        out.update(part)
    return out


CATALOGUE: dict[str, Entry] = _one_catalogue(
    MESSAGES,
    _adapt.MESSAGES,
    _adapt_ui.MESSAGES,
    _analysis.MESSAGES,
    _charts.MESSAGES,
    _evaluate.MESSAGES,
    _live.MESSAGES,
    _profiles.MESSAGES,
    _report.MESSAGES,
    _speakers.MESSAGES,
    _speakers_ui.MESSAGES,
    _text.MESSAGES,
)


def t(key: str, lang: str = "zh", **fmt: Any) -> Any:
    """The text for `key` in `lang` ("zh" or "en"), formatted with `fmt` (tuples of texts are returned as is)."""
    zh, en = CATALOGUE[key]
    text = zh if lang == "zh" else en
    return text.format(**fmt) if fmt and isinstance(text, str) else text


def both(key: str, sep: str = " / ", **fmt: Any) -> str:
    """A deliberately bilingual text, `zh / en` (standalone report pages that are read in either language)."""
    return f"{t(key, 'zh', **fmt)}{sep}{t(key, 'en', **fmt)}"


def lang_of(choice: str | None) -> str:
    """The language code of the web UI's switch value ("中文" → "zh"); Chinese when unset."""
    return LANG_CHOICES.get(choice or "", "zh")


def code_text(code: str | None, lang: str, message: str, name: str = "", **fmt: Any) -> str:
    """A person's sentence for an error code: the catalogue's text in Chinese (naming `name`), the original
    English `message` (with its detail) in English or for a code the catalogue does not know."""
    if lang == "en" or code not in ERRORS:
        return message
    text = ERRORS[code][0].format(name=name, **{"size": "", **fmt})
    return text.lstrip("：") if not name else text


def error_text(exc: BaseException, lang: str = "zh", name: str | None = None, **fmt: Any) -> str:
    """A person's sentence for a typed error: the catalogue's text in Chinese, the full message in English."""
    label = name or getattr(exc, "path", None) or ""
    return code_text(getattr(exc, "code", None), lang, str(exc), label, **fmt)


def format_size(n_bytes: int) -> str:
    """Bytes as the one unit used everywhere: decimal megabytes, `100 MB` (1 MB = 1,000,000 bytes)."""
    mb = n_bytes / 1e6
    return f"{mb:.0f} MB" if mb >= 10 else f"{mb:.1f} MB"
