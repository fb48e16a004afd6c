"""Scores and utterance embeddings of labelled items, from one forward pass, cached so a second run scores nothing.

Each item is analysed once (`Recognizer.analyze_many(..., embedding=True)`): its 9 class probabilities
(`Result.probs`, KEYS order) and its utterance embedding (`Result.embedding`, the segment-weighted mean of the
encoder's pooled features) come from the same pass. The cache keeps both per item, keyed by

    the audio's content (sha256 of the file's bytes, plus the interval when an item is cut from a longer file)
    + the model weights' sha256 + the precision + the settings that change them (segment length, format)

in `<cache>/<weights sha256[:16]>-<precision>-<settings hash>/<content[:2]>/<content>[_<start>-<end>].npz`:
a numpy archive of plain arrays (read with allow_pickle=False; the key is stored inside and checked), written
atomically. A file that cannot be read or holds another key counts as a miss and is scored again.
Default folder: $EMOSTUDIO_CACHE/embeddings, else the user's cache folder (~/.cache/emostudio/embeddings).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from emostudio import __version__, atomic
from emostudio import audio as audio_io
from emostudio.errors import EmoStudioError, InternalError, printable

if TYPE_CHECKING:
    from emostudio.evaluate.manifest import LabelledItem
    from emostudio.recognize import Recognizer

CACHE_FORMAT = 1
CACHE_ENV = "EMOSTUDIO_CACHE"


def default_cache_dir() -> Path:
    """$EMOSTUDIO_CACHE/embeddings, else the user's cache folder ($XDG_CACHE_HOME or ~/.cache on Linux,
    ~/Library/Caches on macOS, %LOCALAPPDATA% on Windows) + emostudio/embeddings."""
    if os.environ.get(CACHE_ENV):
        return Path(os.path.expanduser(os.environ[CACHE_ENV])) / "embeddings"
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "emostudio" / "embeddings"


def file_sha256(path: str | os.PathLike, block: int = 1 << 20) -> str | None:
    """sha256 (hex) of a file's bytes; None when it cannot be read (the scoring step then names the problem)."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(block):
                h.update(chunk)
    except OSError:
        return None
    return h.hexdigest()


def item_span(item: LabelledItem) -> tuple[float, float] | None:
    """(start_s, end_s) of an item cut from a longer recording (annotated intervals), else None."""
    start, end = getattr(item, "start_s", None), getattr(item, "end_s", None)
    if start is None and end is None:
        return None
    return float(start or 0.0), float(end) if end is not None else float("inf")


def model_key(recognizer: Recognizer) -> dict:
    """What, besides the audio, decides an item's scores and embedding."""
    return {
        "format": CACHE_FORMAT,
        "weights_sha256": recognizer.model.fingerprint(),
        "precision": recognizer.model_ref.dtype,
        "granularity": "utterance",
        "enhance": False,
        "max_segment_s": float(recognizer.settings.max_segment_s),
    }


class EmbeddingCache:
    """Per-item (probs (9,), embedding (dim,)) for one model, precision and settings, under `root`."""

    def __init__(self, root: str | os.PathLike, key: dict):
        self.key = dict(key)
        digest = hashlib.sha256(json.dumps(self.key, sort_keys=True).encode()).hexdigest()[:8]
        self.dir = Path(root) / f"{self.key['weights_sha256'][:16]}-{self.key['precision']}-{digest}"
        self.unreadable = 0  # entries that could not be read or held another key (scored again)

    def _path(self, content: str, span: tuple[float, float] | None) -> Path:
        name = content if span is None else f"{content}_{span[0]:.3f}-{span[1]:.3f}"
        return self.dir / content[:2] / f"{name}.npz"

    def _meta(self, content: str, span: tuple[float, float] | None) -> str:
        return json.dumps({**self.key, "content_sha256": content, "span": span}, sort_keys=True)

    def get(
        self, content: str, span: tuple[float, float] | None = None
    ) -> tuple[np.ndarray, np.ndarray] | None:
        path = self._path(content, span)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                meta, probs, emb = str(z["meta"]), z["probs"], z["embedding"]
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            self.unreadable += 1
            return None
        if meta != self._meta(content, span) or probs.shape != (9,) or emb.ndim != 1:
            self.unreadable += 1
            return None
        return probs.astype(np.float64), emb.astype(np.float32)

    def put(self, content: str, span: tuple[float, float] | None, probs: np.ndarray, emb: np.ndarray) -> None:
        buf = io.BytesIO()
        np.savez(
            buf,
            meta=np.array(self._meta(content, span)),
            probs=np.asarray(probs, dtype=np.float64),
            embedding=np.asarray(emb, dtype=np.float32),
            emostudio_version=np.array(__version__),
        )
        atomic.write_bytes(self._path(content, span), buf.getvalue())


def open_cache(
    cache_dir: str | os.PathLike | Literal[False] | None, recognizer: Recognizer
) -> EmbeddingCache | None:
    """The cache for `recognizer`'s model under `cache_dir` (None: the default folder; False: no cache)."""
    if cache_dir is False:
        return None
    return EmbeddingCache(cache_dir or default_cache_dir(), model_key(recognizer))


@dataclass
class EmbedProgress:
    """Items finished of `total` (read from the cache or scored), how many failed, seconds so far."""

    done: int
    total: int
    cached: int
    failed: int
    elapsed_s: float


@dataclass
class Embedded:
    """Base scores and embeddings of n items, in item order; failed items have NaN rows and an error."""

    probs: np.ndarray  # (n, 9) KEYS order
    embeddings: np.ndarray  # (n, dim) float32
    content: list[str | None]  # sha256 of each item's audio file (None when unreadable)
    errors: dict[int, EmoStudioError] = field(default_factory=dict)
    scored: int = 0  # items the model scored in this run
    cached: int = 0  # items read from the cache

    @property
    def ok(self) -> np.ndarray:
        return np.array([i not in self.errors for i in range(len(self.content))], dtype=bool)


def _sources(items: Sequence[LabelledItem], order: Sequence[int], max_duration_s: float) -> Iterator[object]:
    """The audio to analyse for each item in `order`: its path, or the interval cut from its decoded recording
    (each recording is decoded once for all its intervals; a recording that fails is handed on as its path,
    so analysing it reports the problem)."""
    sr = audio_io.SAMPLE_RATE
    path: str | None = None
    whole: audio_io.Audio | None = None
    for i in order:
        it = items[i]
        span = item_span(it)
        if span is None:
            yield it.path
            continue
        if path != it.path:
            path = it.path
            try:
                whole = audio_io.decode(it.path, name=it.display, max_duration_s=max_duration_s)
            except EmoStudioError:
                whole = None
        if whole is None:
            yield it.path
            continue
        stop = None if span[1] == float("inf") else int(round(span[1] * sr))
        cut = whole.waveform[int(round(span[0] * sr)) : stop].copy()
        yield audio_io.from_array(cut, sr, name=f"{it.display} [{span[0]:.2f}–{span[1]:.2f} s]")


def embed_items(
    items: Sequence[LabelledItem],
    recognizer: Recognizer,
    *,
    cache: EmbeddingCache | None = None,
    workers: int = 2,
    progress: Callable[[EmbedProgress], None] | None = None,
) -> Embedded:
    """Base probabilities and utterance embeddings of every item: from the cache, else analysed (and cached).

    Items with the same audio are analysed once. A file that cannot be analysed gets its typed error in
    `errors` (naming the file); the rest carries on.
    """
    started = time.monotonic()
    n = len(items)
    content = [file_sha256(it.path) for it in items]
    spans = [item_span(it) for it in items]
    probs: list[np.ndarray | None] = [None] * n
    embs: list[np.ndarray | None] = [None] * n
    errors: dict[int, EmoStudioError] = {}
    state = EmbedProgress(0, n, 0, 0, 0.0)

    def report() -> None:
        if progress:
            state.elapsed_s = time.monotonic() - started
            progress(state)

    first, todo = _read_cache(content, spans, cache, probs, embs, state)
    state.done = state.cached
    report()
    order = sorted(todo, key=lambda i: (items[i].path, spans[i] or (0.0, 0.0)))  # one decode per recording

    def on_outcome(outcome) -> None:
        i = order[outcome.index]
        if outcome.result is None or outcome.error is not None:
            errors[i] = outcome.error
            state.failed += 1
        else:
            r = outcome.result
            probs[i], embs[i] = (
                np.asarray(r.probs, dtype=np.float64),
                np.asarray(r.embedding, dtype=np.float32),
            )
            c = content[i]
            if cache is not None and c is not None:
                cache.put(c, spans[i], probs[i], embs[i])
        state.done += 1
        report()

    if order:
        recognizer.analyze_many(
            _sources(items, order, recognizer.settings.max_duration_s),
            embedding=True,
            quality=False,
            workers=workers,
            on_outcome=on_outcome,
        )
    for i in range(n):  # copies of an item analysed once
        if content[i] is not None and first.get((content[i], spans[i])) not in (None, i):
            j = first[(content[i], spans[i])]
            probs[i], embs[i] = probs[j], embs[j]
            if j in errors:
                errors[i] = errors[j]
    P, E = _stacked(probs, embs)
    for i in range(n):
        if i not in errors and (probs[i] is None or embs[i] is None):
            errors[i] = InternalError(f"{printable(items[i].display)}: no score was produced")
    return Embedded(P, E, content, errors, scored=len(order) - state.failed, cached=state.cached)


def _read_cache(
    content: list[str | None],
    spans: list[tuple[float, float] | None],
    cache: EmbeddingCache | None,
    probs: list[np.ndarray | None],
    embs: list[np.ndarray | None],
    state: EmbedProgress,
) -> tuple[dict[tuple, int], list[int]]:
    """Fill `probs`/`embs` from the cache; ({(content, span): the item analysed for all its copies}, the items
    to analyse). An item whose file cannot be hashed is always analysed."""
    first: dict[tuple, int] = {}
    todo: list[int] = []
    for i, c in enumerate(content):
        if c is not None:
            key = (c, spans[i])
            if key in first:
                continue
            first[key] = i
            if cache is not None:
                got = cache.get(c, spans[i])
                if got is not None:
                    probs[i], embs[i] = got
                    state.cached += 1
                    continue
        todo.append(i)
    return first, todo


def _stacked(probs: list[np.ndarray | None], embs: list[np.ndarray | None]) -> tuple[np.ndarray, np.ndarray]:
    """(n, 9) scores and (n, dim) float32 embeddings, NaN rows where an item has none."""
    n = len(probs)
    dim = next((len(e) for e in embs if e is not None), 0)
    P = np.array([p if p is not None else np.full(9, np.nan) for p in probs]).reshape(n, 9)
    E = np.array(
        [e if e is not None else np.full(dim, np.nan, np.float32) for e in embs], np.float32
    ).reshape(n, dim)
    return P, E
