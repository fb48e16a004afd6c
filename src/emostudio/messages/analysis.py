"""Texts of one analysis as people read it: enhancement steps, notes on the audio, channel roles, history."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # --- reading the scores (emostudio.interpret; stored in result.json as band.zh/en, compound.zh/en)
    "summary_line": ("{name} 置信度: {percent:.1f}%", "{name} confidence: {percent:.1f}%"),
    "band_confident": ("置信度高", "confident"),
    "band_leaning": ("倾向性判断，可能混合", "leaning / possibly mixed"),
    "band_uncertain": ("不确定", "uncertain"),
    "compound_angry_sad": ("悲愤", "grief-anger"),
    "compound_happy_surprised": ("惊喜", "pleasant surprise"),
    "compound_fearful_surprised": ("惊恐", "alarm / shock"),
    "compound_angry_disgusted": ("憎恶", "loathing / contempt"),
    "compound_fearful_sad": ("忧惧", "anxious sorrow"),
    "compound_angry_surprised": ("震怒", "outrage"),
    "compound_angry_fearful": ("焦躁", "agitation"),
    "compound_disgusted_sad": ("失望", "disappointment"),
    "compound_sad_surprised": ("错愕", "dismay"),
    "compound_happy_sad": ("悲喜交加", "bittersweet"),
    "compound_fearful_happy": ("紧张兴奋", "nervous excitement"),
    "compound_angry_happy": ("激动", "heated excitement"),
    "compound_disgusted_fearful": ("骇然", "horror"),
    "compound_disgusted_surprised": ("反感", "shocked distaste"),
    "compound_happy_neutral": ("愉悦平和", "content"),
    "compound_neutral_sad": ("低落", "subdued"),
    "compound_angry_neutral": ("不满", "displeasure"),
    "compound_fearful_neutral": ("不安", "unease"),
    "compound_neutral_surprised": ("诧异", "mild surprise"),
    "compound_disgusted_neutral": ("冷淡", "disdain"),
    # --- enhancement steps (enhance.STEP_FORMATS, as stored, read back and said in each language)
    "enh_step_highpass": ("高通滤波 {hz} Hz", "high-pass {hz} Hz"),
    "enh_step_denoise": ("降噪（{noise}）", "denoise ({noise})"),
    "enh_step_peak": ("峰值归一化到 {dbfs} dBFS", "peak normalised to {dbfs} dBFS"),
    "enh_noise_vad": ("噪声取自语音停顿处", "noise from the pauses"),
    "enh_noise_file": ("噪声取自噪声文件", "noise from the noise file"),
    "enh_noise_range": ("噪声取自 {start}–{end} 秒", "noise from {start}–{end} s"),
    # --- the example clips (emostudio.examples)
    "example_calm_voice": ("平静的合成语音（3 秒）", "calm synthetic voice (3 s)"),
    "example_lively_voice": ("起伏大的合成语音（3 秒）", "lively synthetic voice (3 s)"),
    "example_noisy_voice": (
        "嘈杂环境中的合成语音（4 秒，信噪比约 5 dB）",
        "noisy synthetic voice (4 s, about 5 dB SNR)",
    ),
    "example_long_call": (
        "带停顿的长录音（45 秒，将被切分）",
        "long recording with pauses (45 s, split into segments)",
    ),
    # --- notes on the audio
    "damaged_audio": (
        "文件似乎已损坏：结果只包含能解码的 {seconds} 秒",
        "the file looks damaged: the result covers only the {seconds} s that could be decoded",
    ),
    # --- channel roles as a surface shows them (the stored role names stay "mono", "left", "right", …)
    "role_mono": ("单声道", "mono"),
    "role_left": ("左声道", "left"),
    "role_right": ("右声道", "right"),
    "role_channel": ("声道 {n}", "channel {n}"),
    # --- channels (core): two-party recordings, files and live streams (emostudio.channels)
    "channel_name": ("第 {n} 声道（{role}）", "channel {n} ({role})"),
    "channel_one": ("录音只有一个声道：按一位说话人分析", "the recording has one channel: it is one speaker"),
    "channel_silent": (
        "{channel}无声（{level}）：不作分析",
        "{channel} is silent ({level}): it is not scored",
    ),
    "channel_no_signal": ("没有信号", "no signal"),
    "channel_loudest": ("最响处 {dbfs:.0f} dBFS", "loudest moments at {dbfs:.0f} dBFS"),
    "channel_copy": (
        "{channel}与{other}相同（单声道录音存成了多声道）：按一位说话人分析",
        "{channel} is a copy of {other} (a mono recording saved with several channels): one speaker",
    ),
    # --- how alike two clips are (emostudio.embeddings.read_similarity): levels 0 (closest) … 3
    "sim_cos_0": ("非常接近", "very close"),
    "sim_cos_1": ("接近", "close"),
    "sim_cos_2": ("有些相似", "somewhat alike"),
    "sim_cos_3": ("差异明显", "far apart"),
    "sim_js_0": ("几乎相同", "nearly identical"),
    "sim_js_1": ("相近", "similar"),
    "sim_js_2": ("不同", "different"),
    "sim_js_3": ("差异很大", "very different"),
    "sim_overall_0": ("表达非常相似：", "Very similar expression:"),
    "sim_overall_1": ("表达相似：", "Similar expression:"),
    "sim_overall_2": ("表达部分相似：", "Partly similar expression:"),
    "sim_overall_3": ("表达差异明显：", "Different expression:"),
    "sim_both": ("两者听起来都是 {a}；", "both sound {a};"),
    "sim_each": ("{na} 听起来是 {a}，{nb} 是 {b}；", "{na} sounds {a}, {nb} {b};"),
    "sim_scores": (
        "情感得分{level}（JS 距离 {distance:.2f}）；",
        "emotion scores {level} (Jensen–Shannon distance {distance:.2f});",
    ),
    "sim_embeddings": ("特征向量{level}（余弦 {cosine:.3f}）。", "embeddings {level} (cosine {cosine:.3f})."),
    # --- the quality report (emostudio.quality.rules; stored in result.json as label_/advice_zh/en): format
    # strings of the thresholds `t`, the value `v` and the measurement (`method` for SNR, in each language)
    "quality_sample_rate": ("采样率", "Sample rate"),
    "quality_channels": ("声道数", "Channels"),
    "quality_codec": ("编码", "Codec"),
    "quality_duration": ("时长", "Duration"),
    "quality_peak": ("峰值电平", "Peak level"),
    "quality_rms": ("均方根电平", "RMS level"),
    "quality_loudness": ("响度", "Loudness"),
    "quality_clipping": ("削波", "Clipping"),
    "quality_dc_offset": ("直流偏移", "DC offset"),
    "quality_snr": ("信噪比（{method}）", "SNR ({method})"),
    "quality_speech_ratio": ("语音占比", "Speech ratio"),
    "quality_dynamic_range": ("动态范围", "Dynamic range"),
    "quality_hum": ("低频嗡声（< {t.hum_cutoff_hz:g} Hz）", "Low-frequency hum (< {t.hum_cutoff_hz:g} Hz)"),
    "quality_advice_phone_band": (
        "采样率仅 {v} Hz（电话音质）；请用 {t.min_sample_rate_hz} Hz 或更高采样率录音。",
        "Recorded at {v} Hz (phone-band); record at {t.min_sample_rate_hz} Hz or more.",
    ),
    "quality_advice_too_short": (
        "太短；请录制或剪成 {t.duration_ok_from_s:g}–{t.duration_ok_to_s:g} 秒。",
        "Too short; record or cut {t.duration_ok_from_s:g}–{t.duration_ok_to_s:g} s.",
    ),
    "quality_advice_short": (
        "偏短；{t.duration_ok_from_s:g}–{t.duration_ok_to_s:g} 秒效果最好。",
        "Short; {t.duration_ok_from_s:g}–{t.duration_ok_to_s:g} s works best.",
    ),
    "quality_advice_long": (
        "偏长；剪成 {t.duration_ok_from_s:g}–{t.duration_ok_to_s:g} 秒结果更准。",
        "Long; cut to {t.duration_ok_from_s:g}–{t.duration_ok_to_s:g} s for a sharper score.",
    ),
    "quality_advice_split": (
        "超过 {t.duration_split_above_s:g} 秒：将在停顿处切分并逐段打分。",
        "Longer than {t.duration_split_above_s:g} s: it is split at pauses and scored per segment.",
    ),
    "quality_advice_quiet": (
        "音量很小；请靠近麦克风 15–30 厘米录音或调高输入增益。",
        "Very quiet; record closer to the mic (15–30 cm) or raise the input gain.",
    ),
    "quality_advice_loud": (
        "响度过大，可能被压限或削波；请调低输入增益。",
        "Very loud; likely limited or clipped — lower the input gain.",
    ),
    "quality_advice_over_range": (
        "采样值超出满刻度 ±1（峰值 {t.peak_warn_above_dbfs:g} dBFS 以上）：浮点音频电平超出范围，"
        "保存为 PCM 时会削波；请以正常电平重新导出或录音。",
        "Samples beyond full scale ±1 (peak above {t.peak_warn_above_dbfs:g} dBFS): float audio out of range, "
        "it clips when saved as PCM; export or record again at a normal level.",
    ),
    "quality_advice_clipped": (
        "有削波失真；请调低输入增益或离麦克风远一点重新录音。",
        "Clipped (distorted); lower the input gain or step back from the mic and record again.",
    ),
    "quality_advice_dc": (
        "存在直流偏移；高通滤波可去除（emostudio enhance）。",
        "DC offset; a high-pass filter removes it (emostudio enhance).",
    ),
    "quality_advice_noisy": (
        "噪声较大；请靠近麦克风 15–30 厘米、在安静的房间录音，或降噪（emostudio enhance）。",
        "Noisy; record closer to the mic (15–30 cm) in a quieter room, or denoise (emostudio enhance).",
    ),
    "quality_advice_snr_none": (
        "无法测量：未检测到语音，或电平从不回落到底噪（持续的音调、噪声或音乐）。",
        "Cannot be measured: no speech was found, or the level never drops to a noise floor (a steady tone, "
        "steady noise or music).",
    ),
    "quality_advice_no_speech": (
        "未检测到语音；请确认文件内有说话声。",
        "No speech found; check the file holds speech.",
    ),
    "quality_advice_little_speech": (
        "大部分不是语音；请剪掉语音前后的静音或噪声。",
        "Mostly non-speech; trim the silence or noise around the speech.",
    ),
    "quality_advice_hum": (
        "有低频嗡声或隆隆声；100 Hz 高通滤波可去除（emostudio enhance）；请检查线缆和接地。",
        "Low-frequency hum or rumble; a 100 Hz high-pass removes it (emostudio enhance); check cables and "
        "grounding.",
    ),
    # --- the result's quality warning (QualityReport.warning_line: stored as quality_warning / _zh)
    "quality_warning": (
        "音频质量可能是置信度低的原因 — {parts}",
        "Audio quality may explain the low confidence — {parts}",
    ),
    "quality_warning_part": ("{label} {value}：{advice}", "{label} {value}: {advice}"),
    # --- content the model was not trained for (quality.pitch hints; stored in result.json's hints)
    "hint_music": (
        "可能是音乐或歌唱：音高长时间保持不变，不像说话。",
        "May be music or singing: the pitch is held steady for long stretches, unlike speech.",
    ),
    "hint_multiple_speakers": (
        "可能不止一位说话人：有声段的音高明显分成两组。",
        "Likely more than one speaker: voiced parts form two clearly separate pitch groups.",
    ),
    "hint_weak_expression": (
        "情感表达可能很弱：音高和响度几乎不变，情感得分可能不确定。",
        "Expression may be very weak: pitch and loudness barely vary, so emotion scores may be uncertain.",
    ),
    # --- how the SNR was measured (quality.snr.METHODS), shown next to the value
    "snr_method_vad": ("语音与停顿", "speech/pause"),
    "snr_method_floor": ("底噪", "noise floor"),
    "snr_method_spectral": ("频谱", "spectral"),
    "snr_method_none": ("无法测量", "not measurable"),
}
