"""A short synthetic conversation for speaker-turn tests: two espeak-ng voices (low and high pitch) taking turns
with pauses, decoded to 16 kHz mono float32 (emostudio.audio.decode)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

from emostudio import audio as audio_io

SR = 16000
# (espeak-ng voice, pitch 0-99): two clearly different speakers
VOICE_A = ("en-us", 25)
VOICE_B = ("en-gb+f3", 85)
LINES_A = (
    "Good morning, thank you for calling, how can I help you today.",
    "I can look into that order for you right now.",
)
LINES_B = (
    "Hello, my order has not arrived and I am getting worried.",
    "Thank you, that is a relief to hear.",
)


def say(folder: Path, text: str, voice: tuple[str, int], name: str) -> np.ndarray:
    """One sentence spoken by `voice`, (samples,) float32 at 16 kHz."""
    espeak = shutil.which("espeak-ng")
    assert espeak, "espeak-ng is needed (scripts/setup --test installs it: apt-get install espeak-ng)"
    wav = folder / f"{name}.wav"
    subprocess.run(
        [espeak, "-v", voice[0], "-p", str(voice[1]), "-s", "150", "-w", str(wav), text], check=True
    )
    return audio_io.decode(str(wav)).waveform


def conversation(folder: Path, voices: tuple[tuple[str, int], ...] = (VOICE_A, VOICE_B)) -> np.ndarray:
    """A, pause, B, pause, A, pause, B (0.5 s pauses); with one voice given, that voice says every line."""
    gap = np.zeros(SR // 2, dtype=np.float32)
    parts = []
    for i, (a, b) in enumerate(zip(LINES_A, LINES_B, strict=True)):
        parts += [say(folder, a, voices[0], f"a{i}"), gap, say(folder, b, voices[-1], f"b{i}"), gap]
    return np.concatenate(parts)
