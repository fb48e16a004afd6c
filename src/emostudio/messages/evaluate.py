"""Texts of evaluations: the web UI's Evaluate tab, the status and reasons stored in metrics.json (English and
Chinese, as `evaluate` writes them), the stability reasons."""

from __future__ import annotations

MESSAGES: dict[str, tuple] = {
    # --- the Evaluate tab
    "eval_intro": (
        "用带标签的测试集检查模型：上传清单 (CSV/JSONL，含 path 和 label 列) 及其音频，"
        "或上传 zip (按情感分文件夹，或含清单)，或填写服务器上的文件夹。",
        "Check the model on a labelled test set: upload a manifest (CSV/JSONL with path and label columns) "
        "and its audio, or a zip (one folder per emotion, or with a manifest), or name a folder on the server.",
    ),
    "eval_manifest": ("清单或 zip 压缩包", "Manifest or zip archive"),
    "eval_audio": ("清单中的音频文件", "Audio files the manifest names"),
    "eval_folder": ("或服务器上的文件夹/清单路径", "or a folder / manifest path on the server"),
    "eval_classes": ("类别", "Classes"),
    "eval_class_choices": (
        ("全部 9 类", "4 类 (愤怒/快乐/中性/悲伤)"),
        ("all 9 classes", "4 classes (angry/happy/neutral/sad)"),
    ),
    "eval_baseline": ("与之前的评测比较 (可选)", "Compare with an earlier evaluation (optional)"),
    "eval_run": ("开始评测", "Evaluate"),
    "eval_past": ("查看以前的评测", "Open an earlier evaluation"),
    "eval_metrics": ("指标", "Metrics"),
    "eval_per_class": ("每类指标", "Per class"),
    "eval_confusion": ("混淆矩阵", "Confusion matrix"),
    "eval_reliability": ("可靠性图 (校准)", "Reliability diagram (calibration)"),
    "eval_bands": ("各置信度区间的准确率", "Accuracy per confidence band"),
    "eval_history": ("随时间的准确率", "Accuracy over time"),
    "eval_files": ("报告文件", "Report files"),
    "eval_need_input": (
        "请上传清单或 zip，或填写服务器上的文件夹",
        "Upload a manifest or a zip, or name a folder on the server",
    ),
    "eval_running": ("评测中", "evaluating"),
    "eval_progress": ("评测中 {done}/{total}", "evaluating {done}/{total}"),
    "eval_cols": (
        ("模型", "样本数", "WA 准确率", "UA 平均召回", "Macro-F1", "ECE", "NLL", "Brier", "失败"),
        ("Model", "n", "WA", "UA", "Macro-F1", "ECE", "NLL", "Brier", "Failed"),
    ),
    "eval_class_cols": (
        ("类别", "精确率", "召回率", "F1", "样本数"),
        ("Class", "Precision", "Recall", "F1", "Support"),
    ),
    "eval_bad_rows": ("未评测的行", "Rows not evaluated"),
    "row_line": ("第 {n} 行", "line {n}"),
    "eval_bad_row_cols": (("位置", "说明"), ("Where", "Message")),
    "eval_stability": ("稳定性", "Stability"),
    "eval_stability_line": (
        "{word} · {flips} 个文件标签翻转 · 最大漂移 {drift:.4f}",
        "{word} · {flips} files whose label flipped · max drift {drift:.4f}",
    ),
    "eval_passed": ("通过", "passed"),
    "eval_failed": ("未通过", "failed"),
    "eval_exit": ("退出码 {code}", "exit code {code}"),
    "eval_state_failed": ("评测失败", "the evaluation failed"),
    "eval_state_interrupted": ("评测被中断", "the evaluation was interrupted"),
    "eval_past_choice": ("{id} · {name} · WA {wa}", "{id} · {name} · WA {wa}"),
    "eval_duplicate_upload": (
        "上传的文件中有两个都叫 {name}；文件名必须互不相同",
        "two uploaded files are called {name}; file names must be unique",
    ),
    "eval_give_input": (
        "请提供清单或 zip 压缩包，或服务器上的文件夹",
        "give a manifest or zip archive, or a folder on the server",
    ),
    "eval_folder_refused": (
        "{name}：不在服务器允许读取的文件夹内",
        "{name}: outside the folders this server may read",
    ),
    "eval_folder_missing": (
        "{name}：在允许的文件夹中找不到这个清单或文件夹",
        "{name}: no such manifest or folder under the allowed roots",
    ),
    # --- the status of an evaluation, as stored in metrics.json (`status.zh` / `status.en`) and its reasons
    "eval_status_0": ("评测完成", "evaluation complete"),
    "eval_status_1": ("部分行未能评测（见列表）", "some rows could not be evaluated (listed by line)"),
    "eval_status_2": ("没有可评测的文件", "no file could be evaluated"),
    "eval_status_4": ("与基线相比变化超过阈值", "changed past the stability thresholds against the baseline"),
    "eval_reason_bad_rows": ("{n} 行未评测", "{n} row(s) not evaluated"),
    "stab_model_reason": ("{model}：{reason}", "{model}: {reason}"),
    "stab_no_pairs": (
        "没有可比较的模型：本次为 {current}，基线为 {baseline}（任一次有多个模型时，模型名称必须相同）",
        "no model to compare: this run has {current}, the baseline {baseline} (same names needed when either run "
        "has several models)",
    ),
    "stab_flips": (
        "{compared} 个文件中有 {flipped} 个标签改变（{rate:.1f} % > {limit:g} %）",
        "{flipped} of {compared} files changed label ({rate:.1f} % > {limit:g} %)",
    ),
    "stab_drift_max": (
        "最大得分漂移 {drift:.4f} > {limit:g}（{id}）",
        "largest score drift {drift:.4f} > {limit:g} ({id})",
    ),
    "stab_drift_mean": ("平均得分漂移 {drift:.4f} > {limit:g}", "mean score drift {drift:.4f} > {limit:g}"),
    "metric_wa": ("WA", "wa"),  # the English side is the metric's key, as metrics.json's reasons write it
    "metric_ua": ("UA", "ua"),
    "metric_macro_f1": ("Macro-F1", "macro_f1"),
    "stab_drop": (
        "{metric} 下降 {points:.1f} 个百分点（> {limit:g}）",
        "{metric} dropped by {points:.1f} points (> {limit:g})",
    ),
    "stab_new_failures": (
        "基线能评测的 {n} 个文件现在失败（> {limit}）",
        "{n} files the baseline scored fail now (> {limit})",
    ),
    "stab_no_common": ("没有两次都评测过的文件", "no file was scored in both runs"),
}
