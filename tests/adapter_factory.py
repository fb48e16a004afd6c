"""Real adapter folders for the tiny random model, made in a moment: a head with seeded random weights over any
labels, saved by `save_adapter` (safetensors + adapter.json) and loaded back as every surface loads them.

Random heads test the wiring (which reading reaches which file), never accuracy; `emostudio adapt` itself is
tested in test_adapt.py. Import from tests as `from adapter_factory import make_adapter`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emostudio.adapt import Adapter, load_adapter, save_adapter
from emostudio.adapt.head import Head


def make_adapter(
    folder: Path,
    engine,
    labels: tuple[str, ...] = ("frustrated", "satisfied"),
    seed: int = 0,
    temperature: float = 1.0,
    weights_sha256: str | None = None,
) -> Adapter:
    """An adapter over `labels` for `engine`'s model (or for `weights_sha256`: another model's) in `folder`."""
    rng = np.random.default_rng(seed)
    probe = engine.score_waveforms([rng.standard_normal(32000).astype(np.float32) * 0.1])[0].embedding
    dim = int(probe.shape[0])
    spread = float(np.abs(probe).mean()) * 0.05 + 1e-6  # embeddings of voices differ by a few % of their size
    head = Head(
        rng.standard_normal((len(labels), dim)) / np.sqrt(dim),
        rng.standard_normal(len(labels)) * 0.1,
        probe.astype(np.float64),
        np.full(dim, spread),
        1.0,
    )
    sha = weights_sha256 or engine.model.fingerprint()
    info = {"model": {"id": engine.model.model_id, "weights_sha256": sha}, "classes": "all", "set": {}}
    save_adapter(Adapter(tuple(labels), head, temperature, info), folder)
    return load_adapter(folder)
