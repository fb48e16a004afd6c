"""Two-party recordings: each channel of a recording scored as its own speaker (`channels="separate"`).

Call centres record the agent and the customer on separate channels of one stereo file. With
`channels="separate"` every channel is decoded and resampled on its own (exactly as a mono file of that channel
would be), checked, and scored as its own speaker with its own label, timeline and quality report; the mixed
recording is still analysed as usual and stays the top-level result. Before scoring, the channels are compared:

- a channel whose loudest moments stay below `SILENT_ACTIVE_DBFS` while another channel is louder is *silent*
  (a muted or unused line) and is not scored;
- a channel that correlates with an earlier one above `COPY_CORRELATION` is a *copy* (a mono call saved as
  stereo) and is not scored: the recording is one speaker.

Both findings are said in zh/en in `ChannelInfo.note`. All waveforms are (samples,) float32 at 16 kHz.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from emostudio.errors import UsageError, printable

if TYPE_CHECKING:
    from emostudio.audio import Audio
    from emostudio.prepare import Prepared
    from emostudio.results import Result
    from emostudio.settings import Settings

CHANNEL_MODES = ("mix", "separate")
MAX_CHANNELS = 8  # channels scored separately at most (a 7.1 file); more is refused
SILENT_ACTIVE_DBFS = -50.0  # a channel whose 99th-percentile 20 ms level is below this is silent
COPY_CORRELATION = 0.98  # channels whose waveforms correlate above this carry one signal
_FRAME = 320  # 20 ms at 16 kHz
_BLOCK = 1 << 20  # samples per block: level and correlation never copy a whole channel


def check_channels(mode: object) -> None:
    """UsageError unless `mode` is "mix" or "separate"."""
    if mode not in CHANNEL_MODES:
        raise UsageError(f"channels must be one of {', '.join(CHANNEL_MODES)}, not {mode!r}")


def default_roles(count: int) -> list[str]:
    """Role names when none are given: mono; left, right; else channel 1, channel 2, ..."""
    if count == 1:
        return ["mono"]
    if count == 2:
        return ["left", "right"]
    return [f"channel {i + 1}" for i in range(count)]


def parse_roles(roles: str | Sequence[str] | None) -> list[str] | None:
    """Role names from "agent,customer" (also `;` or `|` separated) or a list; None when not given.

    Raises UsageError for an empty name or a name longer than 64 characters.
    """
    if roles is None:
        return None
    if isinstance(roles, str):
        text = roles.strip()
        if not text:
            return None
        for sep in ";|":
            text = text.replace(sep, ",")
        names = [r.strip() for r in text.split(",")]
    elif isinstance(roles, Sequence):
        names = [str(r).strip() for r in roles]
    else:
        raise UsageError(f"roles must be a list of names or 'agent,customer', got {type(roles).__name__}")
    for n in names:
        if not n or len(n) > 64 or any(ord(ch) < 32 for ch in n):
            raise UsageError(
                f"role names must be 1-64 printable characters, got {printable(n)!r} in {printable(roles)!r}"
            )
    if len(set(names)) != len(names):
        raise UsageError(f"role names must differ from each other, got {printable(roles)!r}")
    return names


def roles_for(count: int, roles: Sequence[str] | None, name: str) -> list[str]:
    """`count` role names: the given ones first, the defaults for the rest. More roles than channels is an error."""
    given = list(roles or [])
    if len(given) > count:
        raise UsageError(
            f"{printable(name)}: {len(given)} roles ({', '.join(given)}) for a recording with {count} "
            f"channel{'s' if count != 1 else ''}"
        )
    return given + default_roles(count)[len(given) :]


@dataclass
class ChannelInfo:
    """What was found about one channel. `status`: speaker (scored), silent or copy (not scored)."""

    index: int  # 0-based channel number in the file
    role: str
    status: str  # "speaker" | "silent" | "copy"
    active_dbfs: float  # 99th percentile of the 20 ms levels (dBFS): how loud its loud moments are
    same_as: int | None = None  # for a copy: the channel it copies
    note: dict[str, str] | None = None  # {"en", "zh"} when something is worth saying

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "role": self.role,
            "status": self.status,
            "active_dbfs": None if not math.isfinite(self.active_dbfs) else round(self.active_dbfs, 2),
            "same_as": self.same_as,
            "note": self.note,
        }


@dataclass
class ChannelPart:
    """One channel as the pipeline carries it: its findings and, for a speaker, its prepared audio."""

    info: ChannelInfo
    prepared: Prepared | None = None


@dataclass
class ChannelResult:
    """One channel's entry in a result: its findings and, for a speaker, its own Result."""

    info: ChannelInfo
    result: Result | None = None

    def to_dict(self) -> dict:
        doc = self.result.to_dict() if self.result is not None else None
        if doc is not None and doc.get("embedding"):
            doc["embedding"]["file"] = channel_embedding_file(self.info.index)
        return {**self.info.to_dict(), "result": doc}


def channel_embedding_file(index: int) -> str:
    """embedding.npy of one channel of a channels="separate" run: embedding_ch0.npy, ..."""
    return f"embedding_ch{index}.npy"


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


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Normalised correlation at lag 0 of two equally long waveforms, in [-1, 1] (0 when one is all zeros)."""
    n = min(len(a), len(b))
    ab = aa = bb = 0.0
    for start in range(0, n, _BLOCK):
        x = np.asarray(a[start : min(n, start + _BLOCK)], dtype=np.float64)
        y = np.asarray(b[start : min(n, start + _BLOCK)], dtype=np.float64)
        ab += float(x @ y)
        aa += float(x @ x)
        bb += float(y @ y)
    return ab / math.sqrt(aa * bb) if aa > 0 and bb > 0 else 0.0


def _ch(i: int, role: str, lang: str) -> str:
    return f"channel {i + 1} ({role})" if lang == "en" else f"第 {i + 1} 声道（{role}）"


def detect(waveforms: Sequence[np.ndarray], roles: Sequence[str]) -> list[ChannelInfo]:
    """Which channels are speakers, which are silent and which copy another (see the module docstring)."""
    levels = [active_level_dbfs(w) for w in waveforms]
    loud = [lv >= SILENT_ACTIVE_DBFS for lv in levels]
    infos: list[ChannelInfo] = []
    for i, (wave, level) in enumerate(zip(waveforms, levels, strict=True)):
        role = roles[i]
        if len(waveforms) == 1:
            infos.append(
                ChannelInfo(
                    i,
                    role,
                    "speaker",
                    level,
                    note={
                        "en": "the recording has one channel: it is one speaker",
                        "zh": "录音只有一个声道：按一位说话人分析",
                    },
                )
            )
            continue
        if not loud[i] and any(loud):
            shown = "no signal" if not math.isfinite(level) else f"loudest moments at {level:.0f} dBFS"
            shown_zh = "没有信号" if not math.isfinite(level) else f"最响处 {level:.0f} dBFS"
            infos.append(
                ChannelInfo(
                    i,
                    role,
                    "silent",
                    level,
                    note={
                        "en": f"{_ch(i, role, 'en')} is silent ({shown}): it is not scored",
                        "zh": f"{_ch(i, role, 'zh')}无声（{shown_zh}）：不作分析",
                    },
                )
            )
            continue
        copied = next(
            (
                j
                for j in range(i)
                if infos[j].status == "speaker" and correlation(waveforms[j], wave) >= COPY_CORRELATION
            ),
            None,
        )
        if copied is not None:
            infos.append(
                ChannelInfo(
                    i,
                    role,
                    "copy",
                    level,
                    same_as=copied,
                    note={
                        "en": f"{_ch(i, role, 'en')} is a copy of {_ch(copied, roles[copied], 'en')} (a mono "
                        "recording saved with several channels): one speaker",
                        "zh": f"{_ch(i, role, 'zh')}与{_ch(copied, roles[copied], 'zh')}相同（单声道录音存成了"
                        "多声道）：按一位说话人分析",
                    },
                )
            )
            continue
        infos.append(ChannelInfo(i, role, "speaker", level))
    return infos


def speaker_count(parts: Sequence[ChannelPart] | Sequence[ChannelResult]) -> int:
    return sum(p.info.status == "speaker" for p in parts)


def prepare_channels(
    audio: Audio,
    settings: Settings,
    *,
    name: str,
    roles: Sequence[str] | None = None,
    enhance=False,
    quality: bool = True,
) -> list[ChannelPart]:
    """Find the speakers among `audio.channels` and prepare each one as its own mono input.

    A mono `audio` (no `channels`) is one channel. Each speaker's Prepared is what `prepare` gives for a mono
    recording of that channel alone, so its scores equal analysing that channel by itself.
    Raises UsageError for more than MAX_CHANNELS channels or more roles than channels.
    """
    from emostudio.audio import Audio
    from emostudio.prepare import prepare

    waveforms = audio.channels if audio.channels else [audio.waveform]
    if len(waveforms) > MAX_CHANNELS:
        raise UsageError(
            f"{printable(name)}: {len(waveforms)} channels; at most {MAX_CHANNELS} can be scored separately "
            "(analyse it with the channels mixed)"
        )
    role_names = roles_for(len(waveforms), roles, name)
    parts = []
    for info in detect(waveforms, role_names):
        if info.status != "speaker":
            parts.append(ChannelPart(info))
            continue
        channel = Audio(
            waveforms[info.index],
            audio.sample_rate,
            dataclasses.replace(audio.source, channels=1),
            list(audio.warnings),
        )
        label = f"{name} [{info.index + 1}: {info.role}]"
        parts.append(
            ChannelPart(info, prepare(channel, settings, name=label, enhance=enhance, quality=quality))
        )
    return parts


def attach(results: list, items: Sequence[Prepared], scored: dict[tuple[int, int], Result]) -> list:
    """Give each result of an item with channels its `channels` list (speakers' Results from `scored`).

    `scored` maps (item position, channel index) to the Result of that channel's Prepared.
    """
    for i, (res, item) in enumerate(zip(results, items, strict=True)):
        if item.channels is None:
            continue
        res.channels = [ChannelResult(p.info, scored.get((i, p.info.index))) for p in item.channels]
    return results
