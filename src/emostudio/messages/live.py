"""Texts of the web UI's Live tab (the browser microphone) and Two-party call tab (a stereo call)."""

from __future__ import annotations

MESSAGES: dict[str, tuple] = {
    "live_mic": ("麦克风（点击录音开始实时分析）", "Microphone (press record to analyse live)"),
    "live_mode": ("声道", "Channels"),
    "live_modes": (
        ("混合为一位说话人", "每个声道一位说话人"),
        ("Mix into one speaker", "One speaker per channel"),
    ),
    "live_roles": ("声道角色（可选，例如 坐席,客户）", "Channel roles (optional, e.g. agent,customer)"),
    "call_roles_mismatch": (
        "{name}：给出了 {n} 个声道角色，多于录音的声道数",
        "{name}: {n} roles for fewer channels",
    ),
    "live_waiting": (
        "点击“开始录音”；每 0.5 秒更新一次，停止后整段保存到历史记录。",
        "Press Record; an update every 0.5 s, the whole stream is saved to History when you stop.",
    ),
    "live_record": ("🎙 开始录音", "🎙 Record"),
    "live_stop": ("⏹ 停止", "⏹ Stop"),
    "live_refuse_mono": (
        "麦克风只有一个声道，无法“每个声道一位说话人”：请选择“混合为一位说话人”或换用立体声输入。未开始录音。",
        "The microphone has one channel, so “one speaker per channel” cannot work: choose “mix into one speaker” "
        "or use a stereo input. Nothing was recorded.",
    ),
    "live_no_mic": ("无法使用麦克风：{error}", "The microphone cannot be used: {error}"),
    # why the browser gave no microphone (getUserMedia's error name → these)
    "live_mic_denied": ("浏览器未允许使用麦克风", "the browser did not allow the microphone"),
    "live_mic_missing": ("没有找到麦克风", "no microphone was found"),
    "live_mic_busy": (
        "麦克风正被其他程序占用或无法读取",
        "the microphone is in use elsewhere or cannot be read",
    ),
    "live_mic_insecure": (
        "此页面不能使用麦克风（需要 https 或 localhost 地址）",
        "this page cannot use a microphone (it needs an https or localhost address)",
    ),
    # the live stream's WebSocket (/v1/stream) as the card says it
    "live_closed": (
        "与服务器的连接已断开（代码 {code}）",
        "The connection to the server closed (code {code})",
    ),
    "live_stream_error": ("实时分析出错（{code}）", "The live analysis failed ({code})"),
    "live_notice_wall_clock_limit": (
        "已达到服务器对单次实时分析的时长上限：录音结束，已收到的部分已保存",
        "The stream reached this server's time limit: it ends and what was received is saved",
    ),
    "live_ui_skipped": (
        "（界面合并了 {n} 次更新；音频完整保留）",
        " ({n} updates merged on screen; no audio was lost)",
    ),
    "live_roles_too_many": (
        "给出了 {n} 个声道角色，但这种声道方式只有 {k} 位说话人",
        "{n} channel roles, but this channel choice has {k} speaker(s)",
    ),
    "live_stopping": ("正在保存整段录音…", "Saving the whole recording…"),
    "live_listening": (
        "正在分析 {seconds:.1f} 秒 · {updates} 次更新",
        "Analysing {seconds:.1f} s · {updates} updates",
    ),
    "live_skipped": ("（模型跟不上实时，跳过了 {n} 次）", " (the model fell behind real time: {n} skipped)"),
    "live_saved": ("已保存为 {run_id}（见“历史”页）：", "Saved as {run_id} (see History): "),
    "live_not_saved": ("未保存：{error}", "Not saved: {error}"),
    "live_ended_idle": (
        "长时间没有收到音频，已结束并保存",
        "No audio arrived for a while: the stream was ended and saved",
    ),
    "live_timeline": ("时间线（最近 {view:.0f} 秒）", "Timeline (last {view:.0f} s)"),
    "live_seconds_tick": ("{s:.0f} 秒", "{s:.0f} s"),
    "call_in": (
        "双声道通话录音（左右声道各一位说话人）",
        "Two-channel call recording (one speaker per channel)",
    ),
    "call_go": ("按声道分析", "Analyse by channel"),
    "call_need_audio": ("请先上传录音", "Upload a recording first"),
    "call_mix_line": ("整段（混合）：", "Whole call (mixed): "),
    "call_speakers": ("{n} 位说话人", "{n} speaker(s)"),
    "call_channel": ("{n} · {role}", "{n} · {role}"),
    "channel_status_speaker": ("说话人", "speaker"),
    "channel_status_silent": ("无声", "silent"),
    "channel_status_copy": ("与另一声道相同", "copy of another channel"),
}
