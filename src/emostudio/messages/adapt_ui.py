"""Texts of the web UI's adapter and annotation-export parts: the Analyze tab's export boxes and adapted reading,
the Evaluate tab's section that trains adapters and switches the server between them."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str] | tuple[tuple[str, ...], tuple[str, ...]]] = {
    # --- Analyze tab: annotation exports
    "export_boxes": ("同时导出标注文件", "Also export annotations"),
    "export_boxes_info": (
        "分析后写入运行文件夹，可在下方下载中找到（Praat、ELAN、字幕播放器可直接打开）",
        "written into the run folder after the analysis, listed in the downloads (open them in Praat, ELAN or "
        "a subtitle player)",
    ),
    "export_choices": (
        ("Praat TextGrid", "ELAN (.eaf)", "WebVTT 字幕", "SRT 字幕", "RTTM（说话人轮次）"),
        ("Praat TextGrid", "ELAN (.eaf)", "WebVTT subtitles", "SRT subtitles", "RTTM (speaker turns)"),
    ),
    "ui_export_no_turns": (
        "RTTM 未写入：这段录音没有说话人轮次",
        "RTTM not written: this recording has no speaker turns",
    ),
    "ui_export_edited": (
        "{fmt} 未覆盖：运行文件夹中的文件已被修改",
        "{fmt} not replaced: the file in the run folder was changed since it was written",
    ),
    # --- Analyze tab: the adapted reading
    "adapted_title": ("适配器判断", "Adapted reading"),
    "adapted_adapter": ("适配器 {id}", "adapter {id}"),
    "adapted_scores": ("适配器各标签得分", "Scores over the adapter's labels"),
    "adapted_base": (
        "基础模型（9 类）：{label} {percent:.1f}%（{band}）——详见下方",
        "Base model (9 classes): {label} {percent:.1f}% ({band}) — shown in full below",
    ),
    "adapted_segments": ("适配器逐段判断", "Adapted reading per segment"),
    "base_heading": ("基础模型（9 类）", "Base model (9 classes)"),
    # --- Evaluate tab: training and switching adapters
    "ad_section": ("用自己的数据训练适配器", "Adapt to your own data"),
    "ad_intro": (
        "上传带标签的数据集（与评测相同的输入：清单 + 音频、zip 或服务器上的文件夹），训练适配器："
        "温度校准 + 针对你的标签的分类头，并用交叉验证给出基础模型、校准后与适配器的对比。"
        "标签可以是 9 个类别、4 类或你自己的名称（如“不满”“满意”）；每类至少需要 5 个文件。",
        "Upload a labelled set (the same inputs as an evaluation: a manifest + audio, a zip, or a folder on the "
        "server) to train an adapter: temperature scaling plus a head over your labels, with a cross-validated "
        "comparison of the base model, the calibrated scores and the adapter. Labels may be the 9 classes, the "
        "4 classes or your own names (e.g. frustrated); each class needs at least 5 files.",
    ),
    "ad_folds": ("交叉验证折数", "Cross-validation folds"),
    "ad_train": ("训练适配器", "Train adapter"),
    "ad_training": (
        "正在训练适配器（为每个文件打分，然后交叉验证）…",
        "Training the adapter (scoring every file, then cross-validating) …",
    ),
    "ad_trained": ("已训练适配器 {id}，标签：{labels}", "Trained adapter {id}, labels: {labels}"),
    "ad_report_note": (
        "交叉验证结果（括号内为 bootstrap 95% 区间）：UA 为各类召回率的平均，ECE 越低表示置信度越可信。",
        "Cross-validated (bootstrap 95 % intervals in brackets): UA is the mean recall per class; a lower ECE "
        "means the confidence can be trusted more.",
    ),
    "ad_cols": (("读数", "文件数", "UA", "WA", "ECE"), ("Reading", "Files", "UA", "WA", "ECE")),
    "ad_warnings": ("注意", "Note"),
    "ad_list": ("服务器上的适配器", "Adapters on this server"),
    "ad_choice": ("{id} · {labels} · {created}", "{id} · {labels} · {created}"),
    "ad_other_weights": ("（另一模型的权重）", "(other model weights)"),
    "ad_activate": ("切换到此适配器", "Use this adapter"),
    "ad_deactivate": ("切回基础模型", "Back to the base model"),
    "ad_active": (
        "服务器当前使用适配器 {id}（标签：{labels}）：之后的每个结果都带有它的判断。",
        "The server reads adapter {id} (labels: {labels}): every later result carries its reading.",
    ),
    "ad_none_active": (
        "服务器当前使用基础模型（未启用适配器）。",
        "The server reads the base model (no adapter).",
    ),
    "ad_pick": ("请先在列表中选择一个适配器", "Choose an adapter in the list first"),
}
