"""Inputs of a server evaluation: safe zip extraction (emostudio.server.archives), finding the test set in it, matching uploaded files to a
manifest, and the server folders an evaluation may read (the allowed roots).

Allowed roots: `ServerSettings.evaluation_roots` when that setting exists, else the EMOSTUDIO_EVAL_ROOTS
environment variable (paths separated by ':'); none means the server reads no folders for evaluations.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath

from emostudio.errors import EmoStudioError
from emostudio.evaluate import Manifest
from emostudio.evaluate.manifest import BadRow
from emostudio.messages import t
from emostudio.model.labels import normalise_label
from emostudio.server.archives import MAX_ARCHIVE_ENTRIES, UploadError, extract_archive
from emostudio.server.settings import safe_filename

ROOTS_ENV = "EMOSTUDIO_EVAL_ROOTS"
MANIFEST_SUFFIXES = (".csv", ".tsv", ".jsonl", ".ndjson", ".json")  # .json: a Label Studio export too


class ForbiddenPathError(EmoStudioError):
    """A server path outside the allowed roots, or folder paths not enabled at all (HTTP 403)."""

    code = "forbidden_path"


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


__all__ = ["MAX_ARCHIVE_ENTRIES", "ForbiddenPathError", "UploadError", "extract_archive"]


def stage_manifest_files(uploads: Path, manifest: str, audio: list[str] | None) -> tuple[Path, list[Path]]:
    """Copy a web upload's manifest and its audio files (Gradio's temporary paths) into `uploads`:
    (the manifest's copy, the audio copies under uploads/files). Two audio files of one name are refused."""
    staged = uploads / ("manifest" + Path(manifest).suffix.lower())
    shutil.copyfile(manifest, staged)
    (uploads / "files").mkdir()
    saved = []
    for src in audio or []:
        dest = uploads / "files" / Path(src).name
        if dest.exists():
            raise UploadError(t("eval_duplicate_upload", "en", name=dest.name))
        shutil.copyfile(src, dest)
        saved.append(dest)
    return staged, saved
