"""Clips as vectors: an utterance embedding plus (when known) its 9 scores, from audio, `.npy` files or run folders.

Shared by `similar`, `cluster` and the profile store. What a user may name:
    an audio/video file          scored by the Recognizer (batched, `analyze_many(..., embedding=True)`)
    a `.npy` file                (dim,) or (frames, dim) embedding; scores only if a result.json sits next to it
    a run folder or run id       `outputs_YYYYMMDD_HHMMSS[_N]` under `runs_root`: result.json + embedding.npy
                                 (without embedding.npy its processed_audio.wav is scored again)
    a folder                     every run folder, `.npy` and audio file inside (recursive)
    a manifest                   .csv / .jsonl / wav.scp as for `emostudio batch` (keeps speaker and time)
A bad input becomes a `ClipFailure` naming it; it never stops the others.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emostudio import runs
from emostudio.audio.types import AUDIO_EXTENSIONS
from emostudio.embeddings import utterance_vector
from emostudio.errors import BatchError, EmoStudioError
from emostudio.inputs import load_inputs
from emostudio.model.labels import KEYS
from emostudio.runs import AUDIO_FILE, EMBEDDING_FILE, RESULT_FILE, RUN_ID

MANIFEST_SUFFIXES = (".csv", ".tsv", ".jsonl", ".json", ".ndjson", ".scp")
MAX_NPY_BYTES = 512 * 1024 * 1024  # an embedding file larger than this is refused as not an embedding


class ClipError(EmoStudioError):
    """One input could not be turned into a clip; the message names it."""

    code = "clip_error"

    def __init__(self, name: str, problem: str, code: str | None = None):
        self.name, self.problem = name, problem
        if code:
            self.code = code
        super().__init__(f"{name}: {problem}")


@dataclass
class ClipSource:
    """One input to read: `kind` is "audio", "npy" or "run"; speaker/time come from a manifest when it has them."""

    name: str
    kind: str
    path: Path
    speaker: str | None = None
    time: str | None = None


@dataclass
class Clip:
    """An utterance embedding (dim,) float32 and, when known, the 9 scores (KEYS order) and where it came from."""

    name: str
    vector: np.ndarray
    probs: np.ndarray | None = None
    model_id: str | None = None
    random_weights: bool = False
    source: str | None = None  # the analysed file's name as the result records it
    run_id: str | None = None
    quality: str | None = None  # the quality verdict (ok / warn / bad)
    duration_s: float | None = None
    analysed_at: str | None = None  # the result's timestamp (ISO 8601)
    origin: ClipSource | None = None

    @property
    def label(self) -> str | None:
        return None if self.probs is None else KEYS[int(np.argmax(self.probs))]

    @property
    def confidence(self) -> float | None:
        return None if self.probs is None else float(np.max(self.probs))


@dataclass
class ClipFailure:
    """An input that did not become a clip, with the typed error's code and message."""

    name: str
    code: str
    message: str
    origin: ClipSource | None = None

    def to_dict(self) -> dict:
        return {"source": self.name, "error": {"code": self.code, "message": self.message}}


# ---- naming inputs -----------------------------------------------------------------------------------------------
def find_run(name: str, runs_root: str | os.PathLike) -> Path | None:
    """The folder of run `name` (an id like outputs_YYYYMMDD_HHMMSS[_N]) under `runs_root`, if complete."""
    found = runs.run_folder(runs_root, name)
    return found.path if found is not None else None


def _walk(folder: Path, audio_ext: frozenset[str]) -> list[ClipSource]:
    """Run folders, .npy and audio files under `folder`, recursively; a run folder's own files are not listed."""
    found: list[ClipSource] = []
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        if RESULT_FILE in files and here != folder:  # a run folder (emostudio.runs)
            found.append(ClipSource(str(here), "run", here))
            dirs.clear()
            continue
        dirs.sort()
        for f in sorted(files):
            p = here / f
            if p.suffix.lower() == ".npy":
                found.append(ClipSource(str(p), "npy", p))
            elif p.suffix.lower() in audio_ext:
                found.append(ClipSource(str(p), "audio", p))
    return found


def resolve_sources(
    specs: Iterable[str | os.PathLike], runs_root: str | os.PathLike = "outputs"
) -> tuple[list[ClipSource], list[ClipFailure]]:
    """What each name given by a user stands for (see the module docstring), in order, duplicates dropped."""
    out: list[ClipSource] = []
    bad: list[ClipFailure] = []
    for spec in specs:
        text = str(spec)
        p = Path(os.path.expanduser(text))
        if p.is_dir():
            if runs.is_run(p):
                out.append(ClipSource(text, "run", p))
                continue
            found = _walk(p, AUDIO_EXTENSIONS)
            if not found:
                bad.append(ClipFailure(text, "empty_folder", f"{text}: no audio, .npy or run folders inside"))
            out += found
        elif p.is_file() and p.suffix.lower() == ".npy":
            out.append(ClipSource(text, "npy", p))
        elif p.is_file() and (p.suffix.lower() in MANIFEST_SUFFIXES or p.name.endswith("wav.scp")):
            try:
                items = load_inputs(p)
            except BatchError as e:
                bad.append(ClipFailure(text, e.code, str(e)))
                continue
            out += [ClipSource(it.id, "audio", Path(it.path), it.speaker, it.time) for it in items]
        elif p.exists():
            out.append(ClipSource(text, "audio", p))
        elif RUN_ID.match(text):
            folder = find_run(text, runs_root)
            if folder is None:
                bad.append(
                    ClipFailure(text, "run_not_found", f"{text}: no finished run of that id in {runs_root}")
                )
            else:
                out.append(ClipSource(text, "run", folder))
        elif any(ch in text for ch in "*?["):
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                bad.append(ClipFailure(text, "file_missing", f"{text}: the pattern matches nothing"))
            sub, sub_bad = resolve_sources(matches, runs_root)
            out += sub
            bad += sub_bad
        else:
            bad.append(ClipFailure(text, "file_missing", f"{text}: no such file, folder or run id"))
    seen: set[tuple[str, str]] = set()
    unique = []
    for s in out:
        key = (s.kind, str(s.path.resolve()) if s.kind != "audio" or s.path.exists() else str(s.path))
        if key not in seen:
            seen.add(key)
            unique.append(s)
    return unique, bad


# ---- reading ------------------------------------------------------------------------------------------------------
def probs_of(doc: dict) -> np.ndarray | None:
    """The 9 scores of a result.json document in KEYS order (renormalised), or None when it has none."""
    scores = doc.get("scores")
    if not isinstance(scores, dict) or any(k not in scores for k in KEYS):
        return None
    p = np.array([float(scores[k]) for k in KEYS])
    if not np.all(np.isfinite(p)) or np.any(p < 0) or p.sum() <= 0:
        return None
    return p / p.sum()


def load_npy(path: str | os.PathLike, name: str | None = None) -> np.ndarray:
    """An embedding file as a (dim,) float32 utterance vector (frame embeddings are mean-pooled). Never unpickles."""
    path = Path(path)
    label = name or str(path)
    try:
        size = path.stat().st_size
    except OSError as e:
        raise ClipError(label, f"cannot read ({e.strerror or e})", "file_missing") from e
    if size > MAX_NPY_BYTES:
        raise ClipError(label, f"{size / 1e6:.0f} MB is too large for an embedding file", "bad_embedding")
    try:
        arr = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise ClipError(label, f"not a numpy .npy embedding ({e})", "bad_embedding") from e
    if not isinstance(arr, np.ndarray) or not np.issubdtype(arr.dtype, np.number):
        raise ClipError(label, "not a numeric array", "bad_embedding")
    try:
        return utterance_vector(arr).astype(np.float32)
    except ValueError as e:
        raise ClipError(label, str(e), "bad_embedding") from e


def _read_doc(folder: Path, name: str) -> dict:
    try:
        return runs.read_result(folder)
    except runs.RunReadError as e:
        raise ClipError(name, e.problem, "bad_run") from e


def clip_from_doc(name: str, vector: np.ndarray, doc: dict, folder: Path | None, src) -> Clip:
    """A clip from a result.json document and its embedding."""
    model = doc.get("model") or {}
    audio = doc.get("audio") or {}
    return Clip(
        name=name,
        vector=vector,
        probs=probs_of(doc),
        model_id=model.get("id"),
        random_weights=bool(model.get("is_random")),
        source=doc.get("source"),
        run_id=doc.get("run_id") or (folder.name if folder else None),
        quality=(doc.get("quality") or {}).get("verdict"),
        duration_s=audio.get("duration_s"),
        analysed_at=doc.get("timestamp"),
        origin=src,
    )


def read_stored(src: ClipSource) -> Clip | None:
    """A clip from a .npy file or a run folder without running a model; None when the run must be re-scored."""
    if src.kind == "npy":
        vec = load_npy(src.path, src.name)
        sibling = src.path.parent / RESULT_FILE
        if src.path.name == EMBEDDING_FILE and sibling.is_file():
            return clip_from_doc(src.name, vec, _read_doc(src.path.parent, src.name), src.path.parent, src)
        return Clip(src.name, vec, origin=src)
    if src.kind == "run":
        doc = _read_doc(src.path, src.name)
        if (src.path / EMBEDDING_FILE).is_file():
            return clip_from_doc(src.name, load_npy(src.path / EMBEDDING_FILE, src.name), doc, src.path, src)
        if not (src.path / AUDIO_FILE).is_file():
            raise ClipError(src.name, f"the run has neither {EMBEDDING_FILE} nor {AUDIO_FILE}", "bad_run")
        return None
    raise ValueError(f"read_stored takes npy or run sources, not {src.kind!r}")


def _failure(src: ClipSource, exc: BaseException) -> ClipFailure:
    if isinstance(exc, EmoStudioError):
        return ClipFailure(src.name, exc.code, str(exc), src)
    return ClipFailure(src.name, "internal", f"{src.name}: {type(exc).__name__}: {exc}", src)


RecognizerLike = Callable[[], object] | object | None


def _results_of(rec, paths: list[str], quality: bool) -> list:
    """A Result or the exception for each path: one batched call, or one call per path if the batch breaks."""
    try:
        outcomes = rec.analyze_many(paths, embedding=True, quality=quality)
        return [oc.result if oc.error is None else oc.error for oc in outcomes]
    except Exception:  # an unexpected failure inside the batch: find the culprit, keep the others
        out: list = []
        for p in paths:
            try:
                out.append(rec.analyze(p, embedding=True, quality=quality))
            except Exception as e:
                out.append(e)
        return out


def iter_clips(
    sources: list[ClipSource],
    recognizer: RecognizerLike = None,
    *,
    quality: bool = False,
    chunk: int = 64,
    on_item: Callable[[Clip | ClipFailure], None] | None = None,
) -> Iterator[Clip | ClipFailure]:
    """Clips (or failures) for `sources`, in order, `chunk` inputs at a time.

    Audio (and runs that lack an embedding) go through `recognizer.analyze_many(..., embedding=True)` in one batched
    call per chunk. `recognizer` may be a Recognizer or a function returning one, called only if audio must be scored
    (returning None turns those inputs into failures). `on_item` is called as each item is ready.
    """
    cached: list = []

    def get_rec():
        if not cached:
            r = (
                recognizer()
                if callable(recognizer) and not hasattr(recognizer, "analyze_many")
                else recognizer
            )
            cached.append(r)
        return cached[0]

    for start in range(0, len(sources), max(1, chunk)):
        part = sources[start : start + max(1, chunk)]
        done: list[Clip | ClipFailure | None] = [None] * len(part)
        to_score: list[tuple[int, Path, dict | None]] = []
        for i, src in enumerate(part):
            if src.kind == "audio":
                to_score.append((i, src.path, None))
                continue
            try:
                clip = read_stored(src)
            except Exception as e:  # a bad stored input never stops the rest
                done[i] = _failure(src, e)
                continue
            if clip is None:  # a run without its embedding: score its processed audio again
                to_score.append((i, src.path / AUDIO_FILE, _read_doc(src.path, src.name)))
            else:
                done[i] = clip
        if to_score:
            rec = get_rec()
            if rec is None:
                for i, _, _ in to_score:
                    done[i] = ClipFailure(
                        part[i].name, "no_model", f"{part[i].name}: needs a model to be scored"
                    )
            else:
                scored = _results_of(rec, [str(p) for _, p, _ in to_score], quality)
                for (i, _, doc), got in zip(to_score, scored, strict=True):
                    src = part[i]
                    if isinstance(got, BaseException):
                        done[i] = _failure(src, got)
                        continue
                    res = got
                    clip = clip_from_doc(
                        src.name, np.asarray(res.embedding, np.float32), res.to_dict(), None, src
                    )
                    if doc is not None:  # keep the run's identity, take the model's fresh numbers
                        clip.run_id = doc.get("run_id") or src.path.name
                        clip.source = doc.get("source") or clip.source
                    else:
                        clip.run_id = None
                    done[i] = clip
        for item in done:
            assert item is not None
            if on_item:
                on_item(item)
            yield item


def gather(
    specs: Iterable[str | os.PathLike],
    recognizer: RecognizerLike = None,
    *,
    runs_root: str | os.PathLike = "outputs",
    quality: bool = False,
    on_item: Callable[[Clip | ClipFailure], None] | None = None,
) -> tuple[list[Clip], list[ClipFailure]]:
    """Every clip the names in `specs` stand for, and the failures (unresolvable names first)."""
    sources, failures = resolve_sources(specs, runs_root)
    clips: list[Clip] = []
    for item in iter_clips(sources, recognizer, quality=quality, on_item=on_item):
        if isinstance(item, Clip):
            clips.append(item)
        else:
            failures.append(item)
    return clips, failures


def needs_model(sources: Iterable[ClipSource]) -> bool:
    """Whether reading these sources needs a model (audio files, or runs without embedding.npy)."""
    return any(
        s.kind == "audio" or (s.kind == "run" and not (s.path / EMBEDDING_FILE).is_file()) for s in sources
    )
