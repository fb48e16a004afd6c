"""One settings object for every threshold and knob of the pipeline; each part's defaults live with its module."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any

from emostudio.interpret import BandThresholds, CompoundRule, TimelineSettings


def _quality_thresholds() -> Any:
    from emostudio.quality import QualityThresholds

    return QualityThresholds()


@dataclass
class Settings:
    bands: BandThresholds = field(default_factory=BandThresholds)
    compound: CompoundRule = field(default_factory=CompoundRule)
    timeline: TimelineSettings = field(default_factory=TimelineSettings)
    quality: Any = field(default_factory=_quality_thresholds)  # emostudio.quality.QualityThresholds
    max_segment_s: float = 30.0  # longer input is split at pauses into segments of at most this
    max_duration_s: float = 4 * 3600.0  # longer input is refused (while decoding, never after)
    min_duration_s: float = 0.025  # shorter input is refused before the model (400 samples: one model frame)
    # total padded audio seconds per model batch; None: 30 s on CPU, 120 s on a GPU (Recognizer.batch_seconds)
    batch_seconds: float | None = None

    def to_dict(self) -> dict:
        return {
            k: (asdict(v) if is_dataclass(v) and not isinstance(v, type) else v)
            for k, v in self.__dict__.items()
        }
