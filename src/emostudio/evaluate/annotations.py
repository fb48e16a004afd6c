"""Test sets annotated by intervals: a folder of audio files, each with a same-named .TextGrid or .eaf.

    calls/
        call_01.wav   call_01.TextGrid     every non-empty labelled interval of the chosen tier is one item
        call_02.mp3   call_02.eaf          (start_s, end_s, label), cut out of the recording when scored

A folder whose top-level entries are all emotion-named folders stays a folder of label folders (ROOT/<label>/…),
even when alignment TextGrids lie next to its audio.
The tier: `tier=` (`--tier NAME`) names it; by default it is the first interval tier in which most labels are
emotions (any name or synonym `normalise_label` knows). Each interval that cannot be used is a `BadRow` naming the
file, the tier and the interval (and the line of a TextGrid): an unknown label, an empty or negative interval, an
interval overlapping another one of the same tier (both are reported: which one is right cannot be known),
and, once the audio is decoded, an interval past the audio's end. A file that cannot be read at all (malformed,
truncated, not UTF-8/UTF-16 text, an ELAN file without pympi-ling) is one bad row; the other files are scored.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from emostudio.audio import AUDIO_EXTENSIONS
from emostudio.evaluate.annotation_files import READERS, AnnotationFile, Tier, read_annotations
from emostudio.evaluate.items import BadAnnotationError, BadRow, LabelledItem, cut_id, span_text
from emostudio.model.labels import label_or_custom, normalise_label

ANNOTATION_SUFFIXES = frozenset(READERS)  # .textgrid, .eaf (any case)
MIN_EMOTION_SHARE = 0.5  # a tier is an emotion tier when at least this share of its labels are emotions


@dataclass
class Labelled:
    """One labelled stretch as an annotation holds it, before it becomes an item or a bad row."""

    start_s: float | None  # None (with end_s None) for a whole-clip label (Label Studio `choices`)
    end_s: float | None
    text: str
    where: str  # short locator: "a.TextGrid interval 3", "task 12 region Ab3x"
    ref: str  # full locator for messages: "a.TextGrid line 40 (tier 'emotion', interval 3, 1.20–2.50 s)"


def inside(path: Path, roots: Sequence[Path] | None) -> bool:
    """True when `path` (symlinks followed) is inside one of `roots` (always, when roots is None)."""
    if roots is None:
        return True
    real = Path(os.path.realpath(path))
    return any(real == r or real.is_relative_to(r) for r in roots)


def labelled_items(
    spans: Sequence[Labelled], audio: Path, display: str, custom: bool = False
) -> list[LabelledItem | BadRow]:
    """Items (or bad rows) for the labelled stretches of one audio file: labels checked, times checked, overlaps
    between stretches reported on both. Unlabelled stretches must be left out by the caller. `custom`: labels
    naming none of the 9 classes are the user's own classes (see emostudio.model.labels.label_or_custom)."""
    out: list[LabelledItem | BadRow] = []
    timed = [s for s in spans if s.start_s is not None and s.end_s is not None]
    overlaps: dict[int, Labelled] = {}
    order = sorted(range(len(timed)), key=lambda i: (timed[i].start_s, timed[i].end_s))
    reach = -1  # the stretch reaching furthest so far, in `order`
    for i in order:
        s = timed[i]
        if reach >= 0 and s.start_s < timed[reach].end_s - 1e-9:  # type: ignore[operator]
            overlaps.setdefault(i, timed[reach])
            overlaps.setdefault(reach, s)
        if reach < 0 or s.end_s > timed[reach].end_s:  # type: ignore[operator]
            reach = i
    index = {id(s): i for i, s in enumerate(timed)}
    for s in spans:
        path = str(audio)
        if s.start_s is None or s.end_s is None:
            if s.start_s is not None or s.end_s is not None:
                out.append(BadRow(s.where, "bad_range", f"{s.ref}: the interval has no time", None, path))
                continue
        else:
            bad = None
            if not (math.isfinite(s.start_s) and math.isfinite(s.end_s)):
                bad = "its times are not finite numbers"
            elif s.start_s < 0:
                bad = f"it starts before the audio ({s.start_s:g} s)"
            elif s.end_s <= s.start_s:
                bad = f"it is empty or ends before it starts ({span_text(s.start_s, s.end_s)})"
            if bad:
                out.append(BadRow(s.where, "bad_range", f"{s.ref}: {bad}", None, path))
                continue
            other = overlaps.get(index[id(s)])
            if other is not None:
                out.append(
                    BadRow(
                        s.where,
                        "overlap",
                        f"{s.ref}: overlaps {other.where} ({span_text(other.start_s, other.end_s)}) "  # type: ignore[arg-type]
                        "in the same tier; only one label can hold for a stretch of audio",
                        None,
                        path,
                    )
                )
                continue
        try:
            key = label_or_custom(s.text) if custom else normalise_label(s.text)
        except ValueError as e:
            out.append(BadRow(s.where, "unknown_label", f"{s.ref}: {e}", None, path))
            continue
        rid = display if s.start_s is None else cut_id(display, s.start_s, s.end_s)  # type: ignore[arg-type]
        out.append(
            LabelledItem(
                rid, path, key, s.where, s.text, ref=s.ref, display=display, start_s=s.start_s, end_s=s.end_s
            )
        )
    for row in out:
        if isinstance(row, BadRow) and row.id is None:
            row.id = row.where
    return out


def _is_emotion(text: str) -> bool:
    try:
        normalise_label(text)
        return True
    except ValueError:
        return False


def choose_tier(file: AnnotationFile, name: str, tier: str | None) -> Tier:
    """The tier items come from: `tier` by name (exact, else ignoring case), or the first interval tier whose
    labels are mostly emotions. Raises BadAnnotationError listing the tiers when there is none."""
    listed = (
        ", ".join(
            f"{t.name!r} ({'points' if t.points is not None else f'{len(t.intervals)} intervals'})"
            for t in file.tiers
        )
        or "none"
    )
    if tier is not None:
        found = [t for t in file.tiers if t.name == tier] or [
            t for t in file.tiers if t.name.casefold() == tier.casefold()
        ]
        if not found:
            raise BadAnnotationError(f"{name}: no tier named {tier!r} (tiers: {listed})")
        if found[0].points is not None:
            raise BadAnnotationError(
                f"{name}: tier {found[0].name!r} is a point tier; items need intervals (start and end)"
            )
        return found[0]
    for t in file.tiers:
        labels = [iv.text.strip() for iv in t.intervals if iv.text.strip()]
        if labels and sum(map(_is_emotion, labels)) >= MIN_EMOTION_SHARE * len(labels):
            return t
    raise BadAnnotationError(
        f"{name}: no tier whose labels are emotions (tiers: {listed}); name the tier with --tier NAME"
    )


def tier_spans(file: AnnotationFile, tier: Tier, name: str) -> list[Labelled]:
    """The non-empty labelled intervals of `tier` with their locators."""
    out = []
    for iv in tier.intervals:
        text = iv.text.strip()
        if not text:
            continue
        where = f"{name} {iv.name}"
        at = f" line {iv.line}" if iv.line is not None else ""
        times = (
            f", {span_text(iv.start_s, iv.end_s)}" if iv.start_s is not None and iv.end_s is not None else ""
        )
        out.append(
            Labelled(iv.start_s, iv.end_s, text, where, f"{name}{at} (tier {tier.name!r}, {iv.name}{times})")
        )
    return out


def _is_label_layout(root: Path) -> bool:
    """True when every top-level entry of `root` is a folder named after an emotion (ROOT/<label>/…)."""
    entries = [p for p in root.iterdir() if not p.name.startswith(".")]
    return bool(entries) and all(p.is_dir() and _is_emotion(p.name) for p in entries)


def is_annotated_folder(root: Path) -> bool:
    """True when a folder holds .TextGrid or .eaf files and is not laid out as label folders (ROOT/<label>/…,
    which keeps its meaning even when alignments lie next to the audio)."""
    has_notes = any(p.is_file() and p.suffix.lower() in ANNOTATION_SUFFIXES for p in root.rglob("*"))
    return has_notes and not _is_label_layout(root)


def _unpaired(root: Path, audio: list[Path], notes: list[Path]) -> list[BadRow]:
    """The rows of one name under `root` without its audio, without its annotation, or with several of either;
    [] for one audio file and one annotation file."""
    rel_audio = [a.relative_to(root).as_posix() for a in audio]
    rel_notes = [n.relative_to(root).as_posix() for n in notes]

    def bad(rel: str, code: str, text: str, path: Path) -> BadRow:
        return BadRow(rel, code, f"{root}: {text}", rel, str(path))

    if not audio:
        return [
            bad(
                rel_notes[0],
                "missing_audio",
                f"{rel_notes[0]} has no audio file of the same name next to it",
                notes[0],
            )
        ]
    if not notes:
        return [
            bad(
                rel,
                "missing_annotation",
                f"{rel} has no {Path(rel).stem}.TextGrid or {Path(rel).stem}.eaf next to it",
                a,
            )
            for rel, a in zip(rel_audio, audio, strict=True)
        ]
    if len(audio) > 1 or len(notes) > 1:
        what = ", ".join(rel_audio + rel_notes)
        text = f"{what}: one audio file and one annotation file per name are needed; keep one of each"
        return [bad(rel_audio[0], "ambiguous_annotation", text, audio[0])]
    return []


def from_annotated_folder(
    root: Path, roots: Sequence[Path] | None, tier: str | None = None, custom: bool = False
) -> tuple[list[LabelledItem | BadRow], int]:
    """Items of every audio file under `root` from its same-named annotation file; (rows, audio files seen)."""
    groups: dict[tuple[Path, str], tuple[list[Path], list[Path]]] = {}
    for p in sorted(root.rglob("*")):
        if not p.is_file():
            continue
        suffix = p.suffix.lower()
        if suffix in AUDIO_EXTENSIONS or suffix in ANNOTATION_SUFFIXES:
            audio, notes = groups.setdefault((p.parent, p.stem), ([], []))
            (audio if suffix in AUDIO_EXTENSIONS else notes).append(p)
    rows: list[LabelledItem | BadRow] = []
    audio_count = 0
    for audio, notes in groups.values():
        audio_count += len(audio)
        unpaired = _unpaired(root, audio, notes)
        if unpaired:
            rows += unpaired
            continue
        a, n = audio[0], notes[0]
        rel, note = a.relative_to(root).as_posix(), n.relative_to(root).as_posix()
        if not (inside(a, roots) and inside(n, roots)):
            rows.append(BadRow(rel, "outside_root", f"{root}: {rel} links outside the allowed folders", rel))
            continue
        try:
            file = read_annotations(n, note)
            chosen = choose_tier(file, note, tier)
        except BadAnnotationError as e:
            rows.append(BadRow(note, e.code, str(e), note, str(a)))
            continue
        rows += labelled_items(tier_spans(file, chosen, note), a, rel, custom)
    return rows, audio_count
