"""What one analysis is asked to do: `AnalysisOptions`, checked once, built by every surface.

    AnalysisOptions(granularity="frame", embedding=True, channels="separate", roles="agent,customer").check()

The CLI, the REST API, the web UI, batch jobs (local and Ray), `Recognizer.analyze` / `analyze_many` and live
streams all describe an analysis with this one object and check it with `check()`, which raises `UsageError`
naming the first bad field before any work is done. How many inputs are run at once (workers, executor,
grouping) is not an analysis option: see `emostudio.pipeline.PipelineOptions`, which holds one of these.
How a transcript is read and fused with the voice is `TextOptions` (the default text weight 0.3 is defined here,
once). Thresholds are not options: they live in `emostudio.settings`.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from emostudio.errors import UsageError, printable
from emostudio.records import InputItem
from emostudio.settings import MAX_SPEAKERS, MAX_TEXT_CHARS, EnhanceSettings

GRANULARITIES = ("utterance", "frame")
CHANNEL_MODES = ("mix", "separate")
DEFAULT_TEXT_WEIGHT = 0.3  # the voice leads by default
MAX_ROLE_CHARS = 64


def check_granularity(granularity: object) -> None:
    """UsageError unless `granularity` is "utterance" or "frame"."""
    if granularity not in GRANULARITIES:
        raise UsageError(f"granularity must be one of {', '.join(GRANULARITIES)}, not {granularity!r}")


def check_channels(mode: object) -> None:
    """UsageError unless `mode` is "mix" or "separate"."""
    if mode not in CHANNEL_MODES:
        raise UsageError(f"channels must be one of {', '.join(CHANNEL_MODES)}, not {mode!r}")


def parse_roles(roles: str | Sequence[str] | None) -> list[str] | None:
    """Role names from "agent,customer" (also `;` or `|` separated) or a list; None when not given.

    Raises UsageError for an empty name, a name longer than 64 characters or two equal names.
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
        if not n or len(n) > MAX_ROLE_CHARS or any(ord(ch) < 32 for ch in n):
            raise UsageError(
                f"role names must be 1-64 printable characters, got {printable(n)!r} in {printable(roles)!r}"
            )
    if len(set(names)) != len(names):
        raise UsageError(f"role names must differ from each other, got {printable(roles)!r}")
    return names


def parse_speakers(value: object) -> int | str | None:
    """Speaker turns asked for: None (off: "", "off", "none", 0, None), "auto" (find how many), or a number
    1–MAX_SPEAKERS (at most that many: fewer found are reported, never invented). UsageError otherwise."""
    if value is None or value is False:
        return None
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("", "off", "none", "0"):
            return None
        if text == "auto":
            return "auto"
        if not text.isdigit():
            raise UsageError(f"speakers must be auto or a number 1-{MAX_SPEAKERS}, not {printable(value)!r}")
        value = int(text)
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"speakers must be auto or a number 1-{MAX_SPEAKERS}, not {value!r}")
    if value == 0:
        return None
    if not 1 <= value <= MAX_SPEAKERS:
        raise UsageError(f"speakers must be auto or a number 1-{MAX_SPEAKERS}, not {value}")
    return value


class AdaptedReading(Protocol):
    """What an adapter reads from one utterance or segment (emostudio.adapt.Adapted): the `adapted` block."""

    @property
    def label(self) -> str: ...

    @property
    def confidence(self) -> float: ...

    def to_dict(self) -> dict: ...


@runtime_checkable
class ResultAdapter(Protocol):
    """A loaded adapter (emostudio.adapt.Adapter): the head over a user's labels that assemble applies.

    `apply(probs (9,), embedding (dim,), bands)` reads one utterance; `check_model(weights_sha256, model_id)`
    raises AdapterMismatchError (naming both hashes) unless it was trained on those weights."""

    sha256: str  # of the adapter's weights file (job identities hold it)

    @property
    def id(self) -> str: ...

    def check_model(self, weights_sha256: str, model_id: str | None = None) -> None: ...

    def apply(self, probs: Any, embedding: Any, bands: Any = None) -> AdaptedReading: ...


def check_adapter(adapter: object) -> None:
    """UsageError unless `adapter` is None, an adapter folder (str or path) or a loaded adapter."""
    if adapter is None or isinstance(adapter, ResultAdapter):
        return
    if isinstance(adapter, str | os.PathLike) and str(adapter).strip():
        return
    raise UsageError(
        f"adapter must be an adapter folder or a loaded adapter (emostudio.adapt.load_adapter), not {adapter!r}"
    )


@dataclass(frozen=True)
class TextOptions:
    """How a transcript is read and fused with the voice: the text's weight 0–1 in the fused scores (0.3: the
    voice leads), the sentiment backend (auto | snownlp | cnsenti | vader | hf:DIR), the agreement thresholds
    and how many characters are read."""

    weight: float = DEFAULT_TEXT_WEIGHT
    backend: str = "auto"
    polarity_threshold: float = 0.2  # |text polarity| at least this is positive/negative, else neutral
    valence_threshold: float = 0.2  # |voice valence| at least this is positive/negative, else neutral
    voice_min_share: float = (
        0.4  # the sarcasm/irony readings need the voice's top class(es) at least this sure
    )
    max_chars: int = MAX_TEXT_CHARS

    def check(self) -> TextOptions:
        """Raise UsageError naming the first bad field; returns self."""
        w = self.weight
        if isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(w) or not 0 <= w <= 1:
            raise UsageError(f"the text weight must be between 0 and 1, not {w}")
        if not isinstance(self.backend, str) or not self.backend:
            raise UsageError(f"the text backend must be a name such as auto or vader, not {self.backend!r}")
        if not isinstance(self.max_chars, int) or self.max_chars < 1:
            raise UsageError(f"max_chars must be a whole number ≥ 1, got {self.max_chars!r}")
        return self


@dataclass(frozen=True)
class AnalysisOptions:
    """What to compute for each input. `roles` names the channels of channels="separate" ("agent,customer").

    `adapter`: a user's own labels read from every utterance and segment (result.json's `adapted` block): a
    loaded adapter (emostudio.adapt.load_adapter), or its folder, which the surfaces (CLI, server, batch, or
    `emostudio.adapt.resolve_adapter`) load and check against the model's weights before any work.
    `speakers`: speaker turns ("who spoke when", emostudio.speakers) for a mono recording, or within each channel
    of channels="separate": "auto" or at most N speakers; each turn is scored as an utterance (result.json's
    `turns` and `speakers`). `speaker_engine` / `speaker_model`: the engine by name (None: the default) and a
    folder with another speaker-embedding model (None: the one shipped with the `speakers` extra).
    """

    granularity: str = "utterance"  # "utterance" | "frame" (scores every 0.1 s)
    embedding: bool = False
    enhance: bool | EnhanceSettings = False
    quality: bool = True
    channels: str = "mix"  # "mix" | "separate" (each channel its own speaker)
    roles: str | Sequence[str] | None = None
    text: TextOptions = field(default_factory=TextOptions)
    adapter: ResultAdapter | str | os.PathLike | None = None
    speakers: int | str | None = None  # None (off) | "auto" | 1..MAX_SPEAKERS
    speaker_engine: str | None = None
    speaker_model: str | os.PathLike | None = None

    def check(self) -> AnalysisOptions:
        """Raise UsageError naming the first bad field (before any work is done); returns self."""
        check_granularity(self.granularity)
        for name in ("embedding", "quality"):
            if not isinstance(getattr(self, name), bool):
                raise UsageError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if not isinstance(self.enhance, bool | EnhanceSettings):
            raise UsageError(f"enhance must be True, False or an EnhanceSettings, got {self.enhance!r}")
        check_channels(self.channels)
        if self.role_names and self.channels != "separate":
            raise UsageError(
                "roles name the channels of channels='separate' (each channel its own speaker); ask for that too"
            )
        if not isinstance(self.text, TextOptions):
            raise UsageError(f"text must be a TextOptions, got {type(self.text).__name__}")
        self.text.check()
        check_adapter(self.adapter)
        if parse_speakers(self.speakers) != self.speakers:
            raise UsageError(
                f"speakers must be None, 'auto' or a number (parse_speakers), not {self.speakers!r}"
            )
        if self.speakers is None and (self.speaker_engine or self.speaker_model):
            raise UsageError(
                "a speaker engine or model folder needs speaker turns too (speakers='auto' or N)"
            )
        for name in ("speaker_engine", "speaker_model"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, str | os.PathLike) and str(value).strip()):
                raise UsageError(f"{name} must be a name or folder, not {value!r}")
        return self

    @property
    def loaded_adapter(self) -> ResultAdapter | None:
        """The adapter when it is loaded; None when there is none. UsageError when it is still a folder."""
        if self.adapter is None or isinstance(self.adapter, ResultAdapter):
            return self.adapter
        raise UsageError(
            f"the adapter {printable(self.adapter)} is a folder: load it first "
            "(emostudio.adapt.load_adapter(folder, model weights sha256), or the CLI's --adapter)"
        )

    @property
    def role_names(self) -> list[str] | None:
        """The parsed `roles` (UsageError for bad names)."""
        return parse_roles(self.roles)

    def replace(self, **changes) -> AnalysisOptions:
        """A copy with `changes`, checked."""
        return dataclasses.replace(self, **changes).check()

    def for_item(self, item: object) -> AnalysisOptions:
        """The options for one input: a manifest row's own `roles`, `channels` or `speakers` win (roles imply
        separate; speakers "off" turns them off for that row)."""
        if not isinstance(item, InputItem) or (
            item.roles is None and item.channels is None and item.speakers is None
        ):
            return self
        opts = self
        if item.roles is not None or item.channels is not None:
            roles = parse_roles(item.roles)
            channels = item.channels or ("separate" if roles else self.channels)
            opts = opts.replace(channels=channels, roles=roles)
        if item.speakers is not None:
            speakers = parse_speakers(item.speakers)
            keep = speakers is not None
            opts = opts.replace(
                speakers=speakers,
                speaker_engine=opts.speaker_engine if keep else None,
                speaker_model=opts.speaker_model if keep else None,
            )
        return opts
