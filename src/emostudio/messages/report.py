"""Texts of the standalone pages: an evaluation's report.html and a speaker's trend page (both languages on
one page, `zh / en`, since the file is read by whoever it is sent to)."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # --- report.html: header
    "report_title": ("评测报告", "Evaluation report"),
    "report_test_set": ("测试集", "test set"),
    "report_fingerprint": ("指纹", "fingerprint"),
    "report_time": ("时间", "time"),
    "report_classes": ("类别", "classes"),
    "report_rows": ("行数", "rows"),
    "report_evaluated": ("已评测", "evaluated"),
    "report_not_evaluated": ("未评测", "not evaluated"),
    "report_excluded": ("不在所选类别", "outside the classes"),
    "report_summary": ("总览", "Summary"),
    "report_model": ("模型", "Model"),
    "report_no_file": ("没有可评测的文件", "no file could be evaluated with this model"),
    # --- report.html: table headers
    "report_col_model": ("模型", "model"),
    "report_col_dtype": ("精度", "dtype"),
    "report_col_wa": ("WA 准确率", "WA"),
    "report_col_ua": ("UA 平均召回", "UA"),
    "report_col_ece": ("ECE（{bins} 个区间）", "ECE ({bins} bins)"),
    "report_col_failed": ("失败", "failed"),
    "report_col_class": ("类别", "class"),
    "report_col_precision": ("精确率", "precision"),
    "report_col_recall": ("召回率", "recall"),
    "report_col_support": ("样本", "support"),
    "report_col_predicted": ("预测数", "predicted"),
    "report_col_band": ("区间", "band"),
    "report_col_range": ("范围", "range"),
    "report_col_share": ("占比", "share"),
    "report_col_accuracy": ("准确率", "accuracy"),
    "report_col_mean_conf": ("平均置信度", "mean confidence"),
    "report_col_speaker": ("说话人", "speaker"),
    "report_col_where": ("位置", "where"),
    "report_col_code": ("代码", "code"),
    "report_col_message": ("说明", "message"),
    "report_col_compared": ("比较", "compared"),
    "report_col_flipped": ("翻转", "flipped"),
    "report_col_flip_rate": ("翻转率", "flip rate"),
    "report_col_mean_drift": ("平均漂移", "mean drift"),
    "report_col_max_drift": ("最大漂移", "max drift"),
    "report_col_new_failures": ("新失败", "new failures"),
    "report_col_reference": ("参考", "reference"),
    "report_col_before": ("之前", "before"),
    "report_col_now": ("现在", "now"),
    "report_col_drift": ("漂移", "drift"),
    "report_col_metric": ("指标", "metric"),
    "report_col_unit": ("单位", "unit"),
    "report_col_hits_mean": ("正确均值", "hits mean"),
    "report_col_errors_mean": ("错误均值", "errors mean"),
    "report_col_hits_bad": ("正确中差", "hits bad"),
    "report_col_errors_bad": ("错误中差", "errors bad"),
    "report_none": ("（无）", "(none)"),
    # --- report.html: sections
    "report_per_class": ("每类指标", "Per class"),
    "report_confusion": ("混淆矩阵", "Confusion matrix"),
    "report_confusion_axes": ("行 = 参考标签，列 = 预测", "rows = reference, columns = predicted"),
    "report_bands": ("置信度区间的准确率", "Accuracy per confidence band"),
    "report_bins_note": ("个等宽区间（最高类别的概率）", "equal-width bins on the top-class probability"),
    "report_per_speaker": ("每位说话人", "Per speaker"),
    "report_history": ("随时间的准确率", "Accuracy over time"),
    "report_runs_recorded": ("次运行记录于", "runs recorded in"),
    "report_bad_rows": ("未评测的行", "Rows not evaluated"),
    "report_more_bad_rows": (
        "另有 {n} 行未评测，未逐一列出（只列出前面的行）",
        "{n} more rows were not evaluated; only the first ones are listed",
    ),
    "report_quality": ("音频质量：错误 vs 正确", "Audio quality of errors vs hits"),
    "report_stability": ("稳定性（与基线相比）", "Stability against the baseline"),
    "report_baseline": ("基线", "baseline"),
    "report_set_changed": (
        "测试集已改变，仅比较共同文件",
        "the test set changed: only common files are compared",
    ),
    "report_thresholds": ("阈值", "thresholds"),
    "report_threshold_list": (
        "翻转 ≤ {flips:g}% · 最大漂移 ≤ {drift:g} · 平均漂移 ≤ {mean:g} · 指标下降 ≤ {drop:g} 个百分点 · "
        "新失败 ≤ {failures}",
        "flips ≤ {flips:g}% · max drift ≤ {drift:g} · mean drift ≤ {mean:g} · metric drop ≤ {drop:g} points · "
        "new failures ≤ {failures}",
    ),
    "report_flipped_files": ("标签翻转的文件", "Files whose label flipped"),
    "report_more_flipped": ("另有 {n} 个见 metrics.json", "{n} more in metrics.json"),
    "report_definitions": ("指标说明", "Definitions"),
    "report_def_wa": ("加权准确率 = 正确数 / 总数", "weighted accuracy = correct / all files"),
    "report_def_ua": (
        "非加权准确率 = 各参考类别召回率的平均",
        "unweighted accuracy = mean recall over the reference classes",
    ),
    "report_def_f1": (
        "各类 F1 的平均（参考或预测中出现的类别）",
        "mean F1 over the classes in the references or predictions",
    ),
    "report_def_ece": (
        "期望校准误差：按置信度等宽分箱，Σ 箱占比 × |准确率 − 平均置信度|；MCE 为最大的箱差距",
        "expected calibration error over equal-width bins of the top-class probability; MCE the largest bin gap",
    ),
    "report_def_nll": (
        "NLL：参考类别概率的平均负对数；Brier：Σ (p − one-hot)² 的文件平均",
        "NLL: mean negative log-probability of the reference class; Brier: Σ (p − one-hot)² averaged over files",
    ),
    "report_def_bands": (
        "置信度区间：>80 % 置信度高，60–80 % 倾向性判断，<60 % 不确定",
        "confidence bands: >80 % confident, 60–80 % leaning, <60 % uncertain",
    ),
    "report_def_drift": (
        "稳定性：漂移 = 每个文件 9 个得分的最大绝对变化",
        "stability: drift = largest |Δ| of a file's 9 scores",
    ),
    # --- report.html of an adaptation (emostudio adapt, evaluate --adapter): base vs calibrated vs adapted
    "report_title_cv": ("适配报告（交叉验证）", "Adaptation report (cross-validated)"),
    "report_title_heldout": ("适配器评测（留出集）", "Adapter evaluation (held-out set)"),
    "report_adaptation": ("适配前后", "Before and after adaptation"),
    "report_adapt_cv": (
        "{k} 折交叉验证，按{by}分组（{groups} 组）：每个预测都来自没有见过该文件的温度与分类头",
        "{k}-fold cross-validation grouped by {by} ({groups} groups): every prediction comes from a temperature "
        "and head fitted without that file",
    ),
    "report_adapt_by_speaker": ("说话人", "speaker"),
    "report_adapt_by_file": ("录音", "file"),
    "report_adapt_heldout": ("留出集", "held-out set"),
    "report_adapt_adapter": ("适配器", "adapter"),
    "report_adapt_trained": ("训练于", "trained"),
    "report_adapt_labels": ("标签", "labels"),
    "report_adapt_kind_emotions": ("情感类别", "emotions"),
    "report_adapt_kind_custom": ("自定义标签", "custom"),
    "report_adapt_temperature": ("温度", "temperature"),
    "report_adapt_no_calibration": ("未校准（自定义标签）", "no calibration (custom labels)"),
    "report_adapt_c_inner": (
        "{folds} 折内层交叉验证（平均对数损失）",
        "{folds}-fold inner cross-validation, mean log-loss",
    ),
    "report_adapt_c_default": (
        "默认值（少于 2 组：无内层交叉验证）",
        "default (fewer than 2 groups: no inner cross-validation)",
    ),
    "report_col_adapted_minus_base": ("适配 − 基础", "adapted − base"),
    "report_adapt_recall": ("每类召回率", "Recall per class"),
    "report_adapt_intervals": (
        "[…] 95 % 区间：{method}，{n_boot} 次重采样；反映换一批类似文件时数字的变化，不含重新训练的变化。",
        "[…] 95 % intervals by {method} ({n_boot} resamples): how much the numbers would move on another set of "
        "files like these, for these predictions (retraining the head adds more).",
    ),
    "report_adapt_readings": (
        "base = 模型自身的得分 · calibrated = 温度校准后（最大类别不变：准确率相同，只有置信度变化）· "
        "adapted = 在你的标签上训练的分类头",
        "base = the model's own scores · calibrated = after temperature scaling (same arg-max: same accuracy, "
        "only the confidence moves) · adapted = the head trained on your labels",
    ),
    # --- the trend page of a speaker (emostudio.profiles.charts.trend_html)
    "trend_title": ("情感趋势：{speaker}", "Emotion trend: {speaker}"),
    "trend_meta": ("模型 {model} · {period} · 时区 {tz}", "model {model} · by {period} · time zone {tz}"),
    "trend_chart_alt": ("情感趋势图", "emotion trend chart"),
    "trend_col_period": ("周期", "period"),
    "trend_col_records": ("记录数", "records"),
    "trend_col_negative": ("负面", "negative"),
    "trend_note": (
        "占比：主导情感为该类的记录比例。负面 = 愤怒 + 厌恶 + 恐惧 + 悲伤。预警规则：最近 {recent} 期的平均负面占比比此前"
        "各期高出 {points:.0f} 个百分点以上（记录少于 {min_records} 条的周期不参与判断）。",
        "Shares are the fraction of records whose top emotion is each class. Negative = angry + disgusted + fearful + "
        "sad. Alert rule: mean negative share of the last {recent} periods exceeds that of the earlier periods by more "
        "than {points:.0f} points (periods with fewer than {min_records} records are not judged).",
    ),
}
