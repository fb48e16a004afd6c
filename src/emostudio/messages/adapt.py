"""Texts of adaptation (`emostudio adapt`, `evaluate --adapter`): what each reading is, the status stored in
metrics.json (English and Chinese, as `adapt` writes them), and the warnings about a set that can be learnt,
but barely (metrics.json and the CLI keep the English; report.html shows both)."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # --- an adapter's reading beside the base one (CLI `analyze`, `live`)
    "cli_adapted": (
        "适配器判断：{label} 置信度 {percent:.1f}%（{band}，适配器 {adapter}）",
        "adapted: {label} {percent:.1f}% ({band}, adapter {adapter})",
    ),
    # --- the readings of an adaptation report (metrics.json `models[name].model.zh / en`)
    "adapt_reading_base": ("基础模型", "the model's own scores"),
    "adapt_reading_calibrated": ("温度校准后", "the model's scores after temperature scaling"),
    "adapt_reading_adapted": ("适配器", "the trained head over your labels"),
    "adapt_not_applicable": (
        "不适用：标签不是模型的 9 个类别，无法为基础模型打分",
        "not applicable: the labels are not the model's 9 classes, so the base model cannot be scored on them",
    ),
    # --- status (metrics.json `status`, the CLI's exit line)
    "adapt_status_0": ("完成", "done"),
    "adapt_status_1": ("部分行未能使用（见列表）", "some rows could not be used (listed by line)"),
    "adapt_status_2": ("没有可用的文件", "no file could be used"),
    "adapt_reason_bad_rows": ("{n} 行未使用", "{n} row(s) not used"),
    # --- warnings
    "adapt_warn_few_files": (
        "这些类别的文件较少：{listed}。每个文件都会使该类的召回率变化 5 个百分点以上，95 % 区间很宽；每类 {enough} 个以上"
        "才能得到可用的估计",
        "few files in {listed}: each one moves that class's recall by 5 points or more and its 95 % interval "
        "is wide; {enough}+ per class give usable estimates",
    ),
    "adapt_warn_single_speaker": (
        "类别 {classes} 只来自一位说话人：交叉验证无法在分类头没听过的声音上检验它们，分类头学到的可能是声音而不是类别",
        "class(es) {classes} come from a single speaker: cross-validation cannot test them on a voice the head has "
        "not heard, and the head may have learnt the voice, not the class",
    ),
    "adapt_warn_near_miss": (
        "自定义标签 {label} 不是 9 个类别之一；是否想写 {guess}？（拼错的标签会成为单独的类别）",
        "custom label {label} is not one of the 9 classes; did you mean {guess}? (a misspelt label becomes a "
        "class of its own)",
    ),
    "adapt_warn_cache": (
        "{n} 个缓存条目无法读取，已重新打分",
        "{n} cache entr(y/ies) could not be read and were scored again",
    ),
    "adapt_warn_temperature_bound": (
        "温度到达搜索边界（T = {temperature:.3g}）：模型的置信度几乎不含这些标签的信息（随机权重，或模型在这段音频中"
        "听不出这些类别）",
        "the temperature reached its search bound (T = {temperature:.3g}): the model's confidence carries almost "
        "no information about these labels (random weights, or classes the model does not hear in this audio)",
    ),
    "adapt_warn_not_converged": (
        "分类头的求解器在迭代上限处停止；权重可用，但不是最优",
        "the head's solver stopped at its iteration limit; the weights are usable but not optimal",
    ),
    "adapt_warn_overlap": (
        "{total} 个文件中有 {n} 个在适配器的训练集中（相同音频）：它们上的数字不是留出集的结果（例如 {examples}）",
        "{n} of the {total} files were in the adapter's training set (the same audio): the figures on them are "
        "not held-out (e.g. {examples})",
    ),
    "adapt_warn_same_set": (
        "这正是训练适配器所用的数据集：请用留出集来衡量它",
        "this is the set the adapter was trained on: use a held-out set to measure it",
    ),
}
