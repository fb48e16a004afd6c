"""Texts of speaker turns (who spoke when): the diarization notes stored in result.json and the CLI's lines."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # --- diarization notes (result.json's diarization.notes: key + values, en and zh)
    "no_speech": ("没有检测到语音：未找到说话人轮次", "no speech found: no speaker turns"),
    "no_scored_turns": (
        "所有说话人轮次都短于 {min_s:g} 秒，未逐轮打分：按整段录音分析",
        "every speaker turn is shorter than {min_s:g} s, so none was scored: the recording is read as a whole",
    ),
    "speakers_fewer_than_asked": (
        "要求 {requested} 位说话人，只找到 {found} 位（不会凭空增加说话人）",
        "{requested} speakers were asked for, {found} found (speakers are never invented)",
    ),
    "speakers_count_differs": (
        "要求 {requested} 位说话人，找到 {found} 位",
        "{requested} speakers were asked for, {found} found",
    ),
    # --- the CLI's lines (emostudio analyze --speakers)
    "cli_speakers_head": (
        "说话人：{found} 位（{engine}，语音 {speech_s:.1f} 秒）",
        "Speakers: {found} ({engine}, {speech_s:.1f} s of speech)",
    ),
    "cli_speaker_line": (
        "  {id}: {seconds:.1f} 秒，{turns} 个轮次 · {reading}",
        "  {id}: {seconds:.1f} s, {turns} turn(s) · {reading}",
    ),
    "cli_speaker_unscored": ("没有足够长的轮次可打分", "no turn long enough to score"),
    "progress_diarize": ("正在区分说话人", "finding who spoke when"),
}
