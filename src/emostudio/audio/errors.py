"""The typed problems one input can have. Each is an `AudioError` whose message starts with the file's name."""

from __future__ import annotations

from emostudio.errors import AudioError


class FileMissingError(AudioError):
    code = "missing"


class BadPathError(AudioError):
    """The path itself is unusable: empty, too long, a symbolic-link loop, a NUL byte."""

    code = "bad_path"


class UnreadableError(AudioError):
    """The file exists but cannot be read (permissions, I/O error)."""

    code = "unreadable"


class NotAFileError(AudioError):
    """A named pipe, device or socket: something that is not a regular file (reading it could block forever)."""

    code = "not_a_file"


class EmptyFileError(AudioError):
    code = "empty"


class NotAudioError(AudioError):
    code = "not_audio"


class UnsupportedFormatError(AudioError):
    code = "unsupported"


class CorruptAudioError(AudioError):
    code = "corrupt"


class ZeroLengthError(AudioError):
    code = "zero_length"


class NonFiniteError(AudioError):
    code = "non_finite"


class SilentAudioError(AudioError):
    code = "silent"


class TooLongError(AudioError):
    code = "too_long"


class TooShortError(AudioError):
    code = "too_short"


ALL_ERRORS: tuple[type[AudioError], ...] = (
    FileMissingError,
    BadPathError,
    UnreadableError,
    NotAFileError,
    EmptyFileError,
    NotAudioError,
    UnsupportedFormatError,
    CorruptAudioError,
    ZeroLengthError,
    NonFiniteError,
    SilentAudioError,
    TooLongError,
    TooShortError,
)
