"""What a speaker engine finds in one recording: turns (who, from when to when) and how many speakers."""

from __future__ import annotations

from dataclasses import dataclass, field


def speaker_id(index: int) -> str:
    """The id of the `index`-th speaker (0-based, numbered by first appearance): "spk0", "spk1", ..."""
    return f"spk{index}"


@dataclass(frozen=True)
class Turn:
    """One speaker talking from `start_s` to `end_s` (seconds from the start of the recording).

    `overlap`: another speaker talks during part of this turn (`overlap_s` seconds of it)."""

    speaker: str  # "spk0", "spk1", ... numbered by first appearance
    start_s: float
    end_s: float
    overlap: bool = False
    overlap_s: float = 0.0

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def to_dict(self) -> dict:
        return {
            "speaker": self.speaker,
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "overlap": self.overlap,
            "overlap_s": round(self.overlap_s, 3),
        }


@dataclass
class Diarization:
    """The turns of one recording, in time order, and what was asked and found.

    `requested`: the number of speakers asked for (None: found automatically). `found`: how many speakers the
    turns hold (0: no speech). `notes`: catalogue keys with their values for what a person should be told
    (e.g. {"key": "speakers_fewer_than_asked", "requested": 3, "found": 2})."""

    turns: list[Turn]
    requested: int | None
    engine: str
    speech_s: float = 0.0  # seconds of detected speech
    notes: list[dict] = field(default_factory=list)

    @property
    def found(self) -> int:
        return len({t.speaker for t in self.turns})

    @property
    def speakers(self) -> list[str]:
        """The speaker ids in order of first appearance."""
        seen: dict[str, None] = {}
        for t in self.turns:
            seen.setdefault(t.speaker, None)
        return list(seen)
