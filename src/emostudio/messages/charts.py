"""Texts drawn in matplotlib charts: titles, axes, legends, tick labels (evaluation, trends, cluster maps)."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # --- shared
    "chart_of_model": ("{title} · {model}", "{title} · {model}"),
    "chart_accuracy": ("准确率", "accuracy"),
    "chart_n": ("n={n}", "n={n}"),
    "chart_precision": ("精确率", "precision"),
    "chart_recall": ("召回率", "recall"),
    "chart_f1": ("F1", "F1"),
    "chart_wa": ("WA 准确率", "WA"),
    "chart_ua": ("UA 平均召回", "UA"),
    "chart_macro_f1": ("Macro-F1", "Macro-F1"),
    # --- evaluation: confusion matrix
    "chart_confusion_title": ("混淆矩阵", "Confusion matrix"),
    "chart_predicted": ("预测", "predicted"),
    "chart_reference": ("参考标签", "reference"),
    "chart_row_share": ("占参考类别的比例", "share of the reference class"),
    # --- evaluation: reliability diagram
    "chart_reliability_title": (
        "可靠性图（ECE {ece:.1f} %，{bins} 个区间）",
        "Reliability (ECE {ece:.1f} %, {bins} bins)",
    ),
    "chart_gap": ("与平均置信度的差距", "gap to mean confidence"),
    "chart_perfect": ("完美校准", "perfect calibration"),
    "chart_files": ("文件数", "files"),
    "chart_confidence_axis": ("置信度（最高类别的概率）", "confidence (top-class probability)"),
    # --- evaluation: per class, bands, models, history
    "chart_per_class_title": ("每类的精确率 / 召回率 / F1", "Precision / recall / F1 per class"),
    "chart_class_support": ("{name}\n(n={n})", "{name}\n(n={n})"),
    "chart_bands_title": (
        "各置信度区间的准确率（灰色：区间范围）",
        "Accuracy per confidence band (grey: the band's range)",
    ),
    "chart_band_bar": ("{accuracy:.0f}% (n={n})", "{accuracy:.0f}% (n={n})"),
    "chart_models_title": ("模型对比", "Models side by side"),
    "chart_history_title": ("此测试集上随时间的准确率", "Accuracy over time on this test set"),
    "chart_history_line": ("{metric} · {model}", "{metric} · {model}"),
    # --- profile trend
    "chart_trend_title": (
        "{speaker} · 情感趋势（{period}）· {state}",
        "{speaker} · emotion trend by {period} · {state}",
    ),
    "chart_trend_state_alert": ("预警：负面占比上升", "ALERT: negative share rising"),
    "chart_trend_state_ok": ("无预警", "no alert"),
    "chart_trend_state_none": ("数据太少，无法判断", "too little data to judge"),
    "chart_period_day": ("按天", "day"),
    "chart_period_week": ("按周", "week"),
    "chart_period_month": ("按月", "month"),
    "chart_share_axis": ("记录占比 (%)", "share of records (%)"),
    "chart_negative_line": (
        "负面占比（愤怒+厌恶+恐惧+悲伤）",
        "negative share (angry+disgusted+fearful+sad)",
    ),
    "chart_negative_axis": ("负面占比 (%)", "negative share (%)"),
    "chart_baseline_line": ("基线（此前各期）", "baseline (earlier periods)"),
    "chart_alert_line": ("预警线：高出 {points:.0f} 个百分点", "alert above +{points:.0f} pts"),
    # --- cluster map
    "chart_clusters_title": ("Emotion Studio 聚类", "Emotion Studio clusters"),
    "chart_by_cluster": ("按聚类", "by cluster"),
    "chart_by_emotion": ("按预测情感", "by predicted emotion"),
    "chart_cluster_item": ("聚类 {c}（{n}）", "cluster {c} ({n})"),
    "chart_emotion_item": ("{name}（{n}）", "{name} ({n})"),
    "chart_pc": ("PC{i}（方差的 {share:.0f}%）", "PC{i} ({share:.0f}% of variance)"),
}
