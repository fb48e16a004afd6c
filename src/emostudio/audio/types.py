"""Constants of decoding: the model's rate, the default limits, the file extensions read as audio.

The decoded-audio records (`Audio`, `SourceInfo`) are defined in `emostudio.records`, shared with the layers above.
"""

from __future__ import annotations

from emostudio.records import SAMPLE_RATE

__all__ = ["AUDIO_EXTENSIONS", "DEFAULT_MAX_DURATION_S", "DEFAULT_SILENCE_DBFS", "SAMPLE_RATE"]
DEFAULT_MAX_DURATION_S = 4 * 3600.0
DEFAULT_SILENCE_DBFS = -100.0

AUDIO_EXTENSIONS: frozenset[str] = frozenset(
    {
        ".wav", ".wave", ".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".flac", ".webm", ".amr",
        ".awb", ".wma", ".mp4", ".m4v", ".mkv", ".mka", ".mov", ".3gp", ".3g2", ".aif", ".aiff",
        ".aifc", ".caf", ".ac3", ".au", ".snd", ".spx", ".avi", ".ts", ".mts",
    }
)  # fmt: skip
