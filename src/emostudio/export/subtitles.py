"""WebVTT and SRT subtitles: one cue per dominant segment, `😊 快乐 Happy 72%`, with the speaker when known.

WebVTT names the speaker with a voice span (`<v agent>…</v>`, what players and webvtt-py read as the cue's
voice); SRT, which has no such markup, starts the cue with `agent: `. Text that WebVTT would read as markup
(`&`, `<`, `>`) is escaped.
"""

from __future__ import annotations

from emostudio.export.tiers import Cue
from emostudio.model.labels import BY_KEY


def cue_text(cue: Cue) -> str:
    """`😊 快乐 Happy 72%`."""
    e = BY_KEY[cue.label]
    return f"{e.emoji} {e.zh} {e.en} {round(cue.confidence * 100)}%"


def _clock(seconds: float, sep: str) -> str:
    ms = int(round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def vtt_text(cues: list[Cue]) -> str:
    """A WebVTT file (UTF-8); cues numbered from 1."""
    blocks = ["WEBVTT\n"]
    for i, c in enumerate(cues, 1):
        text = _vtt_escape(cue_text(c))
        if c.speaker:
            text = f"<v {_vtt_escape(_one_line(c.speaker))}>{text}</v>"
        blocks.append(f"{i}\n{_clock(c.start_s, '.')} --> {_clock(c.end_s, '.')}\n{text}\n")
    return "\n".join(blocks)


def srt_text(cues: list[Cue]) -> str:
    """An SRT file (UTF-8); cues numbered from 1."""
    blocks = []
    for i, c in enumerate(cues, 1):
        text = cue_text(c)
        if c.speaker:
            text = f"{_one_line(c.speaker)}: {text}"
        blocks.append(f"{i}\n{_clock(c.start_s, ',')} --> {_clock(c.end_s, ',')}\n{text}\n")
    return "\n".join(blocks)
