"""Decoded audio and what it was before decoding."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

SAMPLE_RATE = 16000
DEFAULT_MAX_DURATION_S = 4 * 3600.0
DEFAULT_SILENCE_DBFS = -100.0

AUDIO_EXTENSIONS: frozenset[str] = frozenset(
    {
        ".wav", ".wave", ".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".flac", ".webm", ".amr",
        ".awb", ".wma", ".mp4", ".m4v", ".mkv", ".mka", ".mov", ".3gp", ".3g2", ".aif", ".aiff",
        ".aifc", ".caf", ".ac3", ".au", ".snd", ".spx", ".avi", ".ts", ".mts",
    }
)  # fmt: skip


@dataclass
class SourceInfo:
    """What the input was before decoding."""

    path: str  # file path or given name
    size_bytes: int
    container: str  # e.g. "wav", "mp3", "mov,mp4,m4a,3gp,3g2,mj2"
    codec: str  # e.g. "pcm_s16le", "mp3", "aac", "opus"
    sample_rate: int  # original Hz
    channels: int  # original channels
    duration_s: float  # decoded duration of the original, seconds

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Audio:
    """Decoded audio ready for the model."""

    waveform: np.ndarray  # (samples,) float32, mono, 16 kHz, in [-1, 1] as decoded (not normalised)
    sample_rate: int  # always SAMPLE_RATE
    source: SourceInfo
    warnings: list[str] = field(default_factory=list)  # e.g. the file looks truncated (see audio.integrity)
    # each channel on its own, (samples,) float32 at 16 kHz, when decoded with keep_channels=True; else None
    channels: list[np.ndarray] | None = field(default=None, repr=False)

    @property
    def duration_s(self) -> float:
        return len(self.waveform) / self.sample_rate
