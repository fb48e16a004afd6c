"""Small records shared by every layer. Torch-free: importing them never imports the model stack."""

from __future__ import annotations

from dataclasses import dataclass

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class Span:
    """A stretch of audio from `start_s` to `end_s` seconds."""

    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def samples(self, sample_rate: int = SAMPLE_RATE) -> slice:
        """The slice of a waveform at `sample_rate` that this span covers (times before 0 count as 0)."""
        return slice(
            max(0, int(round(self.start_s * sample_rate))), max(0, int(round(self.end_s * sample_rate)))
        )


@dataclass
class InputItem:
    """One input of a batch job or manifest. `id` is stable across runs: from the manifest, else the path
    relative to the folder. The optional fields are carried into the results untouched."""

    id: str
    path: str
    speaker: str | None = None
    time: str | None = None
    label: str | None = None
    text: str | None = None
    channels: str | None = None  # "mix" | "separate" for this input (None: the job's setting)
    roles: str | None = None  # channel roles, e.g. "agent,customer" (implies separate channels)
