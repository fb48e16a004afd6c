"""Checks on an input path before any decoder touches it, and reading its first and last bytes.

Only regular files are opened: a named pipe or a device (`/dev/zero`) would block or never end, so they are
refused at once. Every OS error becomes a typed `AudioError` that says what is wrong with the path.
"""

from __future__ import annotations

import errno
import os
import stat

from emostudio.audio.errors import (
    BadPathError,
    EmptyFileError,
    FileMissingError,
    NotAFileError,
    NotAudioError,
    UnreadableError,
)

HEAD_BYTES = 65536  # read for sniffing the container and checking WAV headers
TAIL_BYTES = 65536  # read for checking that an Ogg stream ends properly
MAX_UNSIZED_BYTES = 64 * 1024 * 1024  # a file that reports size 0 but has data (/proc) is read up to this

_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _os_problem(e: OSError, name: str, path: str):
    """The typed error for an OSError met while looking at `path`."""
    if e.errno == errno.ENOENT:
        if os.path.islink(path):
            return FileMissingError(name, "broken symbolic link (it points to a file that does not exist)")
        return FileMissingError(name, "file not found")
    if e.errno == errno.ENAMETOOLONG:
        return BadPathError(
            name, "path is too long (a file or folder name over 255 bytes, or a path over 4096)"
        )
    if e.errno == errno.ELOOP:
        return BadPathError(name, "symbolic link loop (the link leads back to itself)")
    if e.errno == errno.ENOTDIR:
        return FileMissingError(name, "file not found (a part of the path is a file, not a folder)")
    if e.errno in (errno.EACCES, errno.EPERM):
        return UnreadableError(name, "file cannot be read (permission denied)")
    if e.errno == errno.EISDIR:
        return NotAudioError(name, "not an audio file (it is a folder)")
    return UnreadableError(name, f"file cannot be read ({e.strerror or e})")


def check_path(path: str, name: str) -> os.stat_result:
    """The stat of `path` if it is a regular file; else a typed AudioError naming the problem."""
    if path == "":
        raise BadPathError(name or "''", "empty path (no file name given)")
    if "\x00" in path:
        raise BadPathError(name, "path contains a NUL byte")
    try:
        st = os.stat(path)
    except OSError as e:
        raise _os_problem(e, name, path) from None
    if stat.S_ISDIR(st.st_mode):
        raise NotAudioError(name, "not an audio file (it is a folder)")
    if not stat.S_ISREG(st.st_mode):
        kind = next((k for test, k in _KINDS if test(st.st_mode)), "not a regular file")
        raise NotAFileError(
            name, f"not a regular file ({kind}); save the audio to a file first and analyse that file"
        )
    return st


def read_ends(path: str, name: str, st: os.stat_result) -> tuple[bytes, bytes, bytes | None]:
    """(head, tail, whole) of a regular file. `whole` is set only for a file that reports size 0 but has data
    (virtual files such as /proc/...), which is read into memory up to MAX_UNSIZED_BYTES."""
    try:
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
            if st.st_size == 0:
                if not head:
                    raise EmptyFileError(name, "file is empty (0 bytes)")
                whole = head + f.read(MAX_UNSIZED_BYTES)
                if f.read(1):
                    raise NotAudioError(name, "not an audio file (a virtual file of unknown size)")
                return head, whole[-TAIL_BYTES:], whole
            if st.st_size > HEAD_BYTES:
                f.seek(max(HEAD_BYTES, st.st_size - TAIL_BYTES))
                tail = f.read(TAIL_BYTES)
            else:
                tail = head
    except OSError as e:
        raise _os_problem(e, name, path) from None
    return head, tail, None


# Signatures of audio/video containers: data that starts like this and fails to open is damaged, not "not audio".
_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"RIFF", "WAV/RIFF"),
    (0, b"RIFX", "WAV/RIFF"),
    (0, b"RF64", "WAV/RF64"),
    (4, b"ftyp", "MP4/M4A"),
    (4, b"moov", "MP4/M4A"),
    (4, b"mdat", "MP4/M4A"),
    (4, b"free", "MP4/M4A"),
    (4, b"wide", "MP4/M4A"),
    (0, b"OggS", "Ogg"),
    (0, b"fLaC", "FLAC"),
    (0, b"ID3", "MP3"),
    (0, b"\x1a\x45\xdf\xa3", "Matroska/WebM"),
    (0, b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", "ASF/WMA"),
    (0, b"#!AMR", "AMR"),
    (0, b"caff", "CAF"),
    (0, b"FORM", "AIFF"),
    (0, b".snd", "AU"),
)


def media_kind(head: bytes) -> str | None:
    """The container a file's first bytes announce ("MP4/M4A", "Ogg", ...), or None."""
    for offset, magic, kind in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return kind
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "MPEG audio"
    return None
