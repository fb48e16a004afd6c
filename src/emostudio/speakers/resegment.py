"""From labelled embedding windows to speaker turns on the 10 ms grid.

Each speech frame goes to the speaker whose centroid the windows covering it are closest to (mean cosine), a run
shorter than `min_turn_s` between other speakers goes to the neighbour it is closer to (short flips), and inside
an overlapped stretch the nearest other speaker talking just before or after is added as the second voice. A
speaker's pieces closer than `merge_gap_s` over silence become one turn.
"""

from __future__ import annotations

import numpy as np

from emostudio.settings import SpeakerSettings
from emostudio.speakers.frames import HOP_S, runs


def frame_scores(wins, x: np.ndarray, centroids: np.ndarray, frames: int) -> np.ndarray:
    """(k, frames) mean cosine of the windows covering each frame to each centroid (0 where none covers)."""
    k = len(centroids)
    diff = np.zeros((k + 1, frames + 1), np.float64)
    sims = x @ centroids.T
    for (a, b), s in zip(wins, sims, strict=True):
        diff[:k, a] += s
        diff[:k, b] -= s
        diff[k, a] += 1
        diff[k, b] -= 1
    acc = np.cumsum(diff, axis=1)[:, :frames]
    return (acc[:k] / np.maximum(acc[k], 1)).astype(np.float32)


def _speech_runs(primary: np.ndarray) -> list[list[int]]:
    """[label, start, end) runs of equal label over speech frames (label >= 0)."""
    out: list[list[int]] = []
    for s, e in runs(primary >= 0):
        cuts = np.flatnonzero(np.diff(primary[s:e])) + 1 + s
        bounds = [s, *cuts.tolist(), e]
        out.extend([int(primary[a]), a, b] for a, b in zip(bounds, bounds[1:], strict=False))
    return out


def smooth_flips(primary: np.ndarray, scores: np.ndarray, cfg: SpeakerSettings) -> np.ndarray:
    """`primary` with runs shorter than `min_turn_s` next to another speaker given to the closer neighbour."""
    out = primary.copy()
    min_len, gap = round(cfg.min_turn_s / HOP_S), round(cfg.merge_gap_s / HOP_S)
    for _ in range(5):  # each pass shortest first; a run's neighbours may have changed in the pass before
        rs = _speech_runs(out)
        changed = False
        for i in sorted(range(len(rs)), key=lambda i: rs[i][2] - rs[i][1]):
            label, s, e = rs[i]
            if e - s >= min_len:
                break
            near = {int(out[rs[j][1]]) for j in (i - 1, i + 1) if _close(rs, i, j, gap)} - {label}
            if near:
                out[s:e] = max(near, key=lambda lab: float(scores[lab, s:e].mean()))
                rs[i][0] = int(out[s])
                changed = True
        if not changed:
            break
    return out


def _close(rs, i: int, j: int, gap: int) -> bool:
    if not 0 <= j < len(rs):
        return False
    a, b = (rs[j], rs[i]) if j < i else (rs[i], rs[j])
    return b[1] - a[2] <= gap


def _second_voice(primary: np.ndarray, s: int, e: int, reach: int) -> int | None:
    """The other speaker talking nearest before or after the overlapped stretch [s, e), within `reach` frames."""
    main = np.bincount(primary[s:e][primary[s:e] >= 0]).argmax() if (primary[s:e] >= 0).any() else -1
    before = np.flatnonzero((primary[max(0, s - reach) : e] >= 0) & (primary[max(0, s - reach) : e] != main))
    after = np.flatnonzero((primary[s : e + reach] >= 0) & (primary[s : e + reach] != main))
    cands = []
    if len(before):
        idx = max(0, s - reach) + before[-1]
        cands.append((max(0, s - idx), int(primary[idx])))
    if len(after):
        idx = s + after[0]
        cands.append((max(0, idx - e), int(primary[idx])))
    return min(cands)[1] if cands else None


def speaker_masks(primary: np.ndarray, overlap: np.ndarray, k: int, cfg: SpeakerSettings) -> np.ndarray:
    """(k, frames) bool: who talks when, overlapped stretches with their second voice added."""
    masks = np.stack([primary == i for i in range(k)])
    if k > 1:
        for s, e in runs(overlap):
            second = _second_voice(primary, s, e, round(3.0 / HOP_S))
            if second is not None:
                masks[second, s:e] = True
    gap = round(cfg.merge_gap_s / HOP_S)
    anyone: np.ndarray = np.asarray(masks.any(axis=0))
    for i in range(k):
        pieces = runs(masks[i])
        for (_, e0), (s1, _) in zip(pieces, pieces[1:], strict=False):
            if s1 - e0 <= gap and not anyone[e0:s1].any():
                masks[i, e0:s1] = True
    return masks
