"""Two-party recordings: which channels of a recording are speakers, which are silent, which copy another.

Call centres record the agent and the customer on separate channels of one stereo file. With
`channels="separate"` (see emostudio.prepare) every speaker channel is scored as its own speaker; before that the
channels are compared:

- a channel whose loudest moments stay below `SILENT_ACTIVE_DBFS` while another channel is louder is *silent*
  (a muted or unused line) and is not scored;
- a channel that correlates with an earlier one at or above `COPY_CORRELATION` is a *copy* (a mono call saved as
  stereo) and is not scored: the recording is one speaker.

`CopyDetector` is the one copy test, for whole files (`detect`) and for live streams, chunk by chunk
(emostudio.live); the thresholds are in emostudio.settings and the notes in the message catalogue (zh/en).
All waveforms are (samples,) float32 at 16 kHz.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from emostudio.errors import UsageError, printable
from emostudio.messages import t
from emostudio.records import ChannelInfo
from emostudio.settings import COPY_CORRELATION, SILENT_ACTIVE_DBFS

_FRAME = 320  # 20 ms at 16 kHz
_BLOCK = 1 << 20  # samples per block: level and correlation never copy a whole channel


def default_roles(count: int) -> list[str]:
    """Role names when none are given: mono; left, right; else channel 1, channel 2, ..."""
    if count == 1:
        return ["mono"]
    if count == 2:
        return ["left", "right"]
    return [f"channel {i + 1}" for i in range(count)]


def roles_for(count: int, roles: Sequence[str] | None, name: str) -> list[str]:
    """`count` role names: the given ones first, the defaults for the rest. More roles than channels is an error."""
    given = list(roles or [])
    if len(given) > count:
        raise UsageError(
            f"{printable(name)}: {len(given)} roles ({', '.join(given)}) for a recording with {count} "
            f"channel{'s' if count != 1 else ''}"
        )
    return given + default_roles(count)[len(given) :]


def active_level_dbfs(waveform: np.ndarray) -> float:
    """The 99th percentile of the 20 ms RMS levels of (samples,) audio, in dBFS (-inf for digital silence)."""
    x = np.asarray(waveform)
    levels = []
    for start in range(0, len(x), _BLOCK):
        block = np.asarray(x[start : start + _BLOCK], dtype=np.float64)
        n = len(block) // _FRAME
        if n:
            levels.append(np.mean(block[: n * _FRAME].reshape(n, _FRAME) ** 2, axis=1))
        elif len(block):
            levels.append(np.array([np.mean(block**2)]))
    if not levels:
        return -math.inf
    power = float(np.percentile(np.concatenate(levels), 99))
    return 10 * math.log10(power) if power > 0 else -math.inf


class CopyDetector:
    """Whether one signal copies another: their normalised correlation at lag 0, accumulated piece by piece.

    `add(a, b)` takes the next stretch of both signals (equally long, or cut to the shorter); `correlation` is
    Σab / √(Σaa·Σbb) over everything added (0 while either is all zeros) and `is_copy` compares it with
    `threshold` (settings.COPY_CORRELATION). Sums are float64.
    """

    def __init__(self, threshold: float = COPY_CORRELATION):
        self.threshold = threshold
        self.ab = self.aa = self.bb = 0.0
        self.samples = 0

    def add(self, a: np.ndarray, b: np.ndarray) -> None:
        n = min(len(a), len(b))
        for start in range(0, n, _BLOCK):
            x = np.asarray(a[start : min(n, start + _BLOCK)], dtype=np.float64)
            y = np.asarray(b[start : min(n, start + _BLOCK)], dtype=np.float64)
            self.ab += float(x @ y)
            self.aa += float(x @ x)
            self.bb += float(y @ y)
        self.samples += n

    @property
    def correlation(self) -> float:
        return self.ab / math.sqrt(self.aa * self.bb) if self.aa > 0 and self.bb > 0 else 0.0

    @property
    def is_copy(self) -> bool:
        return self.correlation >= self.threshold


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Normalised correlation at lag 0 of two equally long waveforms, in [-1, 1] (0 when one is all zeros)."""
    detector = CopyDetector()
    detector.add(a, b)
    return detector.correlation


def channel_name(index: int, role: str, lang: str) -> str:
    """`channel 2 (customer)` / `第 2 声道（customer）` for 0-based `index`."""
    return t("channel_name", lang, n=index + 1, role=role)


def _note(key: str, **fmt) -> dict[str, str]:
    return {
        lang: t(key, lang, **{k: v(lang) if callable(v) else v for k, v in fmt.items()})
        for lang in ("en", "zh")
    }


def copy_note(index: int, role: str, copied: int, copied_role: str) -> dict[str, str]:
    """{"en", "zh"}: channel `index` copies channel `copied` (one speaker)."""
    return _note(
        "channel_copy",
        channel=lambda lang: channel_name(index, role, lang),
        other=lambda lang: channel_name(copied, copied_role, lang),
    )


def _silent_note(index: int, role: str, level: float) -> dict[str, str]:
    def shown(lang: str) -> str:
        return (
            t("channel_no_signal", lang)
            if not math.isfinite(level)
            else t("channel_loudest", lang, dbfs=level)
        )

    return _note("channel_silent", channel=lambda lang: channel_name(index, role, lang), level=shown)


def detect(waveforms: Sequence[np.ndarray], roles: Sequence[str]) -> list[ChannelInfo]:
    """Which channels are speakers, which are silent and which copy another (see the module docstring)."""
    levels = [active_level_dbfs(w) for w in waveforms]
    loud = [lv >= SILENT_ACTIVE_DBFS for lv in levels]
    if len(waveforms) == 1:
        return [ChannelInfo(0, roles[0], "speaker", levels[0], note=_note("channel_one"))]
    infos: list[ChannelInfo] = []
    for i, (wave, level) in enumerate(zip(waveforms, levels, strict=True)):
        role = roles[i]
        if not loud[i] and any(loud):
            infos.append(ChannelInfo(i, role, "silent", level, note=_silent_note(i, role, level)))
            continue
        copied = next(
            (j for j in range(i) if infos[j].status == "speaker" and _copies(waveforms[j], wave)), None
        )
        if copied is not None:
            note = copy_note(i, role, copied, roles[copied])
            infos.append(ChannelInfo(i, role, "copy", level, same_as=copied, note=note))
            continue
        infos.append(ChannelInfo(i, role, "speaker", level))
    return infos


def _copies(a: np.ndarray, b: np.ndarray) -> bool:
    detector = CopyDetector()
    detector.add(a, b)
    return detector.is_copy
