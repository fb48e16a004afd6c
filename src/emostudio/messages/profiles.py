"""Texts of speaker profiles: the web UI's Profiles tab, the trend alert sentences and the reading of how two
speakers differ (stored in API answers as `message.zh` / `message.en`)."""

from __future__ import annotations

MESSAGES: dict[str, tuple] = {
    # --- the Profiles tab
    "profile_add_title": ("### 把当前结果加入档案", "### Add the current result to a profile"),
    "profile_speaker_new": ("说话人 / 客户 ID", "Speaker / customer id"),
    "profile_tags": ("标签（逗号分隔，可选）", "Tags (comma-separated, optional)"),
    "profile_at": (
        "录音时间（可选，例如 2026-01-05T09:30）",
        "Time of the recording (optional, e.g. 2026-01-05T09:30)",
    ),
    "profile_add": ("加入档案", "Add to profile"),
    "profile_skipped_note": (
        "跳过 {n} 个已存储的片段（保留原记录）；使用 --update 重新分析并替换",
        "skipped {n} clip(s) already stored (their records are kept); use --update to analyse and replace them",
    ),
    "profile_pick": ("选择说话人", "Pick a speaker"),
    "profile_by": ("统计周期", "Period"),
    "profile_periods": (("按天", "按周", "按月"), ("Day", "Week", "Month")),
    "profile_need_result": ("请先在“分析”页分析一段音频", "Analyse a clip on the Analyze tab first"),
    "profile_need_speaker": ("请填写说话人 ID", "Enter a speaker id"),
    "profile_added": ("已加入 {speaker} 的档案（记录 {id}）", "Added to {speaker}'s profile (record {id})"),
    "profile_records": ("{n} 条记录", "{n} records"),
    "profile_negative": ("负面占比", "Negative share"),
    "profile_confidence": ("平均置信度", "Mean confidence"),
    "profile_last_seen": ("最近一次", "Last seen"),
    "profile_top": ("最常见情感", "Most frequent emotion"),
    "profile_near_cols": (
        ("相似度", "说话人", "时间", "情感", "置信度", "来源"),
        ("Cosine", "Speaker", "Time", "Emotion", "Confidence", "Source"),
    ),
    "profile_recent_cols": (("时间", "情感", "置信度", "来源"), ("Time", "Emotion", "Confidence", "Source")),
    # --- the trend alert (emostudio.profiles.analysis.judge); units follow the count in English
    "profile_unit_day": (" 天", "days"),
    "profile_unit_week": (" 周", "weeks"),
    "profile_unit_month": (" 个月", "months"),
    "profile_alert_not_enough": (
        "数据不足，无法判断预警：需要 {need}{unit}且每期至少 {min_records} 条记录，目前只有 {have} 期。",
        "Not enough data for the alert: it needs {need} {unit} with at least {min_records} records each, there "
        "are {have}.",
    ),
    "profile_alert_hit": (
        "预警：最近 {recent}{unit}负面情绪（愤怒、厌恶、恐惧、悲伤）占比升至 {now}，此前为 {before}，上升 {rise:.0f} "
        "个百分点，超过 {threshold:.0f} 个百分点的阈值。",
        "ALERT: the share of negative emotions (angry, disgusted, fearful, sad) rose to {now} over the last "
        "{recent} {unit}, from {before} before: +{rise:.0f} points, more than the {threshold:.0f}-point threshold.",
    ),
    "profile_alert_ok": (
        "无预警：最近 {recent}{unit}负面情绪占比 {now}，此前 {before}（{rise:+.0f} 个百分点；阈值 +{threshold:.0f}）。",
        "No alert: negative share {now} over the last {recent} {unit} vs {before} before ({rise:+.0f} points; "
        "the threshold is +{threshold:.0f}).",
    ),
    # --- how speaker B differs from A (emostudio.profiles.analysis.compare)
    "profile_cmp_reading": (
        "{base}与 {a} 相比，{b}：{items}。",
        "{base} Compared with {a}, {b} sounds: {items}.",
    ),
    "profile_cmp_more": ("{name}更多（{points:+.0f} 个百分点）", "{name} more often ({points:+.0f} points)"),
    "profile_cmp_less": ("{name}更少（{points:+.0f} 个百分点）", "{name} less often ({points:+.0f} points)"),
}
