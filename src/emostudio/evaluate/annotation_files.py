"""Reading the tiers of a Praat TextGrid or an ELAN .eaf file, with the line / annotation id of every interval.

TextGrid (text, long or short form — Praat reads both the same way): read here, as Praat itself reads it. Praat's
reader takes the numbers, the texts in double quotes ("" inside a text is one quote) and the `<flags>` in order and
skips every other word (`xmin =`, `item [1]:`, `intervals: size =`), so both forms are one stream of tokens. A file
that breaks off or holds a word where a number belongs is refused with the line, as Praat refuses it: praatio's
reader was not used for this because it returns the intervals read so far from a file that breaks off, without an
error, and gives no line numbers. Encodings: UTF-8 (with or without BOM) and UTF-16 with a BOM or without — Praat
writes UTF-16 whenever a label is not ASCII, so it is a valid TextGrid, not an error —, else GB18030 (GBK files
from Chinese tools), else ISO Latin-1 (Praat's own fallback). Binary and "chronological" TextGrids are refused
with the way out (save as a text file in Praat).

ELAN .eaf: read with pympi-ling (the `annotations` extra). Time-aligned tiers give their annotations' times;
reference tiers take the times of the aligned annotation they refer to. An annotation on an unaligned time slot
has no time and is reported as such.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from emostudio.evaluate.items import BadAnnotationError

MAX_ANNOTATION_BYTES = 64_000_000  # a 10-hour frame tier is about 40 MB of TextGrid text


@dataclass
class Interval:
    """One interval of a tier: seconds, its text, and where it is in the file."""

    start_s: float | None  # None: an ELAN annotation on an unaligned time slot
    end_s: float | None
    text: str
    index: int  # 1-based, in the file's order within its tier
    line: int | None = None  # TextGrid: the line of the interval's start time
    annotation_id: str | None = None  # ELAN: ANNOTATION_ID (a12)

    @property
    def name(self) -> str:
        """`interval 3` (TextGrid) or `annotation a12` (ELAN)."""
        return f"annotation {self.annotation_id}" if self.annotation_id else f"interval {self.index}"


@dataclass
class Tier:
    """A named tier. Point tiers (Praat TextTier) have `points` and no intervals: they cannot give items."""

    name: str
    intervals: list[Interval] = field(default_factory=list)
    points: int | None = None  # the number of points of a point tier; None for an interval tier


@dataclass
class AnnotationFile:
    """The tiers of one TextGrid or .eaf, in the file's order."""

    format: str  # "TextGrid" | "eaf"
    tiers: list[Tier]
    encoding: str = "utf-8"


def _check_size(path: Path, name: str) -> None:
    try:
        size = path.stat().st_size
    except OSError as e:
        raise BadAnnotationError(f"{name}: cannot be read ({e.strerror or e})") from None
    if size > MAX_ANNOTATION_BYTES:
        raise BadAnnotationError(
            f"{name}: {size / 1e6:.0f} MB is more than an annotation file of {MAX_ANNOTATION_BYTES / 1e6:.0f} MB"
        )


# ------------------------------------------------------------------------------------------------- TextGrid
def decode_praat_text(data: bytes) -> tuple[str, str]:
    """(text, encoding) of a Praat text file; see the module docstring for the order tried."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    if len(data) >= 4 and data[1] == 0 and data[3] == 0 and data[0] != 0:
        return data.decode("utf-16-le", errors="strict"), "utf-16-le"
    if len(data) >= 4 and data[0] == 0 and data[2] == 0 and data[1] != 0:
        return data.decode("utf-16-be", errors="strict"), "utf-16-be"
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding), encoding.replace("-sig", "")
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


# a text in quotes ("" is a quote inside it) followed by a space or the end; a <flag>; a comment; any other word
_TOKEN = re.compile(r'\s*(?:"((?:[^"]|"")*)"(?=\s|$)|(<[^>\s]*>)|(![^\n]*)|(\S+))')


@dataclass
class _Token:
    kind: str  # "number" | "text" | "flag"
    value: object
    line: int


def _tokens(text: str, name: str) -> Iterator[_Token]:
    """Praat's view of a text file: numbers, quoted texts and flags with their line numbers."""
    pos, line = 0, 1
    while True:
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            return
        start = m.start(m.lastindex or 0)
        line += text.count("\n", pos, start)
        quoted, flag, _comment, word = m.groups()
        if quoted is not None:
            yield _Token("text", quoted.replace('""', '"'), line)
        elif flag is not None:
            yield _Token("flag", flag, line)
        elif word is not None:
            if word.startswith('"'):
                raise BadAnnotationError(
                    f"{name} line {line}: a text in quotes is not closed (a quote inside a label must be "
                    'doubled: "")'
                )
            if word[0] in "+-0123456789":
                try:
                    number = float(word)
                except ValueError:
                    raise BadAnnotationError(f"{name} line {line}: {word!r} is not a number") from None
                yield _Token("number", number, line)
        line += text.count("\n", start, m.end())
        pos = m.end()


class _Reader:
    def __init__(self, text: str, name: str):
        self.name = name
        self._it = _tokens(text, name)
        self.line = 1

    def next(self, kind: str, what: str) -> _Token:
        try:
            tok = next(self._it)
        except StopIteration:
            raise BadAnnotationError(
                f"{self.name}: the file ends early (after line {self.line}) while looking for {what}"
            ) from None
        self.line = tok.line
        if tok.kind != kind:
            shown = f"the text {tok.value!r}" if tok.kind == "text" else f"{tok.value}"
            raise BadAnnotationError(f"{self.name} line {tok.line}: expected {what}, found {shown}")
        return tok

    def number(self, what: str) -> tuple[float, int]:
        tok = self.next("number", what)
        value = float(tok.value)  # type: ignore[arg-type]
        if not math.isfinite(value):
            raise BadAnnotationError(f"{self.name} line {tok.line}: {what} is not a finite number")
        return value, tok.line

    def count(self, what: str) -> int:
        value, line = self.number(what)
        if value < 0 or value != int(value):
            raise BadAnnotationError(f"{self.name} line {line}: {what} must be a whole number, not {value:g}")
        return int(value)

    def text(self, what: str) -> str:
        return str(self.next("text", what).value)


def parse_textgrid(text: str, name: str) -> list[Tier]:
    """The tiers of a TextGrid's text (long or short form). Raises BadAnnotationError naming the line."""
    head = text.lstrip("\ufeff").lstrip()
    if head.startswith('"Praat chronological TextGrid text file"'):
        raise BadAnnotationError(
            f"{name}: a chronological TextGrid; open it in Praat and save it with Save as text file"
        )
    r = _Reader(text, name)
    file_type = r.text('File type = "ooTextFile"')
    if not file_type.startswith("ooTextFile"):
        raise BadAnnotationError(f"{name} line {r.line}: not a Praat text file (file type {file_type!r})")
    object_class = r.text('Object class = "TextGrid"')
    if object_class != "TextGrid":
        raise BadAnnotationError(f"{name} line {r.line}: a Praat {object_class!r}, not a TextGrid")
    r.number("the TextGrid's xmin")
    r.number("the TextGrid's xmax")
    exists = r.next("flag", "<exists> (tiers?)").value
    if exists != "<exists>":
        return []
    tiers: list[Tier] = []
    for t in range(1, r.count("the number of tiers") + 1):
        kind = r.text(f'the class of tier {t} ("IntervalTier" or "TextTier")')
        tier_name = r.text(f"the name of tier {t}")
        r.number(f"the xmin of tier {t} {tier_name!r}")
        r.number(f"the xmax of tier {t} {tier_name!r}")
        if kind == "IntervalTier":
            n = r.count(f"the number of intervals of tier {tier_name!r}")
            tier = Tier(tier_name)
            for k in range(1, n + 1):
                what = f"interval {k} of {n} of tier {tier_name!r}"
                start, line = r.number(f"the start time (xmin) of {what}")
                end, _ = r.number(f"the end time (xmax) of {what}")
                tier.intervals.append(Interval(start, end, r.text(f"the text of {what}"), k, line))
        elif kind == "TextTier":
            n = r.count(f"the number of points of tier {tier_name!r}")
            for k in range(1, n + 1):
                r.number(f"the time of point {k} of {n} of tier {tier_name!r}")
                r.text(f"the mark of point {k} of {n} of tier {tier_name!r}")
            tier = Tier(tier_name, points=n)
        else:
            raise BadAnnotationError(f"{name} line {r.line}: tier {t} has the unknown class {kind!r}")
        tiers.append(tier)
    return tiers


def read_textgrid(path: str | os.PathLike, name: str | None = None) -> AnnotationFile:
    """The tiers of a TextGrid file (see the module docstring). Raises BadAnnotationError naming the line."""
    path = Path(path)
    shown = name or str(path)
    _check_size(path, shown)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise BadAnnotationError(f"{shown}: cannot be read ({e.strerror or e})") from None
    if data.startswith(b"ooBinaryFile"):
        raise BadAnnotationError(
            f"{shown}: a binary TextGrid; open it in Praat and save it with Save as text file"
        )
    try:
        text, encoding = decode_praat_text(data)
    except UnicodeDecodeError as e:
        raise BadAnnotationError(f"{shown}: not readable as UTF-16 text ({e.reason})") from None
    return AnnotationFile("TextGrid", parse_textgrid(text, shown), encoding)


# ------------------------------------------------------------------------------------------------------ ELAN
def read_eaf(path: str | os.PathLike, name: str | None = None) -> AnnotationFile:
    """The tiers of an ELAN .eaf file, read with pympi-ling. Raises BadAnnotationError."""
    path = Path(path)
    shown = name or str(path)
    _check_size(path, shown)
    try:
        from pympi import Elan
    except ImportError:
        raise BadAnnotationError(
            f"{shown}: reading ELAN files needs pympi-ling: pip install 'emostudio[annotations]'"
        ) from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Parsing unknown version of ELAN spec": read it anyway
            eaf = Elan.Eaf(str(path))
    except Exception as e:  # pympi raises bare Exception / KeyError / ValueError on a malformed file
        why = str(e) if type(e) is Exception else f"{type(e).__name__}: {e}"
        raise BadAnnotationError(f"{shown}: not a readable ELAN file ({why})") from None

    def seconds(slot: str | None) -> float | None:
        ms = eaf.timeslots.get(slot) if slot is not None else None
        return None if ms is None else ms / 1000.0

    tiers: list[Tier] = []
    for tier_id, (aligned, refs, _attributes, _order) in eaf.tiers.items():
        tier = Tier(str(tier_id))
        for k, (aid, (ts1, ts2, value, _svg)) in enumerate(aligned.items(), 1):
            tier.intervals.append(Interval(seconds(ts1), seconds(ts2), value or "", k, annotation_id=aid))
        for k, (aid, (ref, value, _prev, _svg)) in enumerate(refs.items(), len(aligned) + 1):
            ts1, ts2 = _aligned_slots(eaf, ref)
            tier.intervals.append(Interval(seconds(ts1), seconds(ts2), value or "", k, annotation_id=aid))
        tiers.append(tier)
    return AnnotationFile("eaf", tiers)


def _aligned_slots(eaf, ref: str) -> tuple[str | None, str | None]:
    """The time slots of the aligned annotation at the end of a chain of references (None, None when the chain
    breaks off or loops)."""
    seen: set[str] = set()
    while ref not in seen:
        seen.add(ref)
        tier_id = eaf.annotations.get(ref)
        if tier_id is None:
            break
        aligned, refs = eaf.tiers[tier_id][0], eaf.tiers[tier_id][1]
        if ref in aligned:
            return aligned[ref][0], aligned[ref][1]
        if ref not in refs:
            break
        ref = refs[ref][0]
    return None, None


READERS = {".textgrid": read_textgrid, ".eaf": read_eaf}


def read_annotations(path: str | os.PathLike, name: str | None = None) -> AnnotationFile:
    """The tiers of a .TextGrid or .eaf file (by its suffix, any case)."""
    reader = READERS.get(Path(path).suffix.lower())
    if reader is None:
        raise BadAnnotationError(f"{name or path}: not a .TextGrid or .eaf file")
    return reader(path, name)
