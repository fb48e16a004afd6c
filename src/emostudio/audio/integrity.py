"""Is a decoded file whole? Evidence of damage, and the policy that turns it into a warning or an error.

ffmpeg decodes what it can and often stays quiet about what it could not: a WAV header that claims more data
than the file holds is clamped, an Ogg file cut in half simply ends, a FLAC frame with flipped bits is skipped.
So decoding collects evidence (`Damage`) from several places — decoder errors, read errors, ffmpeg's own
warnings, the WAV data-chunk size, the Ogg end-of-stream flag, and declared vs decoded duration — and
`verdict` decides:

- nothing decodable, or (with a trustworthy declared duration) less than `MOSTLY_MISSING` of it decoded:
  an error, the file is truncated or corrupt;
- any other evidence: a warning carried into the result, which covers only what could be decoded.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

MOSTLY_MISSING = 0.5  # decoded less than this fraction of the declared duration: an error, not a warning
MAX_NOTES = 4  # ffmpeg messages kept as evidence (the rest are counted)

# Demuxers that often estimate duration from the bitrate (VBR mp3 without a Xing header, raw ADTS aac):
# their declared durations can be well off, so they get a looser shortfall threshold.
ESTIMATED_DURATION_FORMATS = {"mp3", "aac", "ac3", "eac3", "amr", "amrnb", "mpeg"}
# ffmpeg warnings (below error level) that do mean damage
_DAMAGE_WORDS = ("prematurely", "truncat", "corrupt", "do not match", "missing", "incomplete")


def mp3_frame_count_header(head: bytes) -> bool:
    """Whether an mp3's first frame carries a Xing/Info/VBRI frame count (then its declared duration is exact)."""
    start = 0
    if head[:3] == b"ID3" and len(head) >= 10:  # skip an ID3v2 tag: size is 4 synch-safe bytes
        start = 10 + (
            (head[6] & 0x7F) << 21 | (head[7] & 0x7F) << 14 | (head[8] & 0x7F) << 7 | (head[9] & 0x7F)
        )
    first = head[start : start + 200]
    return any(tag in first for tag in (b"Xing", b"Info", b"VBRI"))


def shortfall_tolerance_s(fmt: str, declared_s: float, exact: bool = False) -> float:
    """How many seconds short of the declared duration a decode may end before it counts as damage."""
    if fmt in ESTIMATED_DURATION_FORMATS and not exact:
        return max(0.5, 0.3 * declared_s)
    return max(0.1, 0.02 * declared_s)


@dataclass
class Damage:
    """Evidence gathered while decoding one file. Times are seconds of decoded audio."""

    problems: list[str] = field(default_factory=list)  # phrases, e.g. "decoding failed at 2.3 s (…)"
    present_fraction: float | None = None  # what the container's own bookkeeping says is present (WAV)
    bad_packets: int = 0
    notes: list[str] = field(default_factory=list)  # ffmpeg messages worth showing
    dropped_notes: int = 0
    ignore: list[str] = field(
        default_factory=list
    )  # lower-case phrases of ffmpeg messages that are no evidence

    def note(self, message: str) -> None:
        message = " ".join(message.split())
        if any(phrase in message.lower() for phrase in self.ignore):
            return
        if message in self.notes:
            return
        if len(self.notes) < MAX_NOTES:
            self.notes.append(message)
        else:
            self.dropped_notes += 1


def ffmpeg_note(level: int, message: str, error_level: int) -> bool:
    """Whether an ffmpeg log line is evidence of damage: errors always, warnings when they say so."""
    text = message.lower()
    if "statistics:" in text:
        return False
    return level <= error_level or any(w in text for w in _DAMAGE_WORDS)


def wav_data_shortfall(head: bytes, size: int) -> tuple[str, float] | None:
    """ffmpeg silently clamps a WAV data chunk to the file size; compare the header's claim ourselves.

    Returns (problem, fraction of the declared data present) or None when the header is honest or absent.
    """
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
        return None
    endian = "<" if head[:4] == b"RIFF" else ">"
    pos = 12
    while pos + 8 <= len(head):
        chunk_id = head[pos : pos + 4]
        (chunk_size,) = struct.unpack(endian + "I", head[pos + 4 : pos + 8])
        if chunk_id == b"data":
            if chunk_size in (0, 0xFFFFFFFF):  # streaming writers leave the size unset
                return None
            present = max(0, size - (pos + 8))
            if present < chunk_size:
                return f"data chunk declares {chunk_size} bytes, only {present} present", present / chunk_size
            return None
        pos += 8 + chunk_size + (chunk_size & 1)
    return None


def wav_size_unset(head: bytes) -> bool:
    """Whether a WAV's data chunk size is left unset (0 or 0xFFFFFFFF: written by a streaming recorder)."""
    at = head.find(b"data", 12)
    if head[:4] not in (b"RIFF", b"RIFX") or at < 0 or at + 8 > len(head):
        return False
    return head[at + 4 : at + 8] in (b"\0\0\0\0", b"\xff\xff\xff\xff")


def ogg_unfinished(tail: bytes, size: int) -> str | None:
    """A problem phrase when an Ogg file does not end with a complete page carrying the end-of-stream flag.

    Ogg pages declare their length; a file cut anywhere ends in a partial page or in a page without the
    end-of-stream (EOS) flag. `tail` holds the file's last bytes, `size` its full length.
    """
    at = tail.rfind(b"OggS")
    while at >= 0:
        if at + 27 <= len(tail) and tail[at + 4] == 0:  # version 0
            flags, nsegs = tail[at + 5], tail[at + 26]
            table = tail[at + 27 : at + 27 + nsegs]
            if len(table) < nsegs:
                return "the last Ogg page is cut off (the file was truncated)"
            end = at + 27 + nsegs + sum(table)
            if end > len(tail):
                return "the last Ogg page is cut off (the file was truncated)"
            if end == len(tail):
                return (
                    None if flags & 0x04 else "the Ogg stream ends without its end-of-stream mark (cut off?)"
                )
        at = tail.rfind(b"OggS", 0, at)
    return None if size > len(tail) else "no complete Ogg page found"


def verdict(
    damage: Damage,
    decoded_s: float,
    declared_s: float | None,
    fmt: str,
    exact_declaration: bool = False,
) -> tuple[str | None, str | None]:
    """(error problem, warning) for a finished decode: at most one of them is set.

    `declared_s` is the duration the container declares (None when unknown); `exact_declaration` says it
    comes from an exact count (an mp3 Xing/Info header) even for a format that usually estimates it.
    """
    problems = list(damage.problems)
    fraction = damage.present_fraction
    short_found = False
    if declared_s is not None and declared_s > 0:
        short = declared_s - decoded_s
        if short > shortfall_tolerance_s(fmt, declared_s, exact_declaration):
            problems.append(f"decoded {decoded_s:.1f} s of the {declared_s:.1f} s the file declares")
            short_found = True
            if exact_declaration or fmt not in ESTIMATED_DURATION_FORMATS or damage.problems or damage.notes:
                fraction = min(fraction if fraction is not None else 1.0, decoded_s / declared_s)
    if damage.notes and (problems or damage.bad_packets):
        extra = f" (+{damage.dropped_notes} more)" if damage.dropped_notes else ""
        problems.append("ffmpeg: " + " / ".join(damage.notes) + extra)
    elif damage.notes:
        problems.append("ffmpeg reported: " + " / ".join(damage.notes))
    if not problems:
        return None, None
    text = "; ".join(problems)
    if decoded_s <= 0 and not (damage.problems or damage.bad_packets or short_found):
        return None, None  # nothing decoded and no damage found: the file is simply empty of audio
    if decoded_s <= 0:
        return f"file is truncated or corrupt (no audio could be decoded: {text})", None
    if fraction is not None and fraction < MOSTLY_MISSING:
        return f"file is truncated or corrupt ({text}); most of the audio is missing", None
    return None, (
        f"the file looks damaged ({text}); the result covers only the {decoded_s:.1f} s that could be decoded"
    )
