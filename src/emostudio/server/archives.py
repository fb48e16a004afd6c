"""Safe, bounded extraction of an uploaded zip archive (an evaluation's test set).

Refused before anything is written: absolute paths, `..`, links and devices, more than `max_entries` entries,
entry names with a part over 255 bytes or nested over MAX_DEPTH folders, a name that is both a file and a
folder (`x` and `x/y.wav`), the same name twice, declared sizes over the budget. While extracting, the bytes
written are counted whatever the headers claim: over `max_bytes` in all (413), or once past RATIO_FLOOR_BYTES
more than MAX_RATIO times the compressed bytes read so far (a zip bomb, 413), extraction stops at once: a 1 MB
zip of 1 GB of zeros stops after about 17 MB written.

Names without the UTF-8 flag (bit 0x800: Windows Explorer, many zip tools) are decoded as UTF-8, else GB18030,
else CP437 (what zipfile assumes).
"""

from __future__ import annotations

import errno
import stat
import zipfile
from pathlib import Path, PurePosixPath

from emostudio.errors import EmoStudioError, OutputError

MAX_ARCHIVE_ENTRIES = 20000
MAX_DEPTH = 32  # folders in an entry's name
MAX_PART_BYTES = 255  # one file or folder name (the file system's limit)
MAX_RATIO = 200  # uncompressed : compressed, over the archive so far (audio compresses about 1-3x)
RATIO_FLOOR_BYTES = (
    16_000_000  # below this much written, any ratio is fine (a little silence compresses well)
)
UTF8_FLAG = 0x800


class UploadError(EmoStudioError):
    """Uploaded files that cannot make a test set: an unsafe or oversized archive, duplicate names (HTTP 422)."""

    code = "bad_upload"


class ArchiveTooLargeError(UploadError):
    """An archive that extracts to more than the server's budget, or at a zip bomb's ratio (HTTP 413)."""

    code = "archive_too_large"
    status = 413


def zip_name(info: zipfile.ZipInfo) -> str:
    """An entry's name, decoded sensibly when the UTF-8 flag is not set; backslashes as folder separators."""
    name = info.filename
    if not info.flag_bits & UTF8_FLAG:
        try:
            raw = name.encode("cp437")  # zipfile decoded the raw bytes as CP437
        except UnicodeEncodeError:
            raw = None
        for encoding in ("utf-8", "gb18030"):
            if raw is None:
                break
            try:
                name = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    return name.replace("\\", "/")


def _plan(
    label: str, zf: zipfile.ZipFile, max_bytes: int, max_entries: int
) -> list[tuple[zipfile.ZipInfo, str, tuple]]:
    """The entries to extract as (info, name, parts), every name checked; UploadError naming the first bad one."""
    infos = zf.infolist()
    if len(infos) > max_entries:
        raise UploadError(f"{label}: {len(infos)} entries; at most {max_entries} are accepted")
    plan: list[tuple[zipfile.ZipInfo, str, tuple]] = []
    files: set[tuple] = set()
    folders: set[tuple] = set()
    declared = 0
    for info in infos:
        name = zip_name(info)
        parts = PurePosixPath(name).parts
        shown = _short(name)
        if name.startswith("/") or ".." in parts or (parts and ":" in parts[0]):
            raise UploadError(f"{label}: unsafe path {shown!r} in the archive")
        if len(parts) > MAX_DEPTH + 1:
            raise UploadError(
                f"{label}: {shown!r} is nested {len(parts) - 1} folders deep; at most {MAX_DEPTH}"
            )
        if any(len(p.encode("utf-8")) > MAX_PART_BYTES for p in parts):
            raise UploadError(f"{label}: a name in {shown!r} is over {MAX_PART_BYTES} bytes long")
        folders.update(parts[:i] for i in range(1, len(parts) if not info.is_dir() else len(parts) + 1))
        if info.is_dir() or not parts or parts[0] == "__MACOSX" or parts[-1].startswith("."):
            continue
        kind = stat.S_IFMT(info.external_attr >> 16)  # 0: not recorded (zips made on Windows, writestr)
        if kind and kind != stat.S_IFREG:
            raise UploadError(f"{label}: {shown!r} is a link or special file; only plain files are accepted")
        if parts in files:
            raise UploadError(f"{label}: {shown!r} appears twice in the archive")
        files.add(parts)
        declared += info.file_size
        plan.append((info, name, parts))
    clash = next((p for p in files if p in folders), None)
    if clash is not None:
        raise UploadError(f"{label}: {'/'.join(clash)!r} is both a file and a folder in the archive")
    if declared > max_bytes:
        raise ArchiveTooLargeError(
            f"{label}: {declared / 1e6:.0f} MB once extracted; at most {max_bytes / 1e6:.0f} MB (split the test set)"
        )
    return plan


def extract_archive(
    archive: Path,
    dest: Path,
    max_bytes: int,
    max_entries: int = MAX_ARCHIVE_ENTRIES,
    shown_as: str | None = None,
) -> Path:
    """Extract a zip safely into `dest` (see the module docstring); messages call it `shown_as` (the client's
    file name; default: the archive's own name). Returns `dest`.

    Raises UploadError (422), ArchiveTooLargeError (413), OutputError when the disk is full (507)."""
    label = shown_as or archive.name
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as e:
        raise UploadError(f"{label}: not a zip archive ({e})") from e
    written = compressed = 0
    with zf:
        for info, name, parts in _plan(label, zf, max_bytes, max_entries):
            target = dest.joinpath(*parts)
            name = _short(name)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as out:
                    while chunk := src.read(1 << 16):  # small reads: the compressed count keeps pace
                        written += len(chunk)
                        _check_budget(label, written, compressed + _consumed(src, info), max_bytes)
                        out.write(chunk)
            except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError, RuntimeError) as e:
                # damaged entry, unsupported compression or encryption
                raise UploadError(f"{label}: cannot extract {name!r} ({e})") from e
            except OSError as e:
                if e.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise OutputError(
                        f"{label}: the server's disk is full while extracting the archive"
                    ) from e
                raise UploadError(f"{label}: cannot extract {name!r} ({e.strerror or e})") from e
            compressed += info.compress_size
    return dest


def _consumed(src, info: zipfile.ZipInfo) -> int:
    """Compressed bytes of this entry read so far (zipfile keeps what is left; else the whole entry)."""
    left = getattr(src, "_compress_left", None)
    return info.compress_size - left if isinstance(left, int) else info.compress_size


def _check_budget(label: str, written: int, compressed: int, max_bytes: int) -> None:
    if written > max_bytes:
        raise ArchiveTooLargeError(
            f"{label}: more than {max_bytes / 1e6:.0f} MB once extracted; at most {max_bytes / 1e6:.0f} MB "
            "(split the test set)"
        )
    if written > RATIO_FLOOR_BYTES and written > MAX_RATIO * max(compressed, 1):
        raise ArchiveTooLargeError(
            f"{label}: extracts to over {MAX_RATIO} times its compressed size (a zip bomb?); refused"
        )


def _short(name: str) -> str:
    """An entry name for a message: at most about 80 characters."""
    return name if len(name) <= 80 else name[:60] + "…" + name[-15:]
