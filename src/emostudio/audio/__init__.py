"""Audio in and out: decode anything to 16 kHz mono float32 with integrity checks; typed errors naming the file.

files.py      what a path is before any decoder touches it (regular file? readable? which container?)
decode.py     PyAV demux/decode → downmix → soxr to 16 kHz, the duration limit enforced while decoding
integrity.py  evidence of damage (truncation, corrupt packets) → a warning or an error
arrays.py     numpy arrays in (from_array), resampling, 16-bit WAV out
errors.py     one AudioError subclass per problem, each with a `code`
"""

from emostudio.audio.arrays import downmix, frame_to_array, from_array, resample, write_wav
from emostudio.audio.decode import decode
from emostudio.audio.errors import (
    ALL_ERRORS,
    BadPathError,
    CorruptAudioError,
    EmptyFileError,
    FileMissingError,
    NonFiniteError,
    NotAFileError,
    NotAudioError,
    SilentAudioError,
    TooLongError,
    TooShortError,
    UnreadableError,
    UnsupportedFormatError,
    ZeroLengthError,
)
from emostudio.audio.types import AUDIO_EXTENSIONS, DEFAULT_MAX_DURATION_S, DEFAULT_SILENCE_DBFS, SAMPLE_RATE
from emostudio.records import Audio, SourceInfo  # the records decode returns (defined with the other records)

__all__ = [
    "ALL_ERRORS",
    "AUDIO_EXTENSIONS",
    "DEFAULT_MAX_DURATION_S",
    "DEFAULT_SILENCE_DBFS",
    "SAMPLE_RATE",
    "Audio",
    "BadPathError",
    "CorruptAudioError",
    "EmptyFileError",
    "FileMissingError",
    "NonFiniteError",
    "NotAFileError",
    "NotAudioError",
    "SilentAudioError",
    "SourceInfo",
    "TooLongError",
    "TooShortError",
    "UnreadableError",
    "UnsupportedFormatError",
    "ZeroLengthError",
    "decode",
    "downmix",
    "frame_to_array",
    "from_array",
    "resample",
    "write_wav",
]
