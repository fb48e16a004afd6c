"""Inputs of a server evaluation: safe zip extraction, finding the test set in it, matching uploaded files to a
manifest, and the server folders an evaluation may read (the allowed roots).

Allowed roots: `ServerSettings.evaluation_roots` when that setting exists, else the EMOSTUDIO_EVAL_ROOTS
environment variable (paths separated by ':'); none means the server reads no folders for evaluations.
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path, PurePosixPath

from emostudio.errors import EmoStudioError
from emostudio.evaluate import Manifest
from emostudio.evaluate.manifest import BadRow
from emostudio.model.labels import normalise_label
from emostudio.server.settings import safe_filename

ROOTS_ENV = "EMOSTUDIO_EVAL_ROOTS"
MANIFEST_SUFFIXES = (".csv", ".tsv", ".jsonl", ".ndjson", ".json")  # .json: a Label Studio export too
MAX_ARCHIVE_ENTRIES = 20000


class ForbiddenPathError(EmoStudioError):
    """A server path outside the allowed roots, or folder paths not enabled at all (HTTP 403)."""

    code = "forbidden_path"


class UploadError(EmoStudioError):
    """Uploaded files that cannot make a test set: an unsafe or oversized archive, duplicate names (HTTP 422)."""

    code = "bad_upload"


def allowed_roots(settings) -> list[Path]:
    """Folders whose manifests and audio the server may read for an evaluation (resolved, existing)."""
    roots = getattr(settings, "evaluation_roots", None)
    if roots is None:
        env = os.environ.get(ROOTS_ENV, "")
        roots = [r for r in env.split(os.pathsep) if r.strip()]
    return [Path(os.path.realpath(os.path.expanduser(r))) for r in roots if Path(r).expanduser().is_dir()]


def inside(path: Path, roots: list[Path]) -> bool:
    """True when `path` (symlinks followed) is one of `roots` or below one."""
    real = Path(os.path.realpath(path))
    return any(real == r or real.is_relative_to(r) for r in roots)


# --------------------------------------------------------------------------------------------------- staging
def _zip_name(info: zipfile.ZipInfo) -> str:
    """An entry's name; names from zips made on Chinese Windows (GBK without the UTF-8 flag) are repaired."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("gbk")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass  # not GBK either: keep the name as zipfile decoded it
    return name.replace("\\", "/")


def extract_archive(
    archive: Path, dest: Path, max_bytes: int, max_entries: int = MAX_ARCHIVE_ENTRIES
) -> Path:
    """Extract a zip safely into `dest`: no absolute paths, `..`, links or devices; at most `max_entries`
    files and `max_bytes` uncompressed (counted while writing, whatever the headers claim). Returns `dest`."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as e:
        raise UploadError(f"{archive.name}: not a zip archive ({e})") from e
    total = 0
    with zf:
        infos = zf.infolist()
        if len(infos) > max_entries:
            raise UploadError(f"{archive.name}: {len(infos)} entries; at most {max_entries} are accepted")
        for info in infos:
            name = _zip_name(info)
            parts = PurePosixPath(name).parts
            if name.startswith("/") or ".." in parts or (parts and ":" in parts[0]):
                raise UploadError(f"{archive.name}: unsafe path {name!r} in the archive")
            if info.is_dir() or not parts or parts[0] == "__MACOSX" or parts[-1].startswith("."):
                continue
            kind = stat.S_IFMT(info.external_attr >> 16)  # 0: not recorded (zips made on Windows, writestr)
            if kind and kind != stat.S_IFREG:
                raise UploadError(
                    f"{archive.name}: {name!r} is a link or special file; only plain files are accepted"
                )
            target = dest.joinpath(*parts)
            if not target.resolve().is_relative_to(dest.resolve()):
                raise UploadError(f"{archive.name}: unsafe path {name!r} in the archive")
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with zf.open(info) as src, open(target, "wb") as out:
                    while chunk := src.read(1 << 20):
                        total += len(chunk)
                        if total > max_bytes:
                            raise UploadError(
                                f"{archive.name}: more than {max_bytes / 1e6:.0f} MB once extracted; split the test set"
                            )
                        out.write(chunk)
            except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError, RuntimeError) as e:
                # damaged entry, unsupported compression or encryption
                raise UploadError(f"{archive.name}: cannot extract {name!r} ({e})") from e
    return dest


def find_test_set(root: Path) -> Path:
    """The manifest in an extracted archive (the only .csv/.tsv/.jsonl, or the top-most one when it is the only
    one at its level), else the folder of label sub-folders (descending through one wrapping folder)."""
    manifests = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in MANIFEST_SUFFIXES)
    if manifests:
        top = min(len(p.relative_to(root).parts) for p in manifests)
        shallow = [p for p in manifests if len(p.relative_to(root).parts) == top]
        if len(shallow) > 1:
            names = ", ".join(p.relative_to(root).as_posix() for p in shallow)
            raise UploadError(f"the archive holds several manifests ({names}); keep one")
        return shallow[0]
    folder = root
    while True:
        entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
        dirs = [p for p in entries if p.is_dir()]
        if len(entries) == 1 and dirs:
            try:
                normalise_label(dirs[0].name)
            except ValueError:
                folder = dirs[0]  # a wrapping folder (zip of "testset/"): look inside
                continue
        return folder


def remap_to_uploads(manifest: Manifest, files: dict[str, Path]) -> Manifest:
    """Point every row at the uploaded file of the same (sanitised) name; rows naming a file that was not
    uploaded, or one name from different folders, become bad rows."""
    by_name: dict[str, list] = {}
    for it in manifest.items:
        by_name.setdefault(safe_filename(PurePosixPath(it.display.replace("\\", "/")).name), []).append(it)
    keep = []
    for name, items in by_name.items():
        for it in items:
            if len({x.display for x in items}) > 1:
                manifest.bad.append(
                    BadRow(
                        it.where,
                        "ambiguous",
                        f"{it.ref}: several rows name a file called {name} in "
                        "different folders; upload a zip archive to keep the folders",
                        it.id,
                        it.display,
                    )
                )
            elif name not in files:
                manifest.bad.append(
                    BadRow(
                        it.where,
                        "missing",
                        f"{it.ref}: {it.display} was not among the uploaded files",
                        it.id,
                        it.display,
                    )
                )
            else:
                it.path = str(files[name])
                keep.append(it)
    order = {id(it): i for i, it in enumerate(manifest.items)}
    manifest.items = sorted(keep, key=lambda it: order[id(it)])
    manifest.bad.sort(
        key=lambda b: (not b.where.startswith("line "), int(b.where[5:]) if b.where[5:].isdigit() else 0)
    )
    return manifest
