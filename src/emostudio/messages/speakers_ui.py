"""Texts of the speaker-turn views (who spoke when): the Analyze tab's option, the speaker strip and cards."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # --- the Analyze tab's option
    "speakers_option": ("区分说话人（单声道录音）", "Speaker turns (mono recordings)"),
    "speakers_off": ("关闭", "Off"),
    "speakers_auto": ("自动", "Auto"),
    "speakers_n": ("最多 {n} 位", "At most {n}"),
    # --- the strip and the cards
    "speakers_title": (
        "说话人（{found} 位，语音 {speech_s:.1f} 秒）",
        "Speakers ({found}, {speech_s:.1f} s of speech)",
    ),
    "speaker_n": ("说话人 {n}", "Speaker {n}"),
    "speakers_none": ("没有找到说话人轮次", "No speaker turns found"),
    "speakers_strip_note": (
        "每位说话人一行，每个轮次按其情感着色；灰色：太短未打分；斜线：与他人重叠",
        "One lane per speaker, each turn in its emotion's colour; grey: too short to score; hatched: overlapping speech",
    ),
    "speaker_unscored": ("未打分（轮次太短）", "Not scored (turn too short)"),
    "speaker_overlap": ("重叠语音", "Overlapping speech"),
    "speaker_no_reading": ("没有足够长的轮次可打分", "No turn long enough to score"),
    "speaker_talk": ("{seconds:.1f} 秒 · {turns} 个轮次", "{seconds:.1f} s · {turns} turn(s)"),
    "speaker_share": ("情感占比", "Share of emotions"),
}
