"""Live analysis: emotion from a microphone or a call stream as it happens.

stream.py   LiveStream (`Recognizer.stream(...)`): chunks in, an update every hop, the whole-stream Result
options.py  LiveOptions (hop, window, silence, catch-up, limits) and LiveStats
track.py    one signal: streaming resample to 16 kHz, recent window, spool file, streaming VAD
events.py   LiveUpdate, LiveNotice, the dominant-emotion segments built hop by hop
closing.py  the closing pass: the whole stream scored as a file in frame mode (in bounded parts), assembled
copies.py   channels="separate": a channel copying another is noticed (the files' CopyDetector, chunk by chunk)
pcm.py      chunk formats (s16le / f32le bytes, numpy arrays), rates, checks
sources.py  audio sources for the CLI: a file or URL in (simulated) real time, a microphone
"""

from emostudio.live.events import SILENCE, LiveEvent, LiveNotice, LiveSegment, LiveUpdate, label_names
from emostudio.live.options import LiveOptions, LiveStats
from emostudio.live.pcm import FORMATS, MAX_RATE_HZ, MIN_RATE_HZ, FrameError
from emostudio.live.stream import Batch, LiveStream

__all__ = [
    "FORMATS",
    "MAX_RATE_HZ",
    "MIN_RATE_HZ",
    "SILENCE",
    "Batch",
    "FrameError",
    "LiveEvent",
    "LiveNotice",
    "LiveOptions",
    "LiveSegment",
    "LiveStats",
    "LiveStream",
    "LiveUpdate",
    "label_names",
]
