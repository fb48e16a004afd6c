"""channels="separate" in a live stream: a channel that repeats an earlier one (a mono call saved as stereo) is
one speaker. The same `CopyDetector` as for files (emostudio.channels), fed chunk by chunk."""

from __future__ import annotations

from collections.abc import Sequence

from emostudio.channels import CopyDetector, copy_note
from emostudio.live.events import LiveNotice
from emostudio.live.track import Track
from emostudio.records import SAMPLE_RATE


class CopyWatch:
    """Compares every pair of tracks on the 16 kHz samples each `add` brought, until it can decide.

    A pair is judged once it has `detect_copy_s` seconds of samples and both carry more than a very quiet
    (-60 dBFS) signal; a copy marks the later track (`Track.copy_of`) and gives one notice.
    """

    def __init__(self, detect_copy_s: float):
        self.detect_copy_s = detect_copy_s
        self.pairs: dict[tuple[int, int], CopyDetector] = {}  # (i, j): does channel j copy channel i?
        self.decided: set[tuple[int, int]] = set()

    def watch(self, tracks: Sequence[Track]) -> list[LiveNotice]:
        """Add the tracks' latest chunks; the notices of copies found now."""
        need = self.detect_copy_s * SAMPLE_RATE * 1e-6  # Σx² of a very quiet (-60 dBFS) signal
        notices = []
        for j, b in enumerate(tracks):
            for i in range(j):
                if (i, j) in self.decided or tracks[i].copy_of is not None or b.copy_of is not None:
                    continue
                pair = self.pairs.setdefault((i, j), CopyDetector())
                pair.add(tracks[i].last_chunk, b.last_chunk)
                if pair.samples < self.detect_copy_s * SAMPLE_RATE or min(pair.aa, pair.bb) < need:
                    continue
                self.decided.add((i, j))
                if pair.is_copy:
                    b.copy_of = i
                    notices.append(
                        LiveNotice(
                            "copy_channel",
                            copy_note(j, b.role or "", i, tracks[i].role or ""),
                            channel=j,
                            details={"same_as": i, "correlation": round(pair.correlation, 4)},
                        )
                    )
        return notices
